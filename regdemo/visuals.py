"""Frames and altair charts of the lesson pages: what dropout hides, how L1 and L2
shape the weights, where early stopping stops, what augmentation does to a digit.

Pure builders: RunView / MaskSnapshot / tensors in, pandas frames and altair
charts (or uint8 image arrays) out. No streamlit, so every picture a lesson
shows can be tested and drawn from a notebook exactly as in the app.

Text a chart shows comes from LABELS (English); a page passes its translated
labels through `labels=`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd
import torch

from regdemo.augment import random_affine
from regdemo.config import DATASET_TRAIN_SIZES, RunConfig
from regdemo.events import HIST_BINS, HIST_HIGH, HIST_LOW, MaskSnapshot
from regdemo.frames import TEST, TRAIN, TRAIN_EVAL, VAL, curves_frame

# Okabe-Ito, the colour-blind-safe palette every page uses: a split keeps its
# colour on every page (train blue, test vermillion, ...).
SPLIT_COLORS = {TRAIN: "#0072B2", TEST: "#D55E00", TRAIN_EVAL: "#009E73", VAL: "#CC79A7"}
# The three runs of the L1 vs L2 lesson, in colours no split uses.
PENALTY_COLORS = {"none": "#7F7F7F", "L1": "#E69F00", "L2": "#56B4E9"}
DROPPED_COLOR = "#D9D9D9"  # a dropped unit is greyed out: it passed nothing on

LABELS = {
    "epoch": "epoch",
    "accuracy": "accuracy",
    "loss": "loss",
    "accuracy_zoomed": "accuracy (zoomed)",
    "loss_log": "loss (log scale)",
    "split": "measured on",
    "activation": "activation",
    "dropped": "dropped in this step",
    "channel": "channel",
    "unit": "unit",
    "step": "step",
    "weight": "weight value",
    "weights": "share of weights",
    "near_zero": "weights with |w| < 0.001",
    "run": "run",
    "train_size": "training digits",
    "gap": "gap (train − test accuracy)",
    "table.test_acc": "test accuracy (%)",
    "table.gap": "gap (points)",
    "table.near_zero": "near zero (%)",
    "best": "best epoch {epoch}: kept",
    "stopped": "stopped after epoch {epoch}",
    "patience": "patience window",
    # The splits' names in legends (the data keeps the fixed names that pick the colours).
    "split.train": TRAIN,
    "split.train_eval": TRAIN_EVAL,
    "split.test": TEST,
    "split.val": VAL,
}
_SPLIT_LABEL_KEYS = {TRAIN: "split.train", TRAIN_EVAL: "split.train_eval", TEST: "split.test", VAL: "split.val"}


def _labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    return {**LABELS, **(labels or {})}


def style(chart, scale: float = 1.0):
    """Font sizes readable on a projector; `scale` > 1 in presentation mode."""
    return (
        chart.configure_axis(labelFontSize=13 * scale, titleFontSize=15 * scale)
        .configure_legend(labelFontSize=13 * scale, titleFontSize=14 * scale, labelLimit=0)
        .configure_header(labelFontSize=13 * scale, titleFontSize=14 * scale)
        .configure_title(fontSize=16 * scale)
        .configure_view(strokeWidth=0)
    )


# --- dropout: the masks of real training steps ---------------------------------

def grid_side(units: int) -> int:
    """Side of the square grid the hidden units are laid out on (256 -> 16)."""
    return math.ceil(math.sqrt(units))


def mask_frame(snapshot: MaskSnapshot, eval_mode: bool = False) -> pd.DataFrame:
    """One row per element of the dropout layer's input for the probe digit.

    Columns: index (flat, row-major as in the snapshot), channel, y, x,
    activation (the layer's input), kept, dropped, output (what the layer
    passed on: activation * kept / (1 - p) in training, activation in eval).
    Feature maps (c, h, w) keep their layout; a vector of units is laid out
    row by row on a square grid. In eval mode dropout is off: nothing dropped.
    """
    activation = np.asarray(snapshot.activation, dtype=np.float64)
    kept = np.asarray(snapshot.kept, dtype=bool)
    if activation.shape != kept.shape or activation.size != math.prod(snapshot.shape):
        raise ValueError(f"snapshot of {snapshot.layer}: shape {snapshot.shape} does not match its data")
    if eval_mode:
        kept = np.ones_like(kept)
    index = np.arange(activation.size)
    if len(snapshot.shape) == 3:
        channel, y, x = np.unravel_index(index, snapshot.shape)
    else:
        side = grid_side(activation.size)
        channel, y, x = np.zeros_like(index), index // side, index % side
    if eval_mode or snapshot.p == 0:
        output = activation.copy()
    else:
        output = np.where(kept, activation / (1.0 - snapshot.p), 0.0)
    return pd.DataFrame({
        "index": index, "channel": channel + 1, "y": y, "x": x, "activation": activation,
        "kept": kept, "dropped": ~kept, "output": output,
    })


def _mask_layers(frame: pd.DataFrame, cell: int, width: int, height: int, labels: dict, max_activation: float):
    """Kept positions coloured by activation, dropped ones greyed, one square each."""
    x = alt.X("x:O", axis=None)
    y = alt.Y("y:O", axis=None)
    tooltip = [alt.Tooltip("channel:O", title=labels["channel"]), "y:O", "x:O",
               alt.Tooltip("activation:Q", format=".3f", title=labels["activation"]),
               alt.Tooltip("dropped:N", title=labels["dropped"])]
    kept = alt.Chart().mark_rect().encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color("activation:Q", title=labels["activation"],
                        scale=alt.Scale(scheme="viridis", domain=[0, max_activation]),
                        legend=alt.Legend(orient="bottom", gradientLength=220)),
    ).transform_filter("datum.kept")
    layers = [kept]
    if frame["dropped"].any():
        # A one-entry legend names the grey squares.
        layers.append(alt.Chart().mark_rect().encode(
            x=x, y=y, tooltip=tooltip,
            fill=alt.Fill("state:N", title=None, legend=alt.Legend(orient="bottom", symbolSize=250),
                          scale=alt.Scale(domain=[labels["dropped"]], range=[DROPPED_COLOR])),
        ).transform_filter("datum.dropped"))
    frame = frame.assign(state=labels["dropped"])
    return alt.layer(*layers, data=frame).properties(width=cell * width, height=cell * height)


def feature_maps_chart(snapshot: MaskSnapshot, eval_mode: bool = False, columns: int = 10,
                       cell: int | None = None, labels: Mapping[str, str] | None = None):
    """The article net's dropout input: one small heatmap per channel, dropped positions grey."""
    if len(snapshot.shape) != 3:
        raise ValueError(f"feature maps need a (channels, h, w) snapshot, got shape {snapshot.shape}")
    labels = _labels(labels)
    frame = mask_frame(snapshot, eval_mode)
    _, h, w = snapshot.shape
    cell = cell or max(4, 110 // max(h, w))
    top = float(frame["activation"].max()) or 1.0
    return _mask_layers(frame, cell, w, h, labels, top).facet(
        facet=alt.Facet("channel:O", title=None, header=alt.Header(labelPadding=2)),
        columns=columns, spacing=3,
    )


def units_frame(snapshots: Sequence[MaskSnapshot], eval_mode: bool = False) -> pd.DataFrame:
    """mask_frame of several snapshots of a layer of units, with their step and epoch."""
    frames = []
    for snap in snapshots:
        frame = mask_frame(snap, eval_mode)
        frame["step"] = snap.step
        frame["epoch"] = snap.epoch
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["index", "channel", "y", "x", "activation", "kept", "dropped",
                                     "output", "step", "epoch"])
    return pd.concat(frames, ignore_index=True)


