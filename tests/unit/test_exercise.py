"""Exercise links: parsing `show` / `lock`, and building a link that round-trips."""

from __future__ import annotations

from regdemo.messages import render
from regdemo.teaching import exercise
from regdemo.teaching.exercise import FREE, HIDDEN, LOCKED, Exercise
from regdemo.training.config import RunConfig, from_query_params


def test_no_parameters_is_no_exercise():
    task, warnings = exercise.parse({})
    assert not task.active and not warnings
    assert all(task.mode(c) == FREE for c in exercise.CONTROLS)


def test_show_keeps_only_the_named_controls_free():
    task, warnings = exercise.parse({"show": ["dropout,noise"]})
    assert not warnings and task.active
    assert task.mode("dropout") == FREE and task.mode("noise") == FREE
    assert task.mode("l2") == HIDDEN and task.mode("epochs") == HIDDEN


def test_lock_alone_locks_those_and_leaves_the_rest_free():
    task, _ = exercise.parse({"lock": "noise, epochs"})
    assert task.mode("noise") == LOCKED and task.mode("epochs") == LOCKED
    assert task.mode("dropout") == FREE


def test_a_name_in_show_and_lock_is_locked():
    task, _ = exercise.parse({"show": "dropout,noise", "lock": "noise"})
    assert task.mode("noise") == LOCKED and task.mode("dropout") == FREE and task.mode("l1") == HIDDEN


def test_bad_names_warn_and_are_ignored():
    task, warnings = exercise.parse({"show": "dropout,colour", "lock": "\x00evil"})
    assert task.show == ("dropout",) and task.lock == ()
    warnings = [render(w) for w in warnings]
    assert len(warnings) == 2 and "colour" in warnings[0] and "\x00" not in warnings[1]


def test_a_show_of_only_bad_names_is_no_exercise_but_show_none_hides_everything():
    task, warnings = exercise.parse({"show": "colour"})
    assert not task.active and warnings
    task, warnings = exercise.parse({"show": "none"})
    assert task.active and not warnings
    assert all(task.mode(c) == HIDDEN for c in exercise.CONTROLS)


def test_link_params_round_trip_through_the_parsers():
    config = RunConfig(dropout=0.5, label_noise=0.2, epochs=15)
    params = exercise.link_params(config, free=["dropout"], lock=["noise", "dropout"])
    assert params == {"dropout": "0.5", "noise": "0.2", "epochs": "15", "show": "dropout", "lock": "noise"}
    parsed, warnings = from_query_params(params)
    assert parsed == config and not warnings  # show/lock are not run parameters
    task, warnings = exercise.parse(params)
    assert task == Exercise(show=("dropout",), lock=("noise",)) and not warnings


def test_nothing_free_writes_show_none():
    assert exercise.link_params(RunConfig(), free=[]) == {"show": "none"}
