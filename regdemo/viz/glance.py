"""Lessons at a glance: every lesson pair of measured.json in one figure.

For each lesson, three test accuracies over the check's seeds: the baseline's final epoch,
the baseline's peak (its best epoch, before it memorizes the wrong labels) and the treated
run's final epoch. A mark is the mean (circle, diamond, square: one shape per kind, not only
a colour), a bar the seeds' range (min to max). The figure says what the pages say one by
one: dropout, L1 and L2 end below the baseline's own peak (they slow memorization),
augmentation beats it, early stopping keeps an epoch close to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import altair as alt
import pandas as pd

from regdemo.viz.theme import FONT, PAIR_COLORS, Translate

# What each row of the figure is, in drawing order; colours: the pair's black and orange,
# the baseline's peak in grey (it is the baseline, at its best epoch).
KINDS = ("final", "peak", "treated")
KIND_COLORS = {"final": PAIR_COLORS[0], "peak": "#999999", "treated": PAIR_COLORS[1]}
KIND_SHAPES = {"final": "circle", "peak": "diamond", "treated": "square"}
# A run at or below this test accuracy has not learned (10 classes: chance is 10 %); the axis
# does not stretch to it, or every other lesson's few points would shrink to a hairline.
NOT_LEARNED = 50.0


def axis_start(frame: pd.DataFrame) -> float:
    """Where the accuracy axis starts: the lowest seed of the runs that learned, rounded down to
    five points (all of them when none learned)."""
    if frame.empty:
        return 0.0
    learned = frame[frame["mean"] > NOT_LEARNED]
    lows = (learned if not learned.empty else frame)["low"]
    return float(math.floor(float(lows.min()) / 5) * 5)


def _per_seed(side: Mapping, field: str) -> list[float]:
    return [float(v) for v in (side.get(field) or {}).get("per_seed") or []]


def glance_frame(measured: Mapping, *, t: Translate) -> pd.DataFrame:
    """One row per (lesson, kind): lesson (its name), what (in t's language), kind, label (the
    legend's words), mean, low, high (test accuracy in %, over the seeds), seeds.

    The peak of a seed is its final accuracy plus its fall from the peak (peak_minus_final),
    both as the check stored them. A lesson without per-seed accuracies is left out."""
    rows = []
    for name, found in (measured.get("lessons") or {}).items():
        base, treated = found.get("baseline") or {}, found.get("treated") or {}
        final, treated_acc = _per_seed(base, "test_acc"), _per_seed(treated, "test_acc")
        falls = _per_seed(base, "peak_minus_final")
        if not final or not treated_acc:
            continue
        values = {"final": final, "treated": treated_acc}
        if len(falls) == len(final):
            values["peak"] = [a + f for a, f in zip(final, falls, strict=True)]
        for kind in KINDS:
            if kind not in values:
                continue
            xs = values[kind]
            rows.append({"lesson": name, "measure": found.get("measure", ""), "what": t(f"pair.what.{name}"),
                         "kind": kind,
                         "label": t(f"glance.kind.{kind}"), "mean": round(sum(xs) / len(xs), 2),
                         "low": min(xs), "high": max(xs), "seeds": len(xs)})
    return pd.DataFrame(rows, columns=["lesson", "measure", "what", "kind", "label", "mean", "low", "high", "seeds"])


def glance_chart(frame: pd.DataFrame, *, t: Translate, scale: float = 1.0, height_per_lesson: int = 72):
    """Test accuracy per lesson: baseline final, baseline peak and treated, mean and seeds' range."""
    labels = [t(f"glance.kind.{kind}") for kind in KINDS]
    color = alt.Color("label:N", title=None, sort=labels,
                      scale=alt.Scale(domain=labels, range=[KIND_COLORS[k] for k in KINDS]),
                      legend=alt.Legend(orient="top", direction="horizontal"))
    order = list(dict.fromkeys(frame["what"]))
    y = alt.Y("what:N", title=None, sort=order, axis=alt.Axis(labelFontWeight="bold"))
    offset = alt.YOffset("label:N", sort=labels)
    # Besides its colour, each kind has its own shape (a projector, a colour-blind reader).
    shape = alt.Shape("label:N", sort=labels, legend=None,
                      scale=alt.Scale(domain=labels, range=[KIND_SHAPES[k] for k in KINDS]))
    low = axis_start(frame)
    scale_x = alt.Scale(domain=[low, 100], nice=False, zero=False, clamp=True)
    x = alt.X("shown:Q", title=t("glance.axis"), scale=scale_x, axis=alt.Axis(tickCount=10))
    tooltip = [alt.Tooltip("what:N", title=t("glance.col.lesson")), alt.Tooltip("label:N", title=None),
               alt.Tooltip("mean:Q", title=t("glance.col.mean"), format=".1f"),
               alt.Tooltip("low:Q", title=t("glance.col.low"), format=".1f"),
               alt.Tooltip("high:Q", title=t("glance.col.high"), format=".1f"),
               alt.Tooltip("seeds:Q", title=t("glance.col.seeds"))]
    # A value left of the axis (batch norm's baseline, which never learns: 16 %) sits at its
    # left edge as a triangle pointing off the chart, with its own number beside it.
    base = alt.Chart(frame).transform_calculate(
        shown=f"max(datum.mean, {low})", off=f"datum.mean < {low}",
        end=f"max(datum.high, {low})").encode(y=y, yOffset=offset, color=color, tooltip=tooltip)
    spread = base.transform_filter("!datum.off").mark_rule(strokeWidth=3 * scale).encode(
        x=alt.X("low:Q", scale=scale_x), x2="high:Q")
    dots = base.transform_filter("!datum.off").mark_point(size=130 * scale * scale, filled=True, opacity=1).encode(
        x=x, shape=shape)
    off = base.transform_filter("datum.off").mark_point(shape="triangle-left", size=160 * scale * scale,
                                                        filled=True, opacity=1, xOffset=8 * scale).encode(x=x)
    values = alt.layer(*(
        base.transform_filter(test).mark_text(align="left", dx=dx * scale, fontSize=FONT["mark"] * scale).encode(
            x=alt.X("end:Q", scale=scale_x), text=alt.Text("mean:Q", format=".1f"))
        for test, dx in (("!datum.off", 9), ("datum.off", 20))))
    height = int(height_per_lesson * max(1, len(order)) * scale)
    return alt.layer(spread, dots, off, values).properties(height=height, width="container",
                                                      title=t("glance.chart.title"))


def glance_claim(frame: pd.DataFrame, *, t: Translate) -> str:
    """What the figure shows, from its own numbers: which regularizers end above the baseline's
    peak (mean over seeds) and which below it. Batch norm's pair is left out: its baseline
    never learns, so it has no peak to compare with (its lesson is optimization). So is a
    contrast pair (Adam + L2 against AdamW): it compares two methods, not a regularizer with none."""
    means = {(row.lesson, row.kind): (row.what, row.mean) for row in frame.itertuples()}
    above, below = [], []
    for lesson in dict.fromkeys(frame["lesson"]):
        contrast = (frame.loc[frame["lesson"] == lesson, "measure"] == "contrast").any()
        if lesson == "batchnorm" or contrast or (lesson, "peak") not in means or (lesson, "treated") not in means:
            continue
        what, treated = means[(lesson, "treated")]
        (above if treated > means[(lesson, "peak")][1] else below).append(what)
    sep = t("glance.list_sep")
    return t("glance.claim", above=sep.join(above) or "–", below=sep.join(below) or "–")
