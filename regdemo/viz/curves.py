"""Training curves of one run: train vs test, the generalization gap shaded, the best epoch.

Pure functions: frames of regdemo.runs.frames in, an altair chart (or a Vega-Lite dict)
out; no streamlit, so the charts the Playground and History pages show can be
tested, drawn in a notebook and saved as PNG/SVG for slides exactly as shown.
Anything that changes while a run trains (points, the best-epoch rule, the gap
label) lives in the data, not in the chart spec, so a live chart redraws in place
instead of being rebuilt (no flicker).

The axes here (x: epochs, y: accuracy zoomed or 0-100 %, loss linear or log) are
the overlay's too (regdemo.viz.overlay).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import altair as alt
import pandas as pd
import pyarrow as pa

from regdemo.runs.frames import TRAIN
from regdemo.viz.theme import (
    BEST_COLOR,
    FIT_WIDTH,
    FONT,
    GAP_COLOR,
    HEIGHT,
    LINE_WIDTH,
    SPLIT_COLORS,
    Translate,
    frozen,
    split_names,
    split_scale,
    style,
    to_spec,
    with_data,
    words,
)

METRICS = ("acc", "loss")


def check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")


# --- axes --------------------------------------------------------------------------

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


def y_axis(metric: str, text: Mapping[str, str], field: str = "value", domain: tuple[float, float] | None = None,
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


def x_axis(epochs: int | None, text: Mapping[str, str]) -> alt.X:
    # A fixed axis (0 .. planned epochs) while a run trains: the curve grows
    # into the chart instead of the chart rescaling under it.
    domain = alt.Scale(domain=[0, epochs]) if epochs else alt.Scale(zero=True)
    return alt.X("epoch:Q", title=text["epoch"], scale=domain, axis=alt.Axis(tickMinStep=1))


def y_options(lines: pd.DataFrame, metric: str, zoom: bool, log_loss: bool) -> tuple:
    """(domain, log) of the y axis: the zoomed accuracy range, the log loss axis."""
    domain = acc_domain(lines) if metric == "acc" and zoom else None
    return domain, metric == "loss" and log_loss


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


def _gap_text(gap: float, metric: str, text: Mapping[str, str]) -> str:
    value = text["points"].format(value=f"{gap * 100:+.1f}") if metric == "acc" else f"{gap:+.3f}"
    return text["gap"].format(value=value)


def curves_columns(curves: pd.DataFrame, metric: str = "acc", *, t: Translate, epochs_table: pd.DataFrame | None = None,
                   best_epoch: int | None = None) -> dict[str, dict[str, list]]:
    """What a curves chart draws, by layer (lines, gap band, gap_label, best), as columns
    of plain lists: curves_data makes DataFrames of them, curves_spec Arrow tables.

    The train-mode line comes from the progress points when there are any
    (several per epoch, so it moves before the first epoch ends); its
    epoch-end averages would zig-zag against them. Test, validation and
    eval-mode train come from the epoch ends.
    """
    check_metric(metric)
    text, names = words(t), split_names(t)
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
    color = alt.Color("name:N", title=None, scale=split_scale(splits, names),
                      # On top, under the title: a projector or a slide often shows only
                      # the first screen, and a legend below the axes falls off it.
                      legend=alt.Legend(orient="top", direction="horizontal"))
    x, y = x_axis(epochs, text), y_axis(metric, text, domain=domain, log=log)
    tooltip = [alt.Tooltip("name:N", title=text["split"]), alt.Tooltip("epoch:Q", format=".2f"),
               alt.Tooltip("value:Q", title=text[metric], format=".2%" if metric == "acc" else ".4f")]
    layers = []
    if show_gap:
        layers.append(alt.Chart(data["gap"]).mark_area(color=GAP_COLOR, opacity=0.18, clip=True).encode(
            x=x, y=y_axis(metric, text, "low", domain=domain, log=log), y2="high:Q"))
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


def curves_chart(curves: pd.DataFrame, metric: str = "acc", *, t: Translate,
                 epochs_table: pd.DataFrame | None = None, epochs: int | None = None, show_gap: bool = True,
                 best_epoch: int | None = None, title: str | None = None, height: int = HEIGHT,
                 scale: float = 1.0, zoom: bool = True, log_loss: bool = False):
    """Accuracy or loss of one run, train vs test, with the generalization gap shaded.

    curves: frames.curves_frame (long); epochs_table: frames.epochs_frame
    (wide), for the gap band and its label. t: the page's translate function
    (axis, legend and label words). epochs: the planned number of epochs (fixes
    the x axis). best_epoch: None for no rule, 0 for a rule still to come (early
    stopping before its first epoch). zoom: the accuracy axis spans what the
    curves occupy after the first epoch (acc_domain), else 0-100 %. log_loss:
    the loss on a log axis. See curves_data for what is drawn.
    """
    data = curves_data(curves, metric, t=t, epochs_table=epochs_table, best_epoch=best_epoch)
    return _curves_layers(data, metric, _splits(data["lines"]), epochs, show_gap, best_epoch is not None,
                          split_names(t), words(t), title, height, scale,
                          *y_options(data["lines"], metric, zoom, log_loss))


def curves_spec(curves: pd.DataFrame, metric: str = "acc", *, t: Translate,
                epochs_table: pd.DataFrame | None = None, epochs: int | None = None, show_gap: bool = True,
                best_epoch: int | None = None, title: str | None = None, height: int = HEIGHT,
                scale: float = 1.0, zoom: bool = True, log_loss: bool = False) -> dict:
    """The same chart as curves_chart, styled, as a Vega-Lite dict with its data as
    Arrow tables under "datasets" (st.vega_lite_chart takes it as is).

    For a live page that redraws several times a second: building an altair
    chart costs tens of milliseconds, so the spec without data is built once
    per look (cached) and only the data is new each time. A stable spec also
    lets the browser update the drawn chart in place.
    """
    data = curves_columns(curves, metric, t=t, epochs_table=epochs_table, best_epoch=best_epoch)
    # The zoomed range moves as the curves climb (about once an epoch): it is put into
    # a copy of the cached spec, not part of the cache key, so a new range costs
    # nothing (rebuilding the altair chart took ~60 ms, on the core a worker trains on).
    lines = data["lines"]
    domain = _acc_domain(lines["epoch"], lines["value"]) if metric == "acc" and zoom else None
    present = set(lines["split"])
    splits = tuple(s for s in SPLIT_COLORS if s in present)
    skeleton = _curves_skeleton(metric, splits, epochs, show_gap, best_epoch is not None,
                                frozen(split_names(t)), frozen(words(t)), title, height, scale,
                                ZOOM_PLACEHOLDER if domain else None, metric == "loss" and log_loss)
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
