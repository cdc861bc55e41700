"""webapp.live: charts built once per run and event count for every session; the redraw
interval grows with the sessions watching."""

from __future__ import annotations

import pytest

import webapp.live as live
from regdemo.runs.records import Run
from regdemo.training.config import RunConfig
from regdemo.training.events import Progress, Started
from webapp import state


def view_with(run: Run, steps: int):
    for step in range(len(run.progress) + 1, steps + 1):
        run.apply(Progress(step=step, epoch=step / 10, train_loss=1.0, train_acc=0.5))
    return run.view()


def test_a_chart_is_built_once_per_run_events_and_options():
    run = Run(RunConfig(seed=321, train_size=200, epochs=1))
    run.mark_running()
    run.apply(Started(device="cpu", train_size=200, test_size=10, val_size=0, steps_per_epoch=10, parameters=1))
    builds = []

    def build():
        builds.append(1)
        return {"built": len(builds)}

    first = live.cached_chart(view_with(run, 2), "acc", build, "en", True)
    again = live.cached_chart(run.view(), "acc", build, "en", True)  # another session, nothing new
    assert again is first and len(builds) == 1
    assert live.cached_chart(run.view(), "acc", build, "zh", True) is not first  # other options
    newer = live.cached_chart(view_with(run, 3), "acc", build, "en", True)  # a new event
    assert newer is not first and len(builds) == 3


class Watching:
    def __init__(self, n):
        self.n = n

    def queue_length(self):
        return 0

    def watching(self):
        return self.n


@pytest.mark.parametrize(("sessions", "seconds"), [(1, 0.4), (6, 0.4), (10, 0.8), (30, 1.6)])
def test_redraws_get_rarer_as_more_sessions_watch(monkeypatch, sessions, seconds):
    monkeypatch.setattr(state, "override", Watching(sessions))
    assert live.refresh_seconds([]) == seconds
    assert seconds in live.INTERVALS


class Queue(Watching):
    def queue_length(self):
        return 1


def test_a_run_queued_a_moment_ago_redraws_at_the_normal_pace(monkeypatch):
    # Just after Train a run is queued for a fraction of a second until a worker takes it;
    # at the busy pace (2 s) its first points would wait for the next tick.
    monkeypatch.setattr(state, "override", Queue(1))
    run = Run(RunConfig(seed=5))
    assert live.refresh_seconds([run.view()]) == live.REFRESH_SECONDS
    run.created_at -= live.JUST_QUEUED_SECONDS + 1  # still waiting: the queue is really busy
    assert live.refresh_seconds([run.view()]) == live.BUSY_REFRESH_SECONDS
    assert live.refresh_seconds([]) == live.BUSY_REFRESH_SECONDS  # others wait in the queue
