"""regdemo.charts: what the curves, the overlay and the mask picture draw, and in which colours.

Runs are RunViews made of hand-written events (no training), so every number
a test checks is known.
"""

from __future__ import annotations

import importlib.util
import json

import pandas as pd
import pytest

from regdemo import charts
from regdemo.config import RunConfig
from regdemo.events import Done, EpochEnd, MaskSnapshot, Progress
from regdemo.frames import TEST, TRAIN, TRAIN_EVAL, VAL, curves_frame, epochs_frame, kept_epoch, summary_frame
from regdemo.records import RunView


def epoch(n, train_acc, test_acc, train_acc_eval=None, val_loss=None, best=None):
    eval_acc = train_acc if train_acc_eval is None else train_acc_eval
    return EpochEnd(
        epoch=n, train_loss=1.0 / n, train_acc=train_acc, train_loss_eval=0.9 / n, train_acc_eval=eval_acc,
        test_loss=1.2 / n + 0.1, test_acc=test_acc, val_loss=val_loss, val_acc=None if val_loss is None else 0.5,
        l1_norm=1.0, l2_norm=1.0, near_zero=0.0, weight_hist=(0,) * 61, best_epoch=best or n, seconds=1.0,
        step=10 * n)


def view(epochs=(), progress=(), config=None, done=None, status="finished", masks=None) -> RunView:
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
    data = charts.curves_data(curves_frame(view(EPOCHS, PROGRESS), eval_train=True), "acc")
    lines = data["lines"]
    train = lines[lines["split"] == TRAIN]
    assert list(train["kind"].unique()) == ["progress"] and len(train) == 20  # no zig-zag epoch averages
    assert list(lines[lines["split"] == TEST]["value"]) == [0.78, 0.85]
    assert list(lines[lines["split"] == TRAIN_EVAL]["value"]) == [0.82, 0.95]


def test_without_progress_points_the_train_line_uses_the_epoch_ends():
    lines = charts.curves_data(curves_frame(view(EPOCHS)), "loss")["lines"]
    assert list(lines[lines["split"] == TRAIN]["value"]) == [1.0, 0.5]


def test_a_run_that_just_started_draws_its_first_progress_point():
    lines = charts.curves_data(curves_frame(view(progress=PROGRESS[:1], status="running")), "acc")["lines"]
    assert len(lines) == 1 and lines["epoch"][0] == pytest.approx(0.1)


def test_split_colours_are_fixed_whatever_is_drawn_and_however_named():
    names = {TRAIN: "训练", TEST: "测试", TRAIN_EVAL: "训练（评估模式）"}
    only_train = color_scale(spec_of(charts.curves_chart(curves_frame(view(progress=PROGRESS)), "acc")))
    assert only_train == {"domain": ["train"], "range": [charts.TRAIN_COLOR]}
    full = color_scale(spec_of(charts.curves_chart(curves_frame(view(EPOCHS, PROGRESS), eval_train=True),
                                                   "acc", names=names)))
    assert dict(zip(full["domain"], full["range"], strict=True)) == {
        "训练": "#0072B2", "训练（评估模式）": "#009E73", "测试": "#D55E00"}
    assert charts.SPLIT_COLORS == {TRAIN: "#0072B2", TEST: "#D55E00", TRAIN_EVAL: "#009E73", VAL: "#CC79A7"}


def test_gap_band_runs_between_eval_mode_train_and_test_with_its_size_written():
    table = epochs_frame(view(EPOCHS))
    gaps = charts.gap_frame(table, "acc")
    assert list(gaps["gap"]) == pytest.approx([0.04, 0.10])
    assert list(gaps["low"]) == [0.78, 0.85] and list(gaps["high"]) == [0.82, 0.95]
    loss = charts.gap_frame(table, "loss")
    assert list(loss["gap"]) == pytest.approx([1.3 - 0.9, 0.7 - 0.45])  # test loss above train: positive
    data = charts.curves_data(curves_frame(view(EPOCHS)), "acc", epochs_table=table)
    assert list(data["gap_label"]["label"]) == ["gap +10.0 pts"]
    marks = [layer["mark"]["type"] for layer in layers(spec_of(charts.curves_chart(
        curves_frame(view(EPOCHS)), "acc", epochs_table=table)))]
    assert marks[:2] == ["area", "text"]
    no_gap = spec_of(charts.curves_chart(curves_frame(view(EPOCHS)), "acc", epochs_table=table, show_gap=False))
    assert "area" not in [layer["mark"]["type"] for layer in layers(no_gap)]


