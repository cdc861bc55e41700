"""Compare runs: any runs on the same axes, and the article's experiment beside its numbers.

Every run the server knows can be overlaid: the ones trained in this app
(by anyone), and the finished ones in the run store (the CLI's too). A run
keeps its colour while it stays on screen.
"""

import pandas as pd
import streamlit as st

from regdemo.runs.frames import TEST, TRAIN, TRAIN_EVAL, VAL, curves_frame, epochs_frame, summary_frame
from regdemo.runs.records import RunLimitError
from regdemo.teaching.article import ARTICLE, DEFAULT_EPOCHS, MAX_EPOCHS, RECIPES, article_configs, stuck, train_command
from regdemo.teaching.lessons import lesson
from regdemo.training.config import ARTICLE_RESULTS, DATASET_TRAIN_SIZES, DATASETS, ConfigError, RunConfig
from regdemo.viz.overlay import assign_colors, overlay_chart, overlay_spec
from regdemo.viz.theme import RUN_COLORS, split_names
from webapp import export
from webapp.axes import axis_defaults, axis_toggles
from webapp.layout import chart_scale
from webapp.live import live_runs, status_text
from webapp.state import lang, presentation, registry, render_message, session_id, t

SCALE = chart_scale()
NAMES = split_names(t)
ARTICLE_COLORS = dict(zip(ARTICLE, RUN_COLORS, strict=False))
MAX_LISTED = 200  # stored runs offered in the list
MAX_COMPARED = 4  # runs on one chart: more colours than four are hard to tell apart on a projector
ss = st.session_state


# --- which runs there are --------------------------------------------------------

def known_configs() -> dict[str, RunConfig]:
    """Every run the server can show, newest first: in memory, then the run store."""
    reg = registry()
    found = {run.key: run.config for run in reversed(reg.runs())}
    if reg.store is not None:
        for summary in reg.store.list(MAX_LISTED):
            found.setdefault(summary.key, summary.config)
    return found


def run_labels(configs: dict[str, RunConfig]) -> dict[str, str]:
    """A legend label per run, unique: its regularizers and epochs, plus its key if still ambiguous."""
    labels = {key: t("compare.label", label=c.label(lang()), epochs=c.epochs) for key, c in configs.items()}
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    return {key: f"{label} · {key[:6]}" if seen[label] > 1 else label for key, label in labels.items()}


def colors_for(keys: list[str]) -> dict[str, str]:
    """Each run's colour, kept for the session so it never changes while on screen."""
    ss.cmp_colors = assign_colors(keys, ss.get("cmp_colors"))
    return ss.cmp_colors


def summary_table(views, labels: dict[str, str]) -> pd.DataFrame:
    """Final accuracies in percent, with readable column names."""
    table = summary_frame(views, labels)
    for column in ("train_acc", "train_acc_eval", "test_acc", "gap"):
        table[column] = table[column].astype(float) * 100
    table["status"] = [status_text(v) for v in views]
    columns = {"label": "compare.col.run", "status": "compare.col.status", "kept_epoch": "compare.col.epoch",
               "train_acc": "compare.col.train", "train_acc_eval": "compare.col.train_eval",
               "test_acc": "compare.col.test", "gap": "compare.col.gap"}
    return table[list(columns)].rename(columns={k: t(v) for k, v in columns.items()})


def show_table(table: pd.DataFrame) -> None:
    percent = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        t("compare.col.train"): percent, t("compare.col.train_eval"): percent, t("compare.col.test"): percent,
        t("compare.col.gap"): st.column_config.NumberColumn(format="%+.2f"),
        t("compare.col.epoch"): st.column_config.NumberColumn(format="%d"),
    })


# --- page ------------------------------------------------------------------------------

st.title(t("nav.compare"))
if not presentation():
    st.caption(t("compare.intro"))
    with st.expander(t("lesson.expander")):
        st.markdown(lesson("compare", lang()))

