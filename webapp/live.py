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

from regdemo.records import QUEUED, RUNNING, RunView
from webapp.state import registry, session_id, t

REFRESH_SECONDS = 0.4
# When runs are waiting for a trainer the server is saturated: every redraw
# costs CPU the training threads need (the load test drained its queue twice
# as fast at 2 s as at 0.4 s with 10 sessions), and a queued run has nothing
# new to show. Then panels redraw every BUSY_REFRESH_SECONDS.
BUSY_REFRESH_SECONDS = 2.0


def _busy(views) -> bool:
    return registry().queue_length() > 0 or any(v.status == QUEUED for v in views if v is not None)


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


def _view(key: str | None) -> RunView | None:
    """A fresh snapshot of run `key`, telling the registry this session still watches it
    (a run nobody watches for a while is stopped to free the trainer)."""
    if not key:
        return None
    reg = registry()
    run = reg.get(key)
    if run is None:
        return None
    if not run.finished:
        reg.touch(key, session_id())
    return run.view()


# While a fragment redraws, Streamlit fades every element it has not redrawn
# yet; several redraws a second would make a streaming panel flicker. Inside
# a live panel (a container keyed "live_...") elements stay opaque.
_STEADY_CSS = """<style>
[class*="st-key-live_"] [data-stale="true"] { opacity: 1 !important; transition: none !important; }
</style>"""


def _steady(name: str):
    st.html(_STEADY_CSS)
    return st.container(key=f"live_{name}")


def live_panel(key: str | None, draw: Callable[[RunView | None], None]) -> None:
    """Draw the run `key` with `draw(view)`, streaming while it trains."""
    view = _view(key)
    if view is None or view.finished:
        draw(view)
        return
    with _steady(key):
        (_stream_busy if _busy([view]) else _stream)(key, draw)


@st.fragment(run_every=REFRESH_SECONDS)
def _stream(key: str, draw: Callable[[RunView | None], None]) -> None:
    _draw_one(key, draw)


@st.fragment(run_every=BUSY_REFRESH_SECONDS)
def _stream_busy(key: str, draw: Callable[[RunView | None], None]) -> None:
    _draw_one(key, draw)


def _draw_one(key: str, draw: Callable[[RunView | None], None]) -> None:
    view = _view(key)
    draw(view)
    if view is None or view.finished:
        st.rerun()  # one full rerun draws the final state without a timer


def live_runs(keys: list[str], draw: Callable[[list[RunView]], None], name: str = "runs") -> None:
    """Draw several runs at once with `draw(views)` (runs unknown to the registry are
    left out), streaming while any of them trains. `name`: unique on the page."""
    views = [v for v in map(_view, keys) if v is not None]
    if all(v.finished for v in views):
        draw(views)
        return
    with _steady(name):
        (_stream_many_busy if _busy(views) else _stream_many)(tuple(keys), draw)


@st.fragment(run_every=REFRESH_SECONDS)
def _stream_many(keys: tuple[str, ...], draw: Callable[[list[RunView]], None]) -> None:
    _draw_many(keys, draw)


@st.fragment(run_every=BUSY_REFRESH_SECONDS)
def _stream_many_busy(keys: tuple[str, ...], draw: Callable[[list[RunView]], None]) -> None:
    _draw_many(keys, draw)


def _draw_many(keys: tuple[str, ...], draw: Callable[[list[RunView]], None]) -> None:
    views = [v for v in map(_view, keys) if v is not None]
    draw(views)
    if all(v.finished for v in views):
        st.rerun()
