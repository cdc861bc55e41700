"""Several runs on the same axes (the Compare page, a lesson's pair): colour = run, line style = split.

A run keeps its colour while it stays on screen (assign_colors); the axes are the
curves chart's (regdemo.viz.curves).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import altair as alt
import pandas as pd

from regdemo.runs.frames import TEST, TRAIN, TRAIN_EVAL, VAL
from regdemo.viz.curves import check_metric, x_axis, y_axis, y_options
from regdemo.viz.theme import (
    FIT_WIDTH,
    FONT,
    LINE_WIDTH,
    RUN_COLORS,
    Translate,
    frozen,
    split_names,
    style,
    to_spec,
    with_data,
    words,
)

# Line style by split, where colour means the run: test solid.
SPLIT_DASHES = {TEST: [1, 0], TRAIN: [7, 4], TRAIN_EVAL: [2, 3], VAL: [10, 3, 2, 3]}
HEIGHT = 380  # legends of runs and splits go below the plot: a little taller than one run's chart


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


def overlay_data(curves: pd.DataFrame, metric: str = "acc", splits: Iterable[str] = (TRAIN, TEST), *,
                 t: Translate) -> pd.DataFrame:
    """The epoch-end points of several runs (frames.curves_frame of each, concatenated)."""
    check_metric(metric)
    names, splits = split_names(t), list(splits)
    frame = curves[(curves["kind"] == "epoch") & curves["split"].isin(splits)]
    return pd.DataFrame({
        "label": frame["label"], "epoch": frame["epoch"].astype(float), "split": frame["split"],
        "name": [names.get(s, s) for s in frame["split"]], "value": frame[metric].astype(float),
    }).reset_index(drop=True)


SEP = " · "  # between the parts of a run's label (RunConfig.label)


def distinct_names(labels: Iterable[str]) -> dict[str, str]:
    """Each label without the parts every label shares ("wide · L2 0.05 · n=2000" beside
    "wide · n=2000" -> "L2 0.05"): what a line's end needs to say, the legend says the rest.
    A label with nothing of its own keeps all of it."""
    labels = list(dict.fromkeys(labels))
    parts = {label: label.split(SEP) for label in labels}
    shared = set.intersection(*(set(p) for p in parts.values())) if len(labels) > 1 else set()
    return {label: SEP.join(p for p in parts[label] if p not in shared) or label for label in labels}


def end_labels(data: pd.DataFrame, splits: Iterable[str], span: float | None, height: float,
               font: float) -> pd.DataFrame:
    """Where each run's name goes at the end of its line (the first split shown): label, short
    (distinct_names), epoch and y. On a linear axis `span` units tall drawn `height` px high,
    names closer than a line of `font` px text are pushed apart, the lower ones down, so they
    never print over each other; `span` None (a log axis) leaves them at their lines' ends."""
    first = next((s for s in SPLIT_DASHES if s in set(splits)), None)
    rows = data[data["split"] == first]
    if rows.empty:
        return pd.DataFrame({"label": [], "short": [], "epoch": [], "y": []})
    ends = rows.loc[rows.groupby("label", sort=False)["epoch"].idxmax()].sort_values("value", ascending=False)
    ys = ends["value"].astype(float).tolist()
    if span and height > 0:
        gap = 1.2 * font * span / height
        for i in range(1, len(ys)):
            ys[i] = min(ys[i], ys[i - 1] - gap)
    short = distinct_names(data["label"])
    return pd.DataFrame({"label": ends["label"].tolist(), "short": [short[k] for k in ends["label"]],
                         "epoch": ends["epoch"].astype(float).tolist(), "y": ys})


def _span(data: pd.DataFrame, metric: str, domain, log: bool) -> float | None:
    """How many units the y axis spans (None on a log axis)."""
    if log:
        return None
    if domain:
        return domain[1] - domain[0]
    return 1.0 if metric == "acc" else max(float(data["value"].max()) if not data.empty else 1.0, 1e-9)


