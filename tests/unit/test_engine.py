import dataclasses
import math
import threading

import pytest
import torch

from regdemo.messages import render
from regdemo.training.config import ConfigError, RunConfig
from regdemo.training.data import load_dataset
from regdemo.training.engine import evaluate, fit, resolve_device, to_float
from regdemo.training.events import Done, EpochEnd, MaskSnapshot, Progress, Started
from regdemo.training.trainset import prepare_data

SMALL = RunConfig(train_size=300, epochs=2, batch_size=50, device="cpu")
# The embedded sample with a 300-digit test split: evaluation dominates tiny runs.
FULL = load_dataset("mnist-sample")
DATA = dataclasses.replace(FULL, test_images=FULL.test_images[:300], test_labels=FULL.test_labels[:300])


def run(config, **kwargs):
    return list(fit(config, dataset=DATA, **kwargs))


def of(events, cls):
    return [e for e in events if isinstance(e, cls)]


def test_events_arrive_in_order_with_every_metric():
    events = run(SMALL)
    assert isinstance(events[0], Started) and isinstance(events[-1], Done)
    started, done = events[0], events[-1]
    assert (started.train_size, started.test_size, started.steps_per_epoch) == (300, 300, 6)
    assert done.status == "finished" and done.epochs_run == 2 and done.step == 12
    epochs = of(events, EpochEnd)
    assert [e.epoch for e in epochs] == [1, 2]
    # Progress from the very first step, then several times per epoch.
    progress = of(events, Progress)
    assert progress[0].step == 1 and len(progress) >= 2 * 3
    assert all(a.epoch <= b.epoch for a, b in zip(progress, progress[1:], strict=False))
    for e in epochs:
        for value in (e.train_acc, e.train_acc_eval, e.test_acc):
            assert 0.0 <= value <= 1.0
        assert math.isfinite(e.train_loss + e.test_loss + e.l1_norm + e.l2_norm)
        assert sum(e.weight_hist) == sum(w.numel() for w in done.model.parameters() if w.dim() > 1)
    assert len(done.test_predictions) == 300
    assert not done.model.training


def test_same_seed_same_numbers_other_seed_other_numbers():
    config = SMALL.replace(dropout=0.5, augment="light")
    a, b = of(run(config), EpochEnd), of(run(config), EpochEnd)
    strip = lambda es: [(e.train_loss, e.train_acc, e.test_loss, e.test_acc, e.weight_hist) for e in es]
    assert strip(a) == strip(b)
    assert strip(of(run(config.replace(seed=1)), EpochEnd)) != strip(a)


def test_stop_is_honoured_within_one_step():
    stop = threading.Event()
    seen = []
    for event in fit(SMALL.replace(epochs=5), stop=stop, dataset=DATA):
        seen.append(event)
        if isinstance(event, Progress) and event.step == 4:
            stop.set()
    done = seen[-1]
    assert done.status == "stopped" and done.step == 4


def test_nan_loss_ends_as_diverged_with_the_step_and_no_nan_metric():
    events = run(SMALL.replace(l1=10.0, lr=10.0, epochs=3))
    done = events[-1]
    assert done.status == "diverged"
    assert 1 <= done.step <= 18 and f"step {done.step}" in render(done.message)
    assert "learning rate" in render(done.message)
    for e in of(events, Progress) + of(events, EpochEnd):
        assert all(math.isfinite(v) for v in (e.train_loss, e.train_acc) if v is not None)


def test_early_stopping_stops_and_keeps_the_best_weights():
    config = RunConfig(train_size=400, epochs=20, patience=2, lr=0.2, batch_size=32, device="cpu")
    events = run(config)
    done = events[-1]
    epochs = of(events, EpochEnd)
    assert done.status == "early_stopped" and len(epochs) < 20
    assert events[0].val_size == 40 and events[0].train_size == 360
    val = [e.val_loss for e in epochs]
    assert done.best_epoch == val.index(min(val)) + 1
    assert len(epochs) == done.best_epoch + 2  # patience epochs without improvement
    # The kept model is the best epoch's: its test accuracy is that epoch's.
    _, test, _ = prepare_data(config, DATA, torch.device("cpu"))
    _, acc, preds = evaluate(done.model, test)
    assert acc == pytest.approx(epochs[done.best_epoch - 1].test_acc)
    assert tuple(preds.tolist()) == done.test_predictions


def test_l1_makes_more_near_zero_weights_than_l2():
    base = RunConfig(train_size=400, epochs=3, device="cpu")
    sparsity = {}
    for name, changes in {"none": {}, "l1": dict(l1=1e-3), "l2": dict(l2=1e-3)}.items():
        sparsity[name] = of(run(base.replace(**changes)), EpochEnd)[-1].near_zero
    assert sparsity["l1"] > 2 * sparsity["l2"]
    assert sparsity["l1"] > 2 * sparsity["none"]


