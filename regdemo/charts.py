"""Altair charts of training curves, built from the frames of regdemo.frames.

Pure functions: pandas frames (or a MaskSnapshot) in, an altair chart out; no
streamlit, so every chart the Playground and Compare pages show can be tested
and drawn in a notebook, and saved as PNG/SVG for slides exactly as shown.

Colours are the Okabe-Ito palette (safe for the common colour-blindnesses) and
fixed: train is always blue, test always vermillion, on every page. Anything
that changes while a run trains (points, the best-epoch rule, the gap label)
lives in the data, not in the chart spec, so a live chart redraws in place
instead of being rebuilt (no flicker).

Text a chart shows comes from TEXT (English); a page passes its translated
strings through `text=`.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterable, Mapping

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from regdemo.events import MaskSnapshot
from regdemo.frames import TEST, TRAIN, TRAIN_EVAL, VAL

# --- colours -------------------------------------------------------------------
TRAIN_COLOR = "#0072B2"  # blue
TEST_COLOR = "#D55E00"  # vermillion
TRAIN_EVAL_COLOR = "#009E73"  # bluish green
HELD_OUT_COLOR = "#CC79A7"  # reddish purple
SPLIT_COLORS = {TRAIN: TRAIN_COLOR, TRAIN_EVAL: TRAIN_EVAL_COLOR, TEST: TEST_COLOR, VAL: HELD_OUT_COLOR}
GAP_COLOR = "#7F7F7F"  # the shaded generalization gap: neutral, it is not a split
BEST_COLOR = "#000000"
DROPPED_COLOR = "#D9D9D9"  # a dropped unit passed nothing on: grey
# One colour per run in overlays, in the order runs get them. Okabe-Ito again,
# starting with the colours no split uses; yellow last (faint on white).
RUN_COLORS = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00", "#F0E442")
# Line style by split in overlays, where colour means the run: test solid.
SPLIT_DASHES = {TEST: [1, 0], TRAIN: [7, 4], TRAIN_EVAL: [2, 3], VAL: [10, 3, 2, 3]}

# Sizes at scale 1 (a laptop screen); presentation mode passes scale ~1.4.
FONT = {"label": 14, "title": 16, "legend": 14, "heading": 18, "mark": 14}
LINE_WIDTH = 2.5
HEIGHT = 320  # of the plot itself; axes, title and legend come on top
# Fill the width (axes and legend included) but keep the plot's own height:
# Streamlit's default, "fit", would squeeze title and legend into `height`.
FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")

TEXT = {
    "epoch": "epoch",
    "acc": "accuracy",
    "acc_zoomed": "accuracy (zoomed)",
    "loss": "loss",
    "loss_log": "loss (log scale)",
    "split": "measured on",
    "run": "run",
    "gap": "gap {value}",
    "points": "{value} pts",  # percentage points
    "best": "best epoch {epoch}",
    "kept": "kept",
    "dropped": "dropped",
    "activation": "activation",
    "channel": "channel",
    "unit": "unit",
}
METRICS = ("acc", "loss")


def _text(text: Mapping[str, str] | None) -> dict[str, str]:
    return {**TEXT, **(text or {})}


def style(chart, scale: float = 1.0):
    """Font sizes readable on a projector; `scale` > 1 in presentation mode."""
    return (
        chart.configure_axis(labelFontSize=FONT["label"] * scale, titleFontSize=FONT["title"] * scale,
                             labelLimit=0, grid=True, gridOpacity=0.5)
        .configure_legend(labelFontSize=FONT["legend"] * scale, titleFontSize=FONT["legend"] * scale,
                          labelLimit=0, symbolStrokeWidth=LINE_WIDTH * scale, symbolSize=200 * scale)
        .configure_title(fontSize=FONT["heading"] * scale, anchor="start")
        .configure_view(strokeWidth=0)
    )


def _split_scale(names: Mapping[str, str], splits: Iterable[str]) -> alt.Scale:
    """Fixed colours by split, whatever subset is drawn, under the displayed names."""
    present = set(splits)
    domain = [s for s in SPLIT_COLORS if s in present]
    return alt.Scale(domain=[names.get(s, s) for s in domain], range=[SPLIT_COLORS[s] for s in domain])


def acc_domain(values: pd.DataFrame) -> tuple[float, float] | None:
    """The accuracy range the curves occupy after the first epoch, padded and rounded out.

    `values`: columns epoch and value (accuracies in 0..1). Points up to the end of
    the first epoch (the climb from chance) are left out once later ones exist: with them every chart
    runs 0-100 % and a few points of gap shrink to a hairline. Rounded to whole
    percents (5 % steps for a wide range), at least 4 points tall, so the axis
    reads cleanly and only moves when a curve leaves it. None (0-100 %) before epoch 1
    ends, or when the curves span nearly all of it.
    """
    if values is None or values.empty:
        return None
    return _acc_domain(values["epoch"].tolist(), values["value"].tolist())


def _acc_domain(epochs: list[float], values: list[float]) -> tuple[float, float] | None:
    # From the second epoch on once there is one: the end of the first often still sits
    # far below the rest (60 % against 85-100 %) and would stretch the axis again.
    later = any(float(e) > 1.0 for e in epochs)
    after = [float(v) for e, v in zip(epochs, values, strict=True)
             if (float(e) > 1.0 if later else float(e) >= 1.0) and not math.isnan(float(v))]
    if not after:
        return None
    low, high = min(after) - 0.01, max(after) + 0.01
    step = 0.01 if high - low <= 0.15 else 0.05
    low = max(0.0, math.floor(round(low / step, 6)) * step)
    high = min(1.0, math.ceil(round(high / step, 6)) * step)
    if high - low < 0.04:
        low = max(0.0, high - 0.04)
    if high - low >= 0.8:
        return None  # nearly the whole range anyway (a run stuck near chance): 0-100 %, not "zoomed"
    return round(low, 4), round(high, 4)


def _y(metric: str, text: dict, field: str = "value", domain: tuple[float, float] | None = None,
       log: bool = False) -> alt.Y:
    """Accuracy: 0-100 %, or `domain` (the zoomed range, named on the axis). Loss: from 0,
    or on a log axis (a test loss that turns up late is plain there, not a flat line)."""
    if metric == "acc":
        if domain:
            # Whole-percent ticks: a 4-point range with 6 ticks would print "12%" twice.
            return alt.Y(f"{field}:Q", title=text["acc_zoomed"],
                         axis=alt.Axis(format=".0%", tickCount=6, tickMinStep=0.01),
                         scale=alt.Scale(domain=list(domain), nice=False, zero=False))
        return alt.Y(f"{field}:Q", title=text["acc"], axis=alt.Axis(format=".0%", tickCount=6, tickMinStep=0.01),
                     scale=alt.Scale(domain=[0, 1], nice=False))
    if log:
        return alt.Y(f"{field}:Q", title=text["loss_log"], axis=alt.Axis(format="~g", tickCount=6),
                     scale=alt.Scale(type="log", nice=True))
    return alt.Y(f"{field}:Q", title=text["loss"], axis=alt.Axis(format=".2~f", tickCount=6),
                 scale=alt.Scale(zero=True))


def _x(epochs: int | None, text: dict) -> alt.X:
    # A fixed axis (0 .. planned epochs) while a run trains: the curve grows
    # into the chart instead of the chart rescaling under it.
    domain = alt.Scale(domain=[0, epochs]) if epochs else alt.Scale(zero=True)
    return alt.X("epoch:Q", title=text["epoch"], scale=domain, axis=alt.Axis(tickMinStep=1))


# --- one run: train vs test ---------------------------------------------------

def gap_columns(epochs: pd.DataFrame | None, metric: str = "acc") -> dict[str, list[float]]:
    """The generalization gap per epoch, from frames.epochs_frame (wide).

    Columns: epoch, low, high (the band between eval-mode train and test) and
    gap (train minus test accuracy; test minus train loss: positive = overfit).
    """
    if epochs is None or epochs.empty:
        return {"epoch": [], "low": [], "high": [], "gap": []}
    train, test = epochs[f"train_{metric}_eval"].tolist(), epochs[f"test_{metric}"].tolist()
    pairs = list(zip(train, test, strict=True))
    return {"epoch": [float(e) for e in epochs["epoch"].tolist()],
            "low": [float(min(a, b)) for a, b in pairs], "high": [float(max(a, b)) for a, b in pairs],
            "gap": [float(a - b) if metric == "acc" else float(b - a) for a, b in pairs]}


def gap_frame(epochs: pd.DataFrame | None, metric: str = "acc") -> pd.DataFrame:
    """gap_columns as a DataFrame."""
    return _frame(gap_columns(epochs, metric))


def _gap_text(gap: float, metric: str, text: dict) -> str:
    value = text["points"].format(value=f"{gap * 100:+.1f}") if metric == "acc" else f"{gap:+.3f}"
    return text["gap"].format(value=value)


def curves_columns(curves: pd.DataFrame, metric: str = "acc", *, epochs_table: pd.DataFrame | None = None,
                   best_epoch: int | None = None, names: Mapping[str, str] | None = None,
                   text: Mapping[str, str] | None = None) -> dict[str, dict[str, list]]:
    """What a curves chart draws, by layer (lines, gap band, gap_label, best), as columns
    of plain lists. curves_data makes DataFrames of them, curves_spec Arrow tables.

    The train-mode line comes from the progress points when there are any
    (several per epoch, so it moves before the first epoch ends); its
    epoch-end averages would zig-zag against them. Test, held-out and
    eval-mode train come from the epoch ends.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    text, names = _text(text), dict(names or {})
    # Plain lists, not pandas operations: a live page builds these several times a
    # second, and pandas' per-operation cost (masks, renames, astype) on a few hundred
    # rows was most of a redraw.
    kinds, splits = curves["kind"].tolist(), curves["split"].tolist()
    epochs, values = curves["epoch"].tolist(), curves[metric].tolist()
    train_progress = any(k == "progress" and s == TRAIN for k, s in zip(kinds, splits, strict=True))
    rows = [i for i, (k, s) in enumerate(zip(kinds, splits, strict=True))
            if ((k == "progress" or s != TRAIN) if train_progress else k != "progress")]
    lines = {"epoch": [float(epochs[i]) for i in rows], "split": [splits[i] for i in rows],
             "name": [names.get(splits[i], splits[i]) for i in rows], "value": [float(values[i]) for i in rows],
             "kind": [kinds[i] for i in rows]}
    gap = gap_columns(epochs_table, metric)
    label = {column: gap[column][-1:] for column in gap}
    label["label"] = [_gap_text(g, metric, text) for g in label["gap"]]
    best = {"epoch": [float(best_epoch)] if best_epoch else [],
            "label": [text["best"].format(epoch=best_epoch)] if best_epoch else []}
    return {"lines": lines, "gap": gap, "gap_label": label, "best": best}


