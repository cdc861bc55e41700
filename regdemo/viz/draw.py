"""The Draw page's chart: one run's class probabilities for the student's digit."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from regdemo.viz.theme import FIT_WIDTH, Translate, style


def probability_chart(probs: Sequence[float], color: str, title: str, *, t: Translate,
                      scale: float = 1.0) -> alt.Chart:
    """Ten bars, digits 0-9, the most likely one in the run's colour and the others faint."""
    best = max(range(len(probs)), key=probs.__getitem__)
    frame = pd.DataFrame({"digit": [str(d) for d in range(len(probs))], "p": list(probs),
                          "best": [d == best for d in range(len(probs))]})
    chart = alt.Chart(frame, title=title, height=220).mark_bar(color=color).encode(
        x=alt.X("digit:N", sort=None, title=t("draw.chart.x"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("p:Q", title=t("draw.chart.y"), scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        opacity=alt.condition("datum.best", alt.value(1.0), alt.value(0.45)),
        tooltip=[alt.Tooltip("digit:N", title=t("draw.chart.x")),
                 alt.Tooltip("p:Q", title=t("draw.chart.y"), format=".1%")],
    ).properties(autosize=FIT_WIDTH)
    return style(chart, scale)
