import torch

from regdemo.training.augment import LEVELS, random_affine
from regdemo.training.data import load_dataset


def _digits(n=64):
    ds = load_dataset("mnist-sample")
    return ds.train_images[:n].unsqueeze(1).float() / 255, ds.train_labels[:n]


def test_off_is_identity_and_levels_change_digits():
    x, _ = _digits()
    assert random_affine(x, "off") is x
    change = {}
    for level in ("light", "strong"):
        y = random_affine(x, level, torch.Generator().manual_seed(0))
        assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1.0 + 1e-6
        change[level] = (y - x).abs().mean().item()
        assert change[level] > 0.01
    assert change["strong"] > change["light"]
    assert set(LEVELS) == {"off", "light", "strong"}


def test_each_digit_gets_its_own_transform():
    x, _ = _digits(1)
    batch = x.repeat(16, 1, 1, 1)
    y = random_affine(batch, "strong", torch.Generator().manual_seed(1))
    # Sixteen copies of one digit come out as (nearly) sixteen different images.
    distinct = {tuple((img > 0.5).flatten().tolist()) for img in y}
    assert len(distinct) >= 14


def test_augmentation_is_reproducible_and_keeps_the_digit():
    x, labels = _digits(200)
    a = random_affine(x, "light", torch.Generator().manual_seed(3))
    b = random_affine(x, "light", torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    # A light warp keeps most of the ink: same digit, same label. Compare to a
    # digit of another class, whose overlap is far lower.
    overlap = (a * x).sum((1, 2, 3)) / (x * x).sum((1, 2, 3))
    other = x[torch.argmax((labels != labels[0]).int())]
    cross = (x[0] * other).sum() / (x[0] * x[0]).sum()
    assert overlap.median() > 0.5 and overlap.median() > cross
