"""Digits as pictures: one per class, what random augmentation does to them, side by side.

numpy only (the Streamlit server imports no torch): uint8 greyscale arrays in and
out, which st.image shows as they are. The augmented digits were made by the
training's own augmentation (regdemo.training.augment) and ship as a small file.
"""

from __future__ import annotations

import functools
import pathlib

import numpy as np

AUGMENTED_FILE = pathlib.Path(__file__).resolve().parents[1] / "assets" / "augmented-digits.npz"


def one_per_class(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    """Index of the first digit of each class, in class order."""
    labels = np.asarray(labels)
    return np.array([int(np.flatnonzero(labels == c)[0]) for c in range(classes)])


@functools.lru_cache(maxsize=1)
def _augmented(path: pathlib.Path = AUGMENTED_FILE) -> dict[str, np.ndarray]:
    with np.load(path) as stored:
        return {name: stored[name] for name in stored.files}


def draws_stored() -> int:
    """How many seeds of augmented rows the file holds."""
    return len({name.split("/")[0] for name in _augmented() if name != "off"})


def augmented_rows(seed: int = 0) -> list[tuple[str, int, np.ndarray]]:
    """The sample's first digit of each class, then its stored augmentations for `seed`.

    [(level, draw, uint8 (10, 28, 28))], the original first as ("off", 0, ...);
    seeds past the stored ones wrap around.
    """
    stored = _augmented()
    seed %= draws_stored()
    rows = [("off", 0, stored["off"])]
    prefix = f"{seed}/"
    for name in sorted(n for n in stored if n.startswith(prefix)):
        _, level, draw = name.split("/")
        rows.append((level, int(draw), stored[name]))
    order = {"light": 0, "strong": 1}
    return rows[:1] + sorted(rows[1:], key=lambda row: (order.get(row[0], 2), row[1]))


def digit_strip(images: np.ndarray, scale: int = 3, gap: int = 4) -> np.ndarray:
    """Images (N, h, w), uint8 or floats in [0, 1], side by side as one uint8 greyscale picture.

    Each pixel becomes a scale x scale block (a crisp upscale; a browser would
    blur a 28-pixel image), separated by white gaps.
    """
    images = np.asarray(images)
    n, h, w = images.shape
    if images.dtype != np.uint8:
        images = np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)
    pixels = images.repeat(scale, axis=1).repeat(scale, axis=2)
    out = np.full((h * scale, n * w * scale + (n - 1) * gap), 255, dtype=np.uint8)
    for i in range(n):
        left = i * (w * scale + gap)
        out[:, left:left + w * scale] = pixels[i]
    return out
