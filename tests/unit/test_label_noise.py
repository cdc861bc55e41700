"""Label noise: a fixed, nested choice of wrong training labels; test labels never touched.

trainset.noisy_labels on labels the tests make, trainset.prepare_data on the embedded sample (the
digits a run really trains on), and RunConfig.label_noise's validation, URL and key.
"""

from __future__ import annotations

import pytest
import torch

from regdemo.messages import render
from regdemo.training.config import ConfigError, RunConfig, from_query_params, to_query_params
from regdemo.training.data import load_dataset
from regdemo.training.trainset import VAL_FRACTION, noisy_labels, prepare_data

CPU = torch.device("cpu")
# RunConfig().key() and RunConfig(dropout=0.5, train_size=2000, epochs=20).key() computed on
# commit 248b6ef, before label_noise existed (git archive 248b6ef regdemo; python -c ...):
# stored runs of noise-free configs keep their keys.
KEYS_BEFORE_LABEL_NOISE = {
    RunConfig(): "91f490a0ee2e",
    RunConfig(dropout=0.5, train_size=2000, epochs=20): "bd4d63dbe84e",
}


def labels(n: int = 1000) -> torch.Tensor:
    """n labels, every class in turn."""
    return torch.arange(n) % 10


@pytest.mark.parametrize("fraction", [0.1, 0.2, 0.45, 0.8])
def test_exactly_the_fraction_is_changed_and_never_to_itself(fraction):
    clean = labels(1003)  # an odd size: the count is round(fraction * n)
    noisy = noisy_labels(clean, fraction)
    changed = noisy != clean
    assert int(changed.sum()) == round(fraction * 1003)
    assert noisy.dtype == clean.dtype and noisy.min() >= 0 and noisy.max() <= 9
    # The unchanged ones are untouched, and the input was not modified.
    assert torch.equal(clean, labels(1003))


def test_wrong_labels_are_spread_over_the_other_classes():
    clean = labels(10_000)
    noisy = noisy_labels(clean, 0.5)
    changed = noisy != clean
    offsets = (noisy[changed] - clean[changed]) % 10
    counts = torch.bincount(offsets, minlength=10).tolist()
    assert counts[0] == 0  # never the true class
    # 5,000 wrong labels over 9 offsets: about 556 each; uniform, not a fixed shift.
    assert all(450 < c < 660 for c in counts[1:])


def test_zero_noise_is_a_copy():
    clean = labels(50)
    out = noisy_labels(clean, 0.0)
    assert torch.equal(out, clean) and out is not clean


def test_same_choice_every_call():
    clean = labels()
    assert torch.equal(noisy_labels(clean, 0.2), noisy_labels(clean, 0.2))


def test_choice_is_nested_across_fractions():
    """The digits mislabelled at 10 % are among those at 20 %, with the same wrong labels."""
    clean = labels()
    previous = None
    for fraction in (0.1, 0.2, 0.3, 0.5, 0.8):
        noisy = noisy_labels(clean, fraction)
        if previous is not None:
            was_changed = previous != clean
            assert torch.equal(noisy[was_changed], previous[was_changed])
        previous = noisy


def test_a_run_trains_on_noisy_labels_and_tests_on_clean_ones():
    dataset = load_dataset("mnist-sample")
    clean_test = dataset.test_labels.clone()
    clean_train = dataset.train_labels.clone()
    config = RunConfig(train_size=500, label_noise=0.2)
    train, test, val = prepare_data(config, dataset, CPU)
    plain, _, _ = prepare_data(config.replace(label_noise=0.0), dataset, CPU)
    assert val is None
    # Same digits, 100 of their 500 labels wrong.
    assert torch.equal(train.images, plain.images)
    assert int((train.labels != plain.labels).sum()) == 100
    # The test split and the dataset itself are untouched.
    assert torch.equal(test.labels, clean_test)
    assert torch.equal(dataset.test_labels, clean_test) and torch.equal(dataset.train_labels, clean_train)


def test_every_seed_sees_the_same_wrong_labels():
    dataset = load_dataset("mnist-sample")
    base = RunConfig(train_size=1000, label_noise=0.3)
    first, _, _ = prepare_data(base, dataset, CPU)
    for seed in (1, 7, 12345):
        other, _, _ = prepare_data(base.replace(seed=seed), dataset, CPU)
        assert torch.equal(other.labels, first.labels)


def test_held_out_split_is_carved_from_the_noisy_training_digits():
    """With early stopping the held-out digits come from the same noisy labels: the fraction
    over train + held out is exact, and the test split stays clean."""
    dataset = load_dataset("mnist-sample")
    config = RunConfig(train_size=2000, label_noise=0.2, patience=3)
    train, test, val = prepare_data(config, dataset, CPU)
    plain_train, _, plain_val = prepare_data(config.replace(label_noise=0.0), dataset, CPU)
    assert len(val) == round(2000 * VAL_FRACTION) and len(train) + len(val) == 2000
    wrong = int((train.labels != plain_train.labels).sum()) + int((val.labels != plain_val.labels).sum())
    assert wrong == 400
    assert torch.equal(test.labels, dataset.test_labels)


@pytest.mark.parametrize("value", [-0.1, 0.81, 1.0, float("nan"), True, "0.2"])
def test_config_rejects_bad_noise(value):
    with pytest.raises(ConfigError, match="label_noise"):
        RunConfig(label_noise=value).validate()


@pytest.mark.parametrize("value", [0.0, 0.1, 0.8])
def test_config_accepts_noise_in_range(value):
    assert RunConfig(label_noise=value).validate().label_noise == value


def test_url_round_trip():
    config = RunConfig(label_noise=0.2, train_size=2000)
    params = to_query_params(config)
    assert params["noise"] == "0.2"
    back, warnings = from_query_params(params)
    assert back == config and warnings == []
    assert "noise" not in to_query_params(RunConfig())
    bad, warnings = from_query_params({"noise": "0.95"})
    assert bad.label_noise == 0.0 and "noise" in render(warnings[0])


def test_noise_free_keys_are_those_of_before_the_field():
    for config, key in KEYS_BEFORE_LABEL_NOISE.items():
        assert config.key() == key
    assert RunConfig(label_noise=0.2).key() != RunConfig().key()
    assert RunConfig(label_noise=0.2).key() != RunConfig(label_noise=0.1).key()


def test_label_names_the_noise_in_both_languages():
    config = RunConfig(label_noise=0.2)
    assert "20" in config.label("en") and "20" in config.label("zh")
    assert config.label("en") != RunConfig().label("en")
