"""Digits as pictures: one per class, what random augmentation does to them, side by side.

Tensors in, uint8 greyscale arrays out (st.image shows them as they are).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from regdemo.training.augment import random_affine


def one_per_class(labels: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """Index of the first digit of each class, in class order."""
    return torch.stack([torch.nonzero(labels == c)[0, 0] for c in range(classes)])


def augmented_rows(images: torch.Tensor, levels: Sequence[str] = ("light", "strong"), draws: int = 3,
                   seed: int = 0) -> list[tuple[str, int, torch.Tensor]]:
    """The digits as they are, then `draws` random augmentations at each level.

    `images` are uint8 (N, 28, 28). Returns (level, draw, float images in
    [0, 1] of shape (N, 28, 28)); the original is ("off", 0, ...). Every digit
    of every draw gets its own transform, from a generator seeded with `seed`,
    exactly as in a training batch.
    """
    x = images.unsqueeze(1).float().div(255.0)
    gen = torch.Generator().manual_seed(seed)
    rows = [("off", 0, x[:, 0])]
    for level in levels:
        for draw in range(1, draws + 1):
            rows.append((level, draw, random_affine(x, level, gen)[:, 0].clamp(0.0, 1.0)))
    return rows


def digit_strip(images: torch.Tensor, scale: int = 3, gap: int = 4) -> np.ndarray:
    """Float images (N, h, w) in [0, 1] side by side as one uint8 greyscale picture.

    Each pixel becomes a scale x scale block (a crisp upscale; a browser would
    blur a 28-pixel image), separated by white gaps.
    """
    n, h, w = images.shape
    pixels = (images.clamp(0.0, 1.0) * 255).round().to(torch.uint8).numpy()
    pixels = pixels.repeat(scale, axis=1).repeat(scale, axis=2)
    out = np.full((h * scale, n * w * scale + (n - 1) * gap), 255, dtype=np.uint8)
    for i in range(n):
        left = i * (w * scale + gap)
        out[:, left:left + w * scale] = pixels[i]
    return out
