"""AppTest of the sidebar's label-noise slider and of exercise links (show / lock).

The registry trains with support.scripted (tests/app/conftest.py), as for the Playground's tests.
"""

from __future__ import annotations

import pytest
from support import SMALL, app, chart_specs, rerun, texts

from regdemo.training.config import RunConfig, to_query_params


def params(at) -> dict:
    return {k: at.query_params[k] for k in at.query_params}


def keys(elements) -> set:
    return {e.key for e in elements}


def test_noise_slider_is_off_by_default_and_goes_into_the_config_and_link(registry):
    at = app()
    assert at.select_slider(key="cfg_noise").value == 0.0
    at.select_slider(key="cfg_noise").set_value(0.2)
    rerun(at)
    assert at.session_state["config"] == RunConfig(label_noise=0.2)
    assert params(at) == {"noise": "0.2"}


def test_a_link_noise_off_the_slider_steps_widens_it(registry):
    at = app({"noise": "0.25"})
    assert not at.warning
    assert at.select_slider(key="cfg_noise").value == pytest.approx(0.25)
    assert at.session_state["config"].label_noise == pytest.approx(0.25)


def test_a_bad_noise_warns_and_stays_off(registry):
    at = app({"noise": "0.9"})
    assert "noise" in texts(at.warning)
    assert at.session_state["config"].label_noise == 0.0


def test_show_link_fixes_the_setup_and_shows_only_the_chosen_control(registry):
    at = app({"dropout": "0.5", "noise": "0.2", "show": "dropout"})
    assert not at.warning and not at.exception
    assert "cfg_dropout" in keys(at.slider) and not at.slider(key="cfg_dropout").disabled
    shown = keys(at.slider) | keys(at.select_slider) | keys(at.toggle) | keys(at.selectbox)
    for hidden in ("cfg_noise", "cfg_l1", "cfg_l2", "cfg_epochs", "cfg_bn", "cfg_model", "cfg_device"):
        assert hidden not in shown
    assert at.session_state["config"] == RunConfig(dropout=0.5, label_noise=0.2)
    assert "teacher" in texts(at.info)
    # The student moves the free control: the hidden setup stays, the link keeps the exercise.
    at.slider(key="cfg_dropout").set_value(0.25)
    rerun(at)
    assert at.session_state["config"] == RunConfig(dropout=0.25, label_noise=0.2)
    assert params(at) == {"dropout": "0.25", "noise": "0.2", "show": "dropout"}
    assert "exercise_free" not in keys(at.multiselect)  # the builder is the teacher's, not the student's


def test_locked_controls_are_shown_disabled_with_a_lock(registry):
    at = app({"noise": "0.3", "lock": "noise,dropout"})
    noise = at.select_slider(key="cfg_noise")
    assert noise.disabled and noise.label.startswith("🔒") and noise.value == pytest.approx(0.3)
    assert at.slider(key="cfg_dropout").disabled
    assert not at.select_slider(key="cfg_l2").disabled and not at.select_slider(key="cfg_l2").label.startswith("🔒")
    assert params(at)["lock"] == "dropout,noise"


def test_reset_in_an_exercise_restores_the_exercise_setup(registry):
    at = app({"dropout": "0.5", "noise": "0.2", "show": "dropout,epochs"})
    at.slider(key="cfg_dropout").set_value(0.1)
    at.slider(key="cfg_epochs").set_value(3)
    rerun(at)
    at.button(key="sidebar_reset").click()
    rerun(at)
    assert at.session_state["config"] == RunConfig(dropout=0.5, label_noise=0.2)


def test_a_bad_show_or_lock_warns_and_is_ignored(registry):
    at = app({"show": "colour", "lock": "everything"})
    warning = texts(at.warning)
    assert "colour" in warning and "everything" in warning
    assert not at.slider(key="cfg_dropout").disabled and "cfg_noise" in keys(at.select_slider)
    assert "show" not in params(at) and "lock" not in params(at)


def test_copy_exercise_link_builds_the_link_of_the_current_setup(registry):
    at = app({"dropout": "0.5", "noise": "0.2"})
    at.multiselect(key="exercise_free").set_value(["dropout"])
    rerun(at)
    at.multiselect(key="exercise_locked").set_value(["noise"])
    rerun(at)
    link = at.sidebar.code[0].value
    assert link.endswith("?dropout=0.5&noise=0.2&show=dropout&lock=noise")


# --- the axis switches ---------------------------------------------------------------

def y_of(spec: dict) -> dict:
    return next(layer["encoding"]["y"] for layer in spec["layer"] if layer["mark"]["type"] == "line")


def test_playground_zooms_accuracy_by_default_and_toggles_back_and_to_log_loss(registry):
    at = app(to_query_params(SMALL))
    at.button(key="pg_train").click()
    rerun(at)
    assert registry.get(SMALL.key()).wait(30)
    rerun(at)
    acc, loss = (y_of(s) for s in chart_specs(at)[:2])
    # scripted: train-mode 45 % just after epoch 1 is the lowest point from then on
    assert acc["title"] == "accuracy (zoomed)" and acc["scale"]["domain"] == [0.4, 0.95]
    assert loss["title"] == "loss (from epoch 1)" and "type" not in loss["scale"]  # epoch 0's 2.3 left out
    at.toggle(key="pg_zoom").set_value(False)
    at.toggle(key="pg_log").set_value(True)
    rerun(at)
    acc, loss = (y_of(s) for s in chart_specs(at)[:2])
    assert acc["title"] == "accuracy" and acc["scale"]["domain"] == [0, 1]
    assert loss["title"] == "loss (log scale)" and loss["scale"]["type"] == "log"

