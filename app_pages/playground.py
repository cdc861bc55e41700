"""Playground: pick regularizers in the sidebar, press Train, watch a real CNN learn.

Train starts (or joins) the run of the sidebar's config in the background; the
panel below streams its curves while it trains. Moving a widget afterwards
changes what the next Train uses, never the run on screen.
"""

from dataclasses import fields

import streamlit as st

from regdemo.runs.frames import curves_frame, epochs_frame, kept_epoch
from regdemo.runs.records import Run, RunLimitError
from regdemo.teaching.lessons import lesson
from regdemo.training.config import ConfigError, RunConfig, knobs
from regdemo.viz.curves import curves_chart, curves_spec
from regdemo.viz.masks import mask_grid_spec
from webapp import export
from webapp.axes import axis_toggles
from webapp.layout import chart_scale
from webapp.lesson_page import overfitting_config, train_config
from webapp.live import cached_chart, live_panel, show_status
from webapp.memorization import playground_memorization
from webapp.sidebar import current_exercise
from webapp.state import current_config, current_run, lang, presentation, registry, render_message, start_current, t

SCALE = chart_scale()
# The sidebar label of each config field (its Knob's), to say what changed since the run started.
FIELD_LABELS = {name: knob.label for name, knob in knobs().items() if knob.label}


def changes(old: RunConfig, new: RunConfig) -> list[str]:
    """'Dropout p: 0 → 0.5' for each choice that differs between two configs."""
    out = []
    for f in fields(RunConfig):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if f.compare and a != b:
            name = t(FIELD_LABELS[f.name]) if f.name in FIELD_LABELS else f.name
            out.append(f"{name}: {_shown(a)} → {_shown(b)}")
    return out


def _shown(value) -> str:
    if isinstance(value, bool):
        return t("playground.on") if value else t("sidebar.off")
    return f"{value:g}" if isinstance(value, float) else str(value)


st.title(t("app.title"))
if not presentation():
    st.caption(t("app.tagline"))
    with st.expander(t("lesson.expander")):
        st.markdown(lesson("playground", lang()))

config = current_config()
run = current_run()
train_col, stop_col, toggle_col, zoom_col, log_col = st.columns([1, 1, 2.6, 1.6, 1.6], vertical_alignment="center")
if train_col.button(t("button.train"), type="primary", key="pg_train", width="stretch"):
    try:
        run = start_current()
    except (RunLimitError, ConfigError) as err:
        st.error(render_message(err))
if stop_col.button(t("button.stop"), disabled=run is None or run.finished, key="pg_stop", width="stretch"):
    registry().stop(run.key)
eval_train = toggle_col.toggle(t("playground.eval_train"), value=True, key="pg_eval_train",
                               help=t("playground.eval_train.help"))
AXES = axis_toggles("pg", zoom_col, log_col)

# The default run (clean digits) barely overfits; one click shows a run that does -- a
# lesson baseline with wrong labels -- without changing what the default means everywhere.
OVERFIT = overfitting_config()
if OVERFIT is not None and not current_exercise().active and not presentation() and config != OVERFIT:
    hint, button = st.columns([5, 2], vertical_alignment="center")
    hint.caption(t("playground.overfit.hint", label=OVERFIT.label(lang())))
    button.button(t("playground.overfit"), key="pg_overfit", icon=":material/trending_down:", on_click=train_config,
                  args=(OVERFIT,), width="stretch")

if run is not None and run.config != config and not presentation():
    st.info(t("playground.config_changed", changes="; ".join(changes(run.config, config))), icon=":material/tune:")


def best_epoch(view) -> int | None:
    """Early stopping's best epoch so far (0 before the first epoch), None without it."""
    if not view.config.patience:
        return None
    return view.epochs[-1].best_epoch if view.epochs else 0


def chart_options(view, metric: str) -> dict:
    return dict(t=t, epochs=view.config.epochs, show_gap=eval_train, best_epoch=best_epoch(view),
                title=t(f"playground.chart.{metric}"), scale=SCALE, **AXES)


