"""Faults, end to end through the real engine and registry: each shows its clear message and
that nothing else was lost.

  divergence          status "diverged" at step N with advice; no NaN anywhere (events, store,
                      the CLI's --json lines)
  a raising thread    status "failed" with the message; other runs and the pool unaffected
  data                missing, corrupt, truncated, no network: "failed" with the DataError's own
                      line, no traceback text
  disk                read-only / full data and store folders: training goes on, a warning says
                      runs are not saved
  damaged store       moved aside, a fresh one started, the next run saved
  worker processes    one killed by SIGKILL mid-run: its run "failed" with a message, the pool
                      replaces it, other runs go on; Stop honoured at once; a worker whose
                      server died exits by itself; nothing outlives the registry

Runs train in worker processes, as in the app, except where a test changes the library
with monkeypatch (a fake data size, a full disk, a training loop that raises): those run
in the registry's in-process pool, which calls the same worker function.
Runs are tiny (200 digits of the embedded sample, one or two epochs) or fail before training.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest
import torch

from regdemo.cli import parser as cli
from regdemo.messages import render
from regdemo.storage.sqlite import RunStore
from regdemo.training import data, engine
from regdemo.training.config import RunConfig
from regdemo.training.events import DIVERGED, FAILED, FINISHED, STOPPED, Progress

TINY = dict(model="article", train_size=200, epochs=1)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Home in tmp_path; every mirror a closed local port; no system data folders."""
    for var in ("REGDEMO_DATA_DIR", "REGDEMO_MNIST_URL", "REGDEMO_FASHION_URL", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "home"))
    port = closed_port()
    # The environment reaches worker processes; the monkeypatched module only this one.
    monkeypatch.setenv("REGDEMO_MNIST_URL", f"http://127.0.0.1:{port}/")
    monkeypatch.setenv("REGDEMO_FASHION_URL", f"http://127.0.0.1:{port}/")
    monkeypatch.setattr(data, "SYSTEM_DIRS", {})
    monkeypatch.setattr(data, "MIRRORS", {"mnist": (f"http://127.0.0.1:{port}/",),
                                          "fashion-mnist": (f"http://127.0.0.1:{port}/",)})
    monkeypatch.setattr(data, "DOWNLOAD_TIMEOUT", 2)
    data.load_dataset.cache_clear()
    yield
    data.load_dataset.cache_clear()


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on: connecting is refused at once, like no network."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def finite_numbers(view) -> bool:
    values = []
    for p in view.progress:
        values += [p.epoch, p.train_loss, p.train_acc]
    for e in view.epochs:
        values += [v for v in (e.train_loss, e.train_acc, e.train_loss_eval, e.train_acc_eval, e.test_loss,
                               e.test_acc, e.val_loss, e.val_acc, e.l1_norm, e.l2_norm, e.near_zero)
                   if v is not None]
    return all(math.isfinite(v) for v in values)


def strict_json(line: str):
    """json.loads that refuses NaN / Infinity tokens (Python's default accepts them)."""
    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(line, parse_constant=refuse)


