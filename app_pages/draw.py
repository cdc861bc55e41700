"""Draw your own digit: a lesson pair's two finished nets read the student's handwriting.

The digit is prepared here (webapp.draw_input, regdemo.training.drawing: numpy and PIL); the nets
answer in a worker process, where torch lives (Registry.predict, regdemo.runs.predict), from
the weights the run store keeps beside each finished run.
"""

import time

import streamlit as st

from regdemo.messages import msg
from regdemo.runs.predict import NO_RUN, PredictError
from regdemo.storage.rows import REUSABLE
from regdemo.teaching.effect import lessons
from regdemo.viz.draw import probability_chart
from regdemo.viz.theme import PAIR_COLORS
from webapp import draw_input
from webapp.layout import chart_scale
from webapp.lesson_page import RunSet
from webapp.live import live_runs, status_text
from webapp.state import lang, registry, render_message, t

st.title(t("draw.title"))
st.markdown(t("draw.intro"))

pairs = lessons()
# The options are the lessons' names in the page's language (not codes with a format_func:
# AppTest reads a selectbox's value through str); the key carries the language so a switch starts afresh.
by_label = {t(f"pair.what.{n}"): n for n in pairs}
name = by_label[st.selectbox(t("draw.lesson"), list(by_label), key=f"draw_lesson_{lang()}")]
lesson = pairs[name]
what = t(f"pair.what.{name}")
pair = RunSet(f"draw_{name}", [lesson.baseline, lesson.treated])
labels = {lesson.baseline.key(): t("pair.baseline"), lesson.treated.key(): t("pair.treated", what=what)}
claim = lesson.claim.get(lang()) or lesson.claim.get("en", "")
if claim:
    st.caption(claim)

left, right = st.columns([1, 2], gap="large")
with left:
    pixels = draw_input.digit()


def finished(key: str):
    """The run's final view when it is a finished answer (from memory or the store), else None."""
    run = registry().get(key)
    view = run.view() if run is not None else None
    return view if view is not None and view.status in REUSABLE else None


def show_status(views) -> None:
    if notice := pair.advance():
        st.info(notice)
    by_key = {view.key: view for view in views}
    if views:
        st.caption("  ·  ".join(t("pair.status", run=label, status=status_text(by_key.get(key)))
                                for key, label in labels.items()))


def answers(digit) -> None:
    started = time.perf_counter()
    try:
        results = registry().predict(pair.keys, digit)
    except PredictError as err:
        st.warning(render_message(err))
        return
    ms = (time.perf_counter() - started) * 1000
    best = {}
    for col, key, color in zip(st.columns(2), pair.keys, PAIR_COLORS, strict=True):
        result = results.get(key, {"error": NO_RUN})
        if "probs" not in result:
            col.warning(render_message(msg(result["error"])))
            continue
        probs = result["probs"]
        best[key] = max(range(10), key=probs.__getitem__)
        title = t("draw.chart", run=labels[key], digit=best[key], share=f"{100 * probs[best[key]]:.0f}")
        col.altair_chart(probability_chart(probs, color, title, t=t, scale=chart_scale()), width="stretch")
    if len(best) == 2:
        base, treated = (best[k] for k in pair.keys)
        if base == treated:
            st.success(t("draw.agree", digit=base))
        else:
            st.info(t("draw.disagree", base_label=labels[pair.keys[0]], base=base,
                      treated_label=labels[pair.keys[1]], treated=treated))
    st.caption(t("draw.answered", ms=f"{ms:.0f}"))


with right:
    pair.advance()  # wanted runs start (or join) before anything is drawn
    done = [finished(key) for key in pair.keys]
    if all(done):
        if pixels is not None:
            answers(pixels)
    else:
        wanted = bool(st.session_state.get(pair.state_key))
        if not wanted:
            st.info(t("draw.untrained"))
        st.button(t("draw.train", what=what), type="primary", key=f"draw_{name}_train", on_click=pair.want,
                  disabled=wanted)
        if wanted:
            st.caption(t("draw.training"))
        live_runs(pair.keys, show_status, name=f"draw_{name}")
    if pixels is not None:
        draw_input.preview(pixels)
