"""Data augmentation: a random affine warp drawn per digit, applied to a whole batch.

Each digit in the batch gets its own rotation, scale and shift (torchvision's
v2 transforms on a batch would draw one set for all of them), and the warp is
one affine_grid + grid_sample call on the batch's device: no per-sample Python.
Labels are untouched: a digit rotated by 15 degrees is still the same digit.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# level -> (max rotation in degrees, max |scale - 1|, max shift in pixels)
LEVELS = {
    "off": (0.0, 0.0, 0.0),
    "light": (10.0, 0.08, 2.0),
    "strong": (22.0, 0.18, 4.0),
}


def random_affine(images: torch.Tensor, level: str, generator: torch.Generator | None = None) -> torch.Tensor:
    """Warp float images (N, 1, H, W) in [0, 1]; each gets its own random transform."""
    degrees, scale_range, shift = LEVELS[level]
    if degrees == 0.0 and scale_range == 0.0 and shift == 0.0:
        return images
    n, _, h, w = images.shape
    # Draw on the generator's device so runs are reproducible for a seed.
    gen_device = generator.device if generator is not None else images.device
    u = torch.rand(n, 4, generator=generator, device=gen_device).to(images.device, images.dtype) * 2 - 1
    angle = u[:, 0] * math.radians(degrees)
    scale = 1.0 + u[:, 1] * scale_range
    # affine_grid works in [-1, 1] coordinates: a shift of s pixels is 2s/size.
    tx = u[:, 2] * shift * 2.0 / w
    ty = u[:, 3] * shift * 2.0 / h
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    # The grid maps output positions to input positions, hence the inverse
    # rotation/scale; the digit moves by (tx, ty).
    theta = torch.stack(
        [torch.stack([cos, -sin, -tx], dim=1), torch.stack([sin, cos, -ty], dim=1)], dim=1
    )
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    # Zero padding: MNIST's background is 0, so shifted-in pixels stay blank.
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def example_rows(images: torch.Tensor, seed: int, levels=("light", "strong"), draws: int = 3):
    """uint8 digits (N, 28, 28) and `draws` random augmentations of them at each level.

    Returns [(level, draw, uint8 (N, 28, 28))], the original first as ("off", 0, ...).
    Every digit of every draw gets its own transform from a generator seeded with
    `seed`, exactly as in a training batch. The Augmentation page shows these rows
    from regdemo/assets/augmented-digits.npz (tools/make_augmented_digits.py), so the
    Streamlit server needs no torch to show them.
    """
    x = images.unsqueeze(1).float().div(255.0)
    gen = torch.Generator().manual_seed(seed)
    rows = [("off", 0, images)]
    for level in levels:
        for draw in range(1, draws + 1):
            warped = random_affine(x, level, gen)[:, 0].clamp(0.0, 1.0)
            rows.append((level, draw, (warped * 255).round().to(torch.uint8)))
    return rows
