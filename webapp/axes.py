"""The two axis switches every curve chart offers: zoomed accuracy (default) or 0-100 %,
and loss on a log axis. regdemo.viz.curves draws them; this only keeps the choice per page."""

from __future__ import annotations

import streamlit as st

from webapp.state import t


def axis_defaults(prefix: str) -> dict:
    """The charts' options where the toggles are not drawn (presentation mode): the values they
    had, else their defaults."""
    state = st.session_state
    return {"zoom": state.get(f"{prefix}_zoom", True), "log_loss": state.get(f"{prefix}_log", False)}


def axis_toggles(prefix: str, zoom_col=None, log_col=None) -> dict:
    """Draw the two toggles (keys `<prefix>_zoom`, `<prefix>_log`); returns the charts' options."""
    zoom_col, log_col = zoom_col or st, log_col or st
    zoom = zoom_col.toggle(t("axes.zoom"), value=True, key=f"{prefix}_zoom", help=t("axes.zoom.help"))
    log = log_col.toggle(t("axes.log"), value=False, key=f"{prefix}_log", help=t("axes.log.help"))
    return {"zoom": zoom, "log_loss": log}
