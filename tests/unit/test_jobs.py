"""regdemo.runs.registry: single-flight, the FIFO queue, the session cap, viewers, the store hook,
failures, device fallback and shutdown.

Registry logic runs on a fake `train` (a generator of real event records, stepped by the
test) in the registry's in-process pool: threads that call the same worker function
(execute.train_run) and pass events through the same live store as the app's worker
processes. Only the tests that start processes (pool size, the end-to-end run at the
bottom) train a model. The registry's viewer clock is faked: no test sleeps to let a
grace period pass.
"""

from __future__ import annotations

import functools
import os
import threading
import time

import pytest
import torch

from regdemo.messages import render
from regdemo.runs import cpus
from regdemo.runs import registry as jobs
from regdemo.runs.records import QUEUED, RUNNING, Run, RunLimitError
from regdemo.settings import SettingError
from regdemo.storage.sqlite import RunStore
from regdemo.training.config import RunConfig
from regdemo.training.data import DataError
from regdemo.training.events import (
    DIVERGED,
    EARLY_STOPPED,
    FAILED,
    FINISHED,
    STOPPED,
    Done,
    EpochEnd,
    Progress,
    Started,
)

A, B, C, D = (RunConfig(dropout=p, train_size=200, epochs=1) for p in (0.0, 0.1, 0.2, 0.3))


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "home"))
    for name in ("REGDEMO_WORKERS", "REGDEMO_SESSION_RUNS", "REGDEMO_MAX_QUEUED", "REGDEMO_GRACE_SECONDS"):
        monkeypatch.delenv(name, raising=False)


def wait_for(predicate, timeout=20.0):
    """Poll until predicate() is true; fail (not hang) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def epoch_end(epoch, test_acc=0.5, best_epoch=None, step=4):
    return EpochEnd(epoch=epoch, train_loss=1.0, train_acc=0.6, train_loss_eval=0.9, train_acc_eval=0.65,
                    test_loss=1.1, test_acc=test_acc, val_loss=None, val_acc=None, l1_norm=10.0, l2_norm=1.0,
                    near_zero=0.01, weight_hist=(1,) * 61, best_epoch=best_epoch or epoch, seconds=0.1,
                    step=step)


class FakeTrain:
    """Stands in for engine.fit: Started, `steps` Progress events, an EpochEnd per epoch, Done.

    With manual=True each step waits for the test to allow() it, so the test decides
    exactly where a run is. `raise_at` raises an exception at that step; `final` is the
    Done status; `oom_on` raises torch.OutOfMemoryError after Started on those devices.
    """

    def __init__(self, steps=4, manual=False, raise_at=None, final=FINISHED, oom_on=(), device="cpu"):
        self.steps, self.manual, self.raise_at, self.final = steps, manual, raise_at, final
        self.oom_on, self.device = oom_on, device
        self.calls: list[RunConfig] = []
        self._allowed = threading.Semaphore(0)

    def allow(self, steps=1):
        for _ in range(steps):
            self._allowed.release()

    def _wait_for_step(self, stop):
        deadline = time.monotonic() + 20
        while not self._allowed.acquire(timeout=0.01):
            if stop.is_set():  # like fit: a stop is seen before the next step
                return
            if time.monotonic() > deadline:
                raise AssertionError("test never allowed the step")

    def __call__(self, config, stop):
        self.calls.append(config)
        device = self.device if config.device == "auto" else config.device
        yield Started(device=device, train_size=200, test_size=1000, val_size=0,
                      steps_per_epoch=self.steps, parameters=1234)
        if device in self.oom_on:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        for step in range(1, self.steps * config.epochs + 1):
            if self.manual:
                self._wait_for_step(stop)
            if stop.is_set():
                yield Done(STOPPED, (step - 1) // self.steps, 0, step - 1, "Stopped by the user.")
                return
            if step == self.raise_at:
                raise ValueError("boom in the training thread")
            yield Progress(step=step, epoch=step / self.steps, train_loss=1.0, train_acc=0.5)
            if step % self.steps == 0:
                yield epoch_end(step // self.steps, step=step)
        if self.final == DIVERGED:
            yield Done(DIVERGED, config.epochs, config.epochs, self.steps, "The loss became NaN at step 4.")
        else:
            yield Done(self.final, config.epochs, config.epochs, self.steps * config.epochs, "",
                       test_predictions=(1, 2, 3))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def make_registry(make_registry):
    """tests/conftest.py's, with no run store unless a test gives one."""
    return functools.partial(make_registry, store=None)