def units_chart(snapshots: Sequence[MaskSnapshot], eval_mode: bool = False, cell: int = 11,
                labels: Mapping[str, str] | None = None):
    """The wide net's hidden units, one square grid per training step, dropped units grey.

    Several steps side by side show that every step draws a new mask for the
    same digit.
    """
    labels = _labels(labels)
    frame = units_frame(snapshots, eval_mode)
    if frame.empty:
        raise ValueError("no snapshots to draw")
    side = grid_side(len(snapshots[0].activation))
    top = float(frame["activation"].max()) or 1.0
    return _mask_layers(frame, cell, side, side, labels, top).facet(
        column=alt.Column("step:O", title=labels["step"], sort="ascending"), spacing=10,
    )


def accuracy_modes_frame(view) -> pd.DataFrame:
    """Per epoch: train accuracy in train mode (the article's "train"), in eval mode, and test."""
    frame = curves_frame(view, eval_train=True)
    keep = (frame["kind"] == "epoch") & frame["split"].isin([TRAIN, TRAIN_EVAL, TEST])
    return frame[keep].reset_index(drop=True)


def _split_legend(labels: Mapping[str, str]) -> alt.Legend:
    """A split legend below the chart whose entries read in the page's language."""
    cases = "".join(f"datum.label === {json.dumps(split)} ? {json.dumps(labels[key], ensure_ascii=False)} : "
                    for split, key in _SPLIT_LABEL_KEYS.items())
    return alt.Legend(orient="bottom", labelExpr=cases + "datum.label")


