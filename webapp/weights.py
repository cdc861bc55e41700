"""A lesson pair's weights over time (the L2 and L1 pairs): the L2 norm and, for L1, the
share of weights near zero, per epoch, for both runs, from their EpochEnd events."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from regdemo.runs.records import RunView
from regdemo.viz.theme import style
from regdemo.viz.weights import pair_weights_chart, pair_weights_frame
from webapp.layout import chart_scale
from webapp.live import cached_chart
from webapp.state import lang, presentation, t

# The lessons whose pair gets the panel, and whether it shows the share near zero too.
WEIGHT_LESSONS = {"l2": False, "l1": True}


def weights_panel(lesson: str, views: Mapping[str, RunView], colors: Mapping[str, str], *, epochs: int) -> None:
    """The weights' chart for a pair of `lesson` (run name -> view); nothing before an epoch."""
    views = {name: v for name, v in views.items() if v is not None}
    frame = pair_weights_frame(views)
    if lesson not in WEIGHT_LESSONS or frame.empty:
        return
    near_zero = WEIGHT_LESSONS[lesson]
    others = tuple((name, v.key, v.status, len(v.epochs)) for name, v in views.items())
    chart = cached_chart(next(iter(views.values())), f"pair-weights-{lesson}", lambda: style(pair_weights_chart(
        frame, {n: colors[n] for n in views}, t=t, epochs=epochs, near_zero=near_zero), chart_scale()),
        lang(), chart_scale(), others)
    st.subheader(t("weights.title"))
    st.altair_chart(chart, width="content")
    if not presentation():
        st.caption(t(f"weights.why.{lesson}"))
