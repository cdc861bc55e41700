"""regdemo.storage.sqlite: round trips, what is saved, restarts, damaged files, unwritable and full disks,
threads, and `python -m regdemo runs`.

Runs here are built from hand-made event records (no training). Every store lives in tmp_path.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading

import pytest
from support import epoch, make_run

from regdemo.cli import parser as cli
from regdemo.messages import render
from regdemo.runs.records import Run
from regdemo.storage import sqlite as store
from regdemo.storage.sqlite import RunStore
from regdemo.training.config import RunConfig
from regdemo.training.events import DIVERGED, EARLY_STOPPED, FAILED, FINISHED, STOPPED, Done, Progress, Started


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "home"))


# ----------------------------------------------------------------------------- round trips

def test_save_and_get_round_trip(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    run = make_run()
    assert s.save(run.view(), source="cli")
    back = s.get(run.key)
    live = run.view()
    assert back.config == live.config and back.key == live.key
    assert back.epochs == live.epochs and back.progress == live.progress
    assert back.started == live.started and back.done == live.done
    assert back.status == FINISHED and back.source == "cli" and back.masks == {}
    assert back.finished and back.fraction_done == 1.0 and back.queue_position == 0
    assert s.get("nope") is None


def test_summary_has_the_kept_models_metrics(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    config = RunConfig(patience=2, train_size=200, epochs=5)
    # Early stopping kept epoch 2's weights: its accuracy is the run's, not the last epoch's.
    run = make_run(config, status=EARLY_STOPPED, epochs=(0.7, 0.85, 0.8, 0.79), best_epoch=2,
                   message="Held-out loss has not improved for 2 epochs")
    s.save(run.view())
    [summary] = s.list()
    assert summary.test_acc == 0.85 and summary.best_epoch == 2 and summary.epochs_run == 4
    assert summary.status == EARLY_STOPPED and summary.source == "app" and summary.config == config
    assert summary.label == config.label() and summary.seconds >= 0
    assert json.loads(json.dumps(summary.to_json()))["key"] == config.key()


def test_list_is_newest_first_and_limited(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    keys = []
    for seed in range(4):
        run = make_run(RunConfig(seed=seed, train_size=200, epochs=2))
        s.save(run.view())
        keys.append(run.key)
    assert [r.key for r in s.list()] == keys[::-1]
    assert [r.key for r in s.list(limit=2)] == keys[:1:-1]
    assert len(s) == 4


def test_what_is_worth_saving(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    assert s.save(make_run(status=DIVERGED, epochs=(0.5,), message="NaN at step 6").view())
    failed = Run(RunConfig(seed=1))
    failed.mark_failed("DataError: missing")
    assert not s.save(failed.view())  # retried on the next click; nothing to draw
    queued_then_stopped = Run(RunConfig(seed=2))
    queued_then_stopped.stop()
    assert not s.save(queued_then_stopped.view())  # drew nothing
    assert s.save(make_run(RunConfig(seed=3, epochs=2), status=STOPPED).view())
    assert {r.status for r in s.list()} == {DIVERGED, STOPPED}


def test_a_stopped_run_never_replaces_a_final_answer(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    config = RunConfig(train_size=200, epochs=2)
    assert s.save(make_run(config, epochs=(0.8, 0.9)).view())
    assert not s.save(make_run(config, status=STOPPED, epochs=(0.1,)).view())
    assert s.get(config.key()).status == FINISHED
    assert s.save(make_run(config, epochs=(0.8, 0.95)).view())  # a newer finished run does
    assert s.get(config.key()).epochs[-1].test_acc == 0.95


def test_delete(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    run = make_run()
    s.save(run.view())
    assert s.delete(run.key) and not s.delete(run.key)
    assert s.get(run.key) is None and s.list() == []


def test_runs_survive_a_restart_in_wal_mode(tmp_path):
    path = tmp_path / "runs.sqlite3"
    run = make_run()
    RunStore(path).save(run.view())
    assert RunStore(path).get(run.key).epochs == run.view().epochs
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_default_location_follows_the_environment(tmp_path, monkeypatch):
    assert store.default_path() == tmp_path / "home" / "runs.sqlite3"
    monkeypatch.delenv("REGDEMO_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert store.default_path() == tmp_path / "xdg" / "regdemo" / "runs.sqlite3"
    assert RunStore().path == tmp_path / "xdg" / "regdemo" / "runs.sqlite3"


def test_a_nan_is_refused_not_written(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    run = make_run(epochs=(float("nan"),))
    assert not s.save(run.view())
    assert "not saved" in render(s.warnings[-1]) and s.list() == []


def test_many_threads_save_at_once(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    views = [make_run(RunConfig(seed=i, train_size=200, epochs=2)).view() for i in range(24)]
    results = []

    def save(chunk):
        for view in chunk:
            results.append(s.save(view))
            s.list(5)

    threads = [threading.Thread(target=save, args=(views[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results.count(True) == 24 and len(s) == 24 and s.warnings == []


# ----------------------------------------------------------------------------- damage

def test_a_corrupt_file_is_moved_aside_and_a_fresh_one_started(tmp_path):
    path = tmp_path / "runs.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    s = RunStore(path)
    [aside] = tmp_path.glob("runs.sqlite3.corrupt-*")
    assert aside.read_bytes() == b"this is not a database" * 100  # kept for inspection
    assert len(s.warnings) == 1 and "moved to" in render(s.warnings[0]) and aside.name in render(s.warnings[0])
    assert s.saving and s.save(make_run().view()) and len(s) == 1


def test_a_truncated_file_is_moved_aside(tmp_path):
    path = tmp_path / "runs.sqlite3"
    s = RunStore(path)
    for seed in range(30):
        s.save(make_run(RunConfig(seed=seed, epochs=2)).view())
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    fresh = RunStore(path)
    assert "damaged" in render(fresh.warnings[0]) and len(list(tmp_path.glob("runs.sqlite3.corrupt-*[0-9]"))) == 1
    assert fresh.list() == [] and fresh.save(make_run().view())


def test_damage_found_while_running_is_handled_too(tmp_path):
    path = tmp_path / "runs.sqlite3"
    s = RunStore(path)
    s.save(make_run().view())
    path.write_bytes(b"\0garbage" * 1000)  # damaged under a running server
    for extra in ("-wal", "-shm"):
        path.with_name(path.name + extra).unlink(missing_ok=True)
    assert s.list() == []  # no exception
    assert any("moved to" in render(w) for w in s.warnings)
    assert s.save(make_run(RunConfig(seed=9, epochs=2)).view()) and len(s) == 1


def test_two_damaged_files_in_one_second_are_both_kept(tmp_path):
    path = tmp_path / "runs.sqlite3"
    for text in (b"first" * 200, b"second" * 200):
        path.write_bytes(text)
        RunStore(path)
    assert sorted(p.read_bytes()[:5] for p in tmp_path.glob("runs.sqlite3.corrupt-*[0-9]")) == [b"first", b"secon"]


# ----------------------------------------------------------------------------- unwritable and full

def test_an_uncreatable_folder_means_not_saving_never_a_crash(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    s = RunStore(blocker / "home" / "runs.sqlite3")
    assert not s.saving and "not being saved" in render(s.warnings[0])
    assert "Training still works" in render(s.warnings[0])
    assert not s.save(make_run().view())
    assert s.list() == [] and s.get("x") is None and not s.delete("x") and len(s) == 0


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to read-only folders")
def test_a_read_only_folder_means_not_saving(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        s = RunStore(folder / "runs.sqlite3")
        assert not s.saving and not s.save(make_run().view()) and s.warnings
    finally:
        folder.chmod(0o700)


def test_a_read_only_database_means_not_saving_also_for_root(tmp_path, monkeypatch):
    """Root ignores folder permissions (the test above skips there, as in CI); SQLite's
    read-only mode refuses writes to anyone, so the same path runs for root too."""
    path = tmp_path / "runs.sqlite3"
    kept = make_run(RunConfig(seed=0, epochs=2))
    assert RunStore(path).save(kept.view())
    monkeypatch.setattr(RunStore, "_connect", lambda self: sqlite3.connect(
        f"file:{self.path}?mode=ro", uri=True, isolation_level=None))
    ro = RunStore(path)
    assert not ro.save(make_run(RunConfig(seed=1, epochs=2)).view())
    assert not ro.saving and "not being saved" in render(ro.warnings[0])
    assert "Training still works" in render(ro.warnings[0])
    monkeypatch.undo()
    assert [r.key for r in RunStore(path).list()] == [kept.config.key()]  # nothing lost


def test_a_full_disk_is_a_warning_and_saving_resumes_when_there_is_room(tmp_path, monkeypatch):
    path = tmp_path / "runs.sqlite3"
    s = RunStore(path)
    s.save(make_run(RunConfig(seed=0, epochs=2)).view())
    connect = RunStore._connect
    full = [True]

    def connect_to_a_full_disk(self):
        con = connect(self)
        if full[0]:
            # SQLite's own limit on the file's pages: writes past it fail with SQLITE_FULL,
            # exactly as on a full disk.
            pages = con.execute("PRAGMA page_count").fetchone()[0]
            con.execute(f"PRAGMA max_page_count={pages}")
        return con

    monkeypatch.setattr(RunStore, "_connect", connect_to_a_full_disk)
    big = make_run(RunConfig(seed=1, epochs=30), epochs=tuple(0.5 for _ in range(30)))
    assert not s.save(big.view())
    assert not s.saving and "full" in render(s.warnings[-1])
    assert [r.key for r in s.list()] == [RunConfig(seed=0, epochs=2).key()]  # reading still works
    full[0] = False
    assert s.save(big.view()) and s.saving and len(s) == 2


# ----------------------------------------------------------------------------- the CLI

def test_runs_command_lists_json_objects(tmp_path, capsys):
    s = RunStore()  # REGDEMO_HOME: the CLI's default store
    s.save(make_run(RunConfig(seed=1, epochs=2)).view(), source="cli")
    s.save(make_run(RunConfig(seed=2, epochs=1), status=DIVERGED, epochs=()).view(), source="app")
    assert cli.main(["runs", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [json.loads(line, parse_constant=pytest.fail) for line in lines]
    assert [r["status"] for r in rows] == [DIVERGED, FINISHED]
    assert rows[0]["test_acc"] is None and rows[1]["test_acc"] == 0.9
    assert {"key", "status", "test_acc", "source", "config"} <= rows[0].keys()
    assert cli.main(["runs"]) == 0
    table = capsys.readouterr().out
    assert "diverged" in table and "90.00" in table


def test_runs_command_on_an_empty_or_damaged_store(tmp_path, capsys):
    assert cli.main(["runs"]) == 0
    assert "no stored runs" in capsys.readouterr().out
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"junk" * 500)
    assert cli.main(["runs", "--store", str(bad), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "moved to" in captured.err


def test_failed_status_is_never_stored(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    run = make_run(status=FAILED)
    assert not s.save(run.view())


# ----------------------------------------------------------------------------- live runs

def test_create_live_is_single_flight_across_connections(tmp_path):
    path = tmp_path / "runs.sqlite3"
    config = RunConfig(seed=9, train_size=200, epochs=1)
    results = []

    def create():  # each thread its own RunStore, as separate processes would have
        results.append(RunStore(path).create_live(config.key(), config, "s"))

    threads = [threading.Thread(target=create) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 5 + [True]
    row = RunStore(path).live(config.key())
    assert row.status == "queued" and row.config == config and row.owner == "s" and row.stop_reason == ""
    assert row.worker is None and row.started_at is None


def test_live_events_round_trip_in_order_with_numbers(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    config = RunConfig(dropout=0.5, train_size=200, epochs=1)
    key = config.key()
    assert s.create_live(key, config, None) and s.mark_started(key, "host:1")
    assert not s.mark_started(key, "host:2")  # claimed already
    from regdemo.training.events import MaskSnapshot
    mask = MaskSnapshot(step=2, epoch=0.5, layer="drop1", p=0.5, shape=(2, 2), activation=(0.0, 0.5, 1.0, 0.25),
                        kept=(True, False, True, True))
    events = [Started(device="cpu", train_size=200, test_size=1000, val_size=0, steps_per_epoch=4, parameters=9),
              Progress(step=1, epoch=0.25, train_loss=2.0, train_acc=0.1), mask, epoch(1, 0.8),
              Done(FINISHED, 1, 1, 4, "", test_predictions=(1, 2, 3))]
    s.append_events(key, events[:2])
    s.append_events(key, events[2:])
    got = s.events_since(key, 0)
    assert [n for n, _ in got] == [1, 2, 3, 4, 5]
    assert [e for _, e in got] == events  # tuples are tuples again, records equal
    assert [n for n, _ in s.events_since(key, 3)] == [4, 5]
    row = s.live(key)
    assert row.status == "running" and row.worker == "host:1" and row.started_at is not None
    s.set_status(key, FINISHED, "done")
    assert s.live(key).status == FINISHED and s.live(key).message == "done"
    assert [r.key for r in s.live_keys()] == []  # not queued or running any more
    s.delete_live(key)
    assert s.live(key) is None and s.events_since(key, 0) == []


def test_stop_requests_heartbeats_and_queue_order(tmp_path):
    s = RunStore(tmp_path / "runs.sqlite3")
    configs = [RunConfig(seed=i, train_size=200, epochs=1) for i in range(3)]
    for c in configs:
        assert s.create_live(c.key(), c, None)
    first, second, third = (c.key() for c in configs)
    assert [r.key for r in s.live_keys()] == [first, second, third]  # created order: queue positions
    s.request_stop(second, "Nobody was waiting.")
    row = s.live(second)
    assert row.status == STOPPED and row.stop_reason == "Nobody was waiting."
    assert not s.mark_started(second, "w")  # a worker skips it
    assert [r.key for r in s.live_keys()] == [first, third]
    assert s.mark_started(first, "w")
    s.request_stop(first, "")
    row = s.live(first)
    assert row.status == "running" and render(row.stop_reason) == "Stopped by the user."  # the worker ends it
    before = row.heartbeat_at
    s.heartbeat(first)
    s.touch_live(first)
    row = s.live(first)
    assert row.heartbeat_at >= before and row.watched_at is not None
    with pytest.raises(ValueError):
        s.set_status(first, "queued")


def test_live_reads_see_writes_of_another_connection_at_once(tmp_path):
    writer, reader = RunStore(tmp_path / "runs.sqlite3"), RunStore(tmp_path / "runs.sqlite3")
    config = RunConfig(seed=1, train_size=200, epochs=1)
    writer.create_live(config.key(), config, None)
    for step in range(1, 21):
        writer.append_events(config.key(), [Progress(step=step, epoch=step / 20, train_loss=1.0, train_acc=0.5)])
        assert len(reader.events_since(config.key(), 0)) == step