def _split_scale(splits) -> alt.Scale:
    domain = [s for s in SPLIT_COLORS if s in set(splits)]
    return alt.Scale(domain=domain, range=[SPLIT_COLORS[s] for s in domain])


def epoch_axis(frame: pd.DataFrame, labels: dict, epochs: int | None = None) -> alt.X:
    """Epochs 1..`epochs` (the run's planned count): the axis stays put while points arrive."""
    last = max(2, epochs or 0, int(frame["epoch"].max()) if not frame.empty else 0)
    return alt.X("epoch:Q", title=labels["epoch"], axis=alt.Axis(tickMinStep=1, format="d"),
                 scale=alt.Scale(domain=[1, last], nice=False))


def accuracy_modes_chart(frame: pd.DataFrame, labels: Mapping[str, str] | None = None, height: int = 320,
                         epochs: int | None = None):
    """Train accuracy measured in train mode vs eval mode, with test accuracy."""
    labels = _labels(labels)
    low = max(0.0, math.floor(float(frame["acc"].min()) * 20) / 20) if not frame.empty else 0.0
    return alt.Chart(frame).mark_line(point=True, strokeWidth=3).encode(
        x=epoch_axis(frame, labels, epochs),
        # From the lowest point (in 5 % steps) to 100 %: the axis says when it is zoomed.
        y=alt.Y("acc:Q", title=labels["accuracy_zoomed" if low > 0 else "accuracy"], axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[low, 1.0])),
        color=alt.Color("split:N", title=labels["split"], scale=_split_scale(frame["split"]),
                        legend=_split_legend(labels)),
        tooltip=["epoch:Q", "split:N", alt.Tooltip("acc:Q", format=".2%")],
    ).properties(height=height)


# --- L1 vs L2: weight histograms and sparsity ---------------------------------

# Strengths of the lesson's L1 and L2 runs (unless the sidebar sets its own):
# measured with `python -m regdemo train --json` on the embedded sample, see
# penalty_configs.
L1_STRENGTH = 3e-4
L2_STRENGTH = 3e-3


def penalty_configs(config: RunConfig) -> dict[str, RunConfig]:
    """The lesson's three runs: `config` with no penalty, with L1 only, with L2 only.

    The sidebar's own L1 / L2 strength is used when it sets one, else the
    lesson's. Everything else (model, dropout, train size, epochs...) is the
    sidebar's, so the three runs differ in the penalty alone.
    """
    base = config.replace(l1=0.0, l2=0.0)
    return {
        "none": base,
        "L1": base.replace(l1=config.l1 or L1_STRENGTH),
        "L2": base.replace(l2=config.l2 or L2_STRENGTH),
    }

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


