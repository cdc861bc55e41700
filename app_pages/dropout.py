"""Dropout: the real masks of the latest training steps, and why its "train accuracy"
sits below its test accuracy."""

import streamlit as st

from regdemo import visuals
from regdemo.config import ConfigError
from regdemo.jobs import RunLimitError
from regdemo.lessons import LESSON_PRESETS, lesson
from webapp import sidebar
from webapp.layout import chart_scale
from webapp.live import live_panel, show_status
from webapp.state import current_config, current_run, lang, presentation, registry, session_id, start_current, t

LABELS = {key: t(f"visuals.{key}") for key in visuals.LABELS}
TRY = LESSON_PRESETS["dropout"]  # {"dropout": 0.5}


def train_with(**changes) -> None:
    """Button callback, run before the sidebar draws: put the change into the sidebar, train it."""
    config = current_config().replace(**changes)
    sidebar.load_config(config)
    try:
        st.session_state.run_key = registry().get_or_start(config, session=session_id()).key
    except (RunLimitError, ConfigError) as err:
        st.session_state.lesson_error = str(err)


st.title(t("nav.dropout"))
if not presentation():  # the lesson is for reading at a desk, not on the projector
    with st.expander(t("lesson.expander")):
        st.markdown(lesson("dropout", lang()))
if error := st.session_state.pop("lesson_error", None):
    st.error(error)

config = current_config()
run = current_run()
left, middle, right, _ = st.columns([1, 1, 2, 3])
if left.button(t("button.train"), type="primary", key="dropout_train"):
    try:
        run = start_current()
    except (RunLimitError, ConfigError) as err:
        st.error(str(err))
if middle.button(t("button.stop"), disabled=run is None or run.finished, key="dropout_stop"):
    registry().stop(run.key)
right.button(t("dropout.try", p=TRY["dropout"]), key="dropout_try", on_click=train_with, kwargs=TRY)

mode = st.segmented_control(t("dropout.mode"), ["train", "eval"], default="train", required=True,
                            key="dropout_mode", format_func=lambda m: t(f"dropout.mode.{m}"))
eval_mode = mode == "eval"


def draw_masks(view) -> None:
    """Each dropout layer: p, the share its latest mask dropped, the mask on the probe digit."""
    if not view.masks:
        st.info(t("dropout.masks.stored") if view.source else t("dropout.masks.waiting"))
        return
    for layer, snapshots in view.masks.items():
        latest = snapshots[-1]
        shape = " × ".join(str(n) for n in latest.shape)
        st.subheader(t(f"dropout.layer.{view.config.model}", layer=layer, shape=shape))
        a, b, c = st.columns(3)
        a.metric(t("dropout.p"), f"{latest.p:.0%}")
        b.metric(t("dropout.fraction"), f"{0.0 if eval_mode else latest.fraction_dropped:.1%}")
        c.metric(t("dropout.step"), f"{latest.step}", help=t("dropout.step.help", epoch=f"{latest.epoch:.2f}"))
        if len(latest.shape) == 3:
            chart = visuals.feature_maps_chart(latest, eval_mode, labels=LABELS)
        else:  # hidden units: the latest steps side by side, a new mask each step
            chart = visuals.units_chart(snapshots, eval_mode, labels=LABELS)
        st.altair_chart(visuals.style(chart, chart_scale()), width="content")
    if eval_mode:
        st.info(t("dropout.eval.why"))
    else:
        st.caption(t("dropout.train.why", scale=f"{1 / (1 - view.config.dropout):.3g}"))


def draw(view) -> None:
    show_status(view)
    if view is None:
        return
    if view.config.dropout == 0:
        st.warning(t("dropout.none"))
    else:
        draw_masks(view)
    st.subheader(t("dropout.modes.title"))
    frame = visuals.accuracy_modes_frame(view)
    if frame.empty:
        st.caption(t("dropout.modes.waiting"))
        return
    chart = visuals.accuracy_modes_chart(frame, labels=LABELS, epochs=view.config.epochs)
    st.altair_chart(visuals.style(chart, chart_scale()), width="stretch")
    st.caption(t("dropout.modes.why"))


if run is None and config.dropout == 0:
    st.warning(t("dropout.none"))
live_panel(run.key if run else None, draw)