def curves_data(curves: pd.DataFrame, metric: str = "acc", **options) -> dict[str, pd.DataFrame]:
    """curves_columns as DataFrames (the altair chart and its PNG/SVG export draw these)."""
    return {layer: _frame(columns) for layer, columns in curves_columns(curves, metric, **options).items()}


# Text columns of the curves' layers; every other column is a number.
_TEXT_COLUMNS = {"split", "name", "kind", "label"}


def _frame(columns: dict[str, list]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(values, dtype=object if name in _TEXT_COLUMNS else float)
                         for name, values in columns.items()})


def _arrow(columns: dict[str, list]) -> pa.Table:
    """Columns as an Arrow table, the form Streamlit sends a chart's data in: handing it
    a table skips its DataFrame-to-Arrow conversion (a third of a live redraw)."""
    return pa.table({name: pa.array(values, type=pa.string() if name in _TEXT_COLUMNS else pa.float64())
                     for name, values in columns.items()})


def _curves_layers(data: Mapping, metric: str, splits: tuple[str, ...], epochs: int | None, show_gap: bool,
                   show_best: bool, names: Mapping[str, str], text: Mapping[str, str], title: str | None,
                   height: int, scale: float, domain: tuple[float, float] | None = None, log: bool = False):
    """The layered chart; `data` maps each layer to a DataFrame or an alt.NamedData.
    domain: the zoomed accuracy range (None: 0-100 %); log: loss on a log axis."""
    text = _text(text)
    color = alt.Color("name:N", title=None, scale=_split_scale(names, splits),
                      # On top, under the title: a projector or a slide often shows only
                      # the first screen, and a legend below the axes falls off it.
                      legend=alt.Legend(orient="top", direction="horizontal"))
    x, y = _x(epochs, text), _y(metric, text, domain=domain, log=log)
    tooltip = [alt.Tooltip("name:N", title=text["split"]), alt.Tooltip("epoch:Q", format=".2f"),
               alt.Tooltip("value:Q", title=text[metric], format=".2%" if metric == "acc" else ".4f")]
    layers = []
    if show_gap:
        layers.append(alt.Chart(data["gap"]).mark_area(color=GAP_COLOR, opacity=0.18, clip=True).encode(
            x=x, y=_y(metric, text, "low", domain=domain, log=log), y2="high:Q"))
        # The gap's size, written in the right-hand corner the curves leave
        # empty (accuracy rises to the top, loss falls to the bottom). At the
        # plot's right edge, not at the latest epoch: mid-run that epoch sits
        # near the y axis and the text would run over its tick labels.
        top = metric == "loss"
        layers.append(alt.Chart(data["gap_label"]).mark_text(
            align="right", baseline="top" if top else "bottom", dx=-6, fontSize=FONT["mark"] * scale,
            fontWeight="bold", color="#444444").encode(
            x=alt.value(alt.expr("width")), y=alt.value(6 if top else int(height * scale) - 6),
            text="label:N"))
    lines = alt.Chart(data["lines"]).encode(x=x, y=y, color=color, tooltip=tooltip)
    layers.append(lines.mark_line(strokeWidth=LINE_WIDTH * scale, clip=True))
    layers.append(lines.mark_circle(size=45 * scale * scale, opacity=1, clip=True).transform_filter(
        alt.datum.kind == "epoch"))
    if show_best:
        layers.append(alt.Chart(data["best"]).mark_rule(color=BEST_COLOR, strokeWidth=2 * scale,
                                                        strokeDash=[6, 3]).encode(x="epoch:Q"))
        layers.append(alt.Chart(data["best"]).mark_text(
            align="left", baseline="top", dx=5, dy=4, fontSize=FONT["mark"] * scale, fontWeight="bold",
            color=BEST_COLOR).encode(x="epoch:Q", y=alt.value(0), text="label:N"))
    chart = alt.layer(*layers).properties(height=int(height * scale), width="container", autosize=FIT_WIDTH)
    return chart.properties(title=title) if title else chart


