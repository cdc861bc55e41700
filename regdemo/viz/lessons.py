"""The lesson pages' own charts: dropout's two train accuracies, where early stopping
stopped, and how the number of training digits changes the gap.

Their data keeps the fixed split names (they pick the colours); the legend reads
them in the page's language (theme.split_legend).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from regdemo.runs.frames import TEST, TRAIN, TRAIN_EVAL, VAL, curves_frame
from regdemo.viz.theme import SPLIT_COLORS, Translate, split_legend, split_scale, words


def epoch_axis(frame: pd.DataFrame, text: Mapping[str, str], epochs: int | None = None) -> alt.X:
    """Epochs 1..`epochs` (the run's planned count): the axis stays put while points arrive."""
    last = max(2, epochs or 0, int(frame["epoch"].max()) if not frame.empty else 0)
    return alt.X("epoch:Q", title=text["epoch"], axis=alt.Axis(tickMinStep=1, format="d"),
                 scale=alt.Scale(domain=[1, last], nice=False))


# --- dropout: train accuracy in train mode and in eval mode ----------------------------------

def accuracy_modes_frame(view) -> pd.DataFrame:
    """Per epoch: train accuracy in train mode (the article's "train"), in eval mode, and test."""
    frame = curves_frame(view, eval_train=True)
    keep = (frame["kind"] == "epoch") & frame["split"].isin([TRAIN, TRAIN_EVAL, TEST])
    return frame[keep].reset_index(drop=True)


def accuracy_modes_chart(frame: pd.DataFrame, *, t: Translate, height: int = 320, epochs: int | None = None):
    """Train accuracy measured in train mode vs eval mode, with test accuracy."""
    text = words(t)
    low = max(0.0, math.floor(float(frame["acc"].min()) * 20) / 20) if not frame.empty else 0.0
    return alt.Chart(frame).mark_line(point=True, strokeWidth=3).encode(
        x=epoch_axis(frame, text, epochs),
        # From the lowest point (in 5 % steps) to 100 %: the axis says when it is zoomed.
        y=alt.Y("acc:Q", title=text["acc_zoomed" if low > 0 else "acc"], axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[low, 1.0])),
        color=alt.Color("split:N", title=text["split"], scale=split_scale(frame["split"]),
                        legend=split_legend(t)),
        tooltip=["epoch:Q", "split:N", alt.Tooltip("acc:Q", format=".2%")],
    ).properties(height=height)


# --- early stopping ---------------------------------------------------------------------------

def early_stopping_frame(view) -> pd.DataFrame:
    """Loss per epoch on the training digits (eval mode), the validation split and the test split."""
    rows = []
    for e in view.epochs:
        rows.append((e.epoch, TRAIN_EVAL, e.train_loss_eval))
        if e.val_loss is not None:
            rows.append((e.epoch, VAL, e.val_loss))
        rows.append((e.epoch, TEST, e.test_loss))
    return pd.DataFrame(rows, columns=["epoch", "split", "loss"])


