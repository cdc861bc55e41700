"""The Sweep page's charts: test accuracy and the train-test gap against one regularizer's strength.

Mean over seeds as a line, the min-max band around it, one dot per seed. The rows
come from regdemo.teaching.sweep (summarize, chart_rows, seed_rows), in percent.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from regdemo.teaching import sweep
from regdemo.viz.theme import LINE_WIDTH, Translate


def zero_at(param: str, values: Sequence) -> float | None:
    """Where λ = 0 stands on a log axis (it has no logarithm), None when it is not drawn there."""
    if param in sweep.LOG_PARAMS and 0.0 in values:
        return sweep.x_positions(param, values)[0.0]
    return None


def strength_chart(param: str, rows: Sequence[sweep.SummaryRow], points: Sequence[sweep.SweepPoint],
                   values: Sequence, which: str, *, t: Translate, scale: float = 1.0) -> alt.LayerChart:
    """`which` ("test" or "gap") against the swept value: rows from sweep.summarize (at least
    one value measured), the points behind them. `scale`: lines, dots and height (presentation
    mode, a slide)."""
    summary = pd.DataFrame(sweep.chart_rows(param, rows))
    seeds = pd.DataFrame(sweep.seed_rows(param, points, values))
    title, name, zero = t(f"sweep.axis.{which}"), t(f"sweep.param.{param}"), zero_at(param, values)
    if param == "augment":
        x = alt.X("x:N", title=name, sort=list(sweep.DEFAULT_VALUES["augment"]))
    else:
        x_scale = alt.Scale(type="log") if param in sweep.LOG_PARAMS or param == "train_size" else alt.Scale()
        # A tick at each swept value and nowhere else: a log axis' own ticks (0.003, 0.02)
        # fell between the points, and the values measured (0.01, 0.05) went unnamed.
        ticks = sorted(float(x) for x in sweep.x_positions(param, values).values())
        axis = alt.Axis(format="~g", values=ticks, grid=False)
        if zero is not None:
            # The tick where λ = 0 is drawn reads "0", not the stand-in value.
            axis = alt.Axis(format="~g", values=ticks, grid=False,
                            labelExpr=f"abs(datum.value - {zero!r}) < {zero * 1e-6!r} ? '0' : datum.label")
        x = alt.X("x:Q", title=name, scale=x_scale, axis=axis)
    # The axis gets a short name: the chart's title says it whole, and a y title longer than the
    # plot is tall pushed the chart's own title out of its box (the gap chart, en and zh).
    axis_title = t(f"sweep.y.{which}")
    y = alt.Y(f"{which}_mean:Q", title=axis_title, scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("value:N", title=name), alt.Tooltip(f"{which}_mean:Q", title=title, format=".2f"),
               alt.Tooltip(f"{which}_low:Q", format=".2f", title=t("sweep.col.min")),
               alt.Tooltip(f"{which}_high:Q", format=".2f", title=t("sweep.col.max")),
               alt.Tooltip("seeds:Q", title=t("sweep.col.seeds"))]
    base = alt.Chart(summary)
    if param == "augment":
        band = base.mark_rule(strokeWidth=10, opacity=0.25).encode(x=x, y=f"{which}_low:Q", y2=f"{which}_high:Q")
    else:
        band = base.mark_area(opacity=0.2).encode(x=x, y=f"{which}_low:Q", y2=f"{which}_high:Q")
    line = base.mark_line(point=alt.OverlayMarkDef(size=60 * scale * scale), strokeWidth=LINE_WIDTH * scale).encode(
        x=x, y=y, tooltip=tooltip)
    layers = [band, line]
    if not seeds.empty:
        dots = alt.Chart(seeds).mark_circle(size=25 * scale * scale, opacity=0.5, color="gray").encode(
            x=x, y=alt.Y(f"{which}:Q", title=axis_title, scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip("value:N", title=name), alt.Tooltip("seed:Q", title=t("sweep.col.seed")),
                     alt.Tooltip(f"{which}:Q", format=".2f", title=title)])
        layers.append(dots)
    return alt.layer(*layers).properties(title=title, height=int(320 * scale))
