"""Writes regdemo/assets/augmented-digits.npz: the Augmentation page's pictures.

One digit of each class from the embedded sample and what regdemo.training.augment does
to them, for SEEDS seeds (the page's "New draw" steps through them). Made here,
with torch, so the Streamlit server shows them without importing torch.
tests/unit/test_viz.py checks the file against a fresh run of this.

    python -m tools.make_augmented_digits
"""

from __future__ import annotations

import io
import os
import tempfile

import numpy as np
import torch

from regdemo.training.augment import example_rows
from regdemo.training.data import load_dataset
from regdemo.viz.digits import AUGMENTED_FILE, one_per_class

SEEDS = 8


def make_arrays() -> dict[str, np.ndarray]:
    data = load_dataset("mnist-sample")
    digits = data.train_images[torch.from_numpy(one_per_class(data.train_labels.numpy()))]
    arrays = {}
    for seed in range(SEEDS):
        for level, draw, images in example_rows(digits, seed):
            arrays["off" if level == "off" else f"{seed}/{level}/{draw}"] = images.numpy()
    return arrays


def main() -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **make_arrays())
    # Atomic: a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=AUGMENTED_FILE.parent, prefix=".augmented-", suffix=".npz")
    with os.fdopen(fd, "wb") as out:
        out.write(buffer.getvalue())
    os.replace(tmp, AUGMENTED_FILE)
    print(f"wrote {AUGMENTED_FILE} ({AUGMENTED_FILE.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