def early_stopping_chart(frame: pd.DataFrame, best_epoch: int, patience: int, last_epoch: int,
                         stopped_early: bool, *, t: Translate, height: int = 380, log: bool = False):
    """Loss curves with the best validation epoch, the patience window after it, and the stop.
    log: the loss on a log axis (a loss turning up late is plain there)."""
    text = words(t)
    # One x scale for every layer (a rect layer alone would pull zero into the domain).
    scale = alt.Scale(domain=[1, max(2, last_epoch, best_epoch + patience)], nice=False, zero=False)
    x = alt.X("epoch:Q", title=text["epoch"], axis=alt.Axis(tickMinStep=1, format="d"), scale=scale)
    lines = alt.Chart(frame).mark_line(point=True, strokeWidth=3).encode(
        x=x, y=alt.Y("loss:Q", title=text["loss_log"] if log else text["loss"],
                     scale=alt.Scale(type="log") if log else alt.Scale(zero=True),
                     axis=alt.Axis(format="~g") if log else alt.Axis()),
        color=alt.Color("split:N", title=text["split"], scale=split_scale(frame["split"]),
                        legend=split_legend(t)),
        tooltip=["epoch:Q", "split:N", alt.Tooltip("loss:Q", format=".4f")],
    )
    layers = []
    if best_epoch and patience:
        # The epochs training waited for the validation loss to beat the best one.
        window = pd.DataFrame({"epoch": [best_epoch], "end": [best_epoch + patience],
                               "middle": [best_epoch + patience / 2], "label": [text["patience"]]})
        layers.append(alt.Chart(window).mark_rect(opacity=0.15, color=SPLIT_COLORS[VAL]).encode(
            x=x, x2="end:Q", tooltip=[alt.Tooltip("label:N", title=None)]))
        layers.append(alt.Chart(window).mark_text(baseline="top", dy=4, fontSize=13, color="#555555").encode(
            x=alt.X("middle:Q", scale=scale), y=alt.value(0), text="label:N"))
    layers.append(lines)
    if best_epoch:
        best = pd.DataFrame({"epoch": [best_epoch], "label": [text["best_kept"].format(epoch=best_epoch)]})
        layers.append(alt.Chart(best).mark_rule(strokeWidth=3, color="black").encode(x=x))
        layers.append(alt.Chart(best).mark_text(align="left", baseline="top", dx=5, dy=24, fontSize=14,
                                                fontWeight="bold").encode(x=x, y=alt.value(0), text="label:N"))
    if stopped_early:
        stop = pd.DataFrame({"epoch": [last_epoch], "label": [text["stopped"].format(epoch=last_epoch)]})
        layers.append(alt.Chart(stop).mark_rule(strokeWidth=2, strokeDash=[6, 4], color="#555555").encode(x=x))
        layers.append(alt.Chart(stop).mark_text(align="right", baseline="top", dx=-5, dy=44, fontSize=13,
                                                color="#555555").encode(x=x, y=alt.value(0), text="label:N"))
    return alt.layer(*layers).properties(height=height)


# --- data size: the gap against the number of training digits ----------------------------------

def size_frame(views: Sequence) -> pd.DataFrame:
    """One row per run of the train-size experiment: the latest epoch's accuracies and gap."""
    rows = []
    for view in views:
        if view is None or not view.epochs:
            continue
        e = view.epochs[-1]
        rows.append((view.config.effective_train_size, e.epoch, view.config.epochs, e.train_acc_eval,
                     e.test_acc, e.train_acc_eval - e.test_acc, view.status, view.finished))
    frame = pd.DataFrame(rows, columns=["train_size", "epoch", "epochs", "train_acc_eval", "test_acc", "gap",
                                        "status", "final"])
    return frame.sort_values("train_size", ignore_index=True)


def size_chart(frame: pd.DataFrame, *, t: Translate, height: int = 300):
    """Train (eval mode) and test accuracy against the number of training digits, and the gap.

    Points of runs still training are hollow: their numbers will still move.
    """
    text = words(t)
    long = frame.melt(id_vars=["train_size", "epoch", "epochs", "final"],
                      value_vars=["train_acc_eval", "test_acc"], var_name="what", value_name="acc")
    long["split"] = long["what"].map({"train_acc_eval": TRAIN_EVAL, "test_acc": TEST})
    x = alt.X("train_size:Q", title=text["train_size"], scale=alt.Scale(type="log"),
              axis=alt.Axis(values=sorted(frame["train_size"].unique().tolist()), format=",d"))
    tooltip = ["train_size:Q", "epoch:Q", "epochs:Q"]
    colors = split_scale(long["split"])
    acc = alt.Chart(long).mark_line(strokeWidth=3).encode(
        x=x, y=alt.Y("acc:Q", title=text["acc"], axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)),
        color=alt.Color("split:N", title=text["split"], scale=colors, legend=split_legend(t)),
    )
    acc_points = alt.Chart(long).mark_point(size=90, strokeWidth=2).encode(
        x=x, y="acc:Q", color=alt.Color("split:N", scale=colors),
        fill=alt.condition("datum.final", alt.Color("split:N", scale=colors), alt.value("white")),
        tooltip=tooltip + ["split:N", alt.Tooltip("acc:Q", format=".2%")],
    )
    gap = alt.Chart(frame).mark_bar(width=28, color="#999999").encode(
        x=x, y=alt.Y("gap:Q", title=text["gap_acc"], axis=alt.Axis(format="%")),
        opacity=alt.condition("datum.final", alt.value(1.0), alt.value(0.4)),
        tooltip=tooltip + [alt.Tooltip("gap:Q", format=".2%")],
    )
    return alt.hconcat(
        (acc + acc_points).properties(height=height, width=420),
        gap.properties(height=height, width=320),
    )
