"""Per-server and per-session state of the app: the run registry, language, current run.

The registry is one object for the whole server (st.cache_resource), shared by
every browser session: that is what makes identical configs share one run.
Everything per student lives in st.session_state.
"""

from __future__ import annotations

import uuid

import streamlit as st

from regdemo.i18n import LANGUAGES, translate
from regdemo.messages import render
from regdemo.runs.cluster import registry_from_environment
from regdemo.runs.records import Run
from regdemo.runs.registry import Registry
from regdemo.storage.sqlite import StoreUnavailable
from regdemo.training.config import RunConfig


# on_release: when Streamlit drops the cached registry (cache cleared, server
# shutting down) its runs are stopped, its worker processes end and its threads are joined -- no orphans.
@st.cache_resource(show_spinner=False, on_release=lambda reg: reg.shutdown())
def _registry() -> Registry:
    # The local worker pool, or a cluster's queue and PostgreSQL (REGDEMO_BROKER_URL,
    # REGDEMO_DATABASE_URL): see docs/scale.md.
    return registry_from_environment()


# A registry of the caller's own in place of the server's: tests set it, one way for all,
#     monkeypatch.setattr(webapp.state, "override", Registry(...))
# registry() reads it at every call, so every page and the live panel see it at once.
override: Registry | None = None


def registry() -> Registry:
    """The server's registry (or `override`); a database that cannot be used (or a malformed
    URL in the environment) is one clear message in the page, not a traceback. Not cached
    then: the next page load tries again."""
    if override is not None:
        return override
    try:
        return _registry()
    except StoreUnavailable as err:
        st.error(t("app.unavailable", detail=render_message(err)))
        st.stop()


registry.clear = _registry.clear  # st.cache_resource's: tests and on_release drop the cached one


def session_id() -> str:
    if "session_id" not in st.session_state:
        st.session_state.session_id = uuid.uuid4().hex
    return st.session_state.session_id


def lang() -> str:
    value = st.session_state.get("lang", "en")
    return value if value in LANGUAGES else "en"


def t(key: str, **values) -> str:
    """The UI string `key` in the session's language."""
    return translate(key, lang(), **values)


def render_message(item) -> str:
    """A library message (a Message, an error carrying one, a run's stored message) in the
    session's language; free text from before messages had codes is shown as it is."""
    return render(item, lang())


def current_config() -> RunConfig:
    """The config the sidebar widgets describe (set by webapp.sidebar each rerun)."""
    return st.session_state.get("config", RunConfig())


def presentation() -> bool:
    return bool(st.session_state.get("presentation", False))


def current_run() -> Run | None:
    """The run this session is looking at.

    The last run this session trained (moving a widget mid-run does not
    switch away from it); before any Train, the run of the current config if
    one exists (started by a classmate, or finished earlier).
    """
    reg = registry()
    key = st.session_state.get("run_key")
    run = reg.get(key) if key else None
    if run is None:
        run = reg.get(current_config().key())
    return run


def start_current() -> Run:
    """Train pressed: start or join the run of the current config.

    Raises regdemo.runs.records.RunLimitError (its message is for the student) when
    this session already has its share of runs going or the queue is full.
    """
    run = registry().get_or_start(current_config(), session=session_id())
    st.session_state.run_key = run.key
    hold_for_first_point(run)
    return run


# After Train, the click's own rerun waits this long (blocked, no CPU) for the run's first
# point. A free worker has it in the store ~0.3 s after the click; without the wait this
# rerun drew an empty chart and the point came on the next fragment tick, a second chart
# render later: 1.4-2.3 s from click to first point, measured (docs/load.md).
FIRST_POINT_WAIT_S = 0.8


def hold_for_first_point(run: Run) -> None:
    """Wait up to FIRST_POINT_WAIT_S for `run`'s first point, unless it queues behind others."""
    if run.queue_position <= 1:
        run.wait_first_point(FIRST_POINT_WAIT_S)