def test_best_epoch_rule_is_drawn_when_asked_and_kept_in_the_spec_before_it_exists():
    curves = curves_frame(view(EPOCHS))
    marks = lambda chart: [layer["mark"]["type"] for layer in layers(spec_of(chart))]  # noqa: E731
    assert "rule" not in marks(charts.curves_chart(curves, "acc", best_epoch=None))
    assert "rule" in marks(charts.curves_chart(curves, "acc", best_epoch=0))  # early stopping, no epoch yet
    data = charts.curves_data(curves, "acc", best_epoch=2)
    assert list(data["best"]["epoch"]) == [2.0] and list(data["best"]["label"]) == ["best epoch 2"]
    assert charts.curves_data(curves, "acc", best_epoch=0)["best"].empty


def test_x_axis_is_fixed_to_the_planned_epochs_while_training():
    spec = spec_of(charts.curves_chart(curves_frame(view(progress=PROGRESS)), "acc", epochs=10))
    x = layers(spec)[-1]["encoding"]["x"]
    assert x["scale"]["domain"] == [0, 10]


def test_presentation_scale_enlarges_fonts_lines_and_height():
    curves = curves_frame(view(EPOCHS, PROGRESS))
    small = spec_of(charts.style(charts.curves_chart(curves, "acc"), 1.0))
    big = spec_of(charts.style(charts.curves_chart(curves, "acc", scale=1.5), 1.5))
    assert big["config"]["axis"]["labelFontSize"] == pytest.approx(1.5 * small["config"]["axis"]["labelFontSize"])
    assert small["config"]["axis"]["labelFontSize"] >= 14  # readable from the back of a classroom
    assert big["height"] == int(charts.HEIGHT * 1.5)
    line = next(layer for layer in layers(big) if layer["mark"]["type"] == "line")
    assert line["mark"]["strokeWidth"] == pytest.approx(charts.LINE_WIDTH * 1.5)


def test_bad_metric_is_refused():
    with pytest.raises(ValueError, match="metric"):
        charts.curves_data(curves_frame(view(EPOCHS)), "f1")


# --- the cached spec of a live chart ----------------------------------------------------

def test_live_spec_is_the_chart_with_its_data_as_named_datasets():
    curves, table = curves_frame(view(EPOCHS, PROGRESS), eval_train=True), epochs_frame(view(EPOCHS))
    spec = charts.curves_spec(curves, "acc", epochs_table=table, epochs=3, best_epoch=2)
    assert set(spec["datasets"]) == {"lines", "gap", "gap_label", "best"}
    assert {layer["data"]["name"] for layer in spec["layer"]} == {"lines", "gap", "gap_label", "best"}
    # Arrow tables (what Streamlit sends), holding the rows the altair chart draws
    for layer, frame in charts.curves_data(curves, "acc", epochs_table=table, best_epoch=2).items():
        assert spec["datasets"][layer].to_pylist() == frame.to_dict("records"), layer
    assert "continuousWidth" not in spec.get("config", {}).get("view", {})
    json.dumps({k: v for k, v in spec.items() if k != "datasets"})  # the rest is plain JSON


