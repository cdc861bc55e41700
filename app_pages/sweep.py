"""Sweep: one regularizer's strength against test accuracy and the train-test gap.

Before any click the page shows the shipped noisy L2 sweep (regdemo/teaching/lessons/measured_sweep.json,
written by `python -m tools.measure_sweep`): its U-shape, and a button that loads its setup,
so "Run sweep" trains the very same runs again.

The sidebar's setup is the base; one field of it takes each swept value, for
each seed. Points go through the shared registry (so a point anyone trained,
here or with `python -m regdemo sweep`, comes back at once) and are started a
few at a time, within the session's run limit; the chart fills in as they end.
"""

import pandas as pd
import streamlit as st

from regdemo.runs import runsets
from regdemo.teaching import sweep
from regdemo.teaching.lessons import LESSON_PRESETS, lesson, measured_sweep
from regdemo.training.config import ConfigError, RunConfig
from regdemo.viz.sweep import strength_chart, zero_at
from regdemo.viz.theme import style
from webapp import export
from webapp.layout import chart_scale
from webapp.sidebar import load_config
from webapp.state import current_config, lang, presentation, registry, render_message, session_id, t

REFRESH_SECONDS = 1.0
ss = st.session_state


def _values_text(param: str) -> str:
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in sweep.DEFAULT_VALUES[param])


def _reset_values() -> None:
    ss.sweep_values = _values_text(ss.sweep_param)


ss.setdefault("sweep_param", "l2")
ss.setdefault("sweep_values", _values_text(ss.sweep_param))
ss.setdefault("sweep_seeds", 2)

SHIPPED = measured_sweep.read()  # the measured noisy L2 sweep, None if the file is missing


def try_it() -> None:
    """Button callback, run before the sidebar draws: the shipped sweep's setup, values and seeds
    (so Run sweep trains the same runs), else the lesson's base setup and the L2 sweep."""
    if SHIPPED is None:
        load_config(RunConfig(**LESSON_PRESETS["sweep"]))
        ss.sweep_param = "l2"
        _reset_values()
        ss.sweep_seeds = 2
        return
    load_config(SHIPPED.base)
    ss.sweep_param = SHIPPED.param
    ss.sweep_values = ",".join(sweep.format_value(v) for v in SHIPPED.values)
    ss.sweep_seeds = SHIPPED.seeds


st.title(t("sweep.title"))
if not presentation():  # for reading at a desk; a projected page has no controls
    # Closed when the shipped sweep is there to show: its charts on the first screen.
    with st.expander(t("lesson.expander"), expanded=not ss.get("sweep") and SHIPPED is None):
        st.markdown(lesson("sweep", lang()))
        st.button(t("lesson.try_it"), key="sweep_try_it", on_click=try_it)

    left, middle, right = st.columns([2, 4, 1])
    param = left.selectbox(t("sweep.param"), sweep.PARAMS, key="sweep_param", on_change=_reset_values,
                           format_func=lambda p: t(f"sweep.param.{p}"))
    middle.text_input(t("sweep.values"), key="sweep_values", help=t("sweep.values.help"))
    right.number_input(t("sweep.seeds"), 1, 5, step=1, key="sweep_seeds")
    base = current_config()
    st.caption(t("sweep.base", label=base.label(lang()), epochs=base.epochs, count=base.epochs))

    start_col, stop_col, _ = st.columns([1, 1, 5])
    if start_col.button(t("sweep.start"), type="primary"):
        try:
            values = sweep.parse_values(param, ss.sweep_values)
            specs = sweep.sweep_configs(base, param, values, int(ss.sweep_seeds))
        except ConfigError as err:
            st.error(t("sweep.bad_values", error=render_message(err)))
        else:
            ss.sweep = {"param": param, "values": values, "specs": specs, "stopped": False, "points": {}}
    current = ss.get("sweep")
    if stop_col.button(t("sweep.stop"), disabled=current is None or current["stopped"]):
        current["stopped"] = True
        # Only this session's own runs: a point a classmate started is theirs to stop.
        runsets.stop_own(registry(), [spec.config.key() for spec in current["specs"]], session_id())
current = ss.get("sweep")