def peak_data(curves: pd.DataFrame, run: str | None, *, t: Translate, epochs: int | None = None) -> pd.DataFrame:
    """Where `run` (a label of `curves`) had its best test accuracy: epoch and the rule's words;
    empty for no run or before its first epoch ends. A lesson's pair marks its baseline's
    peak: the regularized run is judged against it, not only against the baseline's last epoch.
    `epochs`: the x axis' length when fixed (a run still training), else the run's last epoch."""
    rows = curves[(curves["kind"] == "epoch") & (curves["split"] == TEST) & (curves["label"] == run)]
    empty = pd.DataFrame({"epoch": pd.Series(dtype=float), "label": pd.Series(dtype=str),
                          "right": pd.Series(dtype=bool)})
    if run is None or rows.empty:
        return empty
    best, last = int(rows.loc[rows["acc"].astype(float).idxmax(), "epoch"]), int(rows["epoch"].max())
    if best == last:  # still at its best (batch norm's baseline, a run still climbing): no peak behind it
        return empty
    # Words right of the rule, or left of it in the second half of the axis (clear of the lines'
    # end names). Halves of the axis, not of the epochs so far: mid-run, an early peak's words
    # written leftwards ran over the y axis.
    return pd.DataFrame({"epoch": [float(best)], "label": [t("chart.peak", run=run, epoch=best)],
                         "right": [best > max(epochs or 0, last) / 2]})


def _peak_layers(peak, at: alt.X, scale: float):
    """The rule and its words; `at`: the base layer's x encoding (the same axis, not a second title)."""
    rule = alt.Chart(peak).mark_rule(color="#000000", strokeWidth=1.5 * scale, strokeDash=[6, 4]).encode(x=at)
    words = [alt.Chart(peak).transform_filter(test).mark_text(
        align=align, baseline="top", dx=dx * scale, dy=4 * scale, fontSize=FONT["mark"] * scale,
        color="#000000").encode(x=at, y=alt.value(0), text="label:N")
        for test, align, dx in (("!datum.right", "left", 5), ("datum.right", "right", -5))]
    return [rule, *words]


def _overlay_layers(data, metric: str, colors: tuple, splits: tuple, names: Mapping[str, str],
                    text: Mapping[str, str], epochs: int | None, title: str | None, height: int, scale: float,
                    domain: tuple[float, float] | None = None, log: bool = False, peak=None, labels=None):
    # Legends above the plot: a projector or a slide often shows only the first screen, and
    # legends below the axes fell off it. Each line also carries its run's name at its end.
    color = alt.Color("label:N", title=None,
                      scale=alt.Scale(domain=[k for k, _ in colors], range=[c for _, c in colors]),
                      # Two runs a row: four runs' legend in two rows, so the plot and its
                      # x axis stay on a projected first screen.
                      legend=alt.Legend(orient="top", direction="vertical", columns=2))
    shown = [s for s in SPLIT_DASHES if s in splits]
    dashes = alt.Scale(domain=[names.get(s, s) for s in shown], range=[SPLIT_DASHES[s] for s in shown])
    dash = alt.StrokeDash("name:N", title=None, scale=dashes,
                          legend=alt.Legend(orient="top", symbolStrokeColor="#333333", symbolType="stroke"))
    tooltip = [alt.Tooltip("label:N", title=text["run"]), alt.Tooltip("name:N", title=text["split"]),
               alt.Tooltip("epoch:Q"),
               alt.Tooltip("value:Q", title=text[metric], format=".2%" if metric == "acc" else ".4f")]
    # The lines' data is the layer's own (the spec's top-level "runs"); end names and the peak
    # rule bring theirs.
    base = alt.Chart().encode(x=x_axis(epochs, text), y=y_axis(metric, text, domain=domain, log=log),
                                  color=color, tooltip=tooltip, detail="split:N")
    # The run's name (what sets it apart) at the end of its line on the first split shown (test
    # when shown: solid), pushed apart where lines end close together (end_labels).
    ends = alt.Chart(labels).mark_text(align="left", dx=7 * scale, fontSize=FONT["mark"] * scale, fontWeight="bold",
                                       limit=260 * scale).encode(
        x=x_axis(epochs, text), y=y_axis(metric, text, field="y", domain=domain, log=log), text="short:N",
        color=color)
    chart = alt.layer(
        base.mark_line(strokeWidth=LINE_WIDTH * scale, clip=True).encode(strokeDash=dash),
        base.mark_circle(size=35 * scale * scale, opacity=1, clip=True),
        ends,
        *(_peak_layers(peak, x_axis(epochs, text), scale) if peak is not None else ()),
        data=data,
    ).properties(height=int(height * scale), width="container", autosize=FIT_WIDTH)
    return chart.properties(title=title) if title else chart


