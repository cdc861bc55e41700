"""Mistakes: which test digits a run gets wrong, and where two runs disagree.

Any finished run -- trained here, by a classmate, from the command line, or
read back from the run store -- carries its kept model's prediction for every
test digit (Done.test_predictions). regdemo.teaching.mistakes turns those and the true
labels into the confusion matrix and the lists of digits drawn here.
"""

import pandas as pd
import streamlit as st

from regdemo.runs.records import RunLimitError
from regdemo.teaching import mistakes
from regdemo.teaching.lessons import LESSON_PRESETS, lesson
from regdemo.training.config import RunConfig
from regdemo.training.data import DataError, load_digits
from regdemo.training.events import EARLY_STOPPED, FINISHED
from regdemo.viz.mistakes import confusion_chart
from webapp.live import live_panel, show_status
from webapp.sidebar import load_config
from webapp.state import lang, registry, render_message, session_id, t

GRID_SHOWN = 48  # digits drawn per grid; the count says how many there are in all
DIGIT_WIDTH = 64  # pixels: over 2x the 28-pixel digit, big enough to judge by eye and to fit a caption
ss = st.session_state

def try_it() -> None:
    """Button callback, run before the sidebar draws: load the lesson's run and train it."""
    config = RunConfig(**LESSON_PRESETS["mistakes"])
    load_config(config)
    try:
        ss.run_key = registry().get_or_start(config, session=session_id()).key
    except RunLimitError as err:
        ss.lesson_error = render_message(err)


st.title(t("mistakes.title"))
with st.expander(t("lesson.expander")):
    st.markdown(lesson("mistakes", lang()))
    st.button(t("lesson.try_it"), key="mistakes_try_it", on_click=try_it)
if error := ss.pop("lesson_error", None):
    st.error(error)

# The session's own run while it trains: the page lists it once it is done.
mine = registry().get(ss["run_key"]) if ss.get("run_key") else None
if mine is not None and not mine.finished:
    live_panel(mine.key, show_status)


def finished_runs() -> dict[str, str]:
    """key -> label of every run with test predictions, newest first (memory, then store)."""
    out: dict[str, tuple[float, str]] = {}
    for run in registry().runs():
        view = run.view()
        if view.status in (FINISHED, EARLY_STOPPED) and view.done and view.done.test_predictions:
            kept = [e for e in view.epochs if e.epoch == view.done.best_epoch] or view.epochs[-1:]
            acc = kept[0].test_acc if kept else None
            out[view.key] = (view.finished_at or 0.0, _label(view.config, acc))
    store = getattr(registry(), "store", None)
    if store is not None:
        for row in store.list():
            if row.key not in out and row.status in (FINISHED, EARLY_STOPPED):
                out[row.key] = (row.finished_at or row.saved_at, _label(row.config, row.test_acc))
    return {key: label for key, (_, label) in sorted(out.items(), key=lambda kv: -kv[1][0])}


def _label(config: RunConfig, test_acc: float | None) -> str:
    acc = "" if test_acc is None else f" — {100 * test_acc:.2f} %"
    epochs = t("mistakes.epochs", epochs=config.epochs, count=config.epochs)
    return f"{config.label(lang())} · {epochs}{acc}"


def predictions(key: str) -> tuple[RunConfig, tuple[int, ...]] | None:
    run = registry().get(key)
    if run is None:
        return None
    view = run.view()
    return view.config, (view.done.test_predictions if view.done else ())


@st.cache_data(show_spinner=False, max_entries=4)
def test_split(dataset: str, data_dir: str):
    """(labels, images as numpy, class names); images are only read, never changed."""
    ds = load_digits(dataset, data_dir or None, download=False)  # numpy: no torch on the server
    return ds.test_labels.tolist(), ds.test_images, ds.classes


def digit_grid(items: list[mistakes.Mistake], images, classes, caption_key: str) -> None:
    if not items:
        st.caption(t("mistakes.grid_empty"))
        return
    shown = items[:GRID_SHOWN]
    st.image([images[m.index] for m in shown], width=DIGIT_WIDTH,
             caption=[t(caption_key, true=classes[m.true], pred=classes[m.predicted]) for m in shown])
    if len(items) > len(shown):
        st.caption(t("mistakes.grid_more", shown=len(shown), total=len(items)))


