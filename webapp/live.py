"""Drawing a run while it trains: status line, Train/Stop, and a streaming panel.

Runs train in worker processes; the registry's reader thread applies their
events to the in-memory Runs. A page hands `live_panel` a draw function;
while the run is going, an st.fragment with run_every re-draws just that panel
from a fresh RunView; when the run ends the fragment triggers one full rerun
and the panel is drawn once more without a timer, so finished pages stop
redrawing.

Redraws cost little: `cached_chart` keeps a built chart per (run, events so
far, options), shared by every session, so a redraw with no new events (or a
second session watching the same run) builds nothing; and the redraw interval
grows with the number of sessions watching runs (`refresh_seconds`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from regdemo.messages import encode, msg
from regdemo.runs.records import QUEUED, RUNNING, RunView
from webapp.state import registry, render_message, session_id, t

REFRESH_SECONDS = 0.4
# When runs are waiting for a worker the server is saturated: every redraw
# costs CPU the workers need (the load test drained its queue twice as fast
# at 2 s as at 0.4 s with 10 sessions), and a queued run has nothing new to
# show. Then panels redraw every BUSY_REFRESH_SECONDS.
BUSY_REFRESH_SECONDS = 2.0
# Sessions watching runs -> redraw interval: a class of 30 on one small server
# gets a point every 1.6 s, a student alone several a second.
WATCHERS_REFRESH = ((6, REFRESH_SECONDS), (15, 0.8))
CROWD_REFRESH_SECONDS = 1.6
INTERVALS = (REFRESH_SECONDS, 0.8, CROWD_REFRESH_SECONDS, BUSY_REFRESH_SECONDS)
JUST_QUEUED_SECONDS = 1.0  # a run queued this recently redraws at the normal pace
CHARTS_KEPT = 256  # built charts kept for all sessions together

T = TypeVar("T")
_charts: OrderedDict[tuple, object] = OrderedDict()
_charts_lock = threading.Lock()


def _busy(views) -> bool:
    now = time.time()
    if any(v is not None and v.status == QUEUED and now - v.created_at < JUST_QUEUED_SECONDS for v in views):
        # Pressed Train a moment ago: a free worker takes a run within a fraction of a
        # second, and at the busy pace its first points would wait for the 2 s tick
        # (measured: the first point came 2.1-2.8 s after the click). If it is still
        # waiting after JUST_QUEUED_SECONDS, the next redraw switches to the busy pace.
        return False
    return registry().queue_length() > 0 or any(v.status == QUEUED for v in views if v is not None)


def refresh_seconds(views) -> float:
    """How often a live panel redraws: rarer when runs queue or many sessions watch."""
    if _busy(views):
        return BUSY_REFRESH_SECONDS
    watching = registry().watching()
    for most, seconds in WATCHERS_REFRESH:
        if watching <= most:
            return seconds
    return CROWD_REFRESH_SECONDS


def cached_chart(view: RunView, name: str, build: Callable[[], T], *options) -> T:
    """`build()` once per (run, events so far, `name`, `options`), shared by every session.

    A redraw with no new events, or another session watching the same run with the
    same options, gets the chart built before. `options`: hashable values the chart
    depends on besides the run (language, toggles, presentation mode). The result is
    shared: callers must not change it (st.vega_lite_chart copies a spec before it
    adds anything).
    """
    key = (view.key, view.status, view.source, len(view.progress), len(view.epochs), name, options)
    with _charts_lock:
        if key in _charts:
            _charts.move_to_end(key)
            return _charts[key]
    chart = build()  # outside the lock: two sessions may build the same chart once each
    with _charts_lock:
        _charts[key] = chart
        while len(_charts) > CHARTS_KEPT:
            _charts.popitem(last=False)
    return chart


# A run its user stopped just says "Stopped." (as stored now, and as stored before messages had codes).
_STOPPED_BY_USER = ("", encode(msg("run.stopped_by_user")), "Stopped by the user.")


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
        return t("status.finished", epochs=view.epochs_done, count=view.epochs_done)
    if view.status == "stopped" and view.message not in _STOPPED_BY_USER:  # why: nobody watched, the server...
        return t("status.stopped_reason", message=render_message(view.message))
    return t(f"status.{view.status}", message=render_message(view.message))


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
        _STREAM_ONE[refresh_seconds([view])](key, draw)


def _draw_one(key: str, draw: Callable[[RunView | None], None], seconds: float) -> None:
    view = _view(key)
    draw(view)
    if view is None or view.finished:
        st.rerun()  # one full rerun draws the final state without a timer
    elif refresh_seconds([view]) != seconds:
        st.rerun()  # e.g. queued when Train was pressed, training now: redraw at the new pace


def live_runs(keys: list[str], draw: Callable[[list[RunView]], None], name: str = "runs") -> None:
    """Draw several runs at once with `draw(views)` (runs unknown to the registry are
    left out), streaming while any of them trains. `name`: unique on the page."""
    views = [v for v in map(_view, keys) if v is not None]
    if all(v.finished for v in views):
        draw(views)
        return
    with _steady(name):
        _STREAM_MANY[refresh_seconds(views)](tuple(keys), draw)


def _draw_many(keys: tuple[str, ...], draw: Callable[[list[RunView]], None], seconds: float) -> None:
    views = [v for v in map(_view, keys) if v is not None]
    draw(views)
    if all(v.finished for v in views) or refresh_seconds(views) != seconds:
        st.rerun()


def _fragments(body: Callable, name: str) -> dict[float, Callable]:
    """One st.fragment per redraw interval (a fragment's run_every is fixed when it is
    defined); each gets a name of its own, since Streamlit tells fragments apart by name."""
    made = {}
    for seconds in INTERVALS:
        def redraw(*args, _body=body, _seconds=seconds):
            _body(*args, _seconds)

        redraw.__name__ = redraw.__qualname__ = f"{name}_every_{round(seconds * 1000)}ms"
        made[seconds] = st.fragment(run_every=seconds)(redraw)
    return made


_STREAM_ONE = _fragments(_draw_one, "_stream")
_STREAM_MANY = _fragments(_draw_many, "_stream_many")
