"""Figures for slides (regdemo.viz.slide), the glance figure, readable huge numbers, the loss line
from epoch 1, and the shipped sweep: real charts rendered by vl-convert, runs made of
hand-written events (tests/unit/test_viz.py's helpers), a measured.json the test writes."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
from functools import partial

import pandas as pd
import pytest
from test_viz import EPOCHS, PROGRESS, epoch, run

from regdemo.i18n import translate
from regdemo.runs.frames import TEST, TRAIN_EVAL, curves_frame, epochs_frame
from regdemo.teaching.lessons import measured_sweep
from regdemo.teaching.lessons.catalog import LESSONS
from regdemo.teaching.sweep import SweepPoint
from regdemo.viz import glance, slide
from regdemo.viz.curves import curves_chart, curves_data
from regdemo.viz.glance import glance_chart, glance_claim, glance_frame
from regdemo.viz.mistakes import confusion_chart
from regdemo.viz.overlay import distinct_names, end_labels, overlay_chart, overlay_spec, peak_data
from regdemo.viz.sweep import strength_chart
from regdemo.viz.theme import readable_label_expr, readable_number
from tools import lessons_figure

EN = translate
ZH = partial(translate, lang="zh")
needs_vl = pytest.mark.skipif(importlib.util.find_spec("vl_convert") is None,
                              reason="vl-convert-python is not installed")


def side(per_seed, falls=None):
    out = {"test_acc": {"per_seed": per_seed}}
    if falls is not None:
        out["peak_minus_final"] = {"per_seed": falls}
    return out


# Two lessons as `lessons --check --write` stores them: numbers chosen so the peak differs
# from the final and the treated run lands above the peak in one lesson, below it in the other.
MEASURED = {"date": "2026-12-01 10:00 UTC", "seeds": [0, 1], "command": "python -m regdemo lessons --check",
            "lessons": {"dropout": {"baseline": side([80.0, 82.0], [10.0, 11.0]), "treated": side([90.0, 91.0])},
                        "augmentation": {"baseline": side([80.0, 82.0], [10.0, 11.0]),
                                         "treated": side([95.0, 97.0])},
                        "adamw": {"measure": "contrast", "baseline": side([93.0, 94.0], [1.0, 1.0]),
                                  "treated": side([87.0, 88.0])}}}


def texts(svg: str) -> list[tuple[float, str]]:
    """(font size, text) of every <text> element of an SVG."""
    return [(float(size), text) for size, text in
            re.findall(r'<text[^>]*font-size="([0-9.]+)px"[^>]*>([^<]*)</text>', svg)]


# --- the slide figure ---------------------------------------------------------------------------

@needs_vl
def test_a_pair_exports_as_a_slide_with_claim_legend_and_large_text():
    curves = pd.concat([curves_frame(run(EPOCHS), label="without", eval_train=True),
                        curves_frame(run(EPOCHS[:1]), label="with dropout", eval_train=True)], ignore_index=True)
    chart = overlay_chart(curves, "acc", colors={"without": "#000000", "with dropout": "#E69F00"}, t=EN,
                          splits=[TRAIN_EVAL, TEST], title="accuracy", scale=slide.SLIDE_SCALE)
    claim = LESSONS["dropout"].claim["en"]
    svg = slide.slide_bytes(chart, "svg", title=claim).decode()
    assert slide.svg_width(svg) == slide.SLIDE_WIDTH
    written = texts(svg)
    words = [text for _, text in written]
    assert claim.replace("'", "&#39;") in words or claim in words  # the claim is the title
    assert "accuracy" in words  # the chart's own title, now the subtitle
    assert "without" in words and "with dropout" in words  # the legend is inside the figure
    assert "epoch" in words
    assert min(size for size, _ in written) >= slide.MIN_TEXT_PX
    png = slide.slide_bytes(chart, "png", title=claim)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(png[16:20], "big") == slide.SLIDE_WIDTH


@needs_vl
def test_every_kind_of_chart_exports_with_text_of_at_least_16_px():
    from regdemo.teaching import sweep

    points = [SweepPoint(v, s, f"k{v}{s}", "finished", 0.8 + v, 0.9, 0.9, 20) for v in (0.0, 0.01, 0.1) for s in (0, 1)]
    built = {
        "curves": curves_chart(curves_frame(run(EPOCHS, PROGRESS)), "loss", epochs_table=epochs_frame(run(EPOCHS)),
                               t=EN, scale=slide.SLIDE_SCALE),
        "sweep": strength_chart("l2", sweep.summarize(points, (0.0, 0.01, 0.1)), points, (0.0, 0.01, 0.1), "test",
                                t=EN, scale=slide.SLIDE_SCALE),
        "confusion": confusion_chart([[5, 1], [2, 7]], ["0", "1"], t=EN, scale=slide.SLIDE_SCALE),
        "glance": glance_chart(glance_frame(MEASURED, t=EN), t=EN, scale=slide.SLIDE_SCALE),
    }
    for name, chart in built.items():
        svg = slide.slide_bytes(chart, "svg", title="The claim").decode()
        sizes = [size for size, _ in texts(svg)]
        assert sizes and min(sizes) >= slide.MIN_TEXT_PX, (name, sorted(set(sizes)))
        assert "The claim" in svg, name
    with pytest.raises(ValueError):
        slide.slide_bytes(built["curves"], "gif")


# --- numbers ------------------------------------------------------------------------------------

def test_huge_numbers_read_as_powers_of_ten():
    assert readable_number(4e9) == "4×10⁹"
    assert readable_number(4_000_000_000_000) == "4×10¹²"
    assert readable_number(-3e7) == "-3×10⁷"
    assert readable_number(123456) == "1.23×10⁵"
    assert readable_number(9999) == "9999" and readable_number(0.5607) == "0.561" and readable_number(2.3) == "2.3"


@needs_vl
def test_the_loss_axis_writes_a_diverged_loss_as_a_power_of_ten():
    diverged = [dataclasses.replace(epoch(1, 0.5, 0.5), test_loss=4e12, train_loss=3e12),
                dataclasses.replace(epoch(2, 0.5, 0.5), test_loss=2e12, train_loss=1e12)]
    chart = curves_chart(curves_frame(run(diverged)), "loss", t=EN)
    svg = slide.slide_bytes(chart, "svg").decode()
    labels = [text for _, text in texts(svg)]
    assert any(re.fullmatch(r"[0-9.]+×10¹²", label) for label in labels), labels
    assert not any(re.fullmatch(r"[0-9]{7,}(\.0+)?", label.replace(",", "")) for label in labels)
    assert "abs(datum.value) >= 10000" in readable_label_expr()


def test_the_loss_line_starts_at_epoch_1_once_an_epoch_has_ended():
    view = run(EPOCHS, PROGRESS)  # progress points from epoch 0.1, train loss 1.9 falling
    lines = curves_data(curves_frame(view), "loss", t=EN, from_epoch_1=True)["lines"]
    assert lines["epoch"].min() == 1.0
    chart = curves_chart(curves_frame(view), "loss", t=EN).to_dict()
    assert "loss (from epoch 1)" in json.dumps(chart)
    # Before the first epoch ends there is nothing to start from: every point is drawn.
    early = curves_chart(curves_frame(run((), PROGRESS[:5])), "loss", t=EN).to_dict()
    assert "from epoch 1" not in json.dumps(early)
    # On a log axis the first steps do not flatten the rest: nothing is clipped.
    log = curves_chart(curves_frame(view), "loss", t=EN, log_loss=True).to_dict()
    assert "from epoch 1" not in json.dumps(log)
    assert ZH("chart.loss_from_1") == "损失（从第 1 轮起）"


# --- lessons at a glance ------------------------------------------------------------------------

def test_glance_frame_reads_final_peak_and_treated_with_the_seeds_spread():
    frame = glance_frame(MEASURED, t=EN).set_index(["lesson", "kind"])
    assert frame.loc[("dropout", "final"), ["mean", "low", "high"]].tolist() == [81.0, 80.0, 82.0]
    assert frame.loc[("dropout", "peak"), ["mean", "low", "high"]].tolist() == [91.5, 90.0, 93.0]  # 80+10, 82+11
    assert frame.loc[("augmentation", "treated"), ["mean", "low", "high"]].tolist() == [96.0, 95.0, 97.0]
    assert set(frame["seeds"]) == {2}
    # The contrast pair (AdamW: two methods, no winner claimed) is drawn but named on neither side.
    assert "adamw" in set(frame.reset_index()["lesson"])
    assert glance_claim(glance_frame(MEASURED, t=EN), t=EN) == \
        "Above the baseline's peak: augmentation. Below it: dropout."
    assert glance_claim(glance_frame(MEASURED, t=ZH), t=ZH) == "超过基线峰值：数据增强。低于峰值：Dropout。"
    assert glance_frame({}, t=EN).empty


def test_a_pair_marks_the_baselines_best_test_epoch_live_and_in_the_export():
    peaked = [epoch(1, 0.80, 0.78), epoch(2, 0.90, 0.88), epoch(3, 0.97, 0.83)]  # test peaks at epoch 2
    curves = pd.concat([curves_frame(run(peaked), label="without", eval_train=True),
                        curves_frame(run(EPOCHS), label="with", eval_train=True)], ignore_index=True)
    assert peak_data(curves, "without", t=EN).to_dict("list") == {
        "epoch": [2.0], "label": ["without: best test accuracy at epoch 2"], "right": [True]}  # 2 > 3 / 2
    assert peak_data(curves, "without", t=ZH)["label"].tolist() == ["without：测试集准确率在第 2 轮最高"]
    # Mid-run on an axis of 20 epochs, the same peak is in the axis' first half: words to its right.
    assert peak_data(curves, "without", t=EN, epochs=20)["right"].tolist() == [False]
    assert peak_data(curves, "with", t=EN).empty  # its best is its last epoch
    assert peak_data(curves.iloc[:0], "without", t=EN).empty and peak_data(curves, None, t=EN).empty
    climbing = curves_frame(run([epoch(1, 0.8, 0.7), epoch(2, 0.9, 0.8)]), label="climbing", eval_train=True)
    assert peak_data(climbing, "climbing", t=EN).empty  # best at its last epoch: no peak behind it
    options = dict(colors={"without": "#000000", "with": "#E69F00"}, t=EN, splits=[TRAIN_EVAL, TEST])
    spec = overlay_spec(curves, "loss", **options, peak_of="without")  # the loss chart marks the same epoch
    assert spec["datasets"]["peak"]["epoch"].tolist() == [2.0]
    assert "peak" not in overlay_spec(curves, "loss", **options)["datasets"]
    if importlib.util.find_spec("vl_convert") is not None:
        svg = slide.slide_bytes(overlay_chart(curves, "acc", **options, peak_of="without"), "svg").decode()
        assert "without: best test accuracy at epoch 2" in [text for _, text in texts(svg)]


def test_line_ends_name_what_sets_a_run_apart_and_never_print_over_each_other():
    labels = ["wide · L2 0.05 · n=2000", "wide · L1 0.001 · n=2000", "wide · n=2000"]
    assert distinct_names(labels) == {labels[0]: "L2 0.05", labels[1]: "L1 0.001", labels[2]: "wide · n=2000"}
    assert distinct_names(labels[:1]) == {labels[0]: labels[0]}  # alone: all of it
    data = pd.DataFrame({"label": labels * 2, "epoch": [1.0] * 3 + [2.0] * 3, "split": [TEST] * 6,
                         "value": [0.5, 0.5, 0.5, 0.935, 0.93, 0.80]})
    ends = end_labels(data, [TEST], span=0.2, height=400, font=20)  # a line of text: 0.012 units
    assert ends["short"].tolist() == ["L2 0.05", "L1 0.001", "wide · n=2000"]  # top to bottom
    ys = ends["y"].tolist()
    assert ys[0] == 0.935 and abs(ys[1] - (0.935 - 0.012)) < 1e-9  # pushed down from 0.93
    assert ys[2] == 0.80  # far enough below: where its line ends
    assert end_labels(data, [TEST], span=None, height=400, font=20)["y"].tolist() == [0.935, 0.93, 0.80]  # log axis


@needs_vl
def test_glance_axis_does_not_stretch_to_a_run_that_never_learned():
    """Batch norm's baseline stays near chance (16 %): drawn at the axis' left edge, its number
    beside it, while the axis starts just below the runs that learned."""
    stored = {"lessons": dict(MEASURED["lessons"], batchnorm={"baseline": side([14.0, 18.0], [0.0, 0.0]),
                                                             "treated": side([95.0, 96.0])})}
    frame = glance_frame(stored, t=EN)
    assert glance.axis_start(frame) == 80.0  # the lowest learned seed, 80.0, not 14.0
    svg = slide.slide_bytes(glance_chart(frame, t=EN, scale=slide.SLIDE_SCALE), "svg").decode()
    words = [text for _, text in texts(svg)]
    assert "16.0" in words and "96.0" in words  # the off-axis baseline keeps its number
    assert "10" not in words and "80" in words  # axis ticks: no stretch down to chance
    assert glance.axis_start(glance_frame(MEASURED, t=EN)) == 80.0


@needs_vl
def test_confusion_counts_on_dark_cells_are_white_and_zh_exports_use_a_sans_cjk_face():
    chart = confusion_chart([[50, 9, 3], [4, 60, 0], [0, 0, 70]], ["0", "1", "2"], t=ZH, scale=slide.SLIDE_SCALE)
    svg = slide.slide_bytes(chart, "svg", title="混淆矩阵").decode()
    inks = {text: fill.lower() for fill, text in
            re.findall(r'<text[^>]*fill="(#[0-9a-fA-F]{3,6})"[^>]*>([^<]*)</text>', svg)}
    white, black = ("#fff", "#ffffff"), ("#000", "#000000")
    assert inks["9"] in white  # the worst mistake: the darkest cell
    assert inks["4"] in black and inks["3"] in black  # lighter mistakes
    assert inks["50"] in black  # the diagonal's light green
    assert slide.SLIDE_FONT in svg  # Chinese bold titles no longer fall back to a serif face


def test_lessons_figure_puts_its_block_into_the_doc_and_knows_when_it_is_stale():
    block = lessons_figure.block(MEASURED, "ab" * 32)
    assert "Above the baseline's peak: augmentation" in block and "abababababab" in block
    doc = "# Title\n\nFirst paragraph.\n\n## The table\n"
    once = lessons_figure.with_block(doc, block)
    assert once.startswith("# Title\n\nFirst paragraph.\n\n" + lessons_figure.BEGIN) and once.endswith("## The table\n")
    newer = lessons_figure.block(MEASURED, "cd" * 32)
    twice = lessons_figure.with_block(once, newer)
    assert twice.count(lessons_figure.BEGIN) == 1 and "cdcdcdcdcdcd" in twice and "abababababab" not in twice


def test_docs_lessons_md_shows_the_figure_of_the_current_measured_json():
    """Fails when measured.json changes and `python -m tools.lessons_figure` was not run."""
    assert lessons_figure.main(["--check"]) == 0


# --- the shipped sweep --------------------------------------------------------------------------

def test_the_shipped_sweep_reads_back_and_shows_the_u_shape():
    from regdemo.teaching import sweep

    shipped = measured_sweep.read()
    assert shipped is not None and shipped.param == "l2" and shipped.base == LESSONS["l2"].baseline
    assert len(shipped.points) == len(shipped.values) * shipped.seeds
    assert {p.key for p in shipped.points} == {s.config.key() for s in
                                              sweep.sweep_configs(shipped.base, "l2", shipped.values, shipped.seeds)}
    means = [row.test_acc.mean for row in sweep.summarize(shipped.points, shipped.values)]
    best = means.index(max(means))
    assert 0 < best < len(means) - 1  # up, then down: neither end is best


@needs_vl
def test_the_sweep_axis_names_each_swept_value_and_no_other():
    values = (0.0, 0.01, 0.05, 0.3)
    points = [SweepPoint(v, 0, f"k{v}", "finished", 0.9, 0.8, 0.8 - v, 20) for v in values]
    from regdemo.teaching import sweep

    chart = strength_chart("l2", sweep.summarize(points, values), points, values, "test", t=EN, scale=slide.SLIDE_SCALE)
    words = [text for _, text in texts(slide.slide_bytes(chart, "svg").decode())]
    assert all(v in words for v in ("0", "0.01", "0.05", "0.3"))
    assert "0.003" not in words and "0.02" not in words and "0.1" not in words  # log ticks between the points


def test_measured_sweep_round_trips_and_a_damaged_file_reads_as_none(tmp_path):
    point = SweepPoint(0.01, 0, "abc", "finished", 0.9, 0.8, 0.79, 20)
    data = measured_sweep.to_json(LESSONS["l2"].baseline, "l2", (0.0, 0.01), 1, [point], {"date": "d"})
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(data))
    back = measured_sweep.read(path)
    assert back.points == (point,) and back.base == LESSONS["l2"].baseline and back.about == {"date": "d"}
    path.write_text("{not json")
    assert measured_sweep.read(path) is None
    assert measured_sweep.read(tmp_path / "missing.json") is None