def test_live_spec_stays_the_same_as_points_arrive_so_the_browser_redraws_in_place():
    early = view(EPOCHS[:1], PROGRESS[:12], status="running")
    later = view(EPOCHS, PROGRESS, status="running")
    # zoom off: the 0-100 % axis (a zoomed axis moves with the data, see the zoom tests)
    specs = [charts.curves_spec(curves_frame(v, eval_train=True), "acc", epochs_table=epochs_frame(v), epochs=3,
                                zoom=False) for v in (early, later)]
    assert [{k: v for k, v in s.items() if k != "datasets"} for s in specs][0] == \
        {k: v for k, v in specs[1].items() if k != "datasets"}
    assert len(specs[0]["datasets"]["lines"]) < len(specs[1]["datasets"]["lines"])
    before = charts._curves_skeleton.cache_info().hits
    charts.curves_spec(curves_frame(later, eval_train=True), "acc", epochs_table=epochs_frame(later), epochs=3,
                       zoom=False)
    assert charts._curves_skeleton.cache_info().hits == before + 1
    # The cache hands out copies: changing one spec leaves the next one alone.
    specs[1]["layer"].clear()
    again = charts.curves_spec(curves_frame(later, eval_train=True), "acc", epochs_table=epochs_frame(later),
                               epochs=3, zoom=False)
    assert again["layer"]


# --- the y axis: zoomed accuracy, log loss ---------------------------------------------

def y_encoding(spec) -> dict:
    return next(layer["encoding"]["y"] for layer in spec["layer"] if layer["mark"]["type"] == "line")


def test_accuracy_axis_zooms_to_the_curves_after_the_first_epoch():
    # After epoch 1 the curves span 85 % .. 95 %; the climb from 12 % and the end of epoch 1
    # (78-82 %) are left out.
    climb = [Progress(step=s, epoch=s / 10, train_acc=0.1 + s / 12 if s < 10 else 0.9, train_loss=1.0)
             for s in range(1, 21)]
    curves = curves_frame(view(EPOCHS, climb), eval_train=True)
    assert curves["acc"].min() < 0.2
    y = y_encoding(spec_of(charts.curves_chart(curves, "acc")))
    assert y["scale"]["domain"] == [0.84, 0.96] and y["title"] == "accuracy (zoomed)"
    assert y["scale"]["zero"] is False
    full = y_encoding(spec_of(charts.curves_chart(curves, "acc", zoom=False)))
    assert full["scale"]["domain"] == [0, 1] and full["title"] == "accuracy"


def test_zoomed_domain_is_computed_from_the_data():
    frame = pd.DataFrame({"epoch": [0.5, 1.0, 2.0, 3.0], "value": [0.10, 0.60, 0.962, 0.975]})
    assert charts.acc_domain(frame) == (0.95, 0.99)  # 96.2 - 1 .. 97.5 + 1, whole percents, >= 4 points
    assert charts.acc_domain(frame[frame["epoch"] <= 1]) == (0.57, 0.61)  # only epoch 1 so far: from its end
    assert charts.acc_domain(frame[frame["epoch"] < 1]) is None  # mid first epoch: no zoom yet
    stuck = pd.DataFrame({"epoch": [1.0, 2.0, 3.0], "value": [0.11, 0.12, 0.99]})
    assert charts.acc_domain(stuck) is None  # a run near chance beside one near 100 %: the full axis
    near_top = pd.DataFrame({"epoch": [1.0, 2.0], "value": [0.998, 1.0]})
    assert charts.acc_domain(near_top) == (0.96, 1.0)


def test_before_the_first_epoch_ends_the_axis_stays_0_to_100():
    curves = curves_frame(view(progress=PROGRESS[:5]))
    y = y_encoding(spec_of(charts.curves_chart(curves, "acc")))
    assert y["scale"]["domain"] == [0, 1] and y["title"] == "accuracy"


def test_lines_and_gap_are_clipped_to_the_zoomed_axis():
    curves, table = curves_frame(view(EPOCHS, PROGRESS), eval_train=True), epochs_frame(view(EPOCHS))
    spec = spec_of(charts.curves_chart(curves, "acc", epochs_table=table))
    clipped = {layer["mark"]["type"] for layer in spec["layer"] if layer["mark"].get("clip")}
    assert {"line", "circle", "area"} <= clipped


def test_loss_can_be_drawn_on_a_log_axis():
    curves = curves_frame(view(EPOCHS, PROGRESS), eval_train=True)
    y = y_encoding(spec_of(charts.curves_chart(curves, "loss", log_loss=True)))
    assert y["scale"]["type"] == "log" and y["title"] == "loss (log scale)"
    linear = y_encoding(spec_of(charts.curves_chart(curves, "loss")))
    assert "type" not in linear["scale"] and linear["scale"]["zero"] is True
    spec = charts.curves_spec(curves, "loss", log_loss=True, text={"loss_log": "损失（对数坐标）"})
    assert y_encoding(spec)["title"] == "损失（对数坐标）" and y_encoding(spec)["scale"]["type"] == "log"


