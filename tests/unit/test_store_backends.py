"""The run store's interface, run against both implementations: SQLite (store.RunStore, the
embedded default) and PostgreSQL (store_postgres.PostgresStore, REGDEMO_DATABASE_URL).

The PostgreSQL half uses a real server started by tests/conftest.py (skips without the
Debian package, fails under CI). Runs are hand-made event records, as in test_store.py.
"""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import replace

import pytest
from support import epoch, make_run

from regdemo.messages import render
from regdemo.runs.records import Run
from regdemo.storage import stores
from regdemo.storage.sqlite import RunStore, StoreUnavailable
from regdemo.storage.stores import open_store
from regdemo.training.config import RunConfig
from regdemo.training.events import DIVERGED, EARLY_STOPPED, FINISHED, STOPPED, Done, Started


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path, monkeypatch):
    """A fresh, empty store of each kind, opened the way the app opens it (open_store)."""
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "home"))
    if request.param == "sqlite":
        monkeypatch.delenv(stores.DATABASE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(stores.DATABASE_VARIABLE, request.getfixturevalue("postgres_url"))
    s = open_store()
    yield s
    if hasattr(s, "close"):
        s.close()


def test_the_variable_picks_the_store(backend):
    from regdemo.storage.postgres import PostgresStore

    assert isinstance(backend, PostgresStore if os.environ.get(stores.DATABASE_VARIABLE) else RunStore)


def test_save_and_get_round_trip(backend):
    run = make_run()
    assert backend.save(run.view(), source="cli")
    back, live = backend.get(run.key), run.view()
    assert back.config == live.config and back.key == live.key
    assert back.epochs == live.epochs and back.progress == live.progress
    assert back.started == live.started and back.done == live.done
    assert back.status == FINISHED and back.source == "cli" and back.masks == {}
    assert backend.get("nope") is None and backend.warnings == []


def test_memorization_and_the_gallery_round_trip(backend):
    """A noisy run's memorization figures and gallery come back as they were saved."""
    config = RunConfig(label_noise=0.2, train_size=200, epochs=2)
    run = Run(config)
    run.apply(Started(device="cpu", train_size=200, test_size=1000, val_size=0, steps_per_epoch=4, parameters=10,
                      gallery_indices=(5, 17), gallery_true=(1, 7), gallery_given=(3, 2),
                      gallery_pixels=base64.b64encode(bytes(range(256)) * 6 + bytes(32)).decode()))
    for n, (memorized, clean) in enumerate([(0.125, 0.75), (0.5, 0.875)], 1):
        run.apply(replace(epoch(n, 0.8), memorized=memorized, train_acc_clean=clean, gallery_predictions=(1, n)))
    run.apply(Done(FINISHED, 2, 2, 8, ""))
    assert backend.save(run.view())
    back = backend.get(run.key)
    assert back.started == run.view().started and back.epochs == run.view().epochs
    assert [(e.memorized, e.train_acc_clean, e.gallery_predictions) for e in back.epochs] == [
        (0.125, 0.75, (1, 1)), (0.5, 0.875, (1, 2))]
    plain = make_run(RunConfig(train_size=200, epochs=2, seed=3))  # a clean run: nothing there
    assert backend.save(plain.view())
    assert all(e.memorized is None and e.gallery_predictions == () for e in backend.get(plain.key).epochs)


def test_summary_list_order_limit_and_len(backend):
    keys = []
    for seed in range(4):
        run = make_run(RunConfig(seed=seed, train_size=200, epochs=2))
        assert backend.save(run.view())
        keys.append(run.key)
    assert [r.key for r in backend.list()] == keys[::-1]
    assert [r.key for r in backend.list(limit=2)] == keys[:1:-1]
    assert len(backend) == 4
    config = RunConfig(patience=2, train_size=200, epochs=5)
    backend.save(make_run(config, status=EARLY_STOPPED, epochs=(0.7, 0.85, 0.8, 0.79), best_epoch=2).view())
    newest = backend.list(1)[0]
    assert newest.test_acc == 0.85 and newest.best_epoch == 2 and newest.config == config


def test_what_is_saved_and_what_replaces_what(backend):
    config = RunConfig(train_size=200, epochs=2)
    assert backend.save(make_run(config, epochs=(0.8, 0.9)).view())
    assert not backend.save(make_run(config, status=STOPPED, epochs=(0.1,)).view())
    assert backend.get(config.key()).status == FINISHED
    assert backend.save(make_run(config, epochs=(0.8, 0.95)).view())
    assert backend.get(config.key()).epochs[-1].test_acc == 0.95
    other = RunConfig(train_size=200, epochs=1, seed=9)
    assert backend.save(make_run(other, status=STOPPED, epochs=(0.2,)).view())
    assert backend.save(make_run(other, status=DIVERGED, epochs=(0.5,), message="NaN").view())
    assert backend.get(other.key()).status == DIVERGED


def test_delete(backend):
    run = make_run()
    backend.save(run.view())
    assert backend.delete(run.key) and not backend.delete(run.key)
    assert backend.get(run.key) is None and backend.list() == [] and len(backend) == 0


def test_a_nan_is_refused_not_written(backend):
    assert not backend.save(make_run(epochs=(float("nan"),)).view())
    assert "not saved" in render(backend.warnings[-1]) and backend.list() == []


def test_many_threads_save_at_once(backend):
    runs = [make_run(RunConfig(seed=seed, train_size=200, epochs=2)) for seed in range(12)]
    results = []
    threads = [threading.Thread(target=lambda r=r: results.append(backend.save(r.view()))) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 12 and len(backend) == 12


# ----------------------------------------------------------------------- PostgreSQL's own faults

@pytest.mark.parametrize("url, words", [
    ("mysql://u@h/db", "must be a PostgreSQL URL"),
    ("postgresql://u@h:port/db", "port that is not a number"),
    ("postgresql:///db", "names no database host"),
])
def test_a_malformed_url_names_the_variable(monkeypatch, url, words):
    monkeypatch.setenv(stores.DATABASE_VARIABLE, url)
    with pytest.raises(StoreUnavailable) as info:
        open_store()
    assert stores.DATABASE_VARIABLE in str(info.value) and words in str(info.value)
    assert "\n" not in str(info.value)


def test_a_password_never_shows_in_a_message(monkeypatch):
    monkeypatch.setenv(stores.DATABASE_VARIABLE, "mysql://u:s3cret@h/db")
    with pytest.raises(StoreUnavailable) as info:
        open_store()
    assert "s3cret" not in str(info.value)


def test_a_database_that_does_not_answer_is_one_clear_line(monkeypatch):
    pytest.importorskip("psycopg")
    from tools.services import free_port

    monkeypatch.setenv(stores.DATABASE_VARIABLE, f"postgresql://regdemo:pw@127.0.0.1:{free_port()}/regdemo")
    with pytest.raises(StoreUnavailable) as info:
        open_store()
    text = str(info.value)
    assert "cannot be used" in text and "REGDEMO_DATABASE_URL" in text and "\n" not in text
    assert "pw@" not in text


def test_a_database_that_goes_away_later_gives_warnings_not_exceptions(postgres_server, monkeypatch):
    """Stopping the server under a running store: reads give nothing, writes False."""
    from regdemo.storage.postgres import PostgresStore
    from tools.services import PostgresServer

    own = PostgresServer()  # its own server: the session's one stays up for the other tests
    try:
        s = PostgresStore(own.url)
        run = make_run()
        assert s.save(run.view())
    finally:
        own.stop()
    assert s.get(run.key) is None and s.list() == [] and len(s) == 0
    assert not s.save(make_run(RunConfig(seed=5)).view())
    assert s.warnings and all("did not answer" in render(w) for w in s.warnings)


# ----------------------------------------------------------------------- live runs (BOUNDARY.md)

def _events():
    from regdemo.training.events import Done, MaskSnapshot, Progress, Started

    return [Started(device="cpu", train_size=200, test_size=1000, val_size=0, steps_per_epoch=4, parameters=10),
            Progress(step=1, epoch=0.25, train_loss=2.0, train_acc=0.1),
            MaskSnapshot(step=1, epoch=0.25, layer="fc", p=0.5, shape=(2,), activation=(0.5, 1.0),
                         kept=(True, False)),
            epoch(1, 0.8),
            Done("finished", 1, 1, 4, "", test_predictions=(3, 1))]


def test_live_rows_single_flight_and_queue_order(backend):
    from regdemo.runs.records import QUEUED

    a, b = RunConfig(seed=1), RunConfig(seed=2)
    assert backend.create_live(a.key(), a, "s1")
    assert not backend.create_live(a.key(), a, "s2")  # the second caller joins, it does not queue again
    assert backend.create_live(b.key(), b, None)
    row = backend.live(a.key())
    assert row.config == a and row.status == QUEUED and row.owner == "s1" and row.stop_reason == ""
    assert row.worker is None and row.started_at is None and row.created_at > 0
    assert [r.key for r in backend.live_keys()] == [a.key(), b.key()]
    assert backend.live("nope") is None


def test_single_flight_between_two_store_objects_and_threads(backend):
    """Two handles on one database (two servers): of 8 racing creators exactly one wins."""
    other = open_store()
    config = RunConfig(seed=7)
    wins = []
    barrier = threading.Barrier(8)

    def create(s):
        barrier.wait()
        wins.append(s.create_live(config.key(), config, None))

    threads = [threading.Thread(target=create, args=(backend if i % 2 else other,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]
    if hasattr(other, "close"):
        other.close()


def test_a_run_through_its_live_life(backend):
    from regdemo.runs.records import RUNNING

    config = RunConfig(seed=3)
    key = config.key()
    backend.create_live(key, config, "s1")
    assert backend.mark_started(key, "host:1") and not backend.mark_started(key, "host:2")
    row = backend.live(key)
    assert row.status == RUNNING and row.worker == "host:1" and row.heartbeat_at >= row.started_at
    events = _events()
    backend.append_events(key, events[:2])
    backend.append_events(key, events[2:])
    got = backend.events_since(key, 0)
    assert [seq for seq, _ in got] == [1, 2, 3, 4, 5] and [e for _, e in got] == events
    assert [e for _, e in backend.events_since(key, 3)] == events[3:]
    before = backend.live(key).heartbeat_at
    import time

    time.sleep(0.02)
    backend.heartbeat(key)
    backend.touch_live(key)
    row = backend.live(key)
    assert row.heartbeat_at > before and row.watched_at is not None
    backend.request_stop(key, "Stop pressed")
    assert backend.live(key).stop_reason == "Stop pressed" and backend.live(key).status == RUNNING
    backend.set_status(key, STOPPED, "Stop pressed")
    assert backend.live(key).status == STOPPED and backend.live_keys() == []
    assert [r.key for r in backend.live_keys((STOPPED,))] == [key]
    backend.delete_live(key)
    assert backend.live(key) is None and backend.events_since(key, 0) == []


def test_stop_a_queued_run_and_delete_only_finished(backend):
    from regdemo.runs.records import QUEUED

    config = RunConfig(seed=4)
    key = config.key()
    backend.create_live(key, config, None)
    backend.delete_live(key, finished_only=True)  # still queued: kept
    assert backend.live(key).status == QUEUED
    backend.request_stop(key, "Nobody waits")
    row = backend.live(key)
    assert row.status == STOPPED and row.message == "Nobody waits"
    assert not backend.mark_started(key, "host:1")  # a worker that takes it late skips it
    backend.delete_live(key, finished_only=True)
    assert backend.live(key) is None


def test_a_lost_worker_queues_its_run_again_once_then_fails_it(backend):
    """runs/requeue.py on both stores: running with no heartbeat for N s -> queued again (once,
    whoever looks twice), taken by another worker, lost again -> failed, saying it was retried."""
    import time

    from regdemo.messages import render
    from regdemo.runs import requeue
    from regdemo.training.events import FAILED

    alive, lost = RunConfig(seed=5), RunConfig(seed=6)
    for config in (alive, lost):
        backend.create_live(config.key(), config, None)
        backend.mark_started(config.key(), "w1")
    time.sleep(1.2)
    backend.heartbeat(alive.key())
    again, failed = requeue.lost_workers(backend, seconds=1.0)
    assert [row.key for row in again] == [lost.key()] and failed == []
    row = backend.live(lost.key())
    assert (row.status, row.attempts, row.worker, row.message) == ("queued", 1, None, requeue.QUEUED_AGAIN)
    assert backend.live(alive.key()).status == "running" and backend.live(alive.key()).attempts == 0
    assert requeue.lost_workers(backend, seconds=1.0) == ([], [])  # queued again once, not twice
    assert backend.live_keys(("queued",))[-1].key == lost.key()  # at the back of the queue
    assert not backend.requeue(lost.key(), "", 0, row.created_at)  # only a running row, only its attempt
    assert backend.mark_started(lost.key(), "w2")
    time.sleep(1.2)
    backend.heartbeat(alive.key())
    assert requeue.lost_workers(backend, seconds=1.0) == ([], [lost.key()])
    row = backend.live(lost.key())
    assert row.status == FAILED and row.message == requeue.LOST_AGAIN
    assert "retried once" in render(row.message) and "重试一次" in render(row.message, "zh")
    assert requeue.lost_workers(backend, seconds=1.0) == ([], [])  # failed once, not again


def test_a_run_that_kills_its_worker_twice_ends_failed_asking_for_memory(backend):
    from regdemo.messages import msg, render
    from regdemo.runs import requeue
    from regdemo.training.events import FAILED

    config = RunConfig(seed=7)
    backend.create_live(config.key(), config, None)
    backend.mark_started(config.key(), "w1")
    killed = msg("run.killed_by", signal="SIGKILL")
    assert requeue.after_death(backend, config.key(), killed)
    row = backend.live(config.key())
    assert row.status == "queued" and "queued again" in render(row.message)
    assert backend.mark_started(config.key(), "w2")
    assert not requeue.after_death(backend, config.key(), killed)
    row = backend.live(config.key())
    assert row.status == FAILED and "may need more memory than a worker has" in render(row.message)
    assert "SIGKILL" in render(row.message) and "更多的内存" in render(row.message, "zh")
    assert not requeue.after_death(backend, config.key(), killed)  # ended already: nothing changes
    assert backend.live(config.key()).message == row.message


def test_a_queued_row_whose_job_the_broker_lost_is_found(backend):
    import time

    from regdemo.runs import requeue

    waiting, lost, stopped = RunConfig(seed=8), RunConfig(seed=9), RunConfig(seed=10)
    for config in (waiting, lost, stopped):
        backend.create_live(config.key(), config, None)
    backend.request_stop(stopped.key(), "Nobody waits")
    assert requeue.lost_jobs(backend, {waiting.key()}, seconds=1.0) == []  # just created: its job may be on its way
    time.sleep(1.2)
    assert [row.key for row in requeue.lost_jobs(backend, {waiting.key()}, seconds=1.0)] == [lost.key()]
