"""regdemo.viz: what every chart draws, in which colours, in which words.

Runs are RunViews made of hand-written events and snapshots (no training), so
every number a test checks is known. Chart words come from the catalogs: `EN`
and `ZH` are the translate functions a page would pass.
"""

from __future__ import annotations

import importlib.util
import json
import math
import random
from functools import partial

import altair as alt
import numpy as np
import pandas as pd
import pytest
import torch

from regdemo.i18n import translate
from regdemo.runs import runsets
from regdemo.runs.frames import TEST, TRAIN, TRAIN_EVAL, VAL, curves_frame, epochs_frame, kept_epoch, summary_frame
from regdemo.runs.records import RunView
from regdemo.training.augment import example_rows
from regdemo.training.config import RunConfig
from regdemo.training.events import HIST_BINS, HIST_HIGH, HIST_LOW, Done, EpochEnd, MaskSnapshot, Progress
from regdemo.viz.curves import _curves_skeleton, acc_domain, curves_chart, curves_data, curves_spec, gap_frame
from regdemo.viz.digits import augmented_rows, digit_strip, draws_stored, one_per_class
from regdemo.viz.lessons import (
    accuracy_modes_chart,
    accuracy_modes_frame,
    early_stopping_chart,
    early_stopping_frame,
    size_chart,
    size_frame,
)
from regdemo.viz.masks import (
    feature_maps_chart,
    grid_frame,
    grid_side,
    mask_frame,
    mask_grid_chart,
    mask_grid_spec,
    units_chart,
    units_frame,
)
from regdemo.viz.overlay import assign_colors, overlay_chart, overlay_data, overlay_spec
from regdemo.viz.theme import DROPPED_COLOR, HEIGHT, LINE_WIDTH, RUN_COLORS, SPLIT_COLORS, TRAIN_COLOR, style, to_spec
from regdemo.viz.weights import (
    bin_edges,
    near_zero_chart,
    near_zero_frame,
    penalty_summary,
    weight_hist_chart,
    weight_hist_frame,
)
from tools import make_augmented_digits

EN = translate
ZH = partial(translate, lang="zh")


def epoch(n, train_acc, test_acc, train_acc_eval=None, val_loss=None, best=None):
    eval_acc = train_acc if train_acc_eval is None else train_acc_eval
    return EpochEnd(
        epoch=n, train_loss=1.0 / n, train_acc=train_acc, train_loss_eval=0.9 / n, train_acc_eval=eval_acc,
        test_loss=1.2 / n + 0.1, test_acc=test_acc, val_loss=val_loss, val_acc=None if val_loss is None else 0.5,
        l1_norm=1.0, l2_norm=1.0, near_zero=0.0, weight_hist=(0,) * 61, best_epoch=best or n, seconds=1.0,
        step=10 * n)


def run(epochs=(), progress=(), config=None, done=None, status="finished", masks=None) -> RunView:
    config = config or RunConfig(epochs=3)
    return RunView(key=config.key(), config=config, status=status, message="", queue_position=0, started=None,
                   progress=tuple(progress), epochs=tuple(epochs), masks=masks or {}, done=done,
                   created_at=0.0, started_at=0.0, finished_at=1.0)


PROGRESS = [Progress(step=s, epoch=s / 10, train_loss=2.0 - s / 10, train_acc=0.1 + s / 50) for s in range(1, 21)]
EPOCHS = [epoch(1, 0.80, 0.78, 0.82), epoch(2, 0.92, 0.85, 0.95)]


def spec_of(chart) -> dict:
    return chart.to_dict()


def layers(spec) -> list[dict]:
    return spec["layer"]


def color_scale(spec) -> dict:
    for layer in layers(spec):
        color = layer.get("encoding", {}).get("color")
        if color and "scale" in color:
            return color["scale"]
    raise AssertionError("no colour scale")


# --- one run ------------------------------------------------------------------------

def test_train_line_comes_from_progress_points_and_test_from_epoch_ends():
    data = curves_data(curves_frame(run(EPOCHS, PROGRESS), eval_train=True), "acc", t=EN)
    lines = data["lines"]
    train = lines[lines["split"] == TRAIN]
    assert list(train["kind"].unique()) == ["progress"] and len(train) == 20  # no zig-zag epoch averages
    assert list(lines[lines["split"] == TEST]["value"]) == [0.78, 0.85]
    assert list(lines[lines["split"] == TRAIN_EVAL]["value"]) == [0.82, 0.95]


