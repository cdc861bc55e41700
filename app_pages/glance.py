"""Lessons at a glance: every lesson pair of measured.json in one figure (regdemo.viz.glance),
the claim it supports as its title, exportable for a slide."""

import streamlit as st

from regdemo.teaching.effect import measured
from regdemo.viz.glance import glance_chart, glance_claim, glance_frame
from regdemo.viz.theme import style
from webapp import export
from webapp.layout import chart_scale, stop_page
from webapp.state import presentation, t

st.title(t("nav.glance"))
stored = measured()
frame = glance_frame(stored, t=t)
if frame.empty:
    st.info(t("glance.none"))
    stop_page()
claim = glance_claim(frame, t=t)
st.markdown(f"**{claim}**")
if not presentation():
    st.caption(t("glance.intro", command=stored.get("command", "python -m regdemo lessons --check"),
                 date=stored.get("date", "?"), seeds=len(stored.get("seeds") or [])))
st.altair_chart(style(glance_chart(frame, t=t, scale=chart_scale()), chart_scale()), width="stretch")
export.chart_buttons(lambda scale: glance_chart(frame, t=t, scale=scale), "regdemo-lessons-at-a-glance",
                     key="glance", label=t("nav.glance"), title=claim)
