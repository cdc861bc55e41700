"""AppTest of the Compare page: runs on the same axes in fixed colours, the final-accuracy
table, the stored runs, and the article's experiment beside its published numbers.

The registry trains with support.scripted (tests/app/conftest.py), as for the Playground's tests.
"""

from __future__ import annotations

import pytest
from support import HOLD_SEED, SMALL, STUCK_SEED, app, chart_specs, rerun, scripted_test_acc, texts, use_registry

from regdemo.runs.registry import Registry
from regdemo.storage.sqlite import RunStore
from regdemo.training.config import ARTICLE_RESULTS, RunConfig, preset
from regdemo.training.events import FINISHED, STOPPED, Done

PAGE = "app_pages/compare.py"


def compare(query=None, **state):
    at = app(query, **state)
    at.switch_page(PAGE)
    return rerun(at)


def finished(reg: Registry, *configs: RunConfig):
    runs = [reg.get_or_start(config) for config in configs]
    assert all(run.wait(30) for run in runs)
    return runs


def overlay(at) -> dict:
    """The spec of the runs overlay (the chart whose data is named "runs")."""
    return next(spec for spec in chart_specs(at) if spec.get("data", {}).get("name") == "runs")


def run_colors(spec) -> dict[str, str]:
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    return dict(zip(scale["domain"], scale["range"], strict=True))


def test_renders_with_no_runs_and_starts_none(registry):
    at = compare()
    assert at.title[0].value == "Compare runs"
    assert "No runs picked" in texts(at.info) and "Not run yet" in texts(at.info)
    assert not registry.runs()


def test_runs_overlay_in_fixed_colours_with_a_table_of_final_accuracies(registry):
    plain, dropout = finished(registry, SMALL, SMALL.replace(dropout=0.5))
    at = compare()
    picker = at.multiselect(key="cmp_runs")
    assert set(picker.value) == {plain.key, dropout.key}  # the newest runs, picked for you
    colors = run_colors(overlay(at))
    assert len(set(colors.values())) == 2
    table = at.dataframe[0].value
    assert len(table) == 2
    assert list(table["test %"]) == pytest.approx([scripted_test_acc(2) * 100] * 2)
    assert list(table["gap (points)"]) == pytest.approx([(0.93 - scripted_test_acc(2)) * 100] * 2)

    # Dropping a run from the picture leaves the other in its colour.
    picker.unselect(plain.key)
    rerun(at)
    assert run_colors(overlay(at)) == {label: c for label, c in colors.items() if "dropout" in label}
    assert len(at.dataframe[0].value) == 1


def test_loss_and_other_splits_can_be_shown(registry):
    finished(registry, SMALL)
    at = compare()
    at.segmented_control(key="cmp_metric").set_value("loss")
    at.pills(key="cmp_splits").set_value(["test", "train (eval mode)"])
    rerun(at)
    spec = overlay(at)
    assert spec["title"] == "Loss"
    assert set(spec["layer"][0]["encoding"]["strokeDash"]["scale"]["domain"]) == {"test", "train (eval mode)"}


def test_a_run_trained_elsewhere_is_read_from_the_store(tmp_path, monkeypatch, trainer):
    """A run the CLI stored the night before shows in a fresh server's Compare list."""
    store = RunStore(tmp_path / "runs.sqlite3")
    night = Registry(workers=1, train=trainer, store=store)
    config = SMALL.replace(seed=8)
    try:
        finished(night, config)
    finally:
        night.shutdown()
    fresh = use_registry(monkeypatch, Registry(workers=1, train=trainer, store=store))
    try:
        at = compare()
        assert at.multiselect(key="cmp_runs").value == [config.key()]
        assert len(at.dataframe[0].value) == 1
    finally:
        fresh.shutdown()