def _splits(lines: pd.DataFrame) -> tuple[str, ...]:
    present = set(lines["split"])
    return tuple(s for s in SPLIT_COLORS if s in present)


def curves_chart(curves: pd.DataFrame, metric: str = "acc", *, epochs_table: pd.DataFrame | None = None,
                 epochs: int | None = None, show_gap: bool = True, best_epoch: int | None = None,
                 names: Mapping[str, str] | None = None, text: Mapping[str, str] | None = None,
                 title: str | None = None, height: int = HEIGHT, scale: float = 1.0, zoom: bool = True,
                 log_loss: bool = False):
    """Accuracy or loss of one run, train vs test, with the generalization gap shaded.

    curves: frames.curves_frame (long); epochs_table: frames.epochs_frame
    (wide), for the gap band and its label. epochs: the planned number of
    epochs (fixes the x axis). best_epoch: None for no rule, 0 for a rule
    still to come (early stopping before its first epoch). names: displayed
    name of each split (translations). zoom: the accuracy axis spans what the
    curves occupy after the first epoch (acc_domain), else 0-100 %. log_loss:
    the loss on a log axis. See curves_data for what is drawn.
    """
    data = curves_data(curves, metric, epochs_table=epochs_table, best_epoch=best_epoch, names=names, text=text)
    return _curves_layers(data, metric, _splits(data["lines"]), epochs, show_gap, best_epoch is not None,
                          dict(names or {}), _text(text), title, height, scale,
                          *_axis(data["lines"], metric, zoom, log_loss))