def advance(state: dict) -> str:
    """Collect finished points, start the next ones the run limit allows; return a notice."""
    step = sweep.advance(registry(), state["specs"], state["points"], session_id(), state["stopped"])
    if state["stopped"]:
        return t("sweep.stopped_note", missing=step.waiting, count=step.waiting) if step.waiting else ""
    if step.refused is not None and not step.going:
        return render_message(step.refused)  # not this session's own limit: the server's queue is full
    return t("sweep.waiting", count=step.waiting) if step.waiting else ""


def complete(state: dict) -> bool:
    return state["stopped"] or len(state["points"]) == len(state["specs"])


def draw(state: dict) -> None:
    notice = advance(state)
    done, total = len(state["points"]), len(state["specs"])
    param, values = state["param"], state["values"]
    if not complete(state):
        st.progress(done / total, text=t("sweep.progress", done=done, total=total, count=total))
    elif not state["stopped"]:
        st.success(t("sweep.finished", total=total, count=total))
    if notice:
        st.info(notice)
    points = [state["points"][s.config.key()] for s in state["specs"] if s.config.key() in state["points"]]
    show_result(param, values, points, export_it=complete(state))


def show_result(param: str, values, points, export_it: bool = True, claim: str | None = None) -> None:
    """Both charts, the best value and the table of a sweep's points so far; `claim`: what the
    exported figures say (only for a result it was measured true of)."""
    rows = sweep.summarize(points, values)
    summary = pd.DataFrame(sweep.chart_rows(param, rows))
    if summary.empty:
        st.caption(t("sweep.no_points"))
        return
    for col, which in zip(st.columns(2), ("test", "gap"), strict=True):
        col.altair_chart(style(strength_chart(param, rows, points, values, which, t=t, scale=chart_scale()),
                               chart_scale()), width="stretch")
        if export_it:
            with col:
                export.chart_buttons(lambda scale, w=which: strength_chart(param, rows, points, values, w, t=t,
                                                                           scale=scale),
                                     f"regdemo-sweep-{param}-{which}", key=f"sweep_{which}",
                                     label=t(f"sweep.axis.{which}"), title=claim)
    if (zero := zero_at(param, values)) is not None:
        st.caption(t("sweep.zero_note", position=f"{zero:g}"))
    best = sweep.best_value(rows)
    if best is not None and len(summary) > 1:
        st.markdown(t("sweep.best", param=t(f"sweep.param.{param}"), value=f"{best:g}" if isinstance(best, float)
                      else str(best)))
    table = summary[["value", "seeds", "test_mean", "test_std", "test_low", "test_high", "gap_mean",
                     "train_eval_mean"]].rename(columns={
                         "value": t(f"sweep.param.{param}"), "seeds": t("sweep.col.seeds"),
                         "test_mean": t("sweep.col.test_mean"), "test_std": t("sweep.col.test_std"),
                         "test_low": t("sweep.col.test_low"), "test_high": t("sweep.col.test_high"),
                         "gap_mean": t("sweep.col.gap_mean"), "train_eval_mean": t("sweep.col.train_eval")})
    st.dataframe(table, hide_index=True, column_config={
        c: st.column_config.NumberColumn(format="%.2f") for c in table.columns[2:]})


@st.fragment(run_every=REFRESH_SECONDS)
def _stream() -> None:
    state = ss.get("sweep")
    if state is None:
        return
    draw(state)
    if complete(state):
        st.rerun()  # one full rerun draws the final state without a timer


if current is None and SHIPPED is not None:
    st.subheader(t("sweep.shipped.title"))
    st.caption(t("sweep.shipped", label=SHIPPED.base.label(lang()), seeds=SHIPPED.seeds,
                 date=SHIPPED.about.get("date", "?"), command=SHIPPED.about.get("command", "")))
    show_result(SHIPPED.param, SHIPPED.values, list(SHIPPED.points), claim=t("sweep.shipped.claim"))
    if not presentation():
        st.caption(t("sweep.shipped.how", load=t("sweep.shipped.load"), start=t("sweep.start")))
        st.button(t("sweep.shipped.load"), key="sweep_shipped_load", on_click=try_it, icon=":material/replay:")
elif current is None:
    st.info(t("sweep.idle"))
elif complete(current):
    draw(current)
else:
    _stream()
