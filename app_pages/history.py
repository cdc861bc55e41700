"""History: every run the server kept, newest first; reopen any of them with its curves.

The list is the run store (regdemo.storage.sqlite): runs trained in the app by anyone,
sweeps, and the CLI's (a teacher's runs from the night before). It survives a
server restart. Reopening reads the stored run and draws it with the same
charts as a live one; "Open in Playground" puts its setup in the sidebar and
shows it there, without training again.
"""

import datetime

import pandas as pd
import streamlit as st

from regdemo.runs.frames import curves_frame, epochs_frame, kept_epoch
from regdemo.viz.curves import curves_spec
from webapp import sidebar
from webapp.layout import chart_scale, stop_page
from webapp.live import show_status
from webapp.state import lang, presentation, registry, render_message, t

MAX_LISTED = 200  # newest stored runs listed
SCALE = chart_scale()
ss = st.session_state


def when(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    return datetime.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def percent(value: float | None) -> float | None:
    return None if value is None else 100 * value


def runs_table(summaries) -> pd.DataFrame:
    return pd.DataFrame({
        t("history.col.saved"): [when(s.saved_at) for s in summaries],
        t("history.col.run"): [s.config.label(lang()) for s in summaries],
        t("history.col.status"): [t(f"history.status.{s.status}") for s in summaries],
        t("history.col.test"): [percent(s.test_acc) for s in summaries],
        t("history.col.train_eval"): [percent(s.train_acc_eval) for s in summaries],
        t("history.col.epochs"): [s.epochs_run for s in summaries],
        t("history.col.source"): [t(f"history.source.{s.source}") for s in summaries],
    })


def option_label(summary) -> str:
    acc = "" if summary.test_acc is None else f" · {100 * summary.test_acc:.2f}%"
    return f"{when(summary.saved_at)} · {summary.config.label(lang())}{acc} · {t(f'history.status.{summary.status}')}"


def open_in_playground(view) -> None:
    """Button callback, before the sidebar draws: the run's setup into the widgets, the run on screen."""
    sidebar.load_config(view.config)
    ss.run_key = view.key


def draw_run(view) -> None:
    show_status(view)
    if view.epochs:
        curves, table = curves_frame(view, eval_train=True), epochs_frame(view)
        best = view.done.best_epoch if view.config.patience and view.done else None
        for col, metric in zip(st.columns(2), ("acc", "loss"), strict=True):
            spec = curves_spec(curves, metric, t=t, epochs_table=table, epochs=view.config.epochs, show_gap=True,
                               best_epoch=best, title=t(f"playground.chart.{metric}"), scale=SCALE)
            col.vega_lite_chart(spec, width="stretch", alt=t(f"playground.chart.{metric}.alt"))
    e = kept_epoch(view)
    if e is not None:
        st.markdown(f"**{t('playground.metrics.title', epoch=e.epoch)}**")
        a, b, c, d = st.columns(4)
        a.metric(t("playground.metric.test"), f"{e.test_acc:.2%}")
        b.metric(t("playground.metric.train_eval"), f"{e.train_acc_eval:.2%}")
        c.metric(t("playground.metric.gap"), t("chart.points", value=f"{(e.train_acc_eval - e.test_acc) * 100:+.1f}"))
        d.metric(t("playground.metric.train"), f"{e.train_acc:.2%}")
    if not presentation():
        seconds = (view.finished_at - view.started_at) if view.finished_at and view.started_at else 0.0
        st.caption(t("history.details", run=view.key, source=t(f"history.source.{view.source or 'app'}"),
                     saved=when(view.finished_at), seconds=f"{seconds:.0f}",
                     device=view.started.device if view.started else "-"))


st.title(t("nav.history"))
if not presentation():
    st.caption(t("history.intro"))
reg = registry()
for warning in reg.warnings:  # a damaged store moved aside, a read-only disk: say so, go on
    st.warning(t("history.store_warning", detail=render_message(warning)), icon="⚠️")
if reg.store is None:
    st.info(t("history.no_store"))
    stop_page()
summaries = reg.store.list(MAX_LISTED)
if not summaries:
    st.info(t("history.empty"))
    stop_page()

st.dataframe(runs_table(summaries), hide_index=True, width="stretch", column_config={
    t("history.col.test"): st.column_config.NumberColumn(format="%.2f"),
    t("history.col.train_eval"): st.column_config.NumberColumn(format="%.2f"),
})
by_key = {s.key: s for s in summaries}
if ss.get("history_key") not in by_key:
    ss.history_key = summaries[0].key  # the newest, until one is picked
key = ss.history_key if presentation() else st.selectbox(t("history.pick"), list(by_key), key="history_key",
                                                          format_func=lambda k: option_label(by_key[k]))
view = reg.store.get(key)
if view is None:  # deleted or unreadable since the list was drawn
    st.warning(t("history.gone"))
    stop_page()
st.subheader(view.config.label(lang()))
if not presentation() and st.button(t("history.open"), key="history_open", on_click=open_in_playground,
                                    args=(view,)):
    st.switch_page("app_pages/playground.py")
draw_run(view)