# ----------------------------------------------------------------------------- pool and queue

def test_identical_configs_share_one_run(make_registry):
    train = FakeTrain()
    registry = make_registry(train=train)
    first = registry.get_or_start(A, session="s1")
    again = registry.get_or_start(RunConfig(dropout=0.0, train_size=200, epochs=1), session="s2")
    other = registry.get_or_start(B, session="s1")
    assert again is first and other is not first
    assert first.wait(20) and other.wait(20)
    assert [c.key() for c in train.calls] == [A.key(), B.key()]  # trained once each


def test_fifo_queue_positions_and_order(make_registry):
    train = FakeTrain(steps=2, manual=True)
    registry = make_registry(train=train)
    runs = [registry.get_or_start(c) for c in (A, B, C)]
    wait_for(lambda: runs[0].status == RUNNING)
    assert [r.view().queue_position for r in runs] == [0, 1, 2]
    assert runs[1].status == QUEUED
    train.allow(100)
    for run in runs:
        assert run.wait(20)
    assert [c.key() for c in train.calls] == [A.key(), B.key(), C.key()]
    assert all(r.view().queue_position == 0 and r.status == FINISHED for r in runs)


def test_stopping_a_queued_run_renumbers_the_queue(make_registry):
    train = FakeTrain(steps=2, manual=True)
    registry = make_registry(train=train)
    a, b, c = (registry.get_or_start(x) for x in (A, B, C))
    wait_for(lambda: a.status == RUNNING)
    registry.stop(b.key)
    assert b.status == STOPPED and c.view().queue_position == 1
    train.allow(100)
    assert c.wait(20) and c.status == FINISHED
    assert B.key() not in [x.key() for x in train.calls]


def test_session_cap_refuses_a_run_over_the_limit_but_joining_is_free(make_registry):
    train = FakeTrain(steps=2, manual=True)
    registry = make_registry(train=train, session_limit=2)
    a = registry.get_or_start(A, session="alice")
    registry.get_or_start(B, session="alice")
    with pytest.raises(RunLimitError, match="limit is 2"):
        registry.get_or_start(C, session="alice")
    assert registry.get_or_start(A, session="alice") is a  # the same run again is no new run
    assert registry.get_or_start(C, session="bob").status == QUEUED  # another session is not capped
    assert registry.get_or_start(A, session="carol") is a  # joining someone's run is free
    for _ in range(5):  # no session: CLI, tests, benchmark -- never capped
        registry.get_or_start(RunConfig(seed=_ + 1, train_size=200, epochs=1))
    train.allow(1000)
    assert a.wait(20)
    wait_for(lambda: registry.queue_length() == 0 and all(r.finished for r in registry.runs()))
    assert registry.get_or_start(D, session="alice").wait(20)  # room again once hers finished


def test_a_full_queue_refuses_new_runs(make_registry):
    train = FakeTrain(steps=2, manual=True)
    registry = make_registry(train=train, max_queued=2)
    first = registry.get_or_start(A)
    wait_for(lambda: first.status == RUNNING)
    registry.get_or_start(B)
    registry.get_or_start(C)
    with pytest.raises(RunLimitError, match="busy"):
        registry.get_or_start(D)
    train.allow(1000)


