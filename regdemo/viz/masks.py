"""What dropout hid: the masks of real training steps on the probe digit.

One frame of a MaskSnapshot (mask_frame) serves two pictures: the Playground's
small one (the latest mask, a few feature maps at most: grid_frame, mask_grid_*)
and the Dropout page's large ones (every feature map, or the hidden units of
several steps side by side: feature_maps_chart, units_chart). Kept units are
coloured by their activation (viridis), dropped ones grey.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from regdemo.training.events import MaskSnapshot
from regdemo.viz.theme import DROPPED_COLOR, Translate, frozen, style, to_spec, with_data, words


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


# --- the Playground's small picture ---------------------------------------------------

def _maps_per_row(maps: int) -> int:
    return max(1, math.ceil(math.sqrt(maps)))


def grid_frame(snapshot: MaskSnapshot, max_channels: int = 4) -> pd.DataFrame:
    """mask_frame laid out as one compact picture: the wide net's units (shape (n,)) on a
    square grid row by row (256 -> 16 x 16); the article net's feature maps (c, h, w)
    show their first `max_channels` channels on a square grid of maps (4 -> 2 x 2),
    one cell apart."""
    frame = mask_frame(snapshot)
    if len(snapshot.shape) == 3:
        _, h, w = snapshot.shape
        frame = frame[frame["channel"] <= max_channels].reset_index(drop=True)
        per_row = _maps_per_row(min(snapshot.shape[0], max_channels))
        place = frame["channel"] - 1
        frame["x"] = frame["x"] + (place % per_row) * (w + 1)
        frame["y"] = frame["y"] + (place // per_row) * (h + 1)
    return frame


def _grid_geometry(shape: tuple[int, ...], max_channels: int, size: int, scale: float) -> tuple[int, int, int]:
    """Columns, rows and cell size in pixels of grid_frame's picture."""
    if len(shape) == 3:
        c, h, w = shape
        shown = min(c, max_channels)
        per_row = _maps_per_row(shown)
        cols, rows = per_row * (w + 1) - 1, math.ceil(shown / per_row) * (h + 1) - 1
    else:
        cols = math.ceil(math.sqrt(math.prod(shape)))
        rows = math.ceil(math.prod(shape) / cols)
    return cols, rows, max(3, int(size * scale) // cols)


def _grid_layers(data, cols: int, rows: int, cell: int, text: dict):
    x = alt.X("x:O", axis=None, scale=alt.Scale(domain=list(range(cols))))
    y = alt.Y("y:O", axis=None, scale=alt.Scale(domain=list(range(rows))))
    tooltip = [alt.Tooltip("index:Q", title=text["unit"]), alt.Tooltip("state:N", title=None),
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


def _grid_data(snapshot: MaskSnapshot, max_channels: int, text: dict) -> pd.DataFrame:
    frame = grid_frame(snapshot, max_channels)
    return frame.assign(state=np.where(frame["kept"], text["kept"], text["dropped"]))


def mask_grid_chart(snapshot: MaskSnapshot, *, t: Translate, max_channels: int = 4, size: int = 220,
                    scale: float = 1.0):
    """The latest dropout mask on the probe digit, small. `size`: picture width in pixels."""
    text = words(t)
    cols, rows, cell = _grid_geometry(snapshot.shape, max_channels, size, scale)
    return _grid_layers(_grid_data(snapshot, max_channels, text), cols, rows, cell, text)


def mask_grid_spec(snapshot: MaskSnapshot, *, t: Translate, max_channels: int = 4, size: int = 220,
                   scale: float = 1.0) -> dict:
    """mask_grid_chart, styled, as a Vega-Lite dict with a cached spec (see curves.curves_spec)."""
    text = words(t)
    skeleton = _grid_skeleton(tuple(snapshot.shape), max_channels, size, frozen(text), scale)
    return with_data(skeleton, {"mask": _grid_data(snapshot, max_channels, text)})


@functools.lru_cache(maxsize=16)
def _grid_skeleton(shape, max_channels, size, text, scale) -> dict:
    cols, rows, cell = _grid_geometry(shape, max_channels, size, scale)
    return to_spec(style(_grid_layers(alt.NamedData(name="mask"), cols, rows, cell, dict(text)), scale))


# --- the Dropout page's large pictures ---------------------------------------------------

def _mask_layers(frame: pd.DataFrame, cell: int, width: int, height: int, text: dict, max_activation: float):
    """Kept positions coloured by activation, dropped ones greyed, one square each."""
    x = alt.X("x:O", axis=None)
    y = alt.Y("y:O", axis=None)
    tooltip = [alt.Tooltip("channel:O", title=text["channel"]), "y:O", "x:O",
               alt.Tooltip("activation:Q", format=".3f", title=text["activation"]),
               alt.Tooltip("dropped:N", title=text["dropped_step"])]
    kept = alt.Chart().mark_rect().encode(
        x=x, y=y, tooltip=tooltip,
        color=alt.Color("activation:Q", title=text["activation"],
                        scale=alt.Scale(scheme="viridis", domain=[0, max_activation]),
                        legend=alt.Legend(orient="bottom", gradientLength=220)),
    ).transform_filter("datum.kept")
    layers = [kept]
    if frame["dropped"].any():
        # A one-entry legend names the grey squares.
        layers.append(alt.Chart().mark_rect().encode(
            x=x, y=y, tooltip=tooltip,
            fill=alt.Fill("state:N", title=None, legend=alt.Legend(orient="bottom", symbolSize=250),
                          scale=alt.Scale(domain=[text["dropped_step"]], range=[DROPPED_COLOR])),
        ).transform_filter("datum.dropped"))
    frame = frame.assign(state=text["dropped_step"])
    return alt.layer(*layers, data=frame).properties(width=cell * width, height=cell * height)


def feature_maps_chart(snapshot: MaskSnapshot, eval_mode: bool = False, columns: int = 10,
                       cell: int | None = None, *, t: Translate):
    """The article net's dropout input: one small heatmap per channel, dropped positions grey."""
    if len(snapshot.shape) != 3:
        raise ValueError(f"feature maps need a (channels, h, w) snapshot, got shape {snapshot.shape}")
    frame = mask_frame(snapshot, eval_mode)
    _, h, w = snapshot.shape
    cell = cell or max(4, 110 // max(h, w))
    top = float(frame["activation"].max()) or 1.0
    return _mask_layers(frame, cell, w, h, words(t), top).facet(
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


def units_chart(snapshots: Sequence[MaskSnapshot], eval_mode: bool = False, cell: int = 11, *, t: Translate):
    """The wide net's hidden units, one square grid per training step, dropped units grey.

    Several steps side by side show that every step draws a new mask for the
    same digit.
    """
    text = words(t)
    frame = units_frame(snapshots, eval_mode)
    if frame.empty:
        raise ValueError("no snapshots to draw")
    side = grid_side(len(snapshots[0].activation))
    top = float(frame["activation"].max()) or 1.0
    return _mask_layers(frame, cell, side, side, text, top).facet(
        column=alt.Column("step:O", title=text["step"], sort="ascending"), spacing=10,
    )