def test_without_progress_points_the_train_line_uses_the_epoch_ends():
    lines = curves_data(curves_frame(run(EPOCHS)), "loss", t=EN)["lines"]
    assert list(lines[lines["split"] == TRAIN]["value"]) == [1.0, 0.5]


def test_a_run_that_just_started_draws_its_first_progress_point():
    lines = curves_data(curves_frame(run(progress=PROGRESS[:1], status="running")), "acc", t=EN)["lines"]
    assert len(lines) == 1 and lines["epoch"][0] == pytest.approx(0.1)


def test_split_colours_are_fixed_whatever_is_drawn_and_however_named():
    only_train = color_scale(spec_of(curves_chart(curves_frame(run(progress=PROGRESS)), "acc", t=EN)))
    assert only_train == {"domain": ["train"], "range": [TRAIN_COLOR]}
    full = color_scale(spec_of(curves_chart(curves_frame(run(EPOCHS, PROGRESS), eval_train=True), "acc", t=ZH)))
    assert dict(zip(full["domain"], full["range"], strict=True)) == {
        "训练": "#0072B2", "训练（评估模式）": "#009E73", "测试": "#D55E00"}
    assert SPLIT_COLORS == {TRAIN: "#0072B2", TEST: "#D55E00", TRAIN_EVAL: "#009E73", VAL: "#CC79A7"}


def test_gap_band_runs_between_eval_mode_train_and_test_with_its_size_written():
    table = epochs_frame(run(EPOCHS))
    gaps = gap_frame(table, "acc")
    assert list(gaps["gap"]) == pytest.approx([0.04, 0.10])
    assert list(gaps["low"]) == [0.78, 0.85] and list(gaps["high"]) == [0.82, 0.95]
    loss = gap_frame(table, "loss")
    assert list(loss["gap"]) == pytest.approx([1.3 - 0.9, 0.7 - 0.45])  # test loss above train: positive
    data = curves_data(curves_frame(run(EPOCHS)), "acc", epochs_table=table, t=EN)
    assert list(data["gap_label"]["label"]) == ["gap +10.0 pts"]
    marks = [layer["mark"]["type"] for layer in layers(spec_of(curves_chart(
        curves_frame(run(EPOCHS)), "acc", epochs_table=table, t=EN)))]
    assert marks[:2] == ["area", "text"]
    no_gap = spec_of(curves_chart(curves_frame(run(EPOCHS)), "acc", epochs_table=table, show_gap=False, t=EN))
    assert "area" not in [layer["mark"]["type"] for layer in layers(no_gap)]


def test_best_epoch_rule_is_drawn_when_asked_and_kept_in_the_spec_before_it_exists():
    curves = curves_frame(run(EPOCHS))
    marks = lambda chart: [layer["mark"]["type"] for layer in layers(spec_of(chart))]  # noqa: E731
    assert "rule" not in marks(curves_chart(curves, "acc", best_epoch=None, t=EN))
    assert "rule" in marks(curves_chart(curves, "acc", best_epoch=0, t=EN))  # early stopping, no epoch yet
    data = curves_data(curves, "acc", best_epoch=2, t=EN)
    assert list(data["best"]["epoch"]) == [2.0] and list(data["best"]["label"]) == ["best epoch 2"]
    assert curves_data(curves, "acc", best_epoch=0, t=EN)["best"].empty


def test_x_axis_is_fixed_to_the_planned_epochs_while_training():
    spec = spec_of(curves_chart(curves_frame(run(progress=PROGRESS)), "acc", epochs=10, t=EN))
    x = layers(spec)[-1]["encoding"]["x"]
    assert x["scale"]["domain"] == [0, 10]


def test_presentation_scale_enlarges_fonts_lines_and_height():
    curves = curves_frame(run(EPOCHS, PROGRESS))
    small = spec_of(style(curves_chart(curves, "acc", t=EN), 1.0))
    big = spec_of(style(curves_chart(curves, "acc", scale=1.5, t=EN), 1.5))
    assert big["config"]["axis"]["labelFontSize"] == pytest.approx(1.5 * small["config"]["axis"]["labelFontSize"])
    assert small["config"]["axis"]["labelFontSize"] >= 14  # readable from the back of a classroom
    assert big["height"] == int(HEIGHT * 1.5)
    line = next(layer for layer in layers(big) if layer["mark"]["type"] == "line")
    assert line["mark"]["strokeWidth"] == pytest.approx(LINE_WIDTH * 1.5)


def test_bad_metric_is_refused():
    with pytest.raises(ValueError, match="metric"):
        curves_data(curves_frame(run(EPOCHS)), "f1", t=EN)


# --- the cached spec of a live chart ----------------------------------------------------

