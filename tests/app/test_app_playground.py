"""AppTest of the Playground: the sidebar drives the config, links round-trip, Train starts
the sidebar's run, a moved widget never touches the run on screen, every status shows.

The pages talk to a real Registry (a run store in tmp_path) whose training
function plays scripted events, so a run's numbers are known and its state
(running until stopped, diverged, failed) is chosen by its seed. One test
trains for real (100 digits, one epoch). AppTest runs no run_every timers:
tests wait on the Run itself, then rerun the page.
"""

from __future__ import annotations

import time

import pytest
from support import (
    DIVERGED_SEED,
    FAILED_SEED,
    HOLD_SEED,
    SMALL,
    app,
    chart_rows,
    chart_specs,
    rerun,
    scripted,
    scripted_test_acc,
    texts,
    use_registry,
)

from regdemo.runs.registry import Registry
from regdemo.storage.sqlite import RunStore
from regdemo.training.config import RunConfig, to_query_params
from regdemo.training.events import FINISHED, STOPPED

# --- rendering and the sidebar ----------------------------------------------------------

def test_renders_before_any_run_and_trains_nothing(registry):
    at = app()
    assert at.title[0].value == "Regularization Lab"
    assert "Not trained yet" in texts(at.info)
    assert at.button(key="pg_stop").disabled
    assert not registry.runs()
    # The empty axes of the setup, so the student sees where the curves will grow.
    assert [s.get("title") for s in chart_specs(at)] == ["Accuracy", "Loss"]
    assert all(sum(chart_rows(c).values()) == 0 for c in at.get("vega_lite_chart"))


def test_trains_own_rerun_already_draws_the_first_points(registry):
    # AppTest runs no fragment timers: points on the page right after the click came from
    # the click's own rerun, which waits (up to FIRST_POINT_WAIT_S) for the first event.
    config = SMALL.replace(seed=HOLD_SEED)  # one step, then it holds until stopped
    at = app(to_query_params(config))
    at.button(key="pg_train").click()
    rerun(at)
    run = registry.get(config.key())
    assert run is not None and not run.finished
    assert chart_rows(at.get("vega_lite_chart")[0])["lines"] > 0
    at.button(key="pg_stop").click()
    rerun(at)
    assert run.wait(10) and run.status == STOPPED


def test_sidebar_widgets_drive_the_config_and_the_link(registry):
    at = app()
    assert at.session_state["config"] == RunConfig()
    at.slider(key="cfg_dropout").set_value(0.5)
    at.select_slider(key="cfg_l2").set_value(1e-3)
    at.toggle(key="cfg_bn").set_value(True)
    at.selectbox(key="cfg_model").set_value("article")
    rerun(at)
    expected = RunConfig(dropout=0.5, l2=1e-3, batchnorm=True, model="article")
    assert at.session_state["config"] == expected
    assert {k: at.query_params[k] for k in at.query_params} == to_query_params(expected)


def test_a_link_round_trips_through_the_widgets(registry):
    config = RunConfig(model="article", dropout=0.3, l1=1e-5, l2=1e-3, augment="light", batchnorm=True, patience=2,
                       train_size=500, epochs=7, seed=42)
    at = app(to_query_params(config))
    assert at.slider(key="cfg_dropout").value == pytest.approx(0.3)
    assert at.select_slider(key="cfg_l1").value == pytest.approx(1e-5)
    assert at.select_slider(key="cfg_l2").value == pytest.approx(1e-3)
    assert at.select_slider(key="cfg_augment").value == "light"
    assert at.toggle(key="cfg_bn").value is True
    assert at.slider(key="cfg_patience").value == 2 and at.slider(key="cfg_epochs").value == 7
    assert at.select_slider(key="cfg_train_size").value == 500 and at.number_input(key="cfg_seed").value == 42
    assert at.session_state["config"] == config
    assert not at.warning
    # A widget moved later changes just its own part of the link.
    at.number_input(key="cfg_seed").set_value(43)
    rerun(at)
    assert {k: at.query_params[k] for k in at.query_params} == to_query_params(config.replace(seed=43))


