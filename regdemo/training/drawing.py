"""A student's drawing made into an MNIST digit: numpy and PIL only (the server runs it; no torch).

MNIST's own recipe (LeCun, Cortes and Burges, on the MNIST page): each digit was scaled,
keeping its aspect ratio, to fit a 20x20 box, then placed in a 28x28 image so that its
centre of mass sits at the centre. Ink is white on black, 0-255, as in the IDX files.
A digit drawn on the page and put through `mnist_digit` is what the trained nets saw.

The Draw page's buttons then move the prepared digit (`shift`, `rotate`): the same
kind of change the augmentation lesson trains with, so a student sees which net still
knows the digit.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from regdemo.messages import MessageError, msg

SIZE = 28  # the MNIST frame
BOX = 20  # the box the digit's longer side is scaled to
INK_THRESHOLD = 0.1  # of the brightest ink: fainter pixels (anti-aliasing, paper grain) do not widen the box
MAX_UPLOAD_PIXELS = 4096 * 4096  # a bigger upload is refused, not decoded


class DrawingError(MessageError):
    """The drawing cannot become a digit (empty, or an upload that is not an image)."""


def ink_from_rgba(rgba: np.ndarray) -> np.ndarray:
    """The canvas's RGBA pixels (H, W, 4) as ink in [0, 1].

    The page's canvas draws light strokes on a transparent or dark background; a
    transparent pixel is no ink whatever its colour, an opaque one is as much ink as it is
    bright."""
    rgba = np.asarray(rgba, dtype=np.float32)
    if rgba.ndim != 3 or rgba.shape[2] not in (3, 4):
        raise DrawingError(msg("draw.not_an_image"))
    light = rgba[..., :3].mean(axis=2) / 255.0
    alpha = rgba[..., 3] / 255.0 if rgba.shape[2] == 4 else 1.0
    return np.clip(light * alpha, 0.0, 1.0)


def ink_from_png(data: bytes) -> np.ndarray:
    """An uploaded picture as ink in [0, 1]: a photo or scan of dark ink on light paper is
    inverted; a transparent background counts as no ink."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_UPLOAD_PIXELS:
            raise DrawingError(msg("draw.too_large", width=image.width, height=image.height))
        image = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise DrawingError(msg("draw.not_an_image")) from None
    rgba = np.asarray(image, dtype=np.float32)
    alpha = rgba[..., 3] / 255.0
    gray = rgba[..., :3].mean(axis=2) / 255.0
    if alpha.min() < 1.0:  # a transparent background: whatever is opaque is the stroke
        return alpha
    if _border(gray).mean() > 0.5:  # light paper: the ink is the dark part
        gray = 1.0 - gray
    return gray


def _border(values: np.ndarray) -> np.ndarray:
    return np.concatenate([values[0], values[-1], values[:, 0], values[:, -1]])


def centre_of_mass(pixels: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass; the frame's centre for an empty image."""
    pixels = np.asarray(pixels, dtype=np.float64)
    total = pixels.sum()
    if total <= 0:
        return (pixels.shape[0] - 1) / 2, (pixels.shape[1] - 1) / 2
    rows, cols = np.indices(pixels.shape)
    return float((rows * pixels).sum() / total), float((cols * pixels).sum() / total)


def mnist_digit(ink: np.ndarray) -> np.ndarray:
    """Ink in [0, 1] of any size -> a uint8 (28, 28) digit: cropped to its ink, scaled so its
    longer side is 20 pixels, moved so its centre of mass is the frame's centre.

    Raises DrawingError("draw.empty") when there is no ink."""
    ink = np.asarray(ink, dtype=np.float32)
    peak = float(ink.max()) if ink.size else 0.0
    if peak <= 0.02:  # nothing, or only noise a blank canvas or a blank page leaves
        raise DrawingError(msg("draw.empty"))
    rows = np.flatnonzero((ink >= INK_THRESHOLD * peak).any(axis=1))
    cols = np.flatnonzero((ink >= INK_THRESHOLD * peak).any(axis=0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] / peak
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # BOX filter averages every source pixel under a target pixel: a thin stroke on a big
    # canvas stays a grey line instead of vanishing between samples.
    boxed = np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, Image.Resampling.BOX))
    boxed = np.clip(boxed, 0.0, 1.0)
    # Place the box so the centre of mass lands on the frame's centre (13.5, 13.5), to the
    # nearest pixel; a very lopsided digit is kept whole inside the frame rather than cut.
    com_row, com_col = centre_of_mass(boxed)
    centre = (SIZE - 1) / 2
    top = int(np.clip(round(centre - com_row), 0, SIZE - boxed.shape[0]))
    left = int(np.clip(round(centre - com_col), 0, SIZE - boxed.shape[1]))
    frame = np.zeros((SIZE, SIZE), dtype=np.float32)
    frame[top:top + boxed.shape[0], left:left + boxed.shape[1]] = boxed
    return np.rint(frame * 255).astype(np.uint8)


def shift(digit: np.ndarray, right: int = 0, down: int = 0) -> np.ndarray:
    """The digit moved by whole pixels; what leaves the frame is gone, what comes in is black."""
    out = np.zeros_like(digit)
    h, w = digit.shape
    src = digit[max(0, -down):h - max(0, down), max(0, -right):w - max(0, right)]
    out[max(0, down):max(0, down) + src.shape[0], max(0, right):max(0, right) + src.shape[1]] = src
    return out


def rotate(digit: np.ndarray, degrees: float) -> np.ndarray:
    """The digit turned about the frame's centre, anticlockwise for positive degrees."""
    image = Image.fromarray(np.asarray(digit, dtype=np.uint8))
    return np.asarray(image.rotate(degrees, resample=Image.Resampling.BILINEAR, fillcolor=0))


def moved(digit: np.ndarray, right: int = 0, down: int = 0, degrees: float = 0) -> np.ndarray:
    """The Draw page's buttons applied to a prepared digit: rotation first, then the shift."""
    if degrees:
        digit = rotate(digit, degrees)
    if right or down:
        digit = shift(digit, right, down)
    return digit
