"""L1 vs L2: the same network trained three times -- no penalty, L1, L2 -- and its weights."""

import streamlit as st

from regdemo import visuals
from regdemo.config import ConfigError
from regdemo.jobs import RunLimitError
from regdemo.lessons import lesson
from webapp.layout import chart_scale
from webapp.live import live_runs, status_text
from webapp.state import current_config, lang, presentation, registry, session_id, t

LABELS = {key: t(f"visuals.{key}") for key in visuals.LABELS}
ss = st.session_state

configs = visuals.penalty_configs(current_config())
keys = [config.key() for config in configs.values()]


def want() -> None:
    ss.l1l2_wanted = keys


def stop() -> None:
    """Stop this session's own runs of the three (a classmate's run is theirs to stop)."""
    ss.l1l2_wanted = []
    for key in keys:
        run = registry().get(key)
        if run is not None and not run.finished and run.owner == session_id():
            registry().stop(key)


def advance() -> str:
    """Start or join each wanted run; past the session's run limit the rest wait for a
    later redraw. Returns the reason some are waiting, if any."""
    for config in configs.values():
        if config.key() not in ss.get("l1l2_wanted", []):
            continue
        try:
            registry().get_or_start(config, session=session_id())
        except (RunLimitError, ConfigError) as err:
            return str(err)
    return ""


st.title(t("nav.l1_l2"))
if not presentation():  # the lesson is for reading at a desk, not on the projector
    with st.expander(t("lesson.expander")):
        st.markdown(lesson("l1_l2", lang()))

left, right, _ = st.columns([3, 1, 3])
left.button(t("l1l2.train", l1=f"{configs['L1'].l1:g}", l2=f"{configs['L2'].l2:g}"), type="primary",
            key="l1l2_train", on_click=want)
right.button(t("button.stop"), key="l1l2_stop", on_click=stop)
st.caption(t("l1l2.setup", label=configs["none"].label()))
epoch = st.slider(t("l1l2.epoch"), 1, max(2, configs["none"].epochs), configs["none"].epochs, key="l1l2_epoch")


def draw(views) -> None:
    if notice := advance():
        st.info(f"{notice} {t('lessons.auto_start')}")
    by_key = {view.key: view for view in views}
    named = {name: by_key.get(config.key()) for name, config in configs.items()}
    for name, config in configs.items() if views else ():  # one line each, once something started
        st.caption(f"**{name}** ({config.label()}): {status_text(named[name])}")
    hist = visuals.weight_hist_frame(named)
    if hist.empty:
        st.info(t("l1l2.waiting") if views else t("l1l2.empty"))
        return
    st.subheader(t("l1l2.hist.title"))
    chart = visuals.weight_hist_chart(hist, epoch, labels=LABELS)
    st.altair_chart(visuals.style(chart, chart_scale()), width="content")
    st.caption(t("l1l2.hist.why"))
    st.subheader(t("l1l2.near_zero.title"))
    near = visuals.near_zero_frame(named)
    chart = visuals.near_zero_chart(near, labels=LABELS, epochs=configs["none"].epochs)
    st.altair_chart(visuals.style(chart, chart_scale()), width="stretch")
    st.dataframe(visuals.penalty_summary(near, labels=LABELS), hide_index=True, width="content")
    st.caption(t("l1l2.near_zero.why"))


advance()  # before drawing: a run started now streams at once
live_runs(keys, draw)