def _axis(lines: pd.DataFrame, metric: str, zoom: bool, log_loss: bool) -> tuple:
    """(domain, log) of the y axis: the zoomed accuracy range, the log loss axis."""
    domain = acc_domain(lines) if metric == "acc" and zoom else None
    return domain, metric == "loss" and log_loss


def curves_spec(curves: pd.DataFrame, metric: str = "acc", *, epochs_table: pd.DataFrame | None = None,
                epochs: int | None = None, show_gap: bool = True, best_epoch: int | None = None,
                names: Mapping[str, str] | None = None, text: Mapping[str, str] | None = None,
                title: str | None = None, height: int = HEIGHT, scale: float = 1.0, zoom: bool = True,
                log_loss: bool = False) -> dict:
    """The same chart as curves_chart, styled, as a Vega-Lite dict with its data as
    Arrow tables under "datasets" (st.vega_lite_chart takes it as is).

    For a live page that redraws several times a second: building an altair
    chart costs tens of milliseconds, so the spec without data is built once
    per look (cached) and only the frames are new each time. A stable spec
    also lets the browser update the drawn chart in place.
    """
    data = curves_columns(curves, metric, epochs_table=epochs_table, best_epoch=best_epoch, names=names, text=text)
    # The zoomed range moves as the curves climb (about once an epoch): it is put into
    # a copy of the cached spec, not part of the cache key, so a new range costs
    # nothing (rebuilding the altair chart took ~60 ms, on the core a worker trains on).
    lines = data["lines"]
    domain = _acc_domain(lines["epoch"], lines["value"]) if metric == "acc" and zoom else None
    log = metric == "loss" and log_loss
    present = set(lines["split"])
    splits = tuple(s for s in SPLIT_COLORS if s in present)
    skeleton = _curves_skeleton(metric, splits, epochs, show_gap, best_epoch is not None,
                                _frozen(names), _frozen(_text(text)), title, height, scale,
                                ZOOM_PLACEHOLDER if domain else None, log)
    spec = with_data(skeleton, {layer: _arrow(columns) for layer, columns in data.items()})
    if domain:
        _set_y_domain(spec, domain)
    return spec