configs = known_configs()
labels = run_labels(configs)
if "cmp_runs" not in ss:
    mine = [k for k in (ss.get("run_key"),) if k in configs]
    ss.cmp_runs = mine or list(configs)[:MAX_COMPARED]
ss.cmp_runs = [k for k in ss.cmp_runs if k in configs][:MAX_COMPARED]  # runs the store let go of
if presentation():  # a projected page has no controls: the runs and look chosen before
    selected, metric = ss.cmp_runs, ss.get("cmp_metric") or "acc"
    splits, AXES = ss.get("cmp_splits") or [TRAIN, TEST], axis_defaults("cmp")
else:
    selected = st.multiselect(t("compare.runs"), list(configs), key="cmp_runs", format_func=lambda k: labels[k],
                              placeholder=t("compare.runs.placeholder"), max_selections=MAX_COMPARED,
                              help=t("compare.runs.max", count=MAX_COMPARED))
    metric_col, splits_col, zoom_col, log_col = st.columns([1, 2, 1, 1], vertical_alignment="bottom")
    metric = metric_col.segmented_control(t("compare.metric"), ["acc", "loss"], default="acc", required=True,
                                          key="cmp_metric", format_func=lambda m: t(f"chart.{m}"))
    splits = splits_col.pills(t("compare.splits"), [TRAIN, TRAIN_EVAL, TEST, VAL], default=[TRAIN, TEST],
                              selection_mode="multi", key="cmp_splits", format_func=NAMES.get) or [TEST]
    AXES = axis_toggles("cmp", zoom_col, log_col)


def draw_overlay(views) -> None:
    if not views:
        st.info(t("compare.empty"))
        return
    colors = colors_for([v.key for v in views])
    curves = pd.concat([curves_frame(v, label=labels[v.key], eval_train=True) for v in views], ignore_index=True)
    options = dict(colors={labels[v.key]: colors[v.key] for v in views}, t=t, splits=splits,
                   epochs=max(v.config.epochs for v in views), title=t(f"compare.chart.{metric}"), **AXES)
    st.vega_lite_chart(overlay_spec(curves, metric, **options, scale=SCALE), width="stretch",
                       alt=t(f"compare.chart.{metric}"))
    show_table(summary_table(views, labels))
    if all(v.finished for v in views) and not presentation():
        with st.expander(t("export.title"), icon=":material/download:"):
            wide = pd.concat([epochs_frame(v, label=labels[v.key]) for v in views], ignore_index=True)
            a, b, c = st.columns(3)
            with a:
                export.csv_button(wide, "regdemo-compare", key="cmp_csv", label=t("export.csv.epochs"))
            with b:
                export.chart_buttons(lambda scale: overlay_chart(curves, metric, **options, scale=scale),
                                     f"regdemo-compare-{metric}", key="cmp_chart", label=t(f"chart.{metric}"))
            c.caption(t("export.help"))


live_runs(selected, draw_overlay, name="overlay")


# --- the article's experiment -------------------------------------------------------------

def start_article() -> None:
    """Button callback: start (or join) the four runs, as many as this session may.

    Reads the widgets' values now (a callback runs before the script, with
    every widget change of the same interaction already applied)."""
    refused = []
    configs = article_configs(ss.cmp_article_dataset, int(ss.cmp_article_epochs), ss.cmp_article_recipe,
                              int(ss.cmp_article_seed))
    for name, config in configs.items():
        try:
            registry().get_or_start(config, session=session_id())
        except (RunLimitError, ConfigError) as err:
            refused.append(t("compare.article.refused", run=t(f"compare.article.{name}"), reason=render_message(err)))
    ss.cmp_article_refused = refused


