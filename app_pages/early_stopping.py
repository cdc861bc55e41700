"""Early stopping: validation loss, the best epoch, the patience window, what was kept."""

import streamlit as st

from regdemo.teaching.lessons import LESSON_PRESETS
from regdemo.training.events import EARLY_STOPPED
from regdemo.viz.lessons import early_stopping_chart, early_stopping_frame
from regdemo.viz.theme import style
from webapp.layout import chart_scale
from webapp.lesson_page import header, lesson_pair, run_buttons
from webapp.live import live_panel, show_status
from webapp.state import current_config, t

TRY = LESSON_PRESETS["early_stopping"]  # {"patience": 3, "epochs": 30}

header("nav.early_stopping", "early_stopping")
lesson_pair("early_stopping")
st.warning(t("early.no_help"), icon=":material/info:")
st.header(t("early.inside.title"))
config = current_config()
run = run_buttons("early", t("early.try", **TRY), TRY, [1, 1, 3, 2])
LOG = st.toggle(t("axes.log"), value=False, key="early_log", help=t("axes.log.help"))


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
    chart = early_stopping_chart(early_stopping_frame(view), best_epoch=best, patience=patience,
                                 last_epoch=view.epochs[-1].epoch, stopped_early=view.status == EARLY_STOPPED,
                                 t=t, log=LOG)
    st.altair_chart(style(chart, chart_scale()), width="stretch")
    st.caption(t("early.chart.why") if patience else t("early.chart.off"))


if run is None and not config.patience:
    st.warning(t("early.off"))
live_panel(run.key if run else None, draw)