def test_live_spec_is_the_chart_with_its_data_as_named_datasets():
    curves, table = curves_frame(run(EPOCHS, PROGRESS), eval_train=True), epochs_frame(run(EPOCHS))
    spec = curves_spec(curves, "acc", epochs_table=table, epochs=3, best_epoch=2, t=EN)
    assert set(spec["datasets"]) == {"lines", "gap", "gap_label", "best"}
    assert {layer["data"]["name"] for layer in spec["layer"]} == {"lines", "gap", "gap_label", "best"}
    # Arrow tables (what Streamlit sends), holding the rows the altair chart draws
    for layer, frame in curves_data(curves, "acc", t=EN, epochs_table=table, best_epoch=2).items():
        assert spec["datasets"][layer].to_pylist() == frame.to_dict("records"), layer
    assert "continuousWidth" not in spec.get("config", {}).get("view", {})
    json.dumps({k: v for k, v in spec.items() if k != "datasets"})  # the rest is plain JSON


def test_live_spec_stays_the_same_as_points_arrive_so_the_browser_redraws_in_place():
    early = run(EPOCHS[:1], PROGRESS[:12], status="running")
    later = run(EPOCHS, PROGRESS, status="running")
    # zoom off: the 0-100 % axis (a zoomed axis moves with the data, see the zoom tests)
    specs = [curves_spec(curves_frame(v, eval_train=True), "acc", epochs_table=epochs_frame(v), epochs=3,
                                zoom=False, t=EN) for v in (early, later)]
    assert [{k: v for k, v in s.items() if k != "datasets"} for s in specs][0] == \
        {k: v for k, v in specs[1].items() if k != "datasets"}
    assert len(specs[0]["datasets"]["lines"]) < len(specs[1]["datasets"]["lines"])
    before = _curves_skeleton.cache_info().hits
    curves_spec(curves_frame(later, eval_train=True), "acc", epochs_table=epochs_frame(later), epochs=3,
                       zoom=False, t=EN)
    assert _curves_skeleton.cache_info().hits == before + 1
    # The cache hands out copies: changing one spec leaves the next one alone.
    specs[1]["layer"].clear()
    again = curves_spec(curves_frame(later, eval_train=True), "acc", epochs_table=epochs_frame(later),
                               epochs=3, zoom=False, t=EN)
    assert again["layer"]


# --- the y axis: zoomed accuracy, log loss ---------------------------------------------

def y_encoding(spec) -> dict:
    return next(layer["encoding"]["y"] for layer in spec["layer"] if layer["mark"]["type"] == "line")



def test_live_spec_zooms_like_the_chart_and_its_cache_ignores_the_range():
    # The live spec is cached without its zoomed range (it moves about once an epoch):
    # two runs with different ranges share one cached skeleton, each spec carries its own range.
    climb = [Progress(step=s, epoch=s / 10, train_acc=0.1 + s / 12 if s < 10 else 0.9, train_loss=1.0)
             for s in range(1, 21)]
    first = curves_frame(run(EPOCHS, climb), eval_train=True)
    second = first.assign(acc=first["acc"] * 0.9)
    _curves_skeleton.cache_clear()
    specs = [curves_spec(c, "acc", epochs=3, t=EN) for c in (first, second)]
    assert _curves_skeleton.cache_info().misses == 1
    for curves, spec in zip((first, second), specs, strict=True):
        chart = y_encoding(spec_of(curves_chart(curves, "acc", epochs=3, t=EN)))
        live = y_encoding(spec)
        assert live["scale"]["domain"] == chart["scale"]["domain"] and live["title"] == chart["title"]
    assert y_encoding(specs[0])["scale"]["domain"] != y_encoding(specs[1])["scale"]["domain"]

def test_accuracy_axis_zooms_to_the_curves_after_the_first_epoch():
    # After epoch 1 the curves span 85 % .. 95 %; the climb from 12 % and the end of epoch 1
    # (78-82 %) are left out.
    climb = [Progress(step=s, epoch=s / 10, train_acc=0.1 + s / 12 if s < 10 else 0.9, train_loss=1.0)
             for s in range(1, 21)]
    curves = curves_frame(run(EPOCHS, climb), eval_train=True)
    assert curves["acc"].min() < 0.2
    y = y_encoding(spec_of(curves_chart(curves, "acc", t=EN)))
    assert y["scale"]["domain"] == [0.84, 0.96] and y["title"] == "accuracy (zoomed)"
    assert y["scale"]["zero"] is False
    full = y_encoding(spec_of(curves_chart(curves, "acc", zoom=False, t=EN)))
    assert full["scale"]["domain"] == [0, 1] and full["title"] == "accuracy"