def test_l2_shrinks_weights():
    base = RunConfig(train_size=600, epochs=3, device="cpu")
    none = of(run(base), EpochEnd)[-1].l2_norm
    decayed = of(run(base.replace(l2=0.3)), EpochEnd)[-1].l2_norm
    assert decayed < 0.8 * none


def test_mask_snapshots_are_real_and_drop_about_p():
    for model, shapes in {"wide": {"drop": (256,)},
                          "article": {"drop1": (20, 22, 22), "drop2": (20, 7, 7)}}.items():
        events = run(SMALL.replace(model=model, dropout=0.4))
        masks = of(events, MaskSnapshot)
        assert {m.layer for m in masks} == set(shapes)
        for m in masks:
            assert m.shape == shapes[m.layer] and len(m.kept) == len(m.activation) == math.prod(m.shape)
            assert m.p == 0.4
        dropped = sum(m.fraction_dropped for m in masks) / len(masks)
        assert 0.3 < dropped < 0.5
    # No dropout, no masks.
    assert of(run(SMALL), MaskSnapshot) == []


def test_augmentation_changes_training_but_not_labels_or_test():
    plain = of(run(SMALL), EpochEnd)
    augmented = of(run(SMALL.replace(augment="strong")), EpochEnd)
    assert plain[-1].train_loss != augmented[-1].train_loss
    dataset = load_dataset("mnist-sample")
    train, _, _ = prepare_data(SMALL.replace(augment="strong"), dataset, torch.device("cpu"))
    assert train.labels.bincount().tolist() == [30] * 10


def test_train_size_is_a_stratified_subset():
    dataset = load_dataset("mnist-sample")
    train, test, val = prepare_data(RunConfig(train_size=500), dataset, torch.device("cpu"))
    assert len(train) == 500 and val is None and len(test) == 1000
    assert train.labels.bincount().tolist() == [50] * 10
    assert to_float(train.images[:3]).shape == (3, 1, 28, 28)


def test_forced_missing_device_is_a_clear_error():
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            resolve_device("cuda")
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")


def test_eval_mode_train_accuracy_uses_as_many_training_digits_as_test_has():
    """A fixed, stratified choice as large as the test split; all digits when fewer."""
    from regdemo.training.trainset import train_eval_split

    train, test, _ = prepare_data(RunConfig(device="cpu"), FULL, torch.device("cpu"))
    chosen = train_eval_split(train, test)
    assert len(train) == 4000 and len(chosen) == len(test) == 1000
    assert chosen.labels.bincount().tolist() == [100] * 10
    assert torch.equal(train_eval_split(train, test).images, chosen.images)  # the same digits every epoch
    small, test300, _ = prepare_data(SMALL, DATA, torch.device("cpu"))
    assert len(small) == len(test300) == 300 and train_eval_split(small, test300) is small


def test_last_epoch_predictions_are_the_returned_models():
    """Without early stopping the run's predictions come from its last epoch's test pass."""
    events = run(SMALL)
    done, last = events[-1], of(events, EpochEnd)[-1]
    _, test, _ = prepare_data(SMALL, DATA, torch.device("cpu"))
    _, acc, preds = evaluate(done.model, test)
    assert acc == pytest.approx(last.test_acc) and tuple(preds.tolist()) == done.test_predictions


def test_adamw_decays_weights_outside_adams_step_adam_rescales_the_l2_gradient():
    """With a zero data gradient, Adam + L2 moves each weight by about lr (its step is normalized,
    whatever λ is), AdamW's decoupled decay by lr·λ·w on top of a zero step."""
    from regdemo.training.engine import make_optimizer

    lr, lam = 1e-3, 0.05
    for name, expect in (("adam", lambda w: w - lr * torch.sign(w)), ("adamw", lambda w: w * (1 - lr * lam))):
        model = torch.nn.Linear(4, 3, bias=False)
        with torch.no_grad():
            model.weight.copy_(torch.tensor([[0.5, -0.2, 0.1, 2.0]] * 3))
        before = model.weight.detach().clone()
        optimizer = make_optimizer(model, RunConfig(optimizer=name, lr=lr, l2=lam))
        assert type(optimizer).__name__ == {"adam": "Adam", "adamw": "AdamW"}[name]
        model.weight.grad = torch.zeros_like(model.weight)
        optimizer.step()
        assert torch.allclose(model.weight.detach(), expect(before), atol=1e-6), name
