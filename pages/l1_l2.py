"""L1 vs L2: the same network trained three times -- no penalty, L1, L2 -- and its weights."""

import streamlit as st

from regdemo import visuals
from regdemo.config import ConfigError
from regdemo.jobs import RunLimitError
from regdemo.lessons import lesson
from webapp.live import live_panel, status_text
from webapp.state import current_config, lang, presentation, registry, t

LABELS = {key: t(f"visuals.{key}") for key in visuals.LABELS}
SCALE = 1.4 if presentation() else 1.0


def start(configs) -> None:
    """Button callback: start (or join) each run; a refusal is shown on the rerun."""
    for config in configs:
        try:
            registry().get_or_start(config)
        except (RunLimitError, ConfigError) as err:
            st.session_state.lesson_error = str(err)
            return


def stop(configs) -> None:
    for config in configs:
        registry().stop(config.key())


st.title(t("nav.l1_l2"))
with st.expander(t("lesson.expander"), expanded=not presentation()):
    st.markdown(lesson("l1_l2", lang()))
if error := st.session_state.pop("lesson_error", None):
    st.error(error)

configs = visuals.penalty_configs(current_config())
runs = {name: registry().get(config.key()) for name, config in configs.items()}
going = [run for run in runs.values() if run is not None and not run.finished]
left, right, _ = st.columns([3, 1, 3])
left.button(t("l1l2.train", l1=f"{configs['L1'].l1:g}", l2=f"{configs['L2'].l2:g}"), type="primary",
            key="l1l2_train", on_click=start, args=(list(configs.values()),))
right.button(t("button.stop"), key="l1l2_stop", disabled=not going, on_click=stop, args=(list(configs.values()),))
st.caption(t("l1l2.setup", label=configs["none"].label()))
epoch = st.slider(t("l1l2.epoch"), 1, max(2, configs["none"].epochs), configs["none"].epochs, key="l1l2_epoch")


def draw(_view=None) -> None:
    """All three runs, read afresh: one of them may have started or finished meanwhile."""
    views = {}
    for name, config in configs.items():
        run = registry().get(config.key())
        views[name] = run.view() if run else None
        st.caption(f"**{name}** ({config.label()}): {status_text(views[name])}")
    hist = visuals.weight_hist_frame(views)
    if hist.empty:
        st.info(t("l1l2.empty"))
        return
    st.subheader(t("l1l2.hist.title"))
    st.altair_chart(visuals.style(visuals.weight_hist_chart(hist, epoch, labels=LABELS), SCALE), width="content")
    st.caption(t("l1l2.hist.why"))
    st.subheader(t("l1l2.near_zero.title"))
    near = visuals.near_zero_frame(views)
    st.altair_chart(visuals.style(visuals.near_zero_chart(near, labels=LABELS), SCALE), width="stretch")
    st.dataframe(visuals.penalty_summary(near), hide_index=True, width="content")
    st.caption(t("l1l2.near_zero.why"))


live_panel(going[0].key if going else None, draw)