def test_a_link_with_the_advanced_settings_round_trips(registry):
    config = RunConfig(optimizer="adam", lr=0.07, batch_size=100)
    assert to_query_params(config) == {"optimizer": "adam", "lr": "0.07", "batch": "100"}
    at = app(to_query_params(config))
    assert not at.exception and not at.warning
    assert at.select_slider(key="cfg_lr").value == pytest.approx(0.07)
    assert at.select_slider(key="cfg_batch").value == 100  # off the slider's stops, kept
    assert at.session_state["config"] == config


def test_valid_values_beyond_a_slider_range_widen_it_instead_of_failing(registry):
    """RunConfig allows 200 epochs, patience 100, p < 1 and any 31-bit seed; the sliders'
    everyday ranges are smaller. A link with such a value opens and keeps it."""
    config = RunConfig(epochs=120, patience=40, dropout=0.95, seed=123456)
    at = app(to_query_params(config))
    assert not at.exception and not at.warning
    assert at.slider(key="cfg_epochs").value == 120 and at.slider(key="cfg_patience").value == 40
    assert at.slider(key="cfg_dropout").value == pytest.approx(0.95)
    assert at.number_input(key="cfg_seed").value == 123456
    assert at.session_state["config"] == config


def test_bad_link_parameters_warn_and_fall_back_to_defaults(registry):
    at = app({"dropout": "lots", "l2": "-1", "colour": "red", "epochs": "1e9", "lang": "xx"})
    warnings = texts(at.warning)
    for name in ("dropout", "l2", "colour", "epochs", "lang"):
        assert name in warnings
    assert len(at.warning) == 5
    assert at.session_state["config"] == RunConfig()
    assert at.slider(key="cfg_dropout").value == 0.0
    rerun(at)
    assert not at.warning  # shown once, not on every rerun


# --- Train, Stop and the run on screen -------------------------------------------------

