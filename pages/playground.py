"""Playground: press Train, watch the curves. (First cut; the page owner extends it.)"""

import altair as alt
import streamlit as st

from regdemo.frames import curves_frame
from webapp.live import live_panel, show_status
from webapp.state import current_config, current_run, registry, start_current, t

st.title(t("app.title"))
st.caption(t("app.tagline"))
config = current_config()
left, right, _ = st.columns([1, 1, 6])
if left.button(t("button.train"), type="primary"):
    start_current()
run = current_run()
if right.button(t("button.stop"), disabled=run is None or run.finished):
    registry().stop(run.key)


def draw(view):
    show_status(view)
    if view is None:
        return
    frame = curves_frame(view)
    if frame.empty:
        return
    st.altair_chart(
        alt.Chart(frame).mark_line().encode(x="epoch:Q", y="acc:Q", color="split:N"),
        use_container_width=True,
    )


live_panel(run.key if run else None, draw)