def test_zoomed_domain_is_computed_from_the_data():
    frame = pd.DataFrame({"epoch": [0.5, 1.0, 2.0, 3.0], "value": [0.10, 0.60, 0.962, 0.975]})
    assert acc_domain(frame) == (0.95, 0.99)  # 96.2 - 1 .. 97.5 + 1, whole percents, >= 4 points
    assert acc_domain(frame[frame["epoch"] <= 1]) == (0.57, 0.61)  # only epoch 1 so far: from its end
    assert acc_domain(frame[frame["epoch"] < 1]) is None  # mid first epoch: no zoom yet
    stuck = pd.DataFrame({"epoch": [1.0, 2.0, 3.0], "value": [0.11, 0.12, 0.99]})
    assert acc_domain(stuck) is None  # a run near chance beside one near 100 %: the full axis
    near_top = pd.DataFrame({"epoch": [1.0, 2.0], "value": [0.998, 1.0]})
    assert acc_domain(near_top) == (0.96, 1.0)


def test_before_the_first_epoch_ends_the_axis_stays_0_to_100():
    curves = curves_frame(run(progress=PROGRESS[:5]))
    y = y_encoding(spec_of(curves_chart(curves, "acc", t=EN)))
    assert y["scale"]["domain"] == [0, 1] and y["title"] == "accuracy"


def test_lines_and_gap_are_clipped_to_the_zoomed_axis():
    curves, table = curves_frame(run(EPOCHS, PROGRESS), eval_train=True), epochs_frame(run(EPOCHS))
    spec = spec_of(curves_chart(curves, "acc", epochs_table=table, t=EN))
    clipped = {layer["mark"]["type"] for layer in spec["layer"] if layer["mark"].get("clip")}
    assert {"line", "circle", "area"} <= clipped


def test_loss_can_be_drawn_on_a_log_axis():
    curves = curves_frame(run(EPOCHS, PROGRESS), eval_train=True)
    y = y_encoding(spec_of(curves_chart(curves, "loss", log_loss=True, t=EN)))
    assert y["scale"]["type"] == "log" and y["title"] == "loss (log scale)"
    linear = y_encoding(spec_of(curves_chart(curves, "loss", t=EN)))
    assert "type" not in linear["scale"] and linear["scale"]["zero"] is True
    spec = curves_spec(curves, "loss", log_loss=True, t=ZH)
    assert y_encoding(spec)["title"] == "损失（对数坐标）" and y_encoding(spec)["scale"]["type"] == "log"


def test_overlay_zooms_accuracy_and_logs_loss_too():
    runs = pd.concat([curves_frame(run(EPOCHS), label="plain"),
                      curves_frame(run([epoch(1, 0.7, 0.72), epoch(2, 0.8, 0.81)]), label="dropout")])
    colors = {"plain": "#000000", "dropout": "#E69F00"}
    acc = y_encoding(spec_of(overlay_chart(runs, "acc", colors=colors, t=EN)))
    assert acc["scale"]["domain"] == [0.79, 0.93] and acc["title"] == "accuracy (zoomed)"  # epoch 2: 80-92 %
    loss = y_encoding(overlay_spec(runs, "loss", colors=colors, log_loss=True, t=EN))
    assert loss["scale"]["type"] == "log"


# --- many runs ------------------------------------------------------------------------------

def test_run_colours_never_change_once_given_and_stay_distinct():
    first = assign_colors(["a", "b"])
    assert first == {"a": RUN_COLORS[0], "b": RUN_COLORS[1]}
    second = assign_colors(["b", "c"], first)  # a left the screen
    assert second["b"] == first["b"] and second["c"] not in (first["b"],)
    assert second["c"] == RUN_COLORS[0]  # a's colour is free again
    many = assign_colors([str(i) for i in range(len(RUN_COLORS))])
    assert len(set(many.values())) == len(RUN_COLORS)