def write_idx_folder(folder, n_train=30, n_test=12, damage=None):
    """The four IDX files of a tiny fake dataset; `damage` spoils the training images."""
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    for name, n in (("train", n_train), ("t10k", n_test)):
        images = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g)
        labels = (torch.arange(n) % 10).to(torch.uint8)
        image_bytes = struct.pack(">IIII", 0x803, n, 28, 28) + images.numpy().tobytes()
        if name == "train" and damage == "truncated":
            image_bytes = image_bytes[: len(image_bytes) // 2]
        blob = gzip.compress(image_bytes)
        if name == "train" and damage == "corrupt":
            blob = blob[:20] + b"\xff" * 64 + blob[84:]
        (folder / f"{name}-images-idx3-ubyte.gz").write_bytes(blob)
        (folder / f"{name}-labels-idx1-ubyte.gz").write_bytes(
            gzip.compress(struct.pack(">II", 0x801, n) + labels.numpy().tobytes()))
    return folder


# ----------------------------------------------------------------------------- divergence

def test_divergence_is_a_status_with_advice_and_no_nan(make_registry, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    registry = make_registry(store=store)
    run = registry.get_or_start(RunConfig(l1=10, lr=10, train_size=200, epochs=2), session="s")
    assert run.wait(120)
    view = run.view()
    assert view.status == DIVERGED
    assert f"at step {view.done.step}" in render(view.message) and view.done.step >= 1
    assert "Lower the learning rate (now 10) or the L1 strength (now 10)" in render(view.message)
    assert "学习率（现在是 10）或 L1 强度（现在是 10）" in render(view.message, "zh")  # stored as a code
    assert finite_numbers(view)  # the curves stop before the NaN
    assert all(isinstance(p, Progress) and p.step < view.done.step for p in view.progress)
    stored = store.get(run.key)
    assert stored.status == DIVERGED and stored.message == view.message and finite_numbers(stored)


def test_cli_json_lines_are_strict_json_when_training_diverges(capsys):
    code = cli.main(["train", "--l1", "10", "--lr", "10", "--json", "--epochs", "2"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 1 and lines
    rows = [strict_json(line) for line in lines]
    assert rows[-1]["status"] == DIVERGED and "Lower the learning rate" in rows[-1]["message"]
    # ...and the run went to the store, where `runs --json` is strict JSON too.
    assert cli.main(["runs", "--json"]) == 0
    [stored] = [strict_json(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert stored["status"] == DIVERGED and stored["source"] == "cli" and stored["test_acc"] is None


# ----------------------------------------------------------------------------- a raising thread

def test_a_thread_that_raises_fails_its_run_and_nothing_else(make_registry, tmp_path):
    def fit_that_breaks(config, stop):
        for event in engine.fit(config, stop=stop):
            yield event
            if config.seed == 666 and isinstance(event, Progress):
                raise RuntimeError("simulated bug in the training loop")

    store = RunStore(tmp_path / "runs.sqlite3")
    registry = make_registry(train=fit_that_breaks, store=store)
    bad = registry.get_or_start(RunConfig(seed=666, **TINY), session="a")
    good = registry.get_or_start(RunConfig(seed=1, **TINY), session="b")
    assert bad.wait(120) and good.wait(120)
    assert bad.status == FAILED
    assert render(bad.message) == "Training failed: RuntimeError: simulated bug in the training loop"
    assert "Traceback" not in bad.message and bad.view().progress  # what it drew stays
    assert good.status == FINISHED and store.get(good.key).status == FINISHED
    assert store.get(bad.key) is None  # a failure is retried, not stored
    assert registry.pool.alive() == 1


# ----------------------------------------------------------------------------- data

def test_missing_data_without_network_fails_the_run_with_the_reason(make_registry):
    registry = make_registry(store=None)
    run = registry.get_or_start(RunConfig(dataset="mnist", train_size=200, epochs=1))
    assert run.wait(60) and run.status == FAILED
    text = render(run.message)
    assert text.startswith("could not download MNIST (no network?)")
    assert "mnist-sample" in text and "Connection refused" in text
    assert "Traceback" not in text and "Error:" not in text


def test_no_network_is_a_data_error_naming_the_mirror(tmp_path):
    port = closed_port()
    with pytest.raises(data.DataError, match="no network") as caught:
        data.load_dataset("mnist", base_url=f"http://127.0.0.1:{port}/", cache_dir=tmp_path / "cache")
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert not list((tmp_path / "cache" / "mnist").glob("*.part"))  # no half files left behind


@pytest.mark.parametrize(("damage", "expected"), [
    ("corrupt", "damaged or truncated gzip file"),
    ("truncated", "truncated"),
])
def test_damaged_data_files_fail_the_run_with_the_file_named(make_registry, tmp_path, monkeypatch, damage,
                                                             expected):
    monkeypatch.setitem(data.EXPECTED_COUNTS, "mnist", (30, 12))
    folder = write_idx_folder(tmp_path / "idx", damage=damage)
    registry = make_registry(store=None, in_process=True)  # EXPECTED_COUNTS is patched here only
    run = registry.get_or_start(RunConfig(dataset="mnist", data_dir=str(folder), epochs=1))
    assert run.wait(60) and run.status == FAILED
    assert expected in render(run.message) and "train-images-idx3-ubyte.gz" in render(run.message)
    assert "Traceback" not in run.message


def test_undamaged_tiny_idx_folder_trains(make_registry, tmp_path, monkeypatch):
    """The same folder undamaged trains: the failures above are the damage, not the setup."""
    monkeypatch.setitem(data.EXPECTED_COUNTS, "mnist", (30, 12))
    folder = write_idx_folder(tmp_path / "idx")
    run = make_registry(store=None, in_process=True).get_or_start(
        RunConfig(dataset="mnist", data_dir=str(folder), epochs=1, model="article"))
    assert run.wait(60) and run.status == FINISHED, run.message


# ----------------------------------------------------------------------------- disk

def test_read_only_home_still_trains_and_says_runs_are_not_saved(make_registry, tmp_path, monkeypatch):
    # A file where the folder should be: the same OSError path as a read-only or full disk,
    # and it holds for root too (root writes into read-only folders).
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    monkeypatch.setenv("REGDEMO_HOME", str(blocker / "home"))
    registry = make_registry()  # the default store, under REGDEMO_HOME
    assert any("not being saved" in render(w) and "Training still works" in render(w) for w in registry.warnings)
    needs_download = registry.get_or_start(RunConfig(dataset="mnist", train_size=200, epochs=1))
    trains = registry.get_or_start(RunConfig(**TINY))
    assert needs_download.wait(60) and trains.wait(120)
    assert needs_download.status == FAILED
    assert render(needs_download.message).startswith("cannot write to the data folder")
    assert "read-only or full" in render(needs_download.message)
    assert trains.status == FINISHED and not trains.saved
    assert registry.get(trains.key) is trains  # kept in memory: nothing lost while the server runs


def test_full_store_disk_keeps_the_run_and_warns(make_registry, tmp_path, monkeypatch):
    store = RunStore(tmp_path / "runs.sqlite3")
    registry = make_registry(store=store, in_process=True)  # the full disk is this store object's
    first = registry.get_or_start(RunConfig(seed=1, **TINY))
    assert first.wait(120) and first.saved  # fills the fresh file's free space
    connect = store._connect

    def full():
        con = connect()
        pages = con.execute("PRAGMA page_count").fetchone()[0]
        con.execute(f"PRAGMA max_page_count={pages}")  # SQLITE_FULL once the file must grow
        return con

    monkeypatch.setattr(store, "_connect", full)
    run = registry.get_or_start(RunConfig(seed=2, **TINY))
    assert run.wait(120) and run.status == FINISHED
    assert not run.saved and any("full" in render(w) for w in registry.warnings)
    assert registry.get(run.key) is run  # still served from memory
    assert [r.key for r in store.list()] == [first.key]  # the earlier run is intact


def test_a_damaged_store_is_moved_aside_and_the_app_goes_on(make_registry, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "runs.sqlite3").write_bytes(b"\x00not sqlite\x00" * 200)
    registry = make_registry()
    [warning] = map(render, registry.warnings)
    assert "was damaged" in warning and "moved to runs.sqlite3.corrupt-" in warning
    assert list(home.glob("runs.sqlite3.corrupt-*"))
    run = registry.get_or_start(RunConfig(**TINY))
    assert run.wait(120) and run.status == FINISHED
    assert run.saved and RunStore(home / "runs.sqlite3").get(run.key).status == FINISHED


# ----------------------------------------------------------------------------- worker processes

LONG = dict(model="wide", train_size=2000, epochs=40)  # trains for a while: time to act mid-run


def wait_until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_a_worker_killed_mid_run_fails_its_run_and_is_replaced(make_registry, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    registry = make_registry(store=store, workers=2)
    doomed = registry.get_or_start(RunConfig(seed=7, **LONG), session="a")
    wait_until(lambda: len(doomed.view().progress) >= 2)
    other = registry.get_or_start(RunConfig(seed=1, **TINY), session="b")
    index = registry.pool.busy().index(doomed.key)
    pid = registry.pool._children[index].process.pid
    os.kill(pid, signal.SIGKILL)
    assert doomed.wait(60)
    view = doomed.view()
    assert view.status == FAILED and "killed by SIGKILL" in render(view.message)
    assert "Press Train" in render(view.message)
    assert view.progress  # what it drew stays visible
    assert other.wait(120) and other.status == FINISHED and store.get(other.key).status == FINISHED
    wait_until(lambda: registry.pool.replaced == 1 and len(registry.pool.pids()) == 2)
    assert pid not in registry.pool.pids()
    again = registry.get_or_start(RunConfig(seed=2, **TINY))  # the new worker trains
    assert again.wait(120) and again.status == FINISHED
    assert store.get(doomed.key) is None  # a failure is retried, not stored


def test_stop_ends_a_training_run_at_once_and_stores_what_it_drew(make_registry, tmp_path):
    store = RunStore(tmp_path / "runs.sqlite3")
    registry = make_registry(store=store)
    run = registry.get_or_start(RunConfig(seed=3, **LONG), session="a")
    wait_until(lambda: len(run.view().progress) >= 2)
    asked = time.monotonic()
    registry.stop(run.key)
    wait_until(lambda: run.status == STOPPED, timeout=30)
    seconds = time.monotonic() - asked  # well under a second on an idle machine (docs/load.md)
    print(f"stopped {seconds:.2f} s after Stop")
    assert run.wait(30) and run.view().epochs_done < LONG["epochs"], seconds
    assert store.get(run.key).status == STOPPED


def test_nothing_outlives_the_registry(make_registry, tmp_path):
    before = set(threading.enumerate())  # threads of registries from earlier tests are not this one's
    registry = make_registry(store=RunStore(tmp_path / "runs.sqlite3"), workers=2)
    run = registry.get_or_start(RunConfig(seed=4, **LONG))
    queued = registry.get_or_start(RunConfig(seed=5, **LONG))
    wait_until(lambda: run.view().progress)
    pids = registry.pool.pids()
    live_dir = registry._live_dir
    registry.shutdown(timeout=20)
    assert registry.alive_threads() == 0
    assert run.status == STOPPED and queued.status == STOPPED
    assert not [t for t in set(threading.enumerate()) - before if t.name.startswith("regdemo-")]
    assert pids and not [pid for pid in pids if os.path.exists(f"/proc/{pid}")]
    assert not os.path.exists(live_dir)


SERVER = """
import sys, time
from regdemo.runs.registry import Registry
registry = Registry(workers=2, store=None)
print(" ".join(map(str, registry.pool.pids())), flush=True)
time.sleep(600)
"""


@pytest.mark.subprocess
def test_workers_exit_when_their_server_dies(tmp_path):
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    try:
        pids = [int(p) for p in server.stdout.readline().split()]
        assert len(pids) == 2 and all(os.path.exists(f"/proc/{pid}") for pid in pids)
        server.kill()  # no shutdown, no on_release: the server is simply gone
        server.wait(10)
        wait_until(lambda: not [pid for pid in pids if _running(pid)], timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child of init waits there until reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_worker_that_exits_with_a_code_says_so():
    """msg()'s own first argument is named code: a parameter of that name must still reach the words."""
    from regdemo.runs.execute import death_message

    assert "exit code 3" in render(death_message(3), "en") and "退出码 3" in render(death_message(3), "zh")