def article_table(views: dict[str, object]) -> pd.DataFrame:
    rows = []
    for name in ARTICLE:
        view = views.get(name)
        ours = summary_frame([view]).iloc[0] if view is not None else None
        theirs = ARTICLE_RESULTS[name]

        def pct(value):
            return float("nan") if value is None or pd.isna(value) else float(value) * 100  # an empty cell

        rows.append({
            t("compare.article.col.experiment"): t(f"compare.article.{name}"),
            t("compare.article.col.status"): status_text(view) if view is not None else t("compare.article.not_run"),
            t("compare.article.col.our_train"): pct(ours["train_acc"] if ours is not None else None),
            t("compare.article.col.our_train_eval"): pct(ours["train_acc_eval"] if ours is not None else None),
            t("compare.article.col.our_test"): pct(ours["test_acc"] if ours is not None else None),
            t("compare.article.col.their_train"): theirs["train_acc"] * 100,
            t("compare.article.col.their_test"): theirs["test_acc"] * 100,
        })
    return pd.DataFrame(rows)


st.divider()
st.header(t("compare.article.title"))
if not presentation():
    st.markdown(t("compare.article.intro"))
if presentation():  # no controls: the recipe chosen before, else the defaults
    recipe, dataset = ss.get("cmp_article_recipe", list(RECIPES)[0]), ss.get("cmp_article_dataset", DATASETS[0])
    epochs, seed = ss.get("cmp_article_epochs", DEFAULT_EPOCHS), ss.get("cmp_article_seed", 0)
else:
    recipe_col, data_col, epochs_col, seed_col = st.columns([3, 3, 3, 2], vertical_alignment="bottom")
    recipe = recipe_col.radio(t("compare.article.recipe"), list(RECIPES), key="cmp_article_recipe",
                              format_func=lambda r: t(f"compare.article.recipe.{r}"),
                              help=t("compare.article.recipe.help"))
    dataset = data_col.selectbox(t("sidebar.dataset"), DATASETS, key="cmp_article_dataset",
                                 format_func=lambda d: t(f"sidebar.dataset.{d}"))
    epochs = epochs_col.slider(t("compare.article.epochs"), 1, MAX_EPOCHS, DEFAULT_EPOCHS,
                               key="cmp_article_epochs")
    seed = seed_col.number_input(t("sidebar.seed"), 0, 9999, 0, step=1, key="cmp_article_seed")
    st.button(t("compare.article.run"), type="primary", key="cmp_article_run", on_click=start_article,
              icon=":material/play_arrow:")
for problem in ss.pop("cmp_article_refused", []):
    st.warning(problem)
article = article_configs(dataset, epochs, recipe, int(seed))
st.caption(t("compare.article.setup", dataset=t(f"sidebar.dataset.{dataset}"), train=DATASET_TRAIN_SIZES[dataset],
             epochs=epochs, count=epochs, batch=article[ARTICLE[0]].batch_size))

reg = registry()
present = {name: config.key() for name, config in article.items() if reg.get(config.key()) is not None}


def draw_article(views) -> None:
    by_name = {name: next((v for v in views if v.key == key), None) for name, key in present.items()}
    table = article_table(by_name)
    percent = st.column_config.NumberColumn(format="%.2f")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: percent for c in table.columns[2:]})
    shown = [v for v in views if v.epochs or v.progress]
    if shown:
        names = {v.key: t(f"compare.article.{name}") for name, v in by_name.items() if v is not None}
        curves = pd.concat([curves_frame(v, label=names[v.key]) for v in shown], ignore_index=True)
        colors = {t(f"compare.article.{name}"): ARTICLE_COLORS[name] for name in ARTICLE}
        spec = overlay_spec(curves, "acc", colors=colors, t=t, splits=[TRAIN, TEST], epochs=epochs,
                            title=t("compare.article.chart"), scale=SCALE)
        st.vega_lite_chart(spec, width="stretch", alt=t("compare.article.chart"))
    at_chance = [t(f"compare.article.{name}") for name, v in by_name.items() if v is not None and stuck(v)]
    if at_chance:
        st.warning(t("compare.article.stuck", runs=", ".join(at_chance)), icon=":material/pause_circle:")
    if not presentation():
        st.caption(t("compare.article.read"))


if present:
    live_runs(list(present.values()), draw_article, name="article")
else:
    st.info(t("compare.article.none", command=train_command(article[ARTICLE[0]])))