def weight_hist_chart(frame: pd.DataFrame, epoch: int, labels: Mapping[str, str] | None = None,
                      height: int = 260):
    """The weights of each run at `epoch` (or its last epoch, if it has fewer), side by side,
    on one shared share-of-weights axis so the runs compare at a glance."""
    labels = _labels(labels)
    last = frame.groupby("run")["epoch"].transform("max")
    shown = frame[frame["epoch"] == np.minimum(epoch, last)]
    runs = list(dict.fromkeys(shown["run"]))
    return alt.Chart(shown).mark_bar().encode(
        x=alt.X("low:Q", title=labels["weight"], scale=alt.Scale(domain=[HIST_LOW, HIST_HIGH])),
        x2="high:Q",
        y=alt.Y("share:Q", title=labels["weights"], axis=alt.Axis(format="%")),
        y2=alt.datum(0),
        color=alt.Color("run:N", legend=None, scale=_penalty_scale(runs)),
        tooltip=[alt.Tooltip("run:N", title=labels["run"]), "epoch:Q",
                 alt.Tooltip("low:Q", format=".3f"), alt.Tooltip("high:Q", format=".3f"),
                 "count:Q", alt.Tooltip("share:Q", format=".2%")],
    ).properties(width=300, height=height).facet(
        column=alt.Column("run:N", title=None, sort=runs, header=alt.Header(labelFontWeight="bold")),
    )


def _penalty_scale(runs) -> alt.Scale:
    palette = list(PENALTY_COLORS.values())
    colors = [PENALTY_COLORS.get(run, palette[i % len(palette)]) for i, run in enumerate(runs)]
    return alt.Scale(domain=list(runs), range=colors)


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


def near_zero_chart(frame: pd.DataFrame, labels: Mapping[str, str] | None = None, height: int = 300,
                    epochs: int | None = None):
    """The fraction of (nearly) zero weights per epoch, one line per run."""
    labels = _labels(labels)
    runs = list(dict.fromkeys(frame["run"]))
    return alt.Chart(frame).mark_line(point=True, strokeWidth=3).encode(
        x=epoch_axis(frame, labels, epochs),
        y=alt.Y("near_zero:Q", title=labels["near_zero"], axis=alt.Axis(format="%")),
        color=alt.Color("run:N", title=labels["run"], scale=_penalty_scale(runs), sort=runs,
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("run:N", title=labels["run"]), "epoch:Q",
                 alt.Tooltip("near_zero:Q", format=".1%"), alt.Tooltip("test_acc:Q", format=".2%")],
    ).properties(height=height)