def draw_curves(view) -> None:
    """Accuracy and loss side by side, built once per new event for every session watching."""
    # The run's frames once per new event for both charts (each chart's spec is cached too).
    curves, table = cached_chart(view, "playground-frames",
                                 lambda: (curves_frame(view, eval_train=eval_train), epochs_frame(view)), eval_train)
    for col, metric in zip(st.columns(2), ("acc", "loss"), strict=True):
        spec = cached_chart(view, f"playground-{metric}", lambda m=metric: curves_spec(
            curves, m, epochs_table=table, **chart_options(view, m)),
            eval_train, lang(), presentation(), tuple(sorted(AXES.items())))
        col.vega_lite_chart(spec, width="stretch", alt=t(f"playground.chart.{metric}.alt"))


def build_chart(view, metric: str):
    """The altair chart of `metric` for export (built when a download is clicked)."""
    return lambda: curves_chart(curves_frame(view, eval_train=eval_train), metric, epochs_table=epochs_frame(view),
                                **{**chart_options(view, metric), "scale": 1.0})


def draw_masks(view) -> None:
    """The latest mask of the first dropout layer on the probe digit, small."""
    st.markdown(f"**{t('playground.masks.title')}**")
    if view.config.dropout == 0:
        st.caption(t("playground.masks.none"))
        return
    if not view.masks:
        st.caption(t("playground.masks.stored") if view.source else t("playground.masks.waiting"))
        return
    layer, snapshots = next(iter(view.masks.items()))
    latest = snapshots[-1]
    st.vega_lite_chart(mask_grid_spec(latest, t=t, scale=SCALE), width="content",
                       alt=t("playground.masks.title"))
    kind = "units" if len(latest.shape) == 1 else "maps"
    st.caption(t(f"playground.masks.{kind}", dropped=f"{latest.fraction_dropped:.0%}", p=f"{latest.p:g}",
                 step=latest.step, layer=layer, channels=min(4, latest.shape[0])))


def draw_metrics(view) -> None:
    e = kept_epoch(view)
    if e is None:
        return
    st.markdown(f"**{t('playground.metrics.title', epoch=e.epoch)}**")
    a, b, c, d = st.columns(4)
    a.metric(t("playground.metric.test"), f"{e.test_acc:.2%}")
    b.metric(t("playground.metric.train_eval"), f"{e.train_acc_eval:.2%}", help=t("playground.metric.train_eval.help"))
    c.metric(t("playground.metric.gap"), t("chart.points", value=f"{(e.train_acc_eval - e.test_acc) * 100:+.1f}"),
             help=t("playground.metric.gap.help"))
    d.metric(t("playground.metric.train"), f"{e.train_acc:.2%}", help=t("playground.metric.train.help"))


def draw_export(view) -> None:
    stem = export.file_stem("regdemo", view.key)
    with st.expander(t("export.title"), icon=":material/download:"):
        st.caption(t("export.help"))
        cols = st.columns(5)
        with cols[0]:
            export.csv_button(epochs_frame(view), f"{stem}-epochs", key="pg_csv_epochs", label=t("export.csv.epochs"))
        with cols[1]:
            export.csv_button(curves_frame(view, eval_train=True), f"{stem}-curves", key="pg_csv_curves",
                              label=t("export.csv.curves"))
        for col, metric in zip(cols[2:4], ("acc", "loss"), strict=True):
            with col:
                export.chart_buttons(build_chart(view, metric), f"{stem}-{metric}", key=f"pg_{metric}",
                                     label=t(f"chart.{metric}"))


def draw(view) -> None:
    show_status(view)
    if view is None:
        st.markdown(t("playground.start"))
        # Empty axes of the current setup: the student sees where the curves will grow, and
        # the browser has loaded its chart code before Train (loading it on the first run's
        # chart held that chart back ~0.6 s, measured; docs/load.md).
        draw_curves(Run(config).view())
        return
    draw_curves(view)
    if not view.progress:
        st.caption(t("playground.waiting"))
    masks, metrics = st.columns([1, 3])
    with masks:
        draw_masks(view)
    with metrics:
        if view.finished:
            draw_metrics(view)
        if view.epochs and not presentation():
            st.caption(t("playground.read", label=view.config.label(lang()), epochs=view.config.epochs,
                         count=view.config.epochs))
    playground_memorization(view)  # with label noise only
    if view.finished and view.progress and not presentation():
        draw_export(view)


live_panel(run.key if run else None, draw)
