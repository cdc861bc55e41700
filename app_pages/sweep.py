"""Sweep: one regularizer's strength against test accuracy and the train-test gap.

The sidebar's setup is the base; one field of it takes each swept value, for
each seed. Points go through the shared registry (so a point anyone trained,
here or with `python -m regdemo sweep`, comes back at once) and are started a
few at a time, within the session's run limit; the chart fills in as they end.
"""

import altair as alt
import pandas as pd
import streamlit as st

from regdemo import sweep
from regdemo.config import ConfigError, RunConfig
from regdemo.events import STOPPED
from regdemo.lessons import LESSON_PRESETS, lesson
from regdemo.records import RunLimitError
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

def try_it() -> None:
    """Button callback, run before the sidebar draws: the lesson's base setup and the L2 sweep."""
    load_config(RunConfig(**LESSON_PRESETS["sweep"]))
    ss.sweep_param = "l2"
    _reset_values()
    ss.sweep_seeds = 2


st.title(t("sweep.title"))
with st.expander(t("lesson.expander"), expanded=not presentation() and not ss.get("sweep")):
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
    reg = registry()
    for spec in current["specs"]:
        run = reg.get(spec.config.key())
        # Only this session's own runs: a point a classmate started is theirs to stop.
        if run is not None and not run.finished and run.owner == session_id():
            reg.stop(run.key)


def advance(state: dict) -> str:
    """Collect finished points, start the next ones the run limit allows; return a notice.

    get_or_start joins a run in memory, reads one from the store, or starts
    one; once the session's limit refuses a start, the remaining points wait
    for the next redraw without being looked up (no store reads per tick).
    """
    reg, me = registry(), session_id()
    waiting = going = 0
    blocked = ""
    for spec in state["specs"]:
        key = spec.config.key()
        if key in state["points"]:
            continue
        if blocked:
            waiting += 1
            continue
        if state["stopped"]:
            run = reg.get(key)  # look, never start
        else:
            try:
                # A stopped point is trained afresh; a failed one is a result
                # (it would fail again) and is shown as missing.
                run = reg.get_or_start(spec.config, session=me)
            except RunLimitError as err:
                blocked = render_message(err)
                waiting += 1
                continue
        if run is None or run.status == STOPPED:
            waiting += 1
            continue
        reg.touch(key, me)
        if run.finished:
            state["points"][key] = sweep.point_from_view(spec, run.view())
        else:
            going += 1
    if state["stopped"]:
        return t("sweep.stopped_note", missing=waiting, count=waiting) if waiting else ""
    if blocked and not going:
        return blocked  # not this session's own limit: the server's queue is full
    return t("sweep.waiting", count=waiting) if waiting else ""


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
    rows = sweep.summarize(points, values)
    summary = pd.DataFrame(sweep.chart_rows(param, rows))
    if summary.empty:
        st.caption(t("sweep.no_points"))
        return
    seeds = pd.DataFrame(sweep.seed_rows(param, points, values))
    zero_at = sweep.x_positions(param, values)[0.0] if param in sweep.LOG_PARAMS and 0.0 in values else None
    test_col, gap_col = st.columns(2)
    test_col.altair_chart(_chart(param, summary, seeds, "test", t("sweep.axis.test"), zero_at), width="stretch")
    gap_col.altair_chart(_chart(param, summary, seeds, "gap", t("sweep.axis.gap"), zero_at), width="stretch")
    if zero_at is not None:
        st.caption(t("sweep.zero_note", position=f"{zero_at:g}"))
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


def _chart(param: str, summary: pd.DataFrame, seeds: pd.DataFrame, which: str, title: str,
           zero_at: float | None = None):
    """Mean line over seeds, a min-max band, and one dot per seed."""
    name = t(f"sweep.param.{param}")
    if param == "augment":
        x = alt.X("x:N", title=name, sort=list(sweep.DEFAULT_VALUES["augment"]))
    else:
        scale = alt.Scale(type="log") if param in sweep.LOG_PARAMS or param == "train_size" else alt.Scale()
        axis = alt.Axis(format="~g")
        if zero_at is not None:
            # The tick where λ = 0 is drawn reads "0", not the stand-in value.
            axis = alt.Axis(format="~g", labelExpr=f"abs(datum.value - {zero_at!r}) < {zero_at * 1e-6!r} "
                                                   "? '0' : datum.label")
        x = alt.X("x:Q", title=name, scale=scale, axis=axis)
    y = alt.Y(f"{which}_mean:Q", title=title, scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("value:N", title=name), alt.Tooltip(f"{which}_mean:Q", title=title, format=".2f"),
               alt.Tooltip(f"{which}_low:Q", format=".2f", title=t("sweep.col.min")),
               alt.Tooltip(f"{which}_high:Q", format=".2f", title=t("sweep.col.max")),
               alt.Tooltip("seeds:Q", title=t("sweep.col.seeds"))]
    base = alt.Chart(summary)
    if param == "augment":
        band = base.mark_rule(strokeWidth=10, opacity=0.25).encode(x=x, y=f"{which}_low:Q", y2=f"{which}_high:Q")
    else:
        band = base.mark_area(opacity=0.2).encode(x=x, y=f"{which}_low:Q", y2=f"{which}_high:Q")
    line = base.mark_line(point=True).encode(x=x, y=y, tooltip=tooltip)
    layers = [band, line]
    if not seeds.empty:
        dots = alt.Chart(seeds).mark_circle(size=25, opacity=0.5, color="gray").encode(
            x=x, y=alt.Y(f"{which}:Q", title=title, scale=alt.Scale(zero=False)),
            tooltip=[alt.Tooltip("value:N", title=name), alt.Tooltip("seed:Q", title=t("sweep.col.seed")),
                     alt.Tooltip(f"{which}:Q", format=".2f", title=title)])
        layers.append(dots)
    return alt.layer(*layers).properties(title=title, height=320)


@st.fragment(run_every=REFRESH_SECONDS)
def _stream() -> None:
    state = ss.get("sweep")
    if state is None:
        return
    draw(state)
    if complete(state):
        st.rerun()  # one full rerun draws the final state without a timer


if current is None:
    st.info(t("sweep.idle"))
elif complete(current):
    draw(current)
else:
    _stream()
