"""regdemo.visuals: the frames say what the snapshots and epochs say, the charts build."""

from __future__ import annotations

import math
import random

import altair as alt
import numpy as np
import pytest
import torch

from regdemo import visuals
from regdemo.config import RunConfig
from regdemo.events import HIST_BINS, HIST_HIGH, HIST_LOW, EpochEnd, MaskSnapshot
from regdemo.frames import TEST, TRAIN, TRAIN_EVAL, VAL
from regdemo.records import RunView


def snapshot(shape, p=0.5, seed=0, step=10, layer="drop1") -> MaskSnapshot:
    rng = random.Random(seed)
    n = math.prod(shape)
    activation = tuple(max(0.0, rng.gauss(0.2, 0.5)) for _ in range(n))
    kept = tuple(rng.random() >= p for _ in range(n))
    return MaskSnapshot(step=step, epoch=step / 16, layer=layer, p=p, shape=tuple(shape),
                        activation=activation, kept=kept)


def epoch_end(epoch, hist=None, near_zero=0.02, val_loss=None, test_acc=0.9, train_acc=0.95,
              train_acc_eval=0.97, best_epoch=None) -> EpochEnd:
    hist = hist or tuple([0] * 30 + [100] + [0] * 30)
    return EpochEnd(
        epoch=epoch, train_loss=1 / epoch, train_acc=train_acc, train_loss_eval=0.8 / epoch,
        train_acc_eval=train_acc_eval, test_loss=0.5 + 0.01 * epoch, test_acc=test_acc,
        val_loss=val_loss, val_acc=None if val_loss is None else 0.9,
        l1_norm=10.0, l2_norm=1.0, near_zero=near_zero, weight_hist=tuple(hist),
        best_epoch=best_epoch or epoch, seconds=1.0, step=epoch * 10,
    )


def view(config=None, epochs=(), status="finished", masks=None, source="") -> RunView:
    config = config or RunConfig(train_size=100, epochs=max(2, len(epochs)))
    return RunView(key=config.key(), config=config, status=status, message="", queue_position=0,
                   started=None, progress=(), epochs=tuple(epochs), masks=masks or {}, done=None,
                   created_at=0.0, started_at=None, finished_at=None, source=source)


def spec(chart) -> dict:
    """The Vega-Lite spec (big mask frames pass altair's 5,000-row guard, as in streamlit)."""
    with alt.data_transformers.disable_max_rows():
        return chart.to_dict()


# --- dropout -----------------------------------------------------------------------

def test_feature_map_frame_marks_exactly_the_dropped_positions():
    snap = snapshot((20, 22, 22), p=0.25)
    frame = visuals.mask_frame(snap)
    assert len(frame) == 20 * 22 * 22
    assert frame["channel"].between(1, 20).all() and frame["y"].max() == 21 and frame["x"].max() == 21
    # Row-major: element i of the snapshot is (c, y, x) with i = (c*22 + y)*22 + x.
    assert ((frame["channel"] - 1) * 484 + frame["y"] * 22 + frame["x"] == frame["index"]).all()
    assert list(frame["dropped"]) == [not k for k in snap.kept]
    assert frame["dropped"].mean() == pytest.approx(snap.fraction_dropped)
    assert list(frame["activation"]) == pytest.approx(snap.activation)
    # What the layer passed on: zero where dropped, scaled by 1/(1-p) where kept.
    kept = frame[frame["kept"]]
    assert (frame.loc[frame["dropped"], "output"] == 0).all()
    assert list(kept["output"]) == pytest.approx(list(kept["activation"] / 0.75))


def test_eval_mode_drops_nothing_and_shows_the_same_activation():
    snap = snapshot((20, 7, 7), p=0.5)
    train, evaluation = visuals.mask_frame(snap), visuals.mask_frame(snap, eval_mode=True)
    assert train["dropped"].any()
    assert not evaluation["dropped"].any()
    assert list(evaluation["activation"]) == list(train["activation"])
    assert list(evaluation["output"]) == list(evaluation["activation"])