def test_workers_are_processes_with_their_share_of_the_cores(make_registry, tmp_path):
    registry = make_registry(workers=2, store=RunStore(tmp_path / "runs.sqlite3"))
    pids = registry.pool.pids()
    assert len(pids) == 2 and os.getpid() not in pids
    assert registry.pool.threads == max(1, jobs.available_cpus() // 2) == cpus.threads_per_worker(2)
    assert registry.alive_threads() == 2 + 2 + 1  # slot threads, processes, the reader
    registry.shutdown()
    assert registry.alive_threads() == 0
    for pid in pids:  # exited and reaped: nothing left in the process table
        assert not os.path.exists(f"/proc/{pid}")


def test_workers_from_the_environment(monkeypatch):
    monkeypatch.setenv("REGDEMO_WORKERS", "3")
    assert jobs.default_workers() == 3
    monkeypatch.setenv("REGDEMO_WORKERS", "")  # empty is unset
    assert jobs.default_workers() == max(1, jobs.available_cpus() // 2)
    monkeypatch.setenv("REGDEMO_WORKERS", "lots")
    with pytest.raises(SettingError, match="REGDEMO_WORKERS must be a whole number of at least 1, got 'lots'"):
        jobs.default_workers()


# ----------------------------------------------------------------------------- failures

def test_a_raising_thread_fails_its_run_only(make_registry):
    registry = make_registry(train=FakeTrain(steps=4, raise_at=3), workers=1)
    bad = registry.get_or_start(A)
    assert bad.wait(20)
    view = bad.view()
    assert view.status == FAILED
    assert "boom in the training thread" in render(view.message) and "Traceback" not in view.message
    assert len(view.progress) == 2  # what it drew before it failed stays visible
    registry.pool.train = FakeTrain()  # the pool still works: the next run finishes
    good = registry.get_or_start(B)
    assert good.wait(20) and good.status == FINISHED
    assert registry.pool.alive() == 1  # the worker thread lives on
    retried = registry.get_or_start(A)  # a failed run is retried, not served forever
    assert retried is not bad and retried.wait(20) and retried.status == FINISHED


def test_data_errors_show_their_own_message(make_registry):
    def broken(config, stop):
        raise DataError("/data/train-images-idx3-ubyte: truncated: the header promises 60,000 items")
        yield  # a generator, like fit

    registry = make_registry(train=broken)
    run = registry.get_or_start(A)
    assert run.wait(20) and run.status == FAILED
    assert run.message == "/data/train-images-idx3-ubyte: truncated: the header promises 60,000 items"


def test_missing_device_falls_back_to_cpu_with_a_notice(make_registry):
    train = FakeTrain()
    registry = make_registry(train=train)
    run = registry.get_or_start(A.replace(device="mps"))  # never available on Linux / CI
    assert run.wait(20) and run.status == FINISHED
    assert train.calls[0].device == "cpu"
    assert "mps device is not available" in render(run.message) and "CPU" in render(run.message)
    assert run.config.device == "mps"  # the run is still the one the student asked for


def test_gpu_out_of_memory_trains_again_on_cpu(make_registry):
    train = FakeTrain(steps=2, oom_on=("cuda",), device="cuda")
    registry = make_registry(train=train)
    run = registry.get_or_start(A)
    assert run.wait(20)
    view = run.view()
    assert view.status == FINISHED
    assert [c.device for c in train.calls] == ["auto", "cpu"]
    assert view.started.device == "cpu" and len(view.progress) == 2  # only the CPU attempt
    assert "ran out of memory" in render(view.message) and "CPU" in render(view.message)


def test_cpu_out_of_memory_is_a_clear_failure(make_registry):
    registry = make_registry(train=FakeTrain(oom_on=("cpu",)))
    run = registry.get_or_start(A)
    assert run.wait(20) and run.status == FAILED
    assert "Out of memory" in render(run.message) and "smaller train size" in render(run.message)


# ----------------------------------------------------------------------------- viewers

def watched_run(make_registry):
    """A 10-step run that session s1 watches, on a clock the test moves (grace: 10 s)."""
    clock = Clock()
    train = FakeTrain(steps=10, manual=True)
    registry = make_registry(train=train, grace_seconds=10, clock=clock)
    run = registry.get_or_start(A, session="s1")
    registry.touch(run.key, "s1")
    return clock, train, registry, run


def test_a_run_nobody_watches_is_stopped_after_the_grace_period(make_registry):
    clock, train, registry, run = watched_run(make_registry)
    train.allow(1)
    wait_for(lambda: len(run.view().progress) == 1)
    clock.now += 5
    registry.touch(run.key, "s1")  # still watched: the page redraws
    clock.now += 9
    train.allow(1)
    wait_for(lambda: len(run.view().progress) == 2)
    assert run.status == RUNNING and registry.viewers(run.key) == 1
    clock.now += 11  # the tab closed: nobody touched it for longer than the grace period
    train.allow(2)
    assert run.wait(20)
    assert run.status == STOPPED and run.message == jobs.NOBODY_WATCHING
    assert registry.viewers(run.key) == 0


def test_a_nearly_done_run_finishes_without_viewers(make_registry):
    clock, train, _, run = watched_run(make_registry)
    clock.now += 1  # nine tenths done after one second: one more tenth will take ~0.1 s
    train.allow(9)
    wait_for(lambda: len(run.view().progress) == 9)
    clock.now += 30
    train.allow(1)
    assert run.wait(20) and run.status == FINISHED


def test_runs_no_page_touches_are_never_reaped(make_registry):
    clock = Clock()
    train = FakeTrain(steps=4, manual=True)
    registry = make_registry(train=train, grace_seconds=10, clock=clock)
    cli_run = registry.get_or_start(A)  # no session at all
    app_run = registry.get_or_start(B, session="s1")  # a page that never calls touch()
    train.allow(1)
    wait_for(lambda: len(cli_run.view().progress) == 1)
    clock.now += 1000
    train.allow(100)
    assert cli_run.wait(20) and cli_run.status == FINISHED
    assert app_run.wait(20) and app_run.status == FINISHED


def test_a_queued_run_nobody_waits_for_gives_up_its_place(make_registry):
    clock = Clock()
    train = FakeTrain(steps=2, manual=True)
    registry = make_registry(train=train, grace_seconds=10, clock=clock)
    first = registry.get_or_start(A, session="s1")
    left = registry.get_or_start(B, session="s2")
    waiting = registry.get_or_start(C, session="s3")
    for run, session in ((first, "s1"), (left, "s2"), (waiting, "s3")):
        registry.touch(run.key, session)  # each page's first redraw
    wait_for(lambda: first.status == RUNNING)
    clock.now += 11
    registry.touch(first.key, "s1")
    registry.touch(waiting.key, "s3")
    registry.get_or_start(D, session="s4")  # any new request sweeps the queue
    assert left.status == STOPPED and left.message == jobs.NOBODY_WAITING
    assert waiting.view().queue_position == 1
    train.allow(100)
    assert waiting.wait(20) and waiting.status == FINISHED
    assert B.key() not in [c.key() for c in train.calls]


# ----------------------------------------------------------------------------- the store

def test_finished_runs_are_saved_and_served_from_the_store(make_registry, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    train = FakeTrain()
    first = make_registry(train=train, store=store)
    run = first.get_or_start(A, session="s1")
    assert run.wait(20)
    wait_for(lambda: run.saved)
    first.shutdown()

    # "The next morning": a new server process (new registry), same store.
    train_again = FakeTrain()
    second = make_registry(train=train_again, store=RunStore(tmp_path / "runs.sqlite3"))
    served = second.get_or_start(A, session="s2")
    assert served.finished and served.status == FINISHED  # at once, no waiting
    assert train_again.calls == []
    view = served.view()
    assert view.source == "app" and view.epochs == run.view().epochs
    assert view.progress == run.view().progress and view.done.test_predictions == (1, 2, 3)
    assert second.get_or_start(A) is served


@pytest.mark.parametrize("final", [DIVERGED, EARLY_STOPPED])
def test_diverged_and_early_stopped_runs_are_final_answers(make_registry, tmp_path, final):
    store = RunStore(tmp_path / "runs.sqlite3")
    run = make_registry(train=FakeTrain(final=final), store=store).get_or_start(A)
    assert run.wait(20)
    wait_for(lambda: run.saved)
    train = FakeTrain()
    served = make_registry(train=train, store=store).get_or_start(A)
    assert served.status == final and train.calls == []


def test_a_stopped_run_is_stored_but_trained_again_on_request(make_registry, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    train = FakeTrain(steps=4, manual=True)
    registry = make_registry(train=train, store=store)
    run = registry.get_or_start(A)
    train.allow(2)
    wait_for(lambda: len(run.view().progress) == 2)
    registry.stop(run.key)
    train.allow(1)
    assert run.wait(20) and run.status == STOPPED
    wait_for(lambda: run.saved)
    assert store.get(A.key()).status == STOPPED  # History shows what it drew
    again = registry.get_or_start(A)
    assert again is not run and again.status in (QUEUED, RUNNING)
    train.allow(100)
    assert again.wait(20) and again.status == FINISHED
    wait_for(lambda: store.get(A.key()).status == FINISHED)


def test_old_finished_runs_leave_memory_but_not_the_store(make_registry, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    registry = make_registry(train=FakeTrain(), store=store, keep_finished=2)
    configs = [RunConfig(seed=i, train_size=200, epochs=1) for i in range(5)]
    for config in configs:
        assert registry.get_or_start(config).wait(20)
    wait_for(lambda: len(store) == 5)
    wait_for(lambda: len(registry.runs()) <= 2)
    oldest = registry.get(configs[0].key())  # read back from the store
    assert oldest is not None and oldest.status == FINISHED and oldest.view().source == "app"


def test_without_a_working_store_nothing_leaves_memory(make_registry, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    store = RunStore(blocker / "runs.sqlite3")
    assert not store.saving
    registry = make_registry(train=FakeTrain(), store=store, keep_finished=1)
    for i in range(3):
        run = registry.get_or_start(RunConfig(seed=i, train_size=200, epochs=1))
        assert run.wait(20) and run.status == FINISHED  # training still works
    wait_for(lambda: all(not r.saved and r.finished for r in registry.runs()))
    assert len(registry.runs()) == 3
    assert any("not being saved" in render(w) for w in registry.warnings)


def test_run_from_view_round_trips():
    run = Run(A)
    run.mark_running()
    for event in FakeTrain()(A, threading.Event()):
        run.apply(event)
    copy = Run.from_view(run.view())
    assert copy.finished and copy.wait(0)
    assert copy.view().epochs == run.view().epochs and copy.view().done == run.view().done


# ----------------------------------------------------------------------------- shutdown

def test_shutdown_stops_runs_and_joins_every_thread(make_registry, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    train = FakeTrain(steps=50, manual=True)
    registry = make_registry(train=train, workers=2, store=store)
    running = registry.get_or_start(A)
    other = registry.get_or_start(B)
    queued = registry.get_or_start(C)
    wait_for(lambda: running.status == RUNNING and other.status == RUNNING)
    train.allow(4)
    wait_for(lambda: len(running.view().progress) + len(other.view().progress) == 4)
    registry.shutdown(timeout=20)
    assert registry.alive_threads() == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("regdemo-") and t.is_alive()]
    for run in (running, other, queued):
        assert run.status == STOPPED
    wait_for(lambda: sum(r.saved for r in (running, other)) == sum(bool(r.view().progress) for r in (running, other)))
    assert queued.status == STOPPED and render(queued.message) == "The server shut down."
    with pytest.raises(RuntimeError, match="shut down"):
        registry.get_or_start(D)
    registry.shutdown()  # twice is harmless (on_release may run after a manual shutdown)


# ----------------------------------------------------------------------------- end to end

def test_real_training_through_the_registry_is_stored(make_registry, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    registry = make_registry(store=store, train=None)
    config = RunConfig(model="article", train_size=200, epochs=1, dropout=0.25)
    run = registry.get_or_start(config, session="s1")
    assert run.wait(120), "a 200-digit, one-epoch run should finish"
    view = run.view()
    assert view.status == FINISHED and len(view.epochs) == 1 and view.masks
    wait_for(lambda: run.saved)
    stored = store.get(config.key())
    assert stored.epochs == view.epochs and stored.progress == view.progress
    assert stored.done.test_predictions == view.done.test_predictions and len(stored.done.test_predictions) == 1000
    assert stored.masks == {}  # masks are live-only