# The y range a zoomed skeleton is built with; _set_y_domain writes the real one.
ZOOM_PLACEHOLDER = (0.0, 1.0)


def _set_y_domain(spec: dict, domain: tuple[float, float]) -> None:
    for layer in spec.get("layer", ()):
        scale = layer.get("encoding", {}).get("y", {}).get("scale")
        if scale is not None and "domain" in scale:
            scale["domain"] = list(domain)


@functools.lru_cache(maxsize=64)
def _curves_skeleton(metric, splits, epochs, show_gap, show_best, names, text, title, height, scale,
                     domain=None, log=False) -> dict:
    named = {name: alt.NamedData(name=name) for name in ("lines", "gap", "gap_label", "best")}
    chart = _curves_layers(named, metric, splits, epochs, show_gap, show_best, dict(names), dict(text), title,
                           height, scale, domain, log)
    return to_spec(style(chart, scale))


def _frozen(mapping: Mapping[str, str] | None) -> tuple:
    return tuple(sorted((mapping or {}).items()))


def to_spec(chart) -> dict:
    """A chart as a Vega-Lite dict, without altair's default view size (as st.altair_chart
    draws it) and without schema validation (the builders here are tested instead)."""
    spec = chart.to_dict(validate=False)
    view = spec.get("config", {}).get("view", {})
    view.pop("continuousWidth", None)
    view.pop("continuousHeight", None)
    return spec


def with_data(skeleton: dict, data: Mapping[str, pd.DataFrame]) -> dict:
    """A copy of a cached spec with the frames of this redraw as its datasets."""
    spec = copy.deepcopy(skeleton)
    spec["datasets"] = dict(data)
    return spec


# --- many runs: the Compare overlay ---------------------------------------------

def assign_colors(keys: Iterable[str], assigned: Mapping[str, str] | None = None) -> dict[str, str]:
    """A colour per run key that never changes once given.

    `assigned` is what earlier calls gave (a page keeps it in its session);
    a new key gets the first colour no key in `keys` holds, so the colours on
    screen stay distinct as runs come and go.
    """
    out = dict(assigned or {})
    keys = list(dict.fromkeys(keys))
    in_use = {out[k] for k in keys if k in out}
    for key in keys:
        if key in out:
            continue
        free = [c for c in RUN_COLORS if c not in in_use]
        out[key] = free[0] if free else RUN_COLORS[len(out) % len(RUN_COLORS)]
        in_use.add(out[key])
    return out