def test_hidden_units_lie_on_a_16_by_16_grid():
    snap = snapshot((256,), p=0.5, layer="drop")
    frame = visuals.mask_frame(snap)
    assert visuals.grid_side(256) == 16
    assert frame["y"].max() == 15 and frame["x"].max() == 15
    assert (frame["y"] * 16 + frame["x"] == frame["index"]).all()
    assert list(frame["dropped"]) == [not k for k in snap.kept]


def test_a_snapshot_whose_data_does_not_fit_its_shape_is_an_error():
    snap = snapshot((4,))
    bad = MaskSnapshot(step=1, epoch=0.1, layer="drop", p=0.5, shape=(5,), activation=snap.activation,
                       kept=snap.kept)
    with pytest.raises(ValueError, match="does not match"):
        visuals.mask_frame(bad)


def test_mask_charts_build_with_the_grey_layer_only_in_training_mode():
    maps = spec(visuals.feature_maps_chart(snapshot((20, 22, 22))))
    assert len(maps["spec"]["layer"]) == 2 and maps["columns"] == 10
    assert len(spec(visuals.feature_maps_chart(snapshot((20, 22, 22)), eval_mode=True))["spec"]["layer"]) == 1
    units = spec(visuals.units_chart([snapshot((256,), step=s, seed=s, layer="drop") for s in (8, 16, 24)]))
    assert units["facet"]["column"]["field"] == "step"
    with pytest.raises(ValueError):
        visuals.feature_maps_chart(snapshot((256,)))
    frame = visuals.units_frame([snapshot((256,), step=s, seed=s) for s in (8, 16)])
    assert len(frame) == 512 and sorted(frame["step"].unique()) == [8, 16]