def test_train_starts_the_sidebar_run_and_shows_it_finished(registry):
    config = SMALL.replace(dropout=0.5)
    at = app(to_query_params(config))
    at.button(key="pg_train").click()
    rerun(at)
    run = registry.get(config.key())
    assert run is not None and at.session_state["run_key"] == run.key
    assert [r.key for r in registry.runs()] == [run.key]
    assert run.wait(30) and run.status == FINISHED
    rerun(at)
    assert "Finished: 2 epochs." in texts(at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["test accuracy"] == f"{scripted_test_acc(2):.2%}"
    assert metrics["train accuracy (eval mode)"] == "93.00%"
    assert metrics["gap"] == f"{(0.93 - scripted_test_acc(2)) * 100:+.1f} pts"
    specs = chart_specs(at)
    assert [s.get("title") for s in specs[:2]] == ["Accuracy", "Loss"]
    assert len(specs) == 3  # accuracy, loss and the dropped units
    assert specs[2]["width"] == specs[2]["height"]  # 16 x 16 units
    labels = [b.label for b in at.download_button]
    assert "Per-epoch table (CSV)" in labels and "accuracy chart (PNG)" in labels
    assert at.button(key="pg_stop").disabled


def test_a_finished_run_shows_at_once_when_the_same_setup_is_opened_again(registry):
    config = SMALL.replace(seed=5)
    first = app(to_query_params(config))
    first.button(key="pg_train").click()
    rerun(first)
    assert registry.get(config.key()).wait(30)
    second = app(to_query_params(config))  # another student, same link, no Train
    assert "Finished: 2 epochs." in texts(second.success)
    assert len(registry.runs()) == 1


def test_moving_a_widget_mid_run_keeps_that_run_and_says_what_the_next_train_uses(registry):
    config = SMALL.replace(seed=HOLD_SEED)
    at = app(to_query_params(config))
    at.button(key="pg_train").click()
    rerun(at)
    run = registry.get(config.key())
    at.slider(key="cfg_dropout").set_value(0.5)
    rerun(at)
    assert not run.finished and at.session_state["run_key"] == run.key
    assert len(registry.runs()) == 1
    assert "Dropout p: 0 → 0.5" in texts(at.info)
    assert at.session_state["config"] == config.replace(dropout=0.5)
    at.button(key="pg_stop").click()
    rerun(at)
    assert run.wait(10) and run.status == STOPPED
    rerun(at)
    assert "Stopped." in texts(at.info)


def test_a_queued_run_says_its_place_in_line(registry):
    holds = [registry.get_or_start(SMALL.replace(seed=HOLD_SEED + 100 * i)) for i in range(2)]  # both trainers
    deadline = time.monotonic() + 30
    while any(run.status != "running" for run in holds) and time.monotonic() < deadline:
        time.sleep(0.05)
    at = app(to_query_params(SMALL.replace(seed=3)))
    at.button(key="pg_train").click()
    rerun(at)
    assert "Queued: position 1 in line." in texts(at.info)
    for run in holds:
        run.stop()


@pytest.mark.parametrize(("seed", "kind", "words"), [
    (DIVERGED_SEED, "warning", "lower the learning rate"),
    (FAILED_SEED, "error", "a scripted failure"),
])
def test_diverged_and_failed_runs_say_why(registry, seed, kind, words):
    config = SMALL.replace(seed=seed)
    at = app(to_query_params(config))
    at.button(key="pg_train").click()
    rerun(at)
    assert registry.get(config.key()).wait(30)
    rerun(at)
    assert words in texts(getattr(at, kind))


def test_the_session_run_limit_is_shown_not_raised(tmp_path, monkeypatch):
    reg = use_registry(monkeypatch, Registry(workers=1, train=scripted, store=RunStore(tmp_path / "runs.sqlite3"),
                                             session_limit=1))
    try:
        at = app(to_query_params(SMALL.replace(seed=HOLD_SEED)))
        at.button(key="pg_train").click()
        rerun(at)
        at.number_input(key="cfg_seed").set_value(4)
        at.button(key="pg_train").click()
        rerun(at)
        assert "limit is 1" in texts(at.error)
        assert len(reg.runs()) == 1
    finally:
        reg.shutdown()


def test_presentation_mode_draws_larger_charts_and_fewer_words(registry):
    config = SMALL.replace(seed=6)
    registry.get_or_start(config).wait(30)
    normal = app(to_query_params(config))
    present = app({**to_query_params(config), "present": "1"})
    assert present.session_state["presentation"] is True
    big, small = chart_specs(present)[0], chart_specs(normal)[0]
    assert big["height"] > small["height"]
    assert big["config"]["axis"]["labelFontSize"] > small["config"]["axis"]["labelFontSize"]
    assert len(present.caption) < len(normal.caption)
    assert not present.download_button  # export is for the teacher's laptop, not the slide


def test_train_trains_a_real_network(tmp_path, monkeypatch):
    """The real engine behind the same page: 100 digits, one epoch, dropout masks."""
    reg = use_registry(monkeypatch, Registry(workers=1, store=RunStore(tmp_path / "runs.sqlite3")))
    try:
        config = RunConfig(train_size=100, epochs=1, dropout=0.5, seed=3)
        at = app(to_query_params(config))
        at.button(key="pg_train").click()
        rerun(at)
        run = reg.get(config.key())
        assert run.wait(300) and run.status == FINISHED, run.message
        rerun(at)
        metrics = {m.label: m.value for m in at.metric}
        assert float(metrics["test accuracy"].rstrip("%")) > 10  # better than guessing
        assert len(chart_specs(at)) == 3 and "dropped" in texts(at.caption)
    finally:
        reg.shutdown()
