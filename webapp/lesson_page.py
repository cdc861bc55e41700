"""What the regularizer pages share: the title with its lesson, Train / Stop / Try it for the
sidebar's run, and a set of runs a page trains together (the L1 vs L2 trio, the train sizes)."""

from __future__ import annotations

import streamlit as st

from regdemo import visuals
from regdemo.config import ConfigError, RunConfig
from regdemo.lessons import lesson
from regdemo.records import Run, RunLimitError
from webapp import sidebar, state  # state.registry() at each call: tests stand in their own
from webapp.state import current_config, current_run, lang, presentation, session_id, start_current, t


def visual_labels() -> dict[str, str]:
    """regdemo.visuals' axis, legend and table words in the page's language."""
    return {key: t(f"visuals.{key}") for key in visuals.LABELS}


def header(title_key: str, topic: str) -> None:
    """The page title, its lesson (for reading at a desk, so not in presentation mode) and
    the error a Try it button left behind on the previous run of the script."""
    st.title(t(title_key))
    if not presentation():
        with st.expander(t("lesson.expander")):
            st.markdown(lesson(topic, lang()))
    if error := st.session_state.pop("lesson_error", None):
        st.error(error)


def train_with(**changes) -> None:
    """Try it's callback, run before the sidebar draws: put the change into the sidebar, train it."""
    config = current_config().replace(**changes)
    sidebar.load_config(config)
    try:
        st.session_state.run_key = state.registry().get_or_start(config, session=session_id()).key
    except (RunLimitError, ConfigError) as err:
        st.session_state.lesson_error = str(err)


def run_buttons(prefix: str, try_label: str, try_changes: dict, widths: list[int]) -> Run | None:
    """Train, Stop and Try it in one row (widget keys `<prefix>_train|_stop|_try`).

    Returns the sidebar's run, the one just started included."""
    run = current_run()
    left, middle, right, _ = st.columns(widths)
    if left.button(t("button.train"), type="primary", key=f"{prefix}_train"):
        try:
            run = start_current()
        except (RunLimitError, ConfigError) as err:
            st.error(str(err))
    if middle.button(t("button.stop"), disabled=run is None or run.finished, key=f"{prefix}_stop"):
        state.registry().stop(run.key)
    right.button(try_label, key=f"{prefix}_try", on_click=train_with, kwargs=try_changes)
    return run


class RunSet:
    """Runs a page trains side by side. Train marks them wanted in the session; each redraw
    starts or joins the wanted ones as the session's run limit allows (advance), so a set
    larger than the limit finishes in turns."""

    def __init__(self, name: str, configs: list[RunConfig]):
        self.state_key = f"{name}_wanted"
        self.configs = configs
        self.keys = [config.key() for config in configs]

    def want(self) -> None:
        st.session_state[self.state_key] = self.keys

    def stop(self) -> None:
        """Stop this session's own runs of the set (a classmate's run is theirs to stop)."""
        st.session_state[self.state_key] = []
        for key in self.keys:
            run = state.registry().get(key)
            if run is not None and not run.finished and run.owner == session_id():
                state.registry().stop(key)

    def advance(self) -> str:
        """Start or join each wanted run; past the limit the rest wait for a later redraw.
        Returns the reason some are waiting, if any."""
        wanted = st.session_state.get(self.state_key, [])
        for config in self.configs:
            if config.key() not in wanted:
                continue
            try:
                state.registry().get_or_start(config, session=session_id())
            except (RunLimitError, ConfigError) as err:
                return str(err)
        return ""