def test_accuracy_modes_frame_has_train_eval_and_test_per_epoch():
    v = view(epochs=[epoch_end(1, train_acc=0.80, train_acc_eval=0.90, test_acc=0.88), epoch_end(2)])
    frame = visuals.accuracy_modes_frame(v)
    assert sorted(frame["split"].unique()) == sorted([TRAIN, TRAIN_EVAL, TEST])
    assert len(frame) == 6
    first = frame[frame["epoch"] == 1].set_index("split")["acc"]
    assert first[TRAIN] == 0.80 and first[TRAIN_EVAL] == 0.90 and first[TEST] == 0.88
    chart = spec(visuals.accuracy_modes_chart(frame, epochs=10))
    assert chart["encoding"]["x"]["scale"]["domain"] == [1, 10]  # the whole run's axis from the start
    scale = chart["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        TRAIN: "#0072B2", TEST: "#D55E00", TRAIN_EVAL: "#009E73"}


def test_split_legends_read_in_the_page_language_and_keep_their_colours():
    """The data keeps the fixed split names (they pick the colours); the legend's labelExpr
    maps each of them to the page's words."""
    from regdemo.i18n import translate

    zh = {key: translate(f"visuals.{key}", "zh") for key in visuals.LABELS}
    v = view(epochs=[epoch_end(1), epoch_end(2)])
    chart = spec(visuals.accuracy_modes_chart(visuals.accuracy_modes_frame(v), labels=zh))
    expr = chart["encoding"]["color"]["legend"]["labelExpr"]
    assert set(chart["encoding"]["color"]["scale"]["domain"]) == {TRAIN, TRAIN_EVAL, TEST}
    for split, word in ((TRAIN, "训练"), (TRAIN_EVAL, "训练（评估模式）"), (TEST, "测试"), (VAL, "留出集")):
        assert f'datum.label === "{split}" ? "{word}"' in expr


# --- L1 vs L2 ------------------------------------------------------------------------

def test_weight_histogram_rows_cover_every_bin_and_total_the_weight_count():
    weights = torch.randn(5000) * 0.1
    hist = torch.histc(weights.clamp(HIST_LOW, HIST_HIGH), bins=HIST_BINS, min=HIST_LOW, max=HIST_HIGH)
    counts = tuple(int(c) for c in hist.tolist())
    runs = {"none": view(epochs=[epoch_end(1, counts), epoch_end(2, counts)]),
            "L1": view(epochs=[epoch_end(1, counts)]), "L2": None}
    frame = visuals.weight_hist_frame(runs)
    assert len(frame) == 3 * HIST_BINS
    totals = frame.groupby(["run", "epoch"])["count"].sum()
    assert (totals == weights.numel()).all()
    assert frame.groupby(["run", "epoch"])["share"].sum().to_numpy() == pytest.approx(1.0)
    edges = visuals.bin_edges()
    assert edges[0] == HIST_LOW and edges[-1] == pytest.approx(HIST_HIGH) and len(edges) == HIST_BINS + 1
    # Epoch 2 of a run with one epoch shows its last epoch.
    chart = visuals.weight_hist_chart(frame, epoch=2)
    shown = chart.spec.data if hasattr(chart.spec, "data") and chart.spec.data is not alt.Undefined else chart.data
    assert set(zip(shown["run"], shown["epoch"], strict=True)) == {("none", 2), ("L1", 1)}
    spec(chart)


def test_near_zero_frame_and_summary_follow_the_runs():
    runs = {"none": view(epochs=[epoch_end(1, near_zero=0.02), epoch_end(2, near_zero=0.02)]),
            "L1": view(epochs=[epoch_end(1, near_zero=0.10), epoch_end(2, near_zero=0.40, test_acc=0.8)])}
    frame = visuals.near_zero_frame(runs)
    assert list(frame["near_zero"]) == [0.02, 0.02, 0.10, 0.40]
    summary = visuals.penalty_summary(frame)
    assert list(summary[visuals.LABELS["run"]]) == ["none", "L1"]
    assert list(summary[visuals.LABELS["table.near_zero"]]) == [2.0, 40.0]
    assert list(summary[visuals.LABELS["table.test_acc"]]) == [90.0, 80.0]
    spec(visuals.near_zero_chart(frame))


def test_penalty_configs_differ_in_the_penalty_alone():
    base = RunConfig(model="article", dropout=0.25, l2=1e-3, epochs=3)
    runs = visuals.penalty_configs(base)
    assert (runs["none"].l1, runs["none"].l2) == (0.0, 0.0)
    assert (runs["L1"].l1, runs["L1"].l2) == (visuals.L1_STRENGTH, 0.0)
    assert (runs["L2"].l1, runs["L2"].l2) == (0.0, 1e-3)  # the sidebar's own L2 is kept
    for config in runs.values():
        assert (config.model, config.dropout, config.epochs) == ("article", 0.25, 3)
    assert len({config.key() for config in runs.values()}) == 3


# --- early stopping --------------------------------------------------------------------

def test_early_stopping_frame_and_chart_mark_best_and_window():
    epochs = [epoch_end(e, val_loss=v) for e, v in zip((1, 2, 3, 4, 5), (0.5, 0.4, 0.45, 0.47, 0.5), strict=True)]
    frame = visuals.early_stopping_frame(view(epochs=epochs))
    assert sorted(frame["split"].unique()) == sorted([TRAIN_EVAL, VAL, TEST])
    assert len(frame) == 15
    chart = spec(visuals.early_stopping_chart(frame, best_epoch=2, patience=3, last_epoch=5, stopped_early=True))
    texts = [d for d in chart["datasets"].values() if d and "label" in d[0]]
    labels = {row["label"] for rows in texts for row in rows}
    assert {"best epoch 2: kept", "stopped after epoch 5", "patience window"} <= labels
    window = next(rows[0] for rows in texts if "end" in rows[0])
    assert (window["epoch"], window["end"]) == (2, 5)
    assert all(layer["encoding"]["x"]["scale"]["domain"] == [1, 5] for layer in chart["layer"])
    # No held-out split (patience 0): just the curves.
    plain = spec(visuals.early_stopping_chart(visuals.early_stopping_frame(view(epochs=epochs[:2])),
                                               best_epoch=0, patience=0, last_epoch=2, stopped_early=False))
    assert len(plain["layer"]) == 1


# --- augmentation and data size -----------------------------------------------------------

def test_augmented_rows_are_reproducible_per_seed_and_differ_between_draws():
    images = torch.zeros(3, 28, 28, dtype=torch.uint8)
    images[:, 10:18, 12:16] = 255
    rows = visuals.augmented_rows(images, seed=5)
    assert [(level, draw) for level, draw, _ in rows] == [
        ("off", 0), ("light", 1), ("light", 2), ("light", 3), ("strong", 1), ("strong", 2), ("strong", 3)]
    assert torch.equal(rows[0][2], images.float() / 255)
    for _, _, x in rows:
        assert x.shape == (3, 28, 28) and x.min() >= 0 and x.max() <= 1
    again = visuals.augmented_rows(images, seed=5)
    assert all(torch.equal(a[2], b[2]) for a, b in zip(rows, again, strict=True))
    assert not torch.equal(rows[1][2], rows[2][2])
    assert not torch.equal(rows[1][2], visuals.augmented_rows(images, seed=6)[1][2])


def test_one_per_class_picks_the_first_of_each_digit():
    labels = torch.tensor([3, 1, 0, 1, 2, 9, 8, 7, 6, 5, 4, 0])
    idx = visuals.one_per_class(labels)
    assert labels[idx].tolist() == list(range(10))
    assert idx.tolist()[:4] == [2, 1, 4, 0]


def test_digit_strip_lays_digits_side_by_side_with_white_gaps():
    images = torch.zeros(4, 28, 28)
    images[2] = 1.0
    strip = visuals.digit_strip(images, scale=2, gap=3)
    assert strip.dtype == np.uint8 and strip.shape == (56, 4 * 56 + 3 * 3)
    assert (strip[:, 56:59] == 255).all()  # first gap
    third = 2 * (56 + 3)
    assert (strip[:, third:third + 56] == 255).all() and (strip[:, :56] == 0).all()


def test_size_configs_and_frame():
    configs = visuals.size_configs(RunConfig(epochs=3, dropout=0.5))
    assert [c.effective_train_size for c in configs] == [250, 500, 1000, 2000, 4000]
    assert configs[-1].train_size == 0  # the whole split, as the sidebar names it
    assert all(c.dropout == 0.5 for c in configs)
    # About the same number of steps each: 3 epochs of 4,000 digits = 48 epochs of 250.
    assert [c.epochs for c in configs] == [48, 24, 12, 6, 3]
    assert [c.epochs for c in visuals.size_configs(RunConfig(epochs=10))] == [50, 50, 40, 20, 10]
    assert visuals.train_sizes("mnist")[-1] == 60000
    views = [view(configs[0], [epoch_end(1, train_acc_eval=1.0, test_acc=0.7)]),
             None,
             view(configs[-1], [epoch_end(1, train_acc_eval=0.95, test_acc=0.9)], status="running"),
             view(configs[2], [])]
    frame = visuals.size_frame(views)
    assert list(frame["train_size"]) == [250, 4000]
    assert list(frame["gap"]) == pytest.approx([0.3, 0.05])
    assert list(frame["final"]) == [True, False]
    spec(visuals.size_chart(frame))


def test_lesson_charts_name_a_zoomed_axis_and_offer_a_log_loss():
    import pandas as pd

    from regdemo import visuals as v

    frame = pd.DataFrame({"epoch": [1, 2, 1, 2], "split": ["train", "train", "test", "test"],
                          "acc": [0.90, 0.95, 0.88, 0.91]})
    y = v.accuracy_modes_chart(frame).to_dict()["encoding"]["y"]
    assert y["title"] == "accuracy (zoomed)" and y["scale"]["domain"] == [0.85, 1.0]
    losses = pd.DataFrame({"epoch": [1, 2], "split": ["test", "test"], "loss": [0.5, 0.9]})
    spec = v.early_stopping_chart(losses, best_epoch=0, patience=0, last_epoch=2, stopped_early=False, log=True)
    line = spec.to_dict()["layer"][-1]["encoding"]["y"]
    assert line["scale"]["type"] == "log" and line["title"] == "loss (log scale)"