def overlay_data(curves: pd.DataFrame, metric: str = "acc", splits: Iterable[str] = (TRAIN, TEST),
                 names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The epoch-end points of several runs (frames.curves_frame of each, concatenated)."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    names, splits = dict(names or {}), list(splits)
    frame = curves[(curves["kind"] == "epoch") & curves["split"].isin(splits)]
    return pd.DataFrame({
        "label": frame["label"], "epoch": frame["epoch"].astype(float), "split": frame["split"],
        "name": [names.get(s, s) for s in frame["split"]], "value": frame[metric].astype(float),
    }).reset_index(drop=True)


def _overlay_layers(data, metric: str, colors: tuple, splits: tuple, names: Mapping[str, str],
                    text: Mapping[str, str], epochs: int | None, title: str | None, height: int, scale: float,
                    domain: tuple[float, float] | None = None, log: bool = False):
    text = _text(text)
    color = alt.Color("label:N", title=text["run"],
                      scale=alt.Scale(domain=[k for k, _ in colors], range=[c for _, c in colors]),
                      legend=alt.Legend(orient="bottom", direction="vertical", columns=2))
    shown = [s for s in SPLIT_DASHES if s in splits]
    dashes = alt.Scale(domain=[names.get(s, s) for s in shown], range=[SPLIT_DASHES[s] for s in shown])
    dash = alt.StrokeDash("name:N", title=text["split"], scale=dashes,
                          legend=alt.Legend(orient="bottom", symbolStrokeColor="#333333", symbolType="stroke"))
    tooltip = [alt.Tooltip("label:N", title=text["run"]), alt.Tooltip("name:N", title=text["split"]),
               alt.Tooltip("epoch:Q"),
               alt.Tooltip("value:Q", title=text[metric], format=".2%" if metric == "acc" else ".4f")]
    base = alt.Chart(data).encode(x=_x(epochs, text), y=_y(metric, text, domain=domain, log=log), color=color,
                                  tooltip=tooltip, detail="split:N")
    chart = alt.layer(
        base.mark_line(strokeWidth=LINE_WIDTH * scale, clip=True).encode(strokeDash=dash),
        base.mark_circle(size=35 * scale * scale, opacity=1, clip=True),
    ).properties(height=int(height * scale), width="container", autosize=FIT_WIDTH)
    return chart.properties(title=title) if title else chart


def overlay_chart(curves: pd.DataFrame, metric: str = "acc", *, colors: Mapping[str, str],
                  splits: Iterable[str] = (TRAIN, TEST), names: Mapping[str, str] | None = None,
                  text: Mapping[str, str] | None = None, epochs: int | None = None,
                  title: str | None = None, height: int = 380, scale: float = 1.0, zoom: bool = True,
                  log_loss: bool = False):
    """Several runs on the same axes: colour = run (fixed, from `colors` by label),
    line style = split (test solid, train dashed). Epoch-end points only.

    curves: frames.curves_frame of each run concatenated, their `label`
    column unique per run (the legend). colors: label -> colour, in legend order.
    zoom, log_loss: the y axis, as in curves_chart.
    """
    data = overlay_data(curves, metric, splits, names)
    return _overlay_layers(data, metric, tuple(colors.items()), tuple(splits), dict(names or {}), _text(text),
                           epochs, title, height, scale, *_axis(data, metric, zoom, log_loss))


def overlay_spec(curves: pd.DataFrame, metric: str = "acc", *, colors: Mapping[str, str],
                 splits: Iterable[str] = (TRAIN, TEST), names: Mapping[str, str] | None = None,
                 text: Mapping[str, str] | None = None, epochs: int | None = None,
                 title: str | None = None, height: int = 380, scale: float = 1.0, zoom: bool = True,
                 log_loss: bool = False) -> dict:
    """overlay_chart, styled, as a Vega-Lite dict with a cached spec (see curves_spec)."""
    data = overlay_data(curves, metric, splits, names)
    skeleton = _overlay_skeleton(metric, tuple(colors.items()), tuple(splits), _frozen(names), _frozen(_text(text)),
                                 epochs, title, height, scale, *_axis(data, metric, zoom, log_loss))
    return with_data(skeleton, {"runs": data})


@functools.lru_cache(maxsize=64)
def _overlay_skeleton(metric, colors, splits, names, text, epochs, title, height, scale, domain=None,
                      log=False) -> dict:
    chart = _overlay_layers(alt.NamedData(name="runs"), metric, colors, splits, dict(names), dict(text), epochs,
                            title, height, scale, domain, log)
    return to_spec(style(chart, scale))


# --- the dropped units, compact ---------------------------------------------------

def mask_frame(snapshot: MaskSnapshot, max_channels: int = 4) -> pd.DataFrame:
    """Cells of a compact mask picture: columns x, y (top-left of a cell), channel,
    unit (flat index in the snapshot), activation, kept.

    The wide net's units (shape (n,)) go on a square grid row by row (256 ->
    16 x 16); the article net's feature maps (c, h, w) show their first
    `max_channels` channels on a square grid of maps (4 -> 2 x 2), one cell
    apart.
    """
    activation = np.asarray(snapshot.activation, dtype=np.float64)
    kept = np.asarray(snapshot.kept, dtype=bool)
    if activation.shape != kept.shape or activation.size != math.prod(snapshot.shape):
        raise ValueError(f"snapshot of {snapshot.layer}: shape {snapshot.shape} does not match its data")
    index = np.arange(activation.size)
    if len(snapshot.shape) == 3:
        c, h, w = snapshot.shape
        channel, y, x = np.unravel_index(index, (c, h, w))
        show = channel < max_channels
        per_row = _maps_per_row(min(c, max_channels))
        x = x + (channel % per_row) * (w + 1)
        y = y + (channel // per_row) * (h + 1)
    else:
        side = math.ceil(math.sqrt(activation.size))
        channel, y, x = np.zeros_like(index), index // side, index % side
        show = np.ones_like(kept)
    return pd.DataFrame({"x": x, "y": y, "channel": channel + 1, "unit": index, "activation": activation,
                         "kept": kept})[show].reset_index(drop=True)


def _maps_per_row(maps: int) -> int:
    return max(1, math.ceil(math.sqrt(maps)))


def _mask_layers(data, cols: int, rows: int, cell: int, text: Mapping[str, str]):
    x = alt.X("x:O", axis=None, scale=alt.Scale(domain=list(range(cols))))
    y = alt.Y("y:O", axis=None, scale=alt.Scale(domain=list(range(rows))))
    tooltip = [alt.Tooltip("unit:Q", title=text["unit"]), alt.Tooltip("state:N", title=None),
               alt.Tooltip("activation:Q", title=text["activation"], format=".3f")]
    kept = alt.Chart(data).mark_rect().encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color("activation:Q", title=text["activation"], legend=None,
                        scale=alt.Scale(scheme="viridis", domainMin=0)),
    ).transform_filter("datum.kept")
    dropped = alt.Chart(data).mark_rect(color=DROPPED_COLOR, stroke="white", strokeWidth=0.5).encode(
        x=x, y=y, tooltip=tooltip).transform_filter("!datum.kept")
    return alt.layer(kept, dropped).properties(width=cell * cols, height=cell * rows,
                                               autosize=alt.AutoSizeParams(type="pad"))


def _mask_geometry(shape: tuple[int, ...], max_channels: int, size: int, scale: float) -> tuple[int, int, int]:
    """Columns, rows and cell size in pixels of mask_frame's picture."""
    if len(shape) == 3:
        c, h, w = shape
        shown = min(c, max_channels)
        per_row = _maps_per_row(shown)
        cols, rows = per_row * (w + 1) - 1, math.ceil(shown / per_row) * (h + 1) - 1
    else:
        cols = math.ceil(math.sqrt(math.prod(shape)))
        rows = math.ceil(math.prod(shape) / cols)
    return cols, rows, max(3, int(size * scale) // cols)


def _mask_data(snapshot: MaskSnapshot, max_channels: int, text: dict) -> pd.DataFrame:
    frame = mask_frame(snapshot, max_channels)
    return frame.assign(state=np.where(frame["kept"], text["kept"], text["dropped"]))


def mask_grid_chart(snapshot: MaskSnapshot, *, max_channels: int = 4, size: int = 220,
                    text: Mapping[str, str] | None = None, scale: float = 1.0):
    """The latest dropout mask on the probe digit, small: kept units coloured by
    their activation (viridis), dropped ones grey. `size`: picture width in pixels."""
    text = _text(text)
    cols, rows, cell = _mask_geometry(snapshot.shape, max_channels, size, scale)
    return _mask_layers(_mask_data(snapshot, max_channels, text), cols, rows, cell, text)


def mask_grid_spec(snapshot: MaskSnapshot, *, max_channels: int = 4, size: int = 220,
                   text: Mapping[str, str] | None = None, scale: float = 1.0) -> dict:
    """mask_grid_chart, styled, as a Vega-Lite dict with a cached spec (see curves_spec)."""
    text = _text(text)
    skeleton = _mask_skeleton(tuple(snapshot.shape), max_channels, size, _frozen(text), scale)
    return with_data(skeleton, {"mask": _mask_data(snapshot, max_channels, text)})


@functools.lru_cache(maxsize=16)
def _mask_skeleton(shape, max_channels, size, text, scale) -> dict:
    cols, rows, cell = _mask_geometry(shape, max_channels, size, scale)
    return to_spec(style(_mask_layers(alt.NamedData(name="mask"), cols, rows, cell, dict(text)), scale))