def test_overlay_colours_each_run_and_dashes_each_split():
    a, b = run(EPOCHS, PROGRESS), run(EPOCHS[:1], config=RunConfig(epochs=3, dropout=0.5))
    curves = pd.concat([curves_frame(a, label="plain"), curves_frame(b, label="dropout")])
    data = overlay_data(curves, "acc", splits=[TRAIN, TEST], t=EN)
    assert set(data["label"]) == {"plain", "dropout"} and len(data) == 2 * 2 + 2  # epoch ends only
    spec = spec_of(overlay_chart(curves, "acc", colors={"plain": "#000000", "dropout": "#E69F00"}, t=EN))
    line = spec["layer"][0]["encoding"]
    assert line["color"]["scale"] == {"domain": ["plain", "dropout"], "range": ["#000000", "#E69F00"]}
    assert dict(zip(line["strokeDash"]["scale"]["domain"], map(tuple, line["strokeDash"]["scale"]["range"]),
                    strict=True)) == {"train": (7, 4), "test": (1, 0)}
    live = overlay_spec(curves, "acc", colors={"plain": "#000000", "dropout": "#E69F00"}, t=EN)
    assert len(live["datasets"]["runs"]) == len(data)


def test_summary_reports_the_kept_epoch_and_the_gap():
    early = run([epoch(1, 0.9, 0.80, 0.92, val_loss=0.5, best=1), epoch(2, 0.95, 0.78, 0.99, val_loss=0.7, best=1)],
                 config=RunConfig(epochs=5, patience=1), done=Done("early_stopped", 2, 1, 20), status="early_stopped")
    assert kept_epoch(early).epoch == 1
    plain = run(EPOCHS, done=Done("finished", 2, 2, 20))
    table = summary_frame([early, plain], {early.key: "with early stopping"})
    assert list(table["label"]) == ["with early stopping", plain.config.label()]
    assert list(table["kept_epoch"]) == [1, 2]
    assert list(table["gap"]) == pytest.approx([0.12, 0.10])
    assert summary_frame([run()])["test_acc"].isna().all()  # no epoch yet: empty cells, no error



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


def lesson_run(config=None, epochs=(), status="finished", masks=None, source="") -> RunView:
    config = config or RunConfig(train_size=100, epochs=max(2, len(epochs)))
    return RunView(key=config.key(), config=config, status=status, message="", queue_position=0,
                   started=None, progress=(), epochs=tuple(epochs), masks=masks or {}, done=None,
                   created_at=0.0, started_at=None, finished_at=None, source=source)


def spec(chart) -> dict:
    """The Vega-Lite spec (big mask frames pass altair's 5,000-row guard, as in streamlit)."""
    with alt.data_transformers.disable_max_rows():
        return chart.to_dict()



# --- the Playground's small mask picture --------------------------------------------------------------------------

def striped(shape, dropped_every=3):
    n = 1
    for s in shape:
        n *= s
    return MaskSnapshot(step=7, epoch=0.5, layer="drop", p=0.3, shape=shape,
                        activation=tuple(float(i % 5) for i in range(n)),
                        kept=tuple(i % dropped_every != 0 for i in range(n)))


def test_the_wide_nets_256_units_lie_on_a_16_by_16_grid():
    snap = striped((256,))
    frame = grid_frame(snap)
    assert len(frame) == 256 and frame["x"].max() == 15 and frame["y"].max() == 15
    assert frame.loc[17, "x"] == 1 and frame.loc[17, "y"] == 1
    assert (~frame["kept"]).sum() == sum(not k for k in snap.kept)
    spec = mask_grid_spec(snap, t=EN)
    assert len(spec["datasets"]["mask"]) == 256
    dropped = spec["layer"][1]
    assert dropped["mark"]["color"] == DROPPED_COLOR and dropped["transform"] == [{"filter": "!datum.kept"}]


