"""Workers: the pools that hand runs to worker processes and supervise them.

Each worker runs runs/execute.py's train_run, one run at a time; runs/cpus.py sizes its torch
threads.

LocalPool runs REGDEMO_WORKERS such processes (`python -m regdemo.runs.worker serve`,
started with subprocess: multiprocessing's spawn would run the Streamlit app
script again in every child, because Streamlit installs the script as
__main__ while it runs). Each process trains one run at a time with torch threads
set to its share of the cores, takes tasks over a pipe, and exits by itself when
its server goes away. A process that dies mid-run (killed by a signal, out of
memory) fails its run with a message, and the pool starts another in its place.

The one argparse outside cli/ is `serve`'s: an internal entry the pool starts, not a command
a person types.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable

from regdemo.messages import encode, msg
from regdemo.runs import predict
from regdemo.runs.cpus import threads_per_worker
from regdemo.runs.execute import death_message, train_run
from regdemo.storage.sqlite import RunStore
from regdemo.storage.stores import open_store
from regdemo.training.config import RunConfig
from regdemo.training.events import FAILED, FINAL_STATUSES

log = logging.getLogger(__name__)

ROOT = pathlib.Path(__file__).resolve().parents[2]  # the folder holding the regdemo package


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
        from regdemo.runs import inference  # noqa: PLC0415 -- torch (tests only): see _attempts

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
    # The watcher first: a server that dies while this worker still warms up (seconds on a busy
    # machine) must not leave it behind to finish warming and wait forever.
    threading.Thread(target=_watch_parent, args=(args.parent,), name="regdemo-parent", daemon=True).start()
    # The worker process: torch and the digits loaded before the first run (see _attempts).
    import torch  # noqa: PLC0415

    from regdemo.runs import inference  # noqa: PLC0415
    from regdemo.training import engine  # noqa: PLC0415
    from regdemo.training.data import load_dataset  # noqa: PLC0415

    torch.set_num_threads(args.threads)
    # open_store: PostgreSQL when REGDEMO_DATABASE_URL is set (inherited from the server), else the file
    results = open_store(args.store) if args.store else None
    inference.listen(predict.socket_path(pathlib.Path(args.live).parent, os.getpid()), results)  # the Draw page
    engine.warm_up()
    load_dataset(RunConfig().dataset)  # the default run's digits (a few MB): its first point comes sooner
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
