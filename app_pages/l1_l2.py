"""L1 vs L2: the same network trained three times -- no penalty, L1, L2 -- and its weights."""

import streamlit as st

from regdemo.runs.runsets import penalty_configs
from regdemo.viz.theme import style
from regdemo.viz.weights import near_zero_chart, near_zero_frame, penalty_summary, weight_hist_chart, weight_hist_frame
from webapp import export
from webapp.layout import chart_scale
from webapp.lesson_page import RunSet, header, lesson_pair
from webapp.live import live_runs, status_text
from webapp.state import current_config, lang, presentation, t

ss = st.session_state

configs = penalty_configs(current_config())  # none, L1, L2
trio = RunSet("l1l2", list(configs.values()))

header("nav.l1_l2", "l1_l2")
lesson_pair("l1")
st.header(t("l1l2.trio.title"))

if presentation():  # a projected page has no controls: the last epoch's weights
    epoch = configs["none"].epochs
else:
    left, right, _ = st.columns([3, 1, 3])
    left.button(t("l1l2.train", l1=f"{configs['L1'].l1:g}", l2=f"{configs['L2'].l2:g}"), type="primary",
                key="l1l2_train", on_click=trio.want)
    right.button(t("button.stop"), key="l1l2_stop", on_click=trio.stop)
    st.caption(t("l1l2.setup", label=configs["none"].label(lang())))
    epoch = st.slider(t("l1l2.epoch"), 1, max(2, configs["none"].epochs), configs["none"].epochs, key="l1l2_epoch")


def draw(views) -> None:
    if notice := trio.advance():
        st.info(f"{notice} {t('lessons.auto_start')}")
    by_key = {view.key: view for view in views}
    named = {name: by_key.get(config.key()) for name, config in configs.items()}
    for name, config in configs.items() if views else ():  # one line each, once something started
        st.caption(f"**{name}** ({config.label(lang())}): {status_text(named[name])}")
    hist = weight_hist_frame(named)
    if hist.empty:
        st.info(t("l1l2.waiting") if views else t("l1l2.empty"))
        return
    st.subheader(t("l1l2.hist.title"))
    st.altair_chart(style(weight_hist_chart(hist, epoch, t=t), chart_scale()), width="content")
    done = all(v is not None and v.finished for v in named.values())
    if done:
        export.chart_buttons(lambda scale: weight_hist_chart(hist, epoch, t=t), "regdemo-weights", key="l1l2_hist",
                             label=t("l1l2.hist.title"), title=t("l1l2.hist.title"))
    st.caption(t("l1l2.hist.why"))
    st.subheader(t("l1l2.near_zero.title"))
    near = near_zero_frame(named)
    chart = near_zero_chart(near, t=t, epochs=configs["none"].epochs)
    st.altair_chart(style(chart, chart_scale()), width="stretch")
    if done:
        export.chart_buttons(lambda scale: chart, "regdemo-near-zero", key="l1l2_near_zero",
                             label=t("l1l2.near_zero.title"), title=t("l1l2.near_zero.title"))
    st.dataframe(penalty_summary(near, t=t), hide_index=True, width="content")
    st.caption(t("l1l2.near_zero.why"))


trio.advance()  # before drawing: a run started now streams at once
live_runs(trio.keys, draw)
