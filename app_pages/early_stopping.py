"""Early stopping: held-out loss, the best epoch, the patience window, what was kept."""

import streamlit as st

from regdemo import visuals
from regdemo.config import ConfigError
from regdemo.events import EARLY_STOPPED
from regdemo.jobs import RunLimitError
from regdemo.lessons import LESSON_PRESETS, lesson
from webapp import sidebar
from webapp.layout import chart_scale
from webapp.live import live_panel, show_status
from webapp.state import current_config, current_run, lang, presentation, registry, session_id, start_current, t

LABELS = {key: t(f"visuals.{key}") for key in visuals.LABELS}
TRY = LESSON_PRESETS["early_stopping"]  # {"patience": 3, "epochs": 30}


def train_with(**changes) -> None:
    """Button callback, run before the sidebar draws: put the change into the sidebar, train it."""
    config = current_config().replace(**changes)
    sidebar.load_config(config)
    try:
        st.session_state.run_key = registry().get_or_start(config, session=session_id()).key
    except (RunLimitError, ConfigError) as err:
        st.session_state.lesson_error = str(err)


st.title(t("nav.early_stopping"))
if not presentation():  # the lesson is for reading at a desk, not on the projector
    with st.expander(t("lesson.expander")):
        st.markdown(lesson("early_stopping", lang()))
if error := st.session_state.pop("lesson_error", None):
    st.error(error)

config = current_config()
run = current_run()
left, middle, right, _ = st.columns([1, 1, 3, 2])
if left.button(t("button.train"), type="primary", key="early_train"):
    try:
        run = start_current()
    except (RunLimitError, ConfigError) as err:
        st.error(str(err))
if middle.button(t("button.stop"), disabled=run is None or run.finished, key="early_stop"):
    registry().stop(run.key)
right.button(t("early.try", **TRY), key="early_try", on_click=train_with, kwargs=TRY)


def draw_outcome(view) -> None:
    """Where training stopped and which weights it kept."""
    epochs = view.epochs
    best = view.done.best_epoch if view.done else epochs[-1].best_epoch
    last = epochs[-1].epoch
    a, b, c, d = st.columns(4)
    a.metric(t("early.best"), best or "–")
    b.metric(t("early.last"), t("early.last.value", epoch=last, epochs=view.config.epochs))
    if best:
        kept = epochs[best - 1]
        a.caption(t("early.best.loss", loss=f"{kept.val_loss:.4f}"))
        c.metric(t("early.kept_test"), f"{kept.test_acc:.2%}")
        d.metric(t("early.last_test"), f"{epochs[-1].test_acc:.2%}",
                 delta=f"{100 * (epochs[-1].test_acc - kept.test_acc):+.2f} pp")
    if not view.finished:
        waited = last - best
        st.caption(t("early.waiting", waited=waited, patience=view.config.patience))
    elif view.status == "finished":  # (early-stopped runs say so in the status line)
        st.info(t("early.ran_out", epochs=last, best=best))


def draw(view) -> None:
    show_status(view)
    if view is None:
        return
    patience = view.config.patience
    if not patience:
        st.warning(t("early.off"))
    if not view.epochs:
        st.caption(t("early.waiting_first"))
        return
    if patience:
        draw_outcome(view)
    best = (view.done.best_epoch if view.done else view.epochs[-1].best_epoch) if patience else 0
    chart = visuals.early_stopping_chart(
        visuals.early_stopping_frame(view), best_epoch=best, patience=patience,
        last_epoch=view.epochs[-1].epoch, stopped_early=view.status == EARLY_STOPPED, labels=LABELS)
    st.altair_chart(visuals.style(chart, chart_scale()), width="stretch")
    st.caption(t("early.chart.why") if patience else t("early.chart.off"))


if run is None and not config.patience:
    st.warning(t("early.off"))
live_panel(run.key if run else None, draw)