def penalty_summary(frame: pd.DataFrame, labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The latest epoch of each run: accuracies, sparsity and norms, as a small table."""
    labels = _labels(labels)
    last = frame.sort_values("epoch").groupby("run", sort=False).tail(1)
    last = last.set_index("run").reindex(list(dict.fromkeys(frame["run"]))).reset_index()
    return pd.DataFrame({
        labels["run"]: last["run"],
        labels["epoch"]: last["epoch"],
        labels["table.test_acc"]: (100 * last["test_acc"]).round(2),
        labels["table.gap"]: (100 * (last["train_acc_eval"] - last["test_acc"])).round(2),
        labels["table.near_zero"]: (100 * last["near_zero"]).round(1),
        "Σ|w|": last["l1_norm"].round(1),
        "‖w‖₂": last["l2_norm"].round(2),
    })


# --- early stopping --------------------------------------------------------------

def early_stopping_frame(view) -> pd.DataFrame:
    """Loss per epoch on the training digits (eval mode), the held-out split and the test split."""
    rows = []
    for e in view.epochs:
        rows.append((e.epoch, TRAIN_EVAL, e.train_loss_eval))
        if e.val_loss is not None:
            rows.append((e.epoch, VAL, e.val_loss))
        rows.append((e.epoch, TEST, e.test_loss))
    return pd.DataFrame(rows, columns=["epoch", "split", "loss"])


def early_stopping_chart(frame: pd.DataFrame, best_epoch: int, patience: int, last_epoch: int,
                         stopped_early: bool, labels: Mapping[str, str] | None = None, height: int = 380,
                         log: bool = False):
    """Loss curves with the best held-out epoch, the patience window after it, and the stop.
    log: the loss on a log axis (a held-out loss turning up late is plain there)."""
    labels = _labels(labels)
    # One x scale for every layer (a rect layer alone would pull zero into the domain).
    scale = alt.Scale(domain=[1, max(2, last_epoch, best_epoch + patience)], nice=False, zero=False)
    x = alt.X("epoch:Q", title=labels["epoch"], axis=alt.Axis(tickMinStep=1, format="d"), scale=scale)
    lines = alt.Chart(frame).mark_line(point=True, strokeWidth=3).encode(
        x=x, y=alt.Y("loss:Q", title=labels["loss_log"] if log else labels["loss"],
                     scale=alt.Scale(type="log") if log else alt.Scale(zero=True),
                     axis=alt.Axis(format="~g") if log else alt.Axis()),
        color=alt.Color("split:N", title=labels["split"], scale=_split_scale(frame["split"]),
                        legend=_split_legend(labels)),
        tooltip=["epoch:Q", "split:N", alt.Tooltip("loss:Q", format=".4f")],
    )
    layers = []
    if best_epoch and patience:
        # The epochs training waited for the held-out loss to beat the best one.
        window = pd.DataFrame({"epoch": [best_epoch], "end": [best_epoch + patience],
                               "middle": [best_epoch + patience / 2], "label": [labels["patience"]]})
        layers.append(alt.Chart(window).mark_rect(opacity=0.15, color=SPLIT_COLORS[VAL]).encode(
            x=x, x2="end:Q", tooltip=[alt.Tooltip("label:N", title=None)]))
        layers.append(alt.Chart(window).mark_text(baseline="top", dy=4, fontSize=13, color="#555555").encode(
            x=alt.X("middle:Q", scale=scale), y=alt.value(0), text="label:N"))
    layers.append(lines)
    if best_epoch:
        best = pd.DataFrame({"epoch": [best_epoch], "label": [labels["best"].format(epoch=best_epoch)]})
        layers.append(alt.Chart(best).mark_rule(strokeWidth=3, color="black").encode(x=x))
        layers.append(alt.Chart(best).mark_text(align="left", baseline="top", dx=5, dy=24, fontSize=14,
                                                fontWeight="bold").encode(x=x, y=alt.value(0), text="label:N"))
    if stopped_early:
        stop = pd.DataFrame({"epoch": [last_epoch], "label": [labels["stopped"].format(epoch=last_epoch)]})
        layers.append(alt.Chart(stop).mark_rule(strokeWidth=2, strokeDash=[6, 4], color="#555555").encode(x=x))
        layers.append(alt.Chart(stop).mark_text(align="right", baseline="top", dx=-5, dy=44, fontSize=13,
                                                color="#555555").encode(x=x, y=alt.value(0), text="label:N"))
    return alt.layer(*layers).properties(height=height)


# --- augmentation and data size --------------------------------------------------

def one_per_class(labels: torch.Tensor, classes: int = 10) -> torch.Tensor:
    """Index of the first digit of each class, in class order."""
    return torch.stack([torch.nonzero(labels == c)[0, 0] for c in range(classes)])


def augmented_rows(images: torch.Tensor, levels: Sequence[str] = ("light", "strong"), draws: int = 3,
                   seed: int = 0) -> list[tuple[str, int, torch.Tensor]]:
    """The digits as they are, then `draws` random augmentations at each level.

    `images` are uint8 (N, 28, 28). Returns (level, draw, float images in
    [0, 1] of shape (N, 28, 28)); the original is ("off", 0, ...). Every digit
    of every draw gets its own transform, from a generator seeded with `seed`,
    exactly as in a training batch.
    """
    x = images.unsqueeze(1).float().div(255.0)
    gen = torch.Generator().manual_seed(seed)
    rows = [("off", 0, x[:, 0])]
    for level in levels:
        for draw in range(1, draws + 1):
            rows.append((level, draw, random_affine(x, level, gen)[:, 0].clamp(0.0, 1.0)))
    return rows


def digit_strip(images: torch.Tensor, scale: int = 3, gap: int = 4) -> np.ndarray:
    """Float images (N, h, w) in [0, 1] side by side as one uint8 greyscale picture.

    Each pixel becomes a scale x scale block (a crisp upscale; a browser would
    blur a 28-pixel image), separated by white gaps.
    """
    n, h, w = images.shape
    pixels = (images.clamp(0.0, 1.0) * 255).round().to(torch.uint8).numpy()
    pixels = pixels.repeat(scale, axis=1).repeat(scale, axis=2)
    out = np.full((h * scale, n * w * scale + (n - 1) * gap), 255, dtype=np.uint8)
    for i in range(n):
        left = i * (w * scale + gap)
        out[:, left:left + w * scale] = pixels[i]
    return out


def train_sizes(dataset: str) -> tuple[int, ...]:
    """Training-set sizes of the data-size experiment: from scarce to the whole split."""
    full = DATASET_TRAIN_SIZES[dataset]
    if full <= 4000:
        return tuple(n for n in (250, 500, 1000, 2000) if n < full) + (full,)
    return (1000, 5000, 20000, full)


SIZE_MAX_EPOCHS = 50  # the most epochs a small training set is given (the sidebar's maximum)


def size_configs(config: RunConfig) -> list[RunConfig]:
    """`config` at each of train_sizes(); the whole split is train_size 0, as the sidebar says it.

    Every size gets about as many optimizer steps as `config` takes on the
    whole split (more epochs for fewer digits, at most SIZE_MAX_EPOCHS): with
    equal epochs a small set would get a handful of steps and look
    undertrained, not overfitted.
    """
    full = DATASET_TRAIN_SIZES[config.dataset]
    configs = []
    for n in train_sizes(config.dataset):
        epochs = max(config.epochs, min(SIZE_MAX_EPOCHS, round(config.epochs * full / n)))
        configs.append(config.replace(train_size=0 if n >= full else n, epochs=epochs))
    return configs


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


def size_chart(frame: pd.DataFrame, labels: Mapping[str, str] | None = None, height: int = 300):
    """Train (eval mode) and test accuracy against the number of training digits, and the gap.

    Points of runs still training are hollow: their numbers will still move.
    """
    labels = _labels(labels)
    long = frame.melt(id_vars=["train_size", "epoch", "epochs", "final"],
                      value_vars=["train_acc_eval", "test_acc"], var_name="what", value_name="acc")
    long["split"] = long["what"].map({"train_acc_eval": TRAIN_EVAL, "test_acc": TEST})
    x = alt.X("train_size:Q", title=labels["train_size"], scale=alt.Scale(type="log"),
              axis=alt.Axis(values=sorted(frame["train_size"].unique().tolist()), format=",d"))
    tooltip = ["train_size:Q", "epoch:Q", "epochs:Q"]
    acc = alt.Chart(long).mark_line(strokeWidth=3).encode(
        x=x, y=alt.Y("acc:Q", title=labels["accuracy"], axis=alt.Axis(format="%"),
                     scale=alt.Scale(zero=False)),
        color=alt.Color("split:N", title=labels["split"], scale=_split_scale(long["split"]),
                        legend=_split_legend(labels)),
    )
    acc_points = alt.Chart(long).mark_point(size=90, strokeWidth=2).encode(
        x=x, y="acc:Q", color=alt.Color("split:N", scale=_split_scale(long["split"])),
        fill=alt.condition("datum.final", alt.Color("split:N", scale=_split_scale(long["split"])),
                           alt.value("white")),
        tooltip=tooltip + ["split:N", alt.Tooltip("acc:Q", format=".2%")],
    )
    gap = alt.Chart(frame).mark_bar(width=28, color="#999999").encode(
        x=x, y=alt.Y("gap:Q", title=labels["gap"], axis=alt.Axis(format="%")),
        opacity=alt.condition("datum.final", alt.value(1.0), alt.value(0.4)),
        tooltip=tooltip + [alt.Tooltip("gap:Q", format=".2%")],
    )
    return alt.hconcat(
        (acc + acc_points).properties(height=height, width=420),
        gap.properties(height=height, width=320),
    )