runs = finished_runs()
if not runs:
    st.info(t("mistakes.none"))
    st.stop()

keys = list(runs)
default_key = ss.get("run_key") if ss.get("run_key") in runs else keys[0]
if ss.get("mistakes_a") not in runs:
    ss.mistakes_a = default_key
key_a = st.selectbox(t("mistakes.pick"), keys, format_func=runs.get, key="mistakes_a")
picked = predictions(key_a)
if picked is None:
    st.warning(t("mistakes.gone"))
    st.stop()
config_a, preds_a = picked
try:
    labels, images, classes = test_split(config_a.dataset, config_a.data_dir)
except DataError as err:
    st.error(t("mistakes.data_error", error=render_message(err)))
    st.stop()
if len(preds_a) != len(labels):
    st.error(t("mistakes.mismatch", predictions=len(preds_a), labels=len(labels)))
    st.stop()

matrix = mistakes.confusion_matrix(labels, preds_a)
wrong = mistakes.misclassified(labels, preds_a)
st.subheader(t("mistakes.summary", wrong=len(wrong), total=len(labels),
               acc=f"{100 * mistakes.accuracy(labels, preds_a):.2f}"))

chart_col, side_col = st.columns([3, 2])
with chart_col:
    st.markdown(f"**{t('mistakes.confusion')}**")
    st.altair_chart(confusion_chart(matrix, classes, t=t), width="stretch")
with side_col:
    st.markdown(f"**{t('mistakes.top_confusions')}**")
    top = mistakes.most_confused(matrix, k=5)
    if top:
        for true, pred, count in top:
            st.markdown("- " + t("mistakes.confusion_line", true=classes[true], pred=classes[pred], count=count))
    else:
        st.caption(t("mistakes.grid_empty"))
    st.markdown(f"**{t('mistakes.per_class')}**")
    per_class = mistakes.per_class_accuracy(labels, preds_a)
    st.dataframe(pd.DataFrame({
        t("mistakes.axis.true"): list(classes),
        t("mistakes.col.acc"): [None if a is None else 100 * a for a in per_class],
        t("mistakes.col.wrong"): [sum(row) - row[i] for i, row in enumerate(matrix)],
    }), hide_index=True, column_config={t("mistakes.col.acc"): st.column_config.NumberColumn(format="%.1f")})

st.markdown(f"**{t('mistakes.grid')}**")
only = st.selectbox(t("mistakes.filter"), [None, *range(len(classes))], key="mistakes_filter",
                    format_func=lambda c: t("mistakes.filter.all") if c is None else classes[c])
digit_grid([m for m in wrong if only is None or m.true == only], images, classes, "mistakes.caption")

st.divider()
st.subheader(t("mistakes.compare"))
same_split = [k for k in keys if k != key_a]
if not same_split:
    st.caption(t("mistakes.compare_none"))
    st.stop()
key_b = st.selectbox(t("mistakes.pick_b"), same_split, format_func=runs.get, key="mistakes_b")
picked_b = predictions(key_b)
config_b, preds_b = picked_b if picked_b else (None, ())
if config_b is None or config_b.dataset != config_a.dataset or len(preds_b) != len(labels):
    st.warning(t("mistakes.compare_other_split"))
    st.stop()
diff = mistakes.disagreement(labels, preds_a, preds_b)
c1, c2, c3, c4 = st.columns(4)
c1.metric(t("mistakes.metric.only_a"), len(diff.only_a))
c2.metric(t("mistakes.metric.only_b"), len(diff.only_b))
c3.metric(t("mistakes.metric.both_wrong"), diff.both_wrong)
c4.metric(t("mistakes.metric.net"), f"{len(diff.only_a) - len(diff.only_b):+d}")
left, right = st.columns(2)
with left:
    st.markdown(f"**{t('mistakes.only_a')}**")
    digit_grid(list(diff.only_a), images, classes, "mistakes.caption_b")
with right:
    st.markdown(f"**{t('mistakes.only_b')}**")
    digit_grid(list(diff.only_b), images, classes, "mistakes.caption_a")
