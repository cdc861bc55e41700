"""The digits a run trains, is validated and is tested on: a fixed stratified subset of the
training digits (config.train_size), their labels with config.label_noise of them wrong, the
held-out split early stopping watches, and the training digits eval-mode accuracy is read on.

Every choice here is drawn from a fixed seed, never the run's: "n=1000 with 20 % noise" names
the same digits and the same wrong labels in every run, so runs differ only in what they claim to.
engine.fit calls prepare_data once per run; the tensors then live on the device.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from regdemo.messages import msg
from regdemo.training import memorization
from regdemo.training.config import RunConfig
from regdemo.training.data import DataError

# Eval-mode train accuracy is measured on a fixed, stratified choice of training digits as
# large as the test split (all of them when there are fewer). Both curves then carry the
# same sampling noise, and evaluation costs the sample's 4,000-digit epoch about 10 %
# instead of 25 % (bench.py: the article net forwards ~35k digits/s, trains ~7k/s).
TRAIN_EVAL_LIMIT = 10_000
VAL_FRACTION = 0.1  # the validation split, taken from the training digits when early stopping is on

# Seed of the label-noise choice: fixed, so "20 % noise" means the same wrong labels in
# every run (like train_size's fixed digits), and runs differ only in what they claim to.
NOISE_SEED = 7


def noisy_labels(labels: torch.Tensor, fraction: float, num_classes: int = 10) -> torch.Tensor:
    """A copy of `labels` with round(fraction * N) of them replaced by a wrong class.

    Which examples and which wrong class are drawn once from NOISE_SEED: the same for every
    run and every seed. The choice nests -- the digits mislabelled at 10 % are among those
    mislabelled at 20 %, with the same wrong labels -- so raising the noise only adds wrong
    labels. A new label is one of the other classes, uniformly, never the true one (the
    classic memorization setup of Zhang et al. 2017 and Arpit et al. 2017).
    """
    n = len(labels)
    count = round(fraction * n)
    out = labels.clone()
    if count == 0:
        return out
    generator = torch.Generator().manual_seed(NOISE_SEED)
    order = torch.randperm(n, generator=generator)
    # An offset of 1..C-1 classes: uniform over the wrong classes, never the true one.
    offsets = torch.randint(1, num_classes, (n,), generator=generator)
    picked = order[:count]
    out[picked] = (labels[picked] + offsets[picked]) % num_classes
    return out


def stratified_subset(labels: torch.Tensor, size: int, seed: int) -> torch.Tensor:
    """Sorted int64 indices of `size` examples with every class equally represented (±1).

    Deterministic for a seed. A class with too few examples gives all it has and the others
    share the rest, still as evenly as possible. size larger than len(labels) is a DataError,
    never a silent clamp: a run must be what its config says.
    """
    n = len(labels)
    if not 1 <= size <= n:
        raise DataError(msg("data.bad_subset", size=size, count=n))
    generator = torch.Generator().manual_seed(seed)
    classes = torch.unique(labels)
    members = [torch.nonzero(labels == c).flatten() for c in classes.tolist()]
    # Fill the smallest classes first; a seeded tiebreak decides which classes get the +1s
    # of an uneven split, so no digit is always favoured.
    tiebreak = torch.randperm(len(members), generator=generator).tolist()
    order = sorted(range(len(members)), key=lambda i: (len(members[i]), tiebreak[i]))
    remaining, picked = size, []
    for rank, i in enumerate(order):
        take = min(len(members[i]), remaining // (len(order) - rank))
        remaining -= take
        perm = torch.randperm(len(members[i]), generator=generator)[:take]
        picked.append(members[i][perm])
    return torch.sort(torch.cat(picked)).values.long()


@dataclass
class Split:
    """Digits of one split, resident on the device."""

    images: torch.Tensor  # uint8 (N, 28, 28)
    labels: torch.Tensor  # int64 (N,)
    # With label noise: the digits' real labels, and (training split only) the digits the
    # pages' gallery of wrong labels follows. None on clean data.
    true_labels: torch.Tensor | None = None
    gallery: memorization.Gallery | None = None

    def __len__(self):
        return len(self.labels)


def prepare_data(config: RunConfig, dataset, device) -> tuple[Split, Split, Split | None]:
    """Train subset, test split and (with early stopping) a validation split."""
    train_idx = torch.arange(len(dataset.train_labels))
    if config.train_size:
        # A fixed choice of digits (seed 0): "n=1000" means the same 1,000
        # digits in every run, so runs differ only in what they claim to.
        train_idx = stratified_subset(dataset.train_labels, config.train_size, seed=0)
    labels = true = dataset.train_labels[train_idx]
    n_val = max(10, round(len(train_idx) * VAL_FRACTION))
    is_val = torch.zeros(len(train_idx), dtype=torch.bool)
    if config.patience or config.label_noise:  # the noisy gallery avoids these digits, too
        is_val[stratified_subset(true, n_val, seed=1)] = True
    gallery = None
    if config.label_noise:
        # The wrong labels are chosen among the digits this run trains on, so the
        # fraction is exact; the validation split below is noisy like the rest.
        labels = noisy_labels(labels, config.label_noise)
        gallery = memorization.pick_gallery(dataset.train_images[train_idx], labels, true, train_idx, ~is_val, device)
    noisy = bool(config.label_noise)
    val = None
    if config.patience:
        val = Split(dataset.train_images[train_idx[is_val]].to(device), labels[is_val].to(device))
        train_idx, labels, true = train_idx[~is_val], labels[~is_val], true[~is_val]
    train = Split(dataset.train_images[train_idx].to(device), labels.to(device),
                  true.to(device) if noisy else None, gallery)
    test = Split(dataset.test_images.to(device), dataset.test_labels.to(device))
    return train, test, val


def train_eval_split(train: Split, test: Split) -> Split:
    """The training digits that eval-mode train accuracy is measured on (see TRAIN_EVAL_LIMIT)."""
    size = min(len(train), len(test), TRAIN_EVAL_LIMIT)
    if size == len(train):
        return train
    pick = stratified_subset(train.labels.cpu(), size, seed=2).to(train.labels.device)
    true = train.true_labels[pick] if train.true_labels is not None else None
    return Split(train.images[pick], train.labels[pick], true)
