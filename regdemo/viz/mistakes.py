"""The Mistakes page's confusion matrix: which digit was taken for which.

The matrix comes from regdemo.teaching.mistakes.confusion_matrix (rows: true class,
columns: predicted class).
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from regdemo.viz.theme import FONT, Translate


def confusion_frame(matrix: Sequence[Sequence[int]], classes: Sequence[str]) -> pd.DataFrame:
    """One row per (true, predicted) cell: the class names, the count, and whether it is right."""
    names = list(classes)
    return pd.DataFrame([
        {"true": names[ti], "pred": names[pi], "count": count, "right": ti == pi}
        for ti, row in enumerate(matrix) for pi, count in enumerate(row)
    ])


def confusion_chart(matrix: Sequence[Sequence[int]], classes: Sequence[str], *, t: Translate,
                    scale: float = 1.0) -> alt.LayerChart:
    """The counts grow with `scale` (presentation mode, a slide) like every other text."""
    names = list(classes)
    true, pred, count = t("mistakes.axis.true"), t("mistakes.axis.pred"), t("mistakes.axis.count")
    base = alt.Chart(confusion_frame(matrix, names)).encode(
        # No grid: its lines would cross every cell of the matrix.
        x=alt.X("pred:N", sort=names, title=pred, axis=alt.Axis(labelAngle=0, orient="top", grid=False)),
        y=alt.Y("true:N", sort=names, title=true, axis=alt.Axis(grid=False)),
        tooltip=[alt.Tooltip("true:N", title=true), alt.Tooltip("pred:N", title=pred),
                 alt.Tooltip("count:Q", title=count)],
    )
    # Mistakes take the colour scale to themselves: on the diagonal ~100 correct
    # digits per class would wash out the handful of errors that matter here.
    grid = base.mark_rect(color="#ffffff", stroke="#eeeeee")
    right = base.transform_filter(alt.datum.right).mark_rect(color="#e3ece3")
    errors = base.transform_filter("!datum.right && datum.count > 0").mark_rect().encode(
        color=alt.Color("count:Q", scale=alt.Scale(scheme="orangered", domainMin=0), legend=None))
    # White on the darker half of the error colours: black on dark red cannot be read projected.
    worst = max((c for ti, row in enumerate(matrix) for pi, c in enumerate(row) if ti != pi), default=0)
    ink = alt.condition(f"!datum.right && datum.count > {worst / 2}", alt.value("#ffffff"), alt.value("#000000"))
    counts = base.transform_filter(alt.datum.count > 0).mark_text(fontSize=FONT["mark"] * scale).encode(
        text="count:Q", color=ink)
    return alt.layer(grid, right, errors, counts).properties(height=int(380 * scale))
