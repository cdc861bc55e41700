"""Augmentation & data size: what a random warp does to real digits, and how the
number of training digits changes the gap."""

import streamlit as st

from regdemo.runs.runsets import size_configs
from regdemo.teaching.lessons import lesson
from regdemo.viz.digits import augmented_rows, digit_strip
from regdemo.viz.lessons import size_chart, size_frame
from regdemo.viz.theme import style
from webapp.layout import chart_scale
from webapp.lesson_page import RunSet, header, lesson_pair
from webapp.live import live_runs, status_text
from webapp.state import current_config, lang, presentation, t

ss = st.session_state


def new_draw() -> None:
    ss.augment_seed = ss.get("augment_seed", 0) + 1


header("nav.augmentation", "augmentation")
lesson_pair("augmentation")

# --- the digits and their augmented versions -----------------------------------
st.header(t("augment.grid.title"))
st.button(t("augment.new_draw"), key="augment_new_draw", on_click=new_draw)
# The training's own augmentation of the embedded digits, made beforehand (no torch on the server).
for level, draw_no, images in augmented_rows(seed=ss.get("augment_seed", 0)):
    name, picture = st.columns([1, 6], vertical_alignment="center")
    name.markdown(t("augment.row.original") if level == "off" else t("augment.row", level=t(f"sidebar.augment.{level}"),
                                                                       draw=draw_no))
    picture.image(digit_strip(images, scale=3 if not presentation() else 4))
st.caption(t("augment.grid.why"))

# --- train size vs gap ----------------------------------------------------------
size_runs = RunSet("sizes", size_configs(current_config()))
configs = size_runs.configs

st.header(t("augment.size.title"))
if not presentation():
    with st.expander(t("lesson.expander.train_size")):
        st.markdown(lesson("train_size", lang()))
lesson_pair("more_data")
left, right, _ = st.columns([3, 1, 3])
sizes = ", ".join(f"{c.effective_train_size:,}" for c in configs)
left.button(t("augment.size.train", sizes=sizes), type="primary", key="augment_sizes_train", on_click=size_runs.want)
right.button(t("button.stop"), key="augment_sizes_stop", on_click=size_runs.stop)
st.caption(t("augment.size.setup", label=configs[-1].label(lang())) + " " + t("augment.size.steps"))


def draw(views) -> None:
    if notice := size_runs.advance():
        st.info(f"{notice} {t('lessons.auto_start')}")
    by_key = {view.key: view for view in views}
    for config in configs if views else ():  # one line each, once something started
        st.caption(t("augment.size.line", size=f"{config.effective_train_size:,}", epochs=config.epochs,
                     status=status_text(by_key.get(config.key()))))
    frame = size_frame(views)
    if frame.empty:
        st.info(t("augment.size.waiting") if views else t("augment.size.empty"))
        return
    st.altair_chart(style(size_chart(frame, t=t), chart_scale()), width="content")
    st.caption(t("augment.size.why"))


size_runs.advance()  # before drawing: a run started now streams at once
live_runs(size_runs.keys, draw)
