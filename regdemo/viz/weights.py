"""L1 vs L2: how each penalty shapes the weights (histograms, the share near zero, a table).

Frames come from the runs' EpochEnd events (weight_hist, near_zero, the norms);
the runs are named by their penalty ("none", "L1", "L2"), which picks their colour.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from regdemo.training.events import HIST_BINS, HIST_HIGH, HIST_LOW
from regdemo.viz.lessons import epoch_axis
from regdemo.viz.theme import PENALTY_COLORS, Translate, words


def bin_edges() -> np.ndarray:
    """The HIST_BINS + 1 edges of EpochEnd.weight_hist."""
    return np.linspace(HIST_LOW, HIST_HIGH, HIST_BINS + 1)


def weight_hist_frame(views: Mapping[str, object]) -> pd.DataFrame:
    """One row per (run, epoch, bin): count and share of the run's penalized weights."""
    edges = bin_edges()
    rows = []
    for name, view in views.items():
        if view is None:
            continue
        for e in view.epochs:
            total = sum(e.weight_hist) or 1
            for i, count in enumerate(e.weight_hist):
                rows.append((name, e.epoch, i, edges[i], edges[i + 1], count, count / total))
    return pd.DataFrame(rows, columns=["run", "epoch", "bin", "low", "high", "count", "share"])


def _penalty_scale(runs) -> alt.Scale:
    palette = list(PENALTY_COLORS.values())
    colors = [PENALTY_COLORS.get(run, palette[i % len(palette)]) for i, run in enumerate(runs)]
    return alt.Scale(domain=list(runs), range=colors)


def weight_hist_chart(frame: pd.DataFrame, epoch: int, *, t: Translate, height: int = 260):
    """The weights of each run at `epoch` (or its last epoch, if it has fewer), side by side,
    on one shared share-of-weights axis so the runs compare at a glance."""
    text = words(t)
    last = frame.groupby("run")["epoch"].transform("max")
    shown = frame[frame["epoch"] == np.minimum(epoch, last)]
    runs = list(dict.fromkeys(shown["run"]))
    return alt.Chart(shown).mark_bar().encode(
        x=alt.X("low:Q", title=text["weight"], scale=alt.Scale(domain=[HIST_LOW, HIST_HIGH])),
        x2="high:Q",
        y=alt.Y("share:Q", title=text["weights"], axis=alt.Axis(format="%")),
        y2=alt.datum(0),
        color=alt.Color("run:N", legend=None, scale=_penalty_scale(runs)),
        tooltip=[alt.Tooltip("run:N", title=text["run"]), "epoch:Q",
                 alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"),
                 "count:Q", alt.Tooltip("share:Q", format=".2%")],
    ).properties(width=300, height=height).facet(
        column=alt.Column("run:N", title=None, sort=runs, header=alt.Header(labelFontWeight="bold")),
    )


def near_zero_frame(views: Mapping[str, object]) -> pd.DataFrame:
    """Per run and epoch: the fraction of penalized weights with |w| < NEAR_ZERO, and the norms."""
    rows = []
    for name, view in views.items():
        if view is None:
            continue
        for e in view.epochs:
            rows.append((name, e.epoch, e.near_zero, e.l1_norm, e.l2_norm, e.test_acc, e.train_acc_eval))
    return pd.DataFrame(rows, columns=["run", "epoch", "near_zero", "l1_norm", "l2_norm", "test_acc",
                                       "train_acc_eval"])


def near_zero_chart(frame: pd.DataFrame, *, t: Translate, height: int = 300, epochs: int | None = None):
    """The fraction of (nearly) zero weights per epoch, one line per run."""
    text = words(t)
    runs = list(dict.fromkeys(frame["run"]))
    return alt.Chart(frame).mark_line(point=True, strokeWidth=3).encode(
        x=epoch_axis(frame, text, epochs),
        y=alt.Y("near_zero:Q", title=text["near_zero"], axis=alt.Axis(format="%")),
        color=alt.Color("run:N", title=text["run"], scale=_penalty_scale(runs), sort=runs,
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("run:N", title=text["run"]), "epoch:Q",
                 alt.Tooltip("near_zero:Q", format=".1%"), alt.Tooltip("test_acc:Q", format=".2%")],
    ).properties(height=height)


def penalty_summary(frame: pd.DataFrame, *, t: Translate) -> pd.DataFrame:
    """The latest epoch of each run: accuracies, sparsity and norms, as a small table."""
    text = words(t)
    last = frame.sort_values("epoch").groupby("run", sort=False).tail(1)
    last = last.set_index("run").reindex(list(dict.fromkeys(frame["run"]))).reset_index()
    return pd.DataFrame({
        text["run"]: last["run"],
        text["epoch"]: last["epoch"],
        text["table.test_acc"]: (100 * last["test_acc"]).round(2),
        text["table.gap"]: (100 * (last["train_acc_eval"] - last["test_acc"])).round(2),
        text["table.near_zero"]: (100 * last["near_zero"]).round(1),
        "Σ|w|": last["l1_norm"].round(1),
        "‖w‖₂": last["l2_norm"].round(2),
    })


# --- a lesson pair's weights per epoch (the L2 and L1 pairs) -----------------------------------

def pair_weights_frame(views: Mapping[str, object]) -> pd.DataFrame:
    """Per run and epoch: the penalized weights' L2 norm and the share near zero."""
    rows = [(name, e.epoch, e.l2_norm, e.near_zero)
            for name, view in views.items() if view is not None for e in view.epochs]
    return pd.DataFrame(rows, columns=["run", "epoch", "l2_norm", "near_zero"])


def pair_weights_chart(frame: pd.DataFrame, colors: Mapping[str, str], *, t: Translate, epochs: int | None = None,
                       near_zero: bool = False, height: int = 240):
    """The weights' L2 norm per epoch, one line per run in its colour; with `near_zero`, the
    share of weights with |w| < NEAR_ZERO beside it (L1's sparsity)."""
    text = words(t)
    runs = list(colors)
    color = alt.Color("run:N", title=text["run"], sort=runs, legend=alt.Legend(orient="bottom"),
                      scale=alt.Scale(domain=runs, range=[colors[r] for r in runs]))
    base = alt.Chart(frame).mark_line(point=True, strokeWidth=3).encode(x=epoch_axis(frame, text, epochs), color=color)
    norm = base.encode(
        y=alt.Y("l2_norm:Q", title=t("weights.chart.l2"), scale=alt.Scale(zero=True)),
        tooltip=[alt.Tooltip("run:N", title=text["run"]), alt.Tooltip("epoch:Q", title=text["epoch"]),
                 alt.Tooltip("l2_norm:Q", format=".2f", title=t("weights.chart.l2"))],
    ).properties(height=height, width=320)
    # pad: the plots keep their own size (under a page's fit, legends would take it from them)
    if not near_zero:
        return norm.properties(autosize=alt.AutoSizeParams(type="pad"))
    share = base.encode(
        y=alt.Y("near_zero:Q", title=text["near_zero"], axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("run:N", title=text["run"]), alt.Tooltip("epoch:Q", title=text["epoch"]),
                 alt.Tooltip("near_zero:Q", format=".1%", title=text["near_zero"])],
    ).properties(height=height, width=320)
    return alt.hconcat(norm, share).properties(autosize=alt.AutoSizeParams(type="pad"))
