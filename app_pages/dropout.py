"""Dropout: the real masks of the latest training steps, and why its "train accuracy"
sits below its test accuracy."""

import streamlit as st

from regdemo.teaching.lessons import LESSON_PRESETS
from regdemo.viz.lessons import accuracy_modes_chart, accuracy_modes_frame
from regdemo.viz.masks import feature_maps_chart, units_chart
from regdemo.viz.theme import style
from webapp import export
from webapp.layout import chart_scale
from webapp.lesson_page import header, lesson_pair, run_buttons
from webapp.live import live_panel, show_status
from webapp.state import current_config, presentation, t

TRY = LESSON_PRESETS["dropout"]  # {"dropout": 0.5}

header("nav.dropout", "dropout")
lesson_pair("dropout")
st.header(t("dropout.inside.title"))
config = current_config()
run = run_buttons("dropout", t("dropout.try", p=TRY["dropout"]), TRY, [1, 1, 2, 3])

mode = "train" if presentation() else st.segmented_control(
    t("dropout.mode"), ["train", "eval"], default="train", required=True, key="dropout_mode",
    format_func=lambda m: t(f"dropout.mode.{m}"))
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
            def build(scale, latest=latest):
                return feature_maps_chart(latest, eval_mode, t=t)
        else:  # hidden units: the latest steps side by side, a new mask each step
            def build(scale, snapshots=snapshots):
                return units_chart(snapshots, eval_mode, t=t)
        st.altair_chart(style(build(1.0), chart_scale()), width="content")
        if view.finished:
            export.chart_buttons(build, f"regdemo-masks-{layer}", key=f"dropout_masks_{layer}",
                                 label=t("dropout.masks.chart"), title=t("dropout.masks.chart"))
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
    frame = accuracy_modes_frame(view)
    if frame.empty:
        st.caption(t("dropout.modes.waiting"))
        return
    chart = accuracy_modes_chart(frame, t=t, epochs=view.config.epochs)
    st.altair_chart(style(chart, chart_scale()), width="stretch")
    if view.finished:
        export.chart_buttons(lambda scale: chart, "regdemo-dropout-modes", key="dropout_modes",
                             label=t("dropout.modes.title"), title=t("dropout.modes.title"))
    st.caption(t("dropout.modes.why"))


if run is None and config.dropout == 0:
    st.warning(t("dropout.none"))
live_panel(run.key if run else None, draw)