def test_overlay_zooms_accuracy_and_logs_loss_too():
    runs = pd.concat([curves_frame(view(EPOCHS), label="plain"),
                      curves_frame(view([epoch(1, 0.7, 0.72), epoch(2, 0.8, 0.81)]), label="dropout")])
    colors = {"plain": "#000000", "dropout": "#E69F00"}
    acc = y_encoding(spec_of(charts.overlay_chart(runs, "acc", colors=colors)))
    assert acc["scale"]["domain"] == [0.79, 0.93] and acc["title"] == "accuracy (zoomed)"  # epoch 2: 80-92 %
    loss = y_encoding(charts.overlay_spec(runs, "loss", colors=colors, log_loss=True))
    assert loss["scale"]["type"] == "log"


# --- many runs ------------------------------------------------------------------------------

def test_run_colours_never_change_once_given_and_stay_distinct():
    first = charts.assign_colors(["a", "b"])
    assert first == {"a": charts.RUN_COLORS[0], "b": charts.RUN_COLORS[1]}
    second = charts.assign_colors(["b", "c"], first)  # a left the screen
    assert second["b"] == first["b"] and second["c"] not in (first["b"],)
    assert second["c"] == charts.RUN_COLORS[0]  # a's colour is free again
    many = charts.assign_colors([str(i) for i in range(len(charts.RUN_COLORS))])
    assert len(set(many.values())) == len(charts.RUN_COLORS)


def test_overlay_colours_each_run_and_dashes_each_split():
    a, b = view(EPOCHS, PROGRESS), view(EPOCHS[:1], config=RunConfig(epochs=3, dropout=0.5))
    curves = pd.concat([curves_frame(a, label="plain"), curves_frame(b, label="dropout")])
    data = charts.overlay_data(curves, "acc", splits=[TRAIN, TEST])
    assert set(data["label"]) == {"plain", "dropout"} and len(data) == 2 * 2 + 2  # epoch ends only
    spec = spec_of(charts.overlay_chart(curves, "acc", colors={"plain": "#000000", "dropout": "#E69F00"}))
    line = spec["layer"][0]["encoding"]
    assert line["color"]["scale"] == {"domain": ["plain", "dropout"], "range": ["#000000", "#E69F00"]}
    assert dict(zip(line["strokeDash"]["scale"]["domain"], map(tuple, line["strokeDash"]["scale"]["range"]),
                    strict=True)) == {"train": (7, 4), "test": (1, 0)}
    live = charts.overlay_spec(curves, "acc", colors={"plain": "#000000", "dropout": "#E69F00"})
    assert len(live["datasets"]["runs"]) == len(data)


def test_summary_reports_the_kept_epoch_and_the_gap():
    early = view([epoch(1, 0.9, 0.80, 0.92, val_loss=0.5, best=1), epoch(2, 0.95, 0.78, 0.99, val_loss=0.7, best=1)],
                 config=RunConfig(epochs=5, patience=1), done=Done("early_stopped", 2, 1, 20), status="early_stopped")
    assert kept_epoch(early).epoch == 1
    plain = view(EPOCHS, done=Done("finished", 2, 2, 20))
    table = summary_frame([early, plain], {early.key: "with early stopping"})
    assert list(table["label"]) == ["with early stopping", plain.config.label()]
    assert list(table["kept_epoch"]) == [1, 2]
    assert list(table["gap"]) == pytest.approx([0.12, 0.10])
    assert summary_frame([view()])["test_acc"].isna().all()  # no epoch yet: empty cells, no error


# --- the dropped units --------------------------------------------------------------------------

def snapshot(shape, dropped_every=3):
    n = 1
    for s in shape:
        n *= s
    return MaskSnapshot(step=7, epoch=0.5, layer="drop", p=0.3, shape=shape,
                        activation=tuple(float(i % 5) for i in range(n)),
                        kept=tuple(i % dropped_every != 0 for i in range(n)))


