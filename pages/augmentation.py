"""Augmentation & data size: what a random warp does to real digits, and how the
number of training digits changes the gap."""

import streamlit as st

from regdemo import visuals
from regdemo.config import ConfigError
from regdemo.data import load_dataset
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


def new_draw() -> None:
    st.session_state.augment_seed = st.session_state.get("augment_seed", 0) + 1


st.title(t("nav.augmentation"))
with st.expander(t("lesson.expander"), expanded=not presentation()):
    st.markdown(lesson("augmentation", lang()))
if error := st.session_state.pop("lesson_error", None):
    st.error(error)

# --- the digits and their augmented versions -----------------------------------
st.header(t("augment.grid.title"))
st.button(t("augment.new_draw"), key="augment_new_draw", on_click=new_draw)
data = load_dataset("mnist-sample")  # the embedded digits: always there, offline
digits = data.train_images[visuals.one_per_class(data.train_labels)]
for level, draw_no, images in visuals.augmented_rows(digits, seed=st.session_state.get("augment_seed", 0)):
    name, picture = st.columns([1, 6], vertical_alignment="center")
    name.markdown(t("augment.row.original") if level == "off" else t("augment.row", level=t(f"sidebar.augment.{level}"),
                                                                       draw=draw_no))
    picture.image(visuals.digit_strip(images, scale=3 if not presentation() else 4))
st.caption(t("augment.grid.why"))

# --- train size vs gap ----------------------------------------------------------
st.header(t("augment.size.title"))
with st.expander(t("lesson.expander.train_size"), expanded=False):
    st.markdown(lesson("train_size", lang()))
configs = visuals.size_configs(current_config())
runs = [registry().get(config.key()) for config in configs]
going = [run for run in runs if run is not None and not run.finished]
left, right, _ = st.columns([3, 1, 3])
sizes = ", ".join(f"{c.effective_train_size:,}" for c in configs)
left.button(t("augment.size.train", sizes=sizes), type="primary", key="augment_sizes_train",
            on_click=start, args=(configs,))
right.button(t("button.stop"), key="augment_sizes_stop", disabled=not going, on_click=stop, args=(configs,))
st.caption(t("augment.size.setup", label=configs[-1].replace(train_size=0).label()))


def draw(_view=None) -> None:
    """Every size's run, read afresh: one may have started or finished meanwhile."""
    views = []
    for config in configs:
        run = registry().get(config.key())
        views.append(run.view() if run else None)
        st.caption(f"**{config.effective_train_size:,}**: {status_text(views[-1])}")
    frame = visuals.size_frame(views)
    if frame.empty:
        st.info(t("augment.size.empty"))
        return
    st.altair_chart(visuals.style(visuals.size_chart(frame, labels=LABELS), SCALE), width="content")
    st.caption(t("augment.size.why"))


live_panel(going[0].key if going else None, draw)
