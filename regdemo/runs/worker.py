"""Workers: where runs train, outside the app server's process.

`train_run(key, config, store)` is the one function every kind of worker calls:
a process of the local pool below, a thread of the in-process pool (unit tests),
or a task of a distributed queue on another machine (issue 12). It trains with
engine.fit and sends everything through the run store (see docs/load.md for why
the store and not a pipe):

  - mark_started (a run stopped or claimed meanwhile is skipped);
  - events go to store.append_events in batches, at most ~0.2 s old, and at once
    for Started, EpochEnd and Done; a second Started means "forget the first
    attempt" (the GPU ran out of memory and the run trains again on the CPU);
  - a watcher thread heartbeats every second and polls the row's stop_reason
    every 0.2 s, so Stop is honoured within a step of that (well under 1 s);
  - a missing device or a GPU out of memory trains on the CPU with a notice; any
    exception ends the run "failed" with a readable message (no traceback: that
    goes to the log);
  - at the end the finished run is saved (store.save) and its final status and
    message set on the live row, in that order: whoever sees the final status
    finds the run in the store.

LocalPool runs REGDEMO_WORKERS such processes (`python -m regdemo.runs.worker serve`,
started with subprocess: multiprocessing's spawn would run the Streamlit app
script again in every child, because Streamlit installs the script as
__main__ while it runs). Each process trains one run at a time with torch threads
set to its share of the cores, takes tasks over a pipe, and exits by itself when
its server goes away. A process that dies mid-run (killed by a signal, out of
memory) fails its run with a message, and the pool starts another in its place.

Kept in one file (~500 lines) because a run's whole path through a worker -- the
batcher, the watcher, the pool that feeds it and the process entry that serves it --
reads best top to bottom. The one argparse outside cli.py is `serve`'s: an internal
entry the pool starts, not a command a person types.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable

import torch

from regdemo.messages import encode, msg
from regdemo.runs import inference, predict
from regdemo.runs.records import RUNNING, Run
from regdemo.storage.sqlite import RunStore
from regdemo.storage.stores import open_store
from regdemo.training import engine
from regdemo.training.config import ConfigError, RunConfig
from regdemo.training.data import DataError, load_dataset
from regdemo.training.events import FAILED, FINAL_STATUSES, Done, EpochEnd, Started

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.15  # events wait at most this long (plus one watcher tick) before they are written
WATCH_SECONDS = 0.2  # the watcher polls the stop request and flushes this often
HEARTBEAT_SECONDS = 1.0
ROOT = pathlib.Path(__file__).resolve().parents[2]  # the folder holding the regdemo package


# -- cores -------------------------------------------------------------------------------------

def available_cpus() -> int:
    """Cores this process may really use: its CPU affinity, capped by a cgroup v2 quota
    (containers such as Streamlit Community Cloud report the host's cores otherwise)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def threads_per_worker(workers: int) -> int:
    """torch threads of each worker: the usable cores split among the workers."""
    return max(1, available_cpus() // max(1, workers))


# -- the worker function -----------------------------------------------------------------------

class _Batcher:
    """Collects a run's events and writes them in batches (one transaction each)."""

    def __init__(self, store, key: str):
        self.store, self.key = store, key
        self._pending: list = []
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def add(self, event) -> None:
        with self._lock:
            self._pending.append(event)
            urgent = isinstance(event, (Started, EpochEnd, Done))
            if urgent or time.monotonic() - self._last >= FLUSH_SECONDS:
                self._flush()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self.store.append_events(self.key, self._pending)
            self._pending = []
        self._last = time.monotonic()


class _Watcher(threading.Thread):
    """Heartbeats, flushes events that waited too long, and turns a stop request in the
    store into the run's stop event."""

    def __init__(self, store, key: str, record: Run, batcher: _Batcher):
        super().__init__(name=f"regdemo-watch-{key}", daemon=True)
        self.store, self.key, self.record, self.batcher = store, key, record, batcher
        self._halt = threading.Event()

    def run(self) -> None:
        beat = time.monotonic()
        while not self._halt.wait(WATCH_SECONDS):
            try:
                self.batcher.flush()
                row = self.store.live(self.key)
                if row is None:
                    self.record.stop(encode(msg("run.dropped")))
                elif row.stop_reason:
                    self.record.stop(row.stop_reason)
                if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                    self.store.heartbeat(self.key)
                    beat = time.monotonic()
            except Exception:  # noqa: BLE001 -- the watcher must outlive a store hiccup
                log.exception("run %s: watcher", self.key)

    def halt(self) -> None:
        self._halt.set()
        self.join(5)


def train_run(key: str, config, store, *, results=None, source: str = "app", save: bool = True,
              train: Callable | None = None, worker: str | None = None) -> str:
    """Train run `key` (a RunConfig or its to_dict()) through `store`; returns the final
    status ("" when the run was no longer waiting: stopped, claimed or dropped).

    `results`: where the finished run is saved (default `store`); `save=False` saves
    nothing. `train(config, stop=event)` yields events (default engine.fit; unit tests
    inject fakes in the in-process pool).
    """
    if not isinstance(config, RunConfig):
        config = RunConfig.from_dict(config)
    worker = worker or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    if not store.mark_started(key, worker):
        row = store.live(key)
        return row.status if row is not None and row.status in FINAL_STATUSES else ""
    record = Run(config)
    record.mark_running()
    batcher = _Batcher(store, key)
    watcher = _Watcher(store, key, record, batcher)
    watcher.start()
    model = None
    try:
        model = _attempts(record, config, train, batcher, store, key)
    except BaseException as err:  # noqa: BLE001 -- even KeyboardInterrupt leaves a final status
        record.mark_failed(_failure_message(key, err))
        if not isinstance(err, Exception):
            raise
    finally:
        watcher.halt()
        if not record.finished:
            record.mark_failed(encode(msg("run.no_final_status")))
        batcher.flush()
        view = record.view()
        target = store if results is None else results
        if save and target is not None:
            try:
                if target.save(view, source=source) and model is not None and view.status in inference.KEEPS_WEIGHTS:
                    target.save_weights(key, inference.weights_bytes(model))  # for the Draw page
            except Exception:  # noqa: BLE001 -- a store failure must not lose the status
                log.exception("run %s: saving it failed", key)
        store.set_status(key, view.status, view.message)
    return view.status


def _attempts(record: Run, config: RunConfig, train, batcher: _Batcher, store, key: str):
    """fit on the asked device, else on the CPU (device missing, GPU out of memory); returns
    the trained model of the final Done (None when there was none)."""
    train = train or engine.fit
    try:
        engine.resolve_device(config.device)
    except ConfigError:
        config = config.replace(device="cpu")
        _notice(record, store, key, encode(msg("run.device_missing", device=record.config.device)))
    try:
        return _consume(record, config, train, batcher)
    except torch.OutOfMemoryError:
        used = record.started.device if record.started else config.device
        if used == "cpu":
            record.mark_failed(encode(msg("run.cpu_out_of_memory")))
            return
        log.warning("run %s: out of memory on %s, training again on the CPU", key, used)
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        record.restart()  # the next Started tells the readers to forget this attempt too
        _notice(record, store, key, encode(msg("run.gpu_out_of_memory", device=used)))
        try:
            return _consume(record, config.replace(device="cpu"), train, batcher)
        except Exception as err:  # noqa: BLE001 -- any failure becomes the run's status
            record.mark_failed(_failure_message(key, err))
    except Exception as err:  # noqa: BLE001 -- any failure becomes the run's status
        record.mark_failed(_failure_message(key, err))
    return None


def _notice(record: Run, store, key: str, text: str) -> None:
    record.add_notice(text)
    store.set_status(key, RUNNING, record.notice)


def _consume(record: Run, config: RunConfig, train, batcher: _Batcher):
    model = None
    for event in train(config, stop=record.stop_event):
        record.apply(event)
        if isinstance(event, Done):  # the record's message: notices and stop reason included
            model = event.model
            event = Done(event.status, event.epochs_run, event.best_epoch, event.step, record.message,
                         event.test_predictions)
        batcher.add(event)
    return model


def _failure_message(key: str, err: BaseException) -> str:
    if isinstance(err, (DataError, ConfigError)):
        return encode(err.message)  # written for the user already
    log.error("run %s failed", key, exc_info=err)  # the traceback goes to the log only
    return encode(msg("run.training_failed", error=f"{type(err).__name__}: {err}"))


def death_message(returncode: int) -> str:
    """What a run says when the process training it died."""
    if returncode < 0:
        try:
            how = msg("run.killed_by", signal=signal.Signals(-returncode).name)
        except ValueError:
            how = msg("run.killed_by", signal=-returncode)
    else:
        how = msg("run.exit_code", code=returncode)
    return encode(msg("run.worker_died", how=how))


# -- pools: hand runs to workers ---------------------------------------------------------------

class _Pool:
    """The FIFO hand-over both pools share: submit() queues, each slot's thread takes the
    oldest waiting run when its worker is free. Both are a backend.Backend."""

    def __init__(self, workers: int, name: str, live):
        self.workers = workers
        self._live = live  # the live channel: stop requests go to the workers through it
        self._pending: deque[tuple[str, dict]] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._threads = [threading.Thread(target=self._slot, args=(i,), name=f"regdemo-{name}-{i}", daemon=True)
                         for i in range(workers)]

    def _start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, key: str, config: RunConfig) -> None:
        with self._cond:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            self._pending.append((key, config.to_dict()))
            self._cond.notify()

    def capacity(self) -> str:
        return encode(msg("queue.closed")) if self._closed else ""

    def stop(self, key: str, reason: str = "") -> None:
        self._live.request_stop(key, reason)

    def check_stale(self) -> list[str]:
        return []  # a slot thread sees its process die at once and reports it (on_death)

    on_take: Callable[[str], bool] | None = None  # the registry: is the run still wanted?

    def _next(self) -> tuple[str, dict] | None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return None
                key, config = self._pending.popleft()
            if self.on_take is None or self.on_take(key):
                return key, config

    def _close_threads(self) -> None:
        with self._cond:
            self._closed = True
            self._pending.clear()
            self._cond.notify_all()

    def alive(self) -> int:
        """Threads (and, for the local pool, processes) still alive."""
        return sum(thread.is_alive() for thread in self._threads)


class InProcessPool(_Pool):
    """Workers as threads of this process, for unit tests only: they can inject a fake
    `train` and step it. The app always uses LocalPool."""

    def __init__(self, workers: int, store, results, source: str, save: bool, train: Callable | None):
        super().__init__(workers, "trainer", store)
        self.store, self.results, self.source, self.save, self.train = store, results, source, save, train
        self._models = inference.Models(results)
        self._start()

    def _slot(self, index: int) -> None:
        while (task := self._next()) is not None:
            key, config = task
            try:
                train_run(key, config, self.store, results=self.results, source=self.source, save=self.save,
                          train=self.train)
            except Exception:  # noqa: BLE001 -- a broken worker call must not kill the slot
                log.exception("run %s: worker", key)
                self.store.set_status(key, FAILED, encode(msg("run.worker_failed")))

    def predict(self, keys: list[str], pixels, timeout: float = 5.0) -> dict[str, dict]:
        """The Draw page's question, answered in this process (tests only)."""
        return self._models.answer(keys, predict.request(keys, pixels)["pixels"])

    def close(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        self._close_threads()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Child:
    """One worker process and the two pipes to it."""

    def __init__(self, command: list[str], env: dict):
        task_read, self._task_write = os.pipe()
        self._result_read, result_write = os.pipe()
        try:
            self.process = subprocess.Popen([*command, "--fds", f"{task_read},{result_write}"], env=env, cwd=ROOT,
                                            pass_fds=(task_read, result_write), stdin=subprocess.DEVNULL)
        finally:
            os.close(task_read)
            os.close(result_write)
        self.tasks = os.fdopen(self._task_write, "w", buffering=1)
        self.results = os.fdopen(self._result_read, "r")

    def send(self, key: str, config: dict) -> bool:
        try:
            self.tasks.write(json.dumps({"key": key, "config": config}) + "\n")
            self.tasks.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def end_tasks(self) -> None:
        """No more tasks: an idle worker exits at once, a busy one after its run."""
        try:
            self.tasks.close()
        except OSError:
            pass

    def reap(self, timeout: float) -> None:
        """Wait for the process to exit; kill it after `timeout` seconds."""
        try:
            self.process.wait(timeout=max(0.1, timeout))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


class LocalPool(_Pool):
    """`workers` processes on this machine, each training one run at a time."""

    def __init__(self, workers: int, live, store_path=None, source: str = "app", save: bool = True,
                 on_death: Callable[[str, str], None] | None = None):
        """`live`: the SQLite store (storage.sqlite.RunStore) live runs go through; `store_path`:
        where finished runs are saved (None: not saved). `on_death(key, message)` is called when
        the process training `key` died (the default marks the run failed in the live store)."""
        super().__init__(workers, "pool", live)
        live_path = live.path
        self.threads = threads_per_worker(workers)
        self._command = [sys.executable, "-m", "regdemo.runs.worker", "serve", "--live", str(live_path),
                         "--source", source, "--threads", str(self.threads), "--parent", str(os.getpid())]
        if store_path is not None and save:
            self._command += ["--store", str(store_path)]
        # OpenMP sizes its pool from this before torch can say otherwise.
        self._env = dict(os.environ, OMP_NUM_THREADS=str(self.threads), PYTHONUNBUFFERED="1")
        self._env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        self._on_death = on_death
        self._live_path = live_path
        self._children: list[_Child | None] = [None] * workers
        self._busy: list[str | None] = [None] * workers
        self.replaced = 0  # processes started in place of ones that died
        for i in range(workers):  # started now: each imports torch while nobody waits
            self._children[i] = _Child(self._command, self._env)
        self._start()

    def pids(self) -> list[int]:
        return [c.process.pid for c in self._children if c is not None and c.process.poll() is None]

    def predict(self, keys: list[str], pixels, timeout: float = 5.0) -> dict[str, dict]:
        """The Draw page's question, answered by a worker process beside its training
        (predict.py); raises predict.PredictError when no worker is listening yet."""
        folder = pathlib.Path(self._live_path).parent
        return predict.ask(lambda: [predict.socket_path(folder, pid) for pid in self.pids()], keys, pixels, timeout)

    def busy(self) -> list[str | None]:
        """The key each worker is training (None when idle)."""
        return list(self._busy)

    def _slot(self, index: int) -> None:
        while (task := self._next()) is not None:
            key, config = task
            child = self._children[index]
            if child is None or child.process.poll() is not None:  # died while idle
                child = self._replace(index, child)
                if child is None:
                    return
            self._busy[index] = key
            line = child.results.readline() if child.send(key, config) else ""
            self._busy[index] = None
            if line:
                continue
            # End of file: the process died, mid-run or while taking the task.
            try:
                code = child.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.process.kill()
                code = child.process.wait(timeout=5)
            if self._closed:
                return
            log.warning("worker %d (pid %d) died with code %s while training %s", index, child.process.pid, code, key)
            self._died(key, death_message(code))
            if self._replace(index, child) is None:
                return

    def _replace(self, index: int, old: _Child | None) -> _Child | None:
        if old is not None:
            old.end_tasks()
            old.reap(1.0)
            old.results.close()
        with self._cond:
            if self._closed:
                return None
            child = self._children[index] = _Child(self._command, self._env)
            self.replaced += 1
            return child

    def _died(self, key: str, message: str) -> None:
        if self._on_death is not None:
            self._on_death(key, message)
            return

        store = RunStore(self._live_path)
        row = store.live(key)
        if row is not None and row.status not in FINAL_STATUSES:
            store.set_status(key, FAILED, message)

    def close(self, timeout: float = 5.0) -> None:
        """No process left behind: idle workers exit at once; busy ones get until `timeout`
        to end their run (stop it first), then they are killed."""
        deadline = time.monotonic() + timeout
        self._close_threads()
        with self._cond:
            children = [c for c in self._children if c is not None]
        for child in children:
            child.end_tasks()
        for child in children:
            child.reap(deadline - time.monotonic())
        for thread in self._threads:  # each sees its worker's last line or end of file
            thread.join(5)
        for child in children:
            child.results.close()

    def alive(self) -> int:
        return super().alive() + len(self.pids())


# -- python -m regdemo.runs.worker serve: one process of the local pool ------------------------------

def _watch_parent(parent: int) -> None:
    """Exit when the server that started us is gone (we were re-parented)."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def serve(args) -> int:
    torch.set_num_threads(args.threads)
    # open_store: PostgreSQL when REGDEMO_DATABASE_URL is set (inherited from the server), else the file
    results = open_store(args.store) if args.store else None
    inference.listen(predict.socket_path(pathlib.Path(args.live).parent, os.getpid()), results)  # the Draw page
    engine.warm_up()
    load_dataset(RunConfig().dataset)  # the default run's digits (a few MB): its first point comes sooner
    threading.Thread(target=_watch_parent, args=(args.parent,), name="regdemo-parent", daemon=True).start()
    live = RunStore(args.live)
    task_fd, result_fd = (int(fd) for fd in args.fds.split(","))
    with os.fdopen(task_fd, "r") as tasks, os.fdopen(result_fd, "w", buffering=1) as out:
        for line in tasks:  # end of file: the server closed the pool, or died
            task = json.loads(line)
            status = train_run(task["key"], task["config"], live, results=results, source=args.source,
                               save=results is not None)
            out.write(json.dumps({"key": task["key"], "status": status}) + "\n")
            out.flush()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m regdemo.runs.worker")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="one process of the app's local pool (started by the app)")
    p.add_argument("--live", required=True, help="store file live runs go through")
    p.add_argument("--store", help="store file finished runs are saved to")
    p.add_argument("--source", default="app")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--parent", type=int, required=True)
    p.add_argument("--fds", required=True, help="task and result pipe descriptors")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(process)d %(levelname)s %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the server's terminal: the server decides
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