def test_the_wide_nets_256_units_lie_on_a_16_by_16_grid():
    snap = snapshot((256,))
    frame = charts.mask_frame(snap)
    assert len(frame) == 256 and frame["x"].max() == 15 and frame["y"].max() == 15
    assert frame.loc[17, "x"] == 1 and frame.loc[17, "y"] == 1
    assert (~frame["kept"]).sum() == sum(not k for k in snap.kept)
    spec = charts.mask_grid_spec(snap)
    assert len(spec["datasets"]["mask"]) == 256
    dropped = spec["layer"][1]
    assert dropped["mark"]["color"] == charts.DROPPED_COLOR and dropped["transform"] == [{"filter": "!datum.kept"}]


def test_the_article_nets_feature_maps_show_the_first_channels_as_a_small_grid():
    snap = snapshot((20, 22, 22))
    frame = charts.mask_frame(snap, max_channels=4)
    assert sorted(frame["channel"].unique()) == [1, 2, 3, 4] and len(frame) == 4 * 22 * 22
    # Four maps on a 2 x 2 grid, one empty row and column between them.
    corners = frame.groupby("channel")[["x", "y"]].min()
    assert corners.values.tolist() == [[0, 0], [23, 0], [0, 23], [23, 23]]
    spec = charts.to_spec(charts.mask_grid_chart(snap, size=200))
    assert spec["width"] == spec["height"] == 45 * (200 // 45)


def test_a_snapshot_whose_data_does_not_fit_its_shape_is_refused():
    bad = MaskSnapshot(step=1, epoch=0.1, layer="drop", p=0.5, shape=(16,), activation=(0.0,) * 10,
                       kept=(True,) * 10)
    with pytest.raises(ValueError, match="does not match"):
        charts.mask_frame(bad)


# --- export -----------------------------------------------------------------------------------------

@pytest.mark.skipif(importlib.util.find_spec("vl_convert") is None, reason="vl-convert-python is not installed")
def test_charts_export_as_png_and_svg_at_slide_width():
    from webapp import export

    chart = charts.curves_chart(curves_frame(view(EPOCHS, PROGRESS)), "acc", epochs_table=epochs_frame(view(EPOCHS)))
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

    curves = curves_frame(view(EPOCHS), eval_train=True)
    zoomed = export.chart_bytes(charts.curves_chart(curves, "acc"), "svg", width=400).decode()
    assert "accuracy (zoomed)" in zoomed and ">90%<" in zoomed and ">0%<" not in zoomed
    full = export.chart_bytes(charts.curves_chart(curves, "acc", zoom=False), "svg", width=400).decode()
    assert ">0%<" in full and "zoomed" not in full
    log = export.chart_bytes(charts.curves_chart(curves, "loss", log_loss=True), "svg", width=400).decode()
    assert "loss (log scale)" in log


def test_live_spec_zooms_like_the_chart_and_its_cache_ignores_the_range():
    # The live spec is cached without its zoomed range (it moves about once an epoch):
    # two runs with different ranges share one cached skeleton, each spec carries its own range.
    climb = [Progress(step=s, epoch=s / 10, train_acc=0.1 + s / 12 if s < 10 else 0.9, train_loss=1.0)
             for s in range(1, 21)]
    first = curves_frame(view(EPOCHS, climb), eval_train=True)
    second = first.assign(acc=first["acc"] * 0.9)
    charts._curves_skeleton.cache_clear()
    specs = [charts.curves_spec(c, "acc", epochs=3) for c in (first, second)]
    assert charts._curves_skeleton.cache_info().misses == 1
    for curves, spec in zip((first, second), specs, strict=True):
        chart = y_encoding(spec_of(charts.curves_chart(curves, "acc", epochs=3)))
        live = y_encoding(spec)
        assert live["scale"]["domain"] == chart["scale"]["domain"] and live["title"] == chart["title"]
    assert y_encoding(specs[0])["scale"]["domain"] != y_encoding(specs[1])["scale"]["domain"]
