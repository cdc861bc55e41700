"""Page chrome shared by every page: presentation mode."""

from __future__ import annotations

import streamlit as st

from webapp.state import presentation, t

# Presentation mode: no sidebar, no header bar, larger type. Charts read their
# own font sizes from regdemo.viz.theme (a larger scale is passed when presenting).
_PRESENTATION_CSS = """
<style>
section[data-testid="stSidebar"], div[data-testid="stSidebarCollapsedControl"],
header[data-testid="stHeader"], div[data-testid="stToolbar"] { display: none !important; }
.stMainBlockContainer, .block-container { padding-top: 1.5rem; max-width: 100%; }
html, body, .stMarkdown p, .stMarkdown li { font-size: 1.25rem; }
h1 { font-size: 2.6rem !important; }
h2 { font-size: 2.0rem !important; }
</style>
"""


PRESENTATION_SCALE = 1.4  # charts' fonts, lines and heights when presenting


def chart_scale() -> float:
    """What pages pass to regdemo.viz as `scale`."""
    return PRESENTATION_SCALE if presentation() else 1.0


def apply_presentation_mode() -> None:
    if presentation():
        st.markdown(_PRESENTATION_CSS, unsafe_allow_html=True)


def presentation_exit() -> None:
    """With the sidebar hidden, a small way back out at the foot of the page."""
    if presentation():
        st.divider()
        # A callback: it runs before the sidebar's presentation toggle is
        # drawn on the next run, the only time its state may be written.
        st.button(t("presentation.exit"), key="exit_presentation", on_click=_leave_presentation)


def _leave_presentation() -> None:
    st.session_state.presentation = False


def stop_page() -> None:
    """st.stop() for a page with nothing more to draw, keeping the way out of presentation mode
    (the entry script draws it after the page, which st.stop() never returns to)."""
    presentation_exit()
    st.stop()
