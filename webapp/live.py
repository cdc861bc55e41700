"""Drawing a run while it trains: status line, Train/Stop, and a streaming panel.

The training thread never calls st.*: it appends events to its Run. A page
hands `live_panel` a draw function; while the run is going, an st.fragment
with run_every re-draws just that panel from a fresh RunView a few times per
epoch; when the run ends the fragment triggers one full rerun and the panel is
drawn once more without a timer, so finished pages stop redrawing.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from regdemo.jobs import QUEUED, RUNNING, RunView
from webapp.state import registry, t

REFRESH_SECONDS = 0.4


def status_text(view: RunView | None) -> str:
    if view is None:
        return t("status.none")
    if view.status == QUEUED:
        return t("status.queued", position=view.queue_position or 1)
    if view.status == RUNNING:
        epoch = min(view.config.epochs, int(view.progress[-1].epoch) + 1) if view.progress else 1
        return t("status.running", epoch=epoch, epochs=view.config.epochs)
    if view.status == "early_stopped":
        best = view.done.best_epoch if view.done else 0
        return t("status.early_stopped", epoch=view.epochs_done, best=best)
    if view.status == "finished":
        return t("status.finished", epochs=view.epochs_done)
    return t(f"status.{view.status}", message=view.message)


def show_status(view: RunView | None) -> None:
    """One status line, coloured by outcome, with a progress bar while training."""
    text = status_text(view)
    if view is None or view.status in (QUEUED, "stopped"):
        st.info(text)
    elif view.status == RUNNING:
        st.progress(view.fraction_done, text=text)
    elif view.status in ("finished", "early_stopped"):
        st.success(text)
    elif view.status == "diverged":
        st.warning(text)
    else:
        st.error(text)


def live_panel(key: str | None, draw: Callable[[RunView | None], None]) -> None:
    """Draw the run `key` with `draw(view)`, streaming while it trains."""
    run = registry().get(key) if key else None
    if run is None or run.finished:
        draw(run.view() if run else None)
        return
    _stream(key, draw)


@st.fragment(run_every=REFRESH_SECONDS)
def _stream(key: str, draw: Callable[[RunView | None], None]) -> None:
    run = registry().get(key)
    view = run.view() if run else None
    draw(view)
    if view is None or view.finished:
        st.rerun()  # one full rerun draws the final state without a timer
