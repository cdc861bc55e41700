"""Memorization of wrong labels, measured where the run trains (torch; the engine calls it).

A run with label noise knows which training digits got a wrong label (trainset.noisy_labels).
After every epoch the engine's eval pass over the training digits already has the net's
predictions; from them this module reads two numbers (Arpit et al. 2017: a net fits the
correctly labelled digits first, the wrong labels later):

  memorized        share of the wrong-labelled digits whose wrong label the net now predicts
  train_acc_clean  accuracy on the correctly labelled ones

and picks the gallery: a fixed handful of wrong-labelled training digits whose current
predictions the pages show. The gallery travels to the pages as numbers and uint8 pixels
(events.Started), so the server draws it without torch and without the dataset.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import torch

GALLERY_SIZE = 24  # wrong-labelled digits shown (three rows of eight)
GALLERY_SEED = 3  # which of them: fixed, so every run of a setup shows the same digits


@dataclass
class Gallery:
    """The gallery's digits, resident on the device, and what the pages need to draw them."""

    images: torch.Tensor  # uint8 (K, 28, 28), on the run's device
    given: torch.Tensor  # int64 (K,) the wrong labels the run trains on, on the device
    true: torch.Tensor  # int64 (K,)
    indices: torch.Tensor  # int64 (K,) positions in the dataset's training digits

    labels = property(lambda self: self.given)  # engine.evaluate reads a split's images and labels

    def __len__(self):
        return len(self.given)

    def started_fields(self) -> dict:
        """The gallery as events.Started's fields: plain ints and the pixels as base64."""
        pixels = self.images.to("cpu", torch.uint8).contiguous().numpy().tobytes()
        return {"gallery_indices": tuple(self.indices.tolist()), "gallery_true": tuple(self.true.tolist()),
                "gallery_given": tuple(self.given.tolist()),
                "gallery_pixels": base64.b64encode(pixels).decode("ascii")}


def pick_gallery(images: torch.Tensor, given: torch.Tensor, true: torch.Tensor, indices: torch.Tensor,
                 eligible: torch.Tensor, device, size: int = GALLERY_SIZE) -> Gallery | None:
    """Up to `size` wrong-labelled digits among the `eligible` ones, in true-label order.

    `eligible` (bool, N) leaves out the digits early stopping would hold out: the two runs
    of the early-stopping pair then show the same digits, all of them trained on. None when
    no eligible digit has a wrong label (clean data).
    """
    candidates = torch.nonzero((given != true) & eligible).flatten()
    if len(candidates) == 0:
        return None
    generator = torch.Generator().manual_seed(GALLERY_SEED)
    chosen = candidates[torch.randperm(len(candidates), generator=generator)[:size]]
    # A class's digits side by side: easier to read than a random order.
    chosen = chosen[torch.argsort(true[chosen] * len(true) + chosen)]
    return Gallery(images[chosen].to(device), given[chosen].to(device), true[chosen], indices[chosen])


def measure(predictions: torch.Tensor, given: torch.Tensor, true: torch.Tensor) -> tuple[float | None, float | None]:
    """(memorized, train_acc_clean) from eval-mode predictions of digits with `given` labels.

    None for a share whose digits are absent (no wrong label, or none right).
    Two small reductions on tensors the eval pass already holds, one host read.
    """
    wrong = given != true
    n_wrong = wrong.sum()
    n_right = len(given) - n_wrong
    hits = predictions == given
    counts = torch.stack([n_wrong, (hits & wrong).sum(), n_right, (hits & ~wrong).sum()]).tolist()
    n_wrong, memorized, n_right, clean = counts
    return (memorized / n_wrong if n_wrong else None, clean / n_right if n_right else None)