def test_one_click_runs_the_article_experiment_beside_its_published_numbers(registry):
    at = compare()
    at.slider(key="cmp_article_epochs").set_value(2)
    rerun(at)
    at.button(key="cmp_article_run").click()
    rerun(at)
    # The class-time recipe: the article's choices but batch 32.
    configs = {name: preset(name, dataset="mnist-sample", epochs=2, batch_size=32) for name in ARTICLE_RESULTS}
    runs = [registry.get(config.key()) for config in configs.values()]
    assert all(run is not None for run in runs), "all four started"
    assert all(run.wait(30) and run.status == FINISHED for run in runs)
    assert runs[1].config.dropout == 0.25 and runs[2].config.l1 == 5e-5 and runs[3].config.l2 == 3e-3
    assert all(run.config.penalize_all and run.config.lr == 0.01 and run.config.model == "article" for run in runs)
    rerun(at)
    article = at.dataframe[-1].value
    assert list(article["experiment"]) == ["baseline", "dropout 0.25", "L1 5e-5", "L2 3e-3"]
    assert list(article["article: test %"]) == pytest.approx([r["test_acc"] * 100 for r in ARTICLE_RESULTS.values()])
    assert list(article["ours: test %"]) == pytest.approx([scripted_test_acc(2) * 100] * 4)
    assert "4,000 training digits, 2 epochs, batch 32" in texts(at.caption)
    assert any(spec.get("title") == "The article's four runs: train (dashed) and test (solid)"
               for spec in chart_specs(at))

    # The article's exact recipe is one choice away, and a separate set of runs.
    at.radio(key="cmp_article_recipe").set_value("article")
    rerun(at)
    assert "Not run yet" in texts(at.info) and "batch 128" in texts(at.caption)
    at.button(key="cmp_article_run").click()
    rerun(at)
    exact = registry.get(preset("article-l2", epochs=2).key())
    assert exact is not None and exact.config.batch_size == 128 and exact.wait(30)


def test_runs_that_end_at_chance_are_named_with_what_to_try(registry):
    at = compare()
    at.slider(key="cmp_article_epochs").set_value(1)
    at.number_input(key="cmp_article_seed").set_value(STUCK_SEED)
    rerun(at)
    assert f"--seed {STUCK_SEED}" in texts(at.info)  # the CLI command makes the same runs
    at.button(key="cmp_article_run").click()
    rerun(at)
    runs = [registry.get(preset(name, epochs=1, batch_size=32, seed=STUCK_SEED).key()) for name in ARTICLE_RESULTS]
    assert all(run is not None and run.wait(30) for run in runs)
    rerun(at)
    assert "baseline, dropout 0.25, L1 5e-5, L2 3e-3" in texts(at.warning)
    assert "another seed" in texts(at.warning)


def test_runs_that_learn_get_no_such_warning(registry):
    at = compare()
    at.slider(key="cmp_article_epochs").set_value(1)
    at.button(key="cmp_article_run").click()
    rerun(at)
    assert all(registry.get(preset(n, epochs=1, batch_size=32).key()).wait(30) for n in ARTICLE_RESULTS)
    rerun(at)
    assert not at.warning


def until_stopped(config, stop):
    """A run that trains until it is stopped (and draws nothing)."""
    stop.wait(60)
    yield Done(STOPPED, 0, 0, 0, "Stopped by the user.")


def test_the_article_experiment_within_a_small_session_limit_says_what_did_not_start(tmp_path, monkeypatch):
    reg = use_registry(monkeypatch, Registry(workers=1, train=until_stopped, store=RunStore(tmp_path / "runs.sqlite3"),
                                             session_limit=2))
    try:
        at = compare()
        at.slider(key="cmp_article_epochs").set_value(1)
        at.button(key="cmp_article_run").click()
        rerun(at)
        assert len(reg.runs()) == 2
        assert len(at.warning) == 2 and "limit is 2" in texts(at.warning)
        assert "L1 5e-5" in texts(at.warning) and "L2 3e-3" in texts(at.warning)
    finally:
        reg.shutdown()


def test_a_run_still_training_is_drawn_with_its_status(registry):
    run = registry.get_or_start(SMALL.replace(seed=HOLD_SEED))
    at = compare()
    assert at.multiselect(key="cmp_runs").value == [run.key]
    assert not at.exception
    run.stop()