def test_the_article_nets_feature_maps_show_the_first_channels_as_a_small_grid():
    snap = striped((20, 22, 22))
    frame = grid_frame(snap, max_channels=4)
    assert sorted(frame["channel"].unique()) == [1, 2, 3, 4] and len(frame) == 4 * 22 * 22
    # Four maps on a 2 x 2 grid, one empty row and column between them.
    corners = frame.groupby("channel")[["x", "y"]].min()
    assert corners.values.tolist() == [[0, 0], [23, 0], [0, 23], [23, 23]]
    spec = to_spec(mask_grid_chart(snap, t=EN, size=200))
    assert spec["width"] == spec["height"] == 45 * (200 // 45)


# --- the Dropout page's masks and accuracies -----------------------------------------------------------------------

def test_feature_map_frame_marks_exactly_the_dropped_positions():
    snap = snapshot((20, 22, 22), p=0.25)
    frame = mask_frame(snap)
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
    train, evaluation = mask_frame(snap), mask_frame(snap, eval_mode=True)
    assert train["dropped"].any()
    assert not evaluation["dropped"].any()
    assert list(evaluation["activation"]) == list(train["activation"])
    assert list(evaluation["output"]) == list(evaluation["activation"])


def test_hidden_units_lie_on_a_16_by_16_grid():
    snap = snapshot((256,), p=0.5, layer="drop")
    frame = mask_frame(snap)
    assert grid_side(256) == 16
    assert frame["y"].max() == 15 and frame["x"].max() == 15
    assert (frame["y"] * 16 + frame["x"] == frame["index"]).all()
    assert list(frame["dropped"]) == [not k for k in snap.kept]


def test_a_snapshot_whose_data_does_not_fit_its_shape_is_an_error():
    snap = snapshot((4,))
    bad = MaskSnapshot(step=1, epoch=0.1, layer="drop", p=0.5, shape=(5,), activation=snap.activation,
                       kept=snap.kept)
    with pytest.raises(ValueError, match="does not match"):
        mask_frame(bad)
    with pytest.raises(ValueError, match="does not match"):
        grid_frame(bad)  # the Playground's small picture, from the same frame


def test_mask_charts_build_with_the_grey_layer_only_in_training_mode():
    maps = spec(feature_maps_chart(snapshot((20, 22, 22)), t=EN))
    assert len(maps["spec"]["layer"]) == 2 and maps["columns"] == 10
    assert len(spec(feature_maps_chart(snapshot((20, 22, 22)), eval_mode=True, t=EN))["spec"]["layer"]) == 1
    units = spec(units_chart([snapshot((256,), step=s, seed=s, layer="drop") for s in (8, 16, 24)], t=EN))
    assert units["facet"]["column"]["field"] == "step"
    with pytest.raises(ValueError):
        feature_maps_chart(snapshot((256,)), t=EN)
    frame = units_frame([snapshot((256,), step=s, seed=s) for s in (8, 16)])
    assert len(frame) == 512 and sorted(frame["step"].unique()) == [8, 16]


def test_accuracy_modes_frame_has_train_eval_and_test_per_epoch():
    v = lesson_run(epochs=[epoch_end(1, train_acc=0.80, train_acc_eval=0.90, test_acc=0.88), epoch_end(2)])
    frame = accuracy_modes_frame(v)
    assert sorted(frame["split"].unique()) == sorted([TRAIN, TRAIN_EVAL, TEST])
    assert len(frame) == 6
    first = frame[frame["epoch"] == 1].set_index("split")["acc"]
    assert first[TRAIN] == 0.80 and first[TRAIN_EVAL] == 0.90 and first[TEST] == 0.88
    chart = spec(accuracy_modes_chart(frame, epochs=10, t=EN))
    assert chart["encoding"]["x"]["scale"]["domain"] == [1, 10]  # the whole run's axis from the start
    scale = chart["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        TRAIN: "#0072B2", TEST: "#D55E00", TRAIN_EVAL: "#009E73"}


def test_split_legends_read_in_the_page_language_and_keep_their_colours():
    """The data keeps the fixed split names (they pick the colours); the legend's labelExpr
    maps each of them to the page's words."""
    v = lesson_run(epochs=[epoch_end(1), epoch_end(2)])
    chart = spec(accuracy_modes_chart(accuracy_modes_frame(v), t=ZH))
    expr = chart["encoding"]["color"]["legend"]["labelExpr"]
    assert set(chart["encoding"]["color"]["scale"]["domain"]) == {TRAIN, TRAIN_EVAL, TEST}
    for split, word in ((TRAIN, "训练"), (TRAIN_EVAL, "训练（评估模式）"), (TEST, "测试"), (VAL, "验证集")):
        assert f'datum.label === "{split}" ? "{word}"' in expr


# --- L1 vs L2 ------------------------------------------------------------------------

def test_weight_histogram_rows_cover_every_bin_and_total_the_weight_count():
    weights = torch.randn(5000) * 0.1
    hist = torch.histc(weights.clamp(HIST_LOW, HIST_HIGH), bins=HIST_BINS, min=HIST_LOW, max=HIST_HIGH)
    counts = tuple(int(c) for c in hist.tolist())
    runs = {"none": lesson_run(epochs=[epoch_end(1, counts), epoch_end(2, counts)]),
            "L1": lesson_run(epochs=[epoch_end(1, counts)]), "L2": None}
    frame = weight_hist_frame(runs)
    assert len(frame) == 3 * HIST_BINS
    totals = frame.groupby(["run", "epoch"])["count"].sum()
    assert (totals == weights.numel()).all()
    assert frame.groupby(["run", "epoch"])["share"].sum().to_numpy() == pytest.approx(1.0)
    edges = bin_edges()
    assert edges[0] == HIST_LOW and edges[-1] == pytest.approx(HIST_HIGH) and len(edges) == HIST_BINS + 1
    # Epoch 2 of a run with one epoch shows its last epoch.
    chart = weight_hist_chart(frame, epoch=2, t=EN)
    shown = chart.spec.data if hasattr(chart.spec, "data") and chart.spec.data is not alt.Undefined else chart.data
    assert set(zip(shown["run"], shown["epoch"], strict=True)) == {("none", 2), ("L1", 1)}
    spec(chart)


def test_near_zero_frame_and_summary_follow_the_runs():
    runs = {"none": lesson_run(epochs=[epoch_end(1, near_zero=0.02), epoch_end(2, near_zero=0.02)]),
            "L1": lesson_run(epochs=[epoch_end(1, near_zero=0.10), epoch_end(2, near_zero=0.40, test_acc=0.8)])}
    frame = near_zero_frame(runs)
    assert list(frame["near_zero"]) == [0.02, 0.02, 0.10, 0.40]
    summary = penalty_summary(frame, t=EN)
    assert list(summary[EN("chart.run")]) == ["none", "L1"]
    assert list(summary[EN("chart.table.near_zero")]) == [2.0, 40.0]
    assert list(summary[EN("chart.table.test_acc")]) == [90.0, 80.0]
    spec(near_zero_chart(frame, t=EN))


# --- early stopping --------------------------------------------------------------------

def test_early_stopping_frame_and_chart_mark_best_and_window():
    epochs = [epoch_end(e, val_loss=v) for e, v in zip((1, 2, 3, 4, 5), (0.5, 0.4, 0.45, 0.47, 0.5), strict=True)]
    frame = early_stopping_frame(lesson_run(epochs=epochs))
    assert sorted(frame["split"].unique()) == sorted([TRAIN_EVAL, VAL, TEST])
    assert len(frame) == 15
    chart = spec(early_stopping_chart(frame, best_epoch=2, patience=3, last_epoch=5, stopped_early=True, t=EN))
    texts = [d for d in chart["datasets"].values() if d and "label" in d[0]]
    labels = {row["label"] for rows in texts for row in rows}
    assert {"best epoch 2: kept", "stopped after epoch 5", "patience window"} <= labels
    window = next(rows[0] for rows in texts if "end" in rows[0])
    assert (window["epoch"], window["end"]) == (2, 5)
    assert all(layer["encoding"]["x"]["scale"]["domain"] == [1, 5] for layer in chart["layer"])
    # No held-out split (patience 0): just the curves.
    plain = spec(early_stopping_chart(early_stopping_frame(lesson_run(epochs=epochs[:2])),
                                               best_epoch=0, patience=0, last_epoch=2, stopped_early=False, t=EN))
    assert len(plain["layer"]) == 1


# --- augmentation and data size -----------------------------------------------------------

def test_example_rows_are_reproducible_per_seed_and_differ_between_draws():
    images = torch.zeros(3, 28, 28, dtype=torch.uint8)
    images[:, 10:18, 12:16] = 255
    rows = example_rows(images, seed=5)
    assert [(level, draw) for level, draw, _ in rows] == [
        ("off", 0), ("light", 1), ("light", 2), ("light", 3), ("strong", 1), ("strong", 2), ("strong", 3)]
    assert torch.equal(rows[0][2], images)
    for _, _, x in rows:
        assert x.shape == (3, 28, 28) and x.dtype == torch.uint8
    again = example_rows(images, seed=5)
    assert all(torch.equal(a[2], b[2]) for a, b in zip(rows, again, strict=True))
    assert not torch.equal(rows[1][2], rows[2][2])
    assert not torch.equal(rows[1][2], example_rows(images, seed=6)[1][2])


def test_stored_augmented_digits_are_what_the_augmentation_makes():
    """The page's file, against a fresh run of tools/make_augmented_digits.py."""
    fresh = make_augmented_digits.make_arrays()
    seeds = make_augmented_digits.SEEDS
    assert draws_stored() == seeds
    for seed in (0, seeds - 1):
        rows = augmented_rows(seed)
        assert [(level, draw) for level, draw, _ in rows] == [
            ("off", 0), ("light", 1), ("light", 2), ("light", 3), ("strong", 1), ("strong", 2), ("strong", 3)]
        np.testing.assert_array_equal(rows[0][2], fresh["off"])
        for level, draw, images in rows[1:]:
            np.testing.assert_array_equal(images, fresh[f"{seed}/{level}/{draw}"])
    assert [d for _, d, _ in augmented_rows(seeds)] == [d for _, d, _ in augmented_rows(0)]
    np.testing.assert_array_equal(augmented_rows(seeds)[1][2], augmented_rows(0)[1][2])  # wraps around
    assert not np.array_equal(augmented_rows(0)[1][2], augmented_rows(1)[1][2])


def test_one_per_class_picks_the_first_of_each_digit():
    labels = np.array([3, 1, 0, 1, 2, 9, 8, 7, 6, 5, 4, 0])
    idx = one_per_class(labels)
    assert labels[idx].tolist() == list(range(10))
    assert idx.tolist()[:4] == [2, 1, 4, 0]


def test_digit_strip_lays_digits_side_by_side_with_white_gaps():
    images = np.zeros((4, 28, 28))
    images[2] = 1.0
    strip = digit_strip(images, scale=2, gap=3)
    assert strip.dtype == np.uint8 and strip.shape == (56, 4 * 56 + 3 * 3)
    assert (strip[:, 56:59] == 255).all()  # first gap
    third = 2 * (56 + 3)
    assert (strip[:, third:third + 56] == 255).all() and (strip[:, :56] == 0).all()
    assert np.array_equal(digit_strip((images * 255).astype(np.uint8), scale=2, gap=3), strip)


def test_size_frame_and_chart_follow_the_runs_of_each_size():
    configs = runsets.size_configs(RunConfig(epochs=3, dropout=0.5))  # 250 .. 4,000 digits (test_runsets)
    views = [lesson_run(configs[0], [epoch_end(1, train_acc_eval=1.0, test_acc=0.7)]),
             None,
             lesson_run(configs[-1], [epoch_end(1, train_acc_eval=0.95, test_acc=0.9)], status="running"),
             lesson_run(configs[2], [])]
    frame = size_frame(views)
    assert list(frame["train_size"]) == [250, 4000]
    assert list(frame["gap"]) == pytest.approx([0.3, 0.05])
    assert list(frame["final"]) == [True, False]
    spec(size_chart(frame, t=EN))


def test_lesson_charts_name_a_zoomed_axis_and_offer_a_log_loss():
    frame = pd.DataFrame({"epoch": [1, 2, 1, 2], "split": ["train", "train", "test", "test"],
                          "acc": [0.90, 0.95, 0.88, 0.91]})
    y = accuracy_modes_chart(frame, t=EN).to_dict()["encoding"]["y"]
    assert y["title"] == "accuracy (zoomed)" and y["scale"]["domain"] == [0.85, 1.0]
    losses = pd.DataFrame({"epoch": [1, 2], "split": ["test", "test"], "loss": [0.5, 0.9]})
    spec = early_stopping_chart(losses, best_epoch=0, patience=0, last_epoch=2, stopped_early=False, log=True, t=EN)
    line = spec.to_dict()["layer"][-1]["encoding"]["y"]
    assert line["scale"]["type"] == "log" and line["title"] == "loss (log scale)"

# --- export -----------------------------------------------------------------------------------------

@pytest.mark.skipif(importlib.util.find_spec("vl_convert") is None, reason="vl-convert-python is not installed")
def test_charts_export_as_png_and_svg_at_slide_width():
    from webapp import export

    chart = curves_chart(curves_frame(run(EPOCHS, PROGRESS)), "acc", epochs_table=epochs_frame(run(EPOCHS)), t=EN)
    png = export.chart_bytes(chart, "png", width=400)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png[16:20], "big")
    assert width >= 400 * export.PNG_SCALE  # the plot plus its axis, at twice the pixels
    svg = export.chart_bytes(chart, "svg", width=400).decode()
    assert "<svg" in svg[:200] and "#d55e00" in svg.lower()  # the test line, in its colour
    with pytest.raises(ValueError):
        export.chart_bytes(chart, "gif")
    assert export.file_stem("regdemo", "ab/c d") == "regdemo-ab_c_d"


@pytest.mark.skipif(importlib.util.find_spec("vl_convert") is None, reason="vl-convert-python is not installed")
def test_exported_svg_keeps_the_zoomed_and_log_axes():
    from webapp import export

    curves = curves_frame(run(EPOCHS), eval_train=True)
    zoomed = export.chart_bytes(curves_chart(curves, "acc", t=EN), "svg", width=400).decode()
    assert "accuracy (zoomed)" in zoomed and ">90%<" in zoomed and ">0%<" not in zoomed
    full = export.chart_bytes(curves_chart(curves, "acc", zoom=False, t=EN), "svg", width=400).decode()
    assert ">0%<" in full and "zoomed" not in full
    log = export.chart_bytes(curves_chart(curves, "loss", log_loss=True, t=EN), "svg", width=400).decode()
    assert "loss (log scale)" in log