def overlay_chart(curves: pd.DataFrame, metric: str = "acc", *, colors: Mapping[str, str], t: Translate,
                  splits: Iterable[str] = (TRAIN, TEST), epochs: int | None = None, title: str | None = None,
                  height: int = HEIGHT, scale: float = 1.0, zoom: bool = True, log_loss: bool = False,
                  peak_of: str | None = None):
    """Several runs on the same axes: colour = run (fixed, from `colors` by label),
    line style = split (test solid, train dashed). Epoch-end points only.

    curves: frames.curves_frame of each run concatenated, their `label`
    column unique per run (the legend). colors: label -> colour, in legend order.
    t: the page's translate function. zoom, log_loss: the y axis, as in curves_chart.
    peak_of: a run's label whose best test epoch a dashed rule marks (peak_data).
    """
    data = overlay_data(curves, metric, splits, t=t)
    peak = peak_data(curves, peak_of, t=t, epochs=epochs) if peak_of is not None else None
    domain, log = y_options(data, metric, zoom, log_loss)
    labels = end_labels(data, splits, _span(data, metric, domain, log), height * scale, FONT["mark"] * scale)
    return _overlay_layers(data, metric, tuple(colors.items()), tuple(splits), split_names(t), words(t),
                           epochs, title, height, scale, domain, log, peak=peak, labels=labels)


def overlay_spec(curves: pd.DataFrame, metric: str = "acc", *, colors: Mapping[str, str], t: Translate,
                 splits: Iterable[str] = (TRAIN, TEST), epochs: int | None = None, title: str | None = None,
                 height: int = HEIGHT, scale: float = 1.0, zoom: bool = True, log_loss: bool = False,
                 peak_of: str | None = None) -> dict:
    """overlay_chart, styled, as a Vega-Lite dict with a cached spec (see curves.curves_spec)."""
    data = overlay_data(curves, metric, splits, t=t)
    domain, log = y_options(data, metric, zoom, log_loss)
    skeleton = _overlay_skeleton(metric, tuple(colors.items()), tuple(splits), frozen(split_names(t)),
                                 frozen(words(t)), epochs, title, height, scale, domain, log,
                                 peak=peak_of is not None)
    datasets = {"runs": data, "ends": end_labels(data, splits, _span(data, metric, domain, log), height * scale,
                                                 FONT["mark"] * scale)}
    if peak_of is not None:  # data, not spec: the rule moves as epochs arrive without a new spec
        datasets["peak"] = peak_data(curves, peak_of, t=t, epochs=epochs)
    return with_data(skeleton, datasets)


@functools.lru_cache(maxsize=64)
def _overlay_skeleton(metric, colors, splits, names, text, epochs, title, height, scale, domain=None,
                      log=False, peak=False) -> dict:
    chart = _overlay_layers(alt.NamedData(name="runs"), metric, colors, splits, dict(names), dict(text), epochs,
                            title, height, scale, domain, log, peak=alt.NamedData(name="peak") if peak else None,
                            labels=alt.NamedData(name="ends"))
    return to_spec(style(chart, scale))
