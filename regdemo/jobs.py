"""Background runs: a Run per config key, trained by a bounded pool of threads.

The app keeps one Registry in st.cache_resource; every browser session asks it
for the run of its current config. Identical configs share one run
(single-flight), at most `workers` runs train at once, the rest wait in a FIFO
queue. Training threads only append events to their Run under its lock; pages
read a consistent copy with Run.view(). Nothing here knows about streamlit.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import torch

from regdemo.config import RunConfig
from regdemo.events import FAILED, FINAL_STATUSES, STOPPED, Done, EpochEnd, MaskSnapshot, Progress, Started

QUEUED, RUNNING = "queued", "running"
MASKS_KEPT = 6  # latest mask snapshots kept per dropout layer


@dataclass(frozen=True)
class RunView:
    """An immutable snapshot of a Run, safe to read while training goes on."""

    key: str
    config: RunConfig
    status: str
    message: str
    queue_position: int  # 1-based while queued, else 0
    started: Started | None
    progress: tuple[Progress, ...]
    epochs: tuple[EpochEnd, ...]
    masks: dict[str, tuple[MaskSnapshot, ...]]
    done: Done | None
    created_at: float
    started_at: float | None
    finished_at: float | None

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def epochs_done(self) -> int:
        return len(self.epochs)

    @property
    def fraction_done(self) -> float:
        if self.finished:
            return 1.0
        if not self.progress:
            return 0.0
        return min(1.0, self.progress[-1].epoch / self.config.epochs)


class Run:
    def __init__(self, config: RunConfig):
        self.config = config
        self.key = config.key()
        self.stop_event = threading.Event()
        self._lock = threading.Lock()
        self._finished = threading.Event()
        self.status = QUEUED
        self.message = ""
        self.queue_position = 0
        self.started: Started | None = None
        self.progress: list[Progress] = []
        self.epochs: list[EpochEnd] = []
        self.masks: dict[str, deque[MaskSnapshot]] = {}
        self.done: Done | None = None
        self.created_at = time.time()
        self.started_at: float | None = None
        self.finished_at: float | None = None

    # -- written by the training thread -------------------------------------
    def apply(self, event) -> None:
        with self._lock:
            if isinstance(event, Started):
                self.started = event
            elif isinstance(event, Progress):
                self.progress.append(event)
            elif isinstance(event, EpochEnd):
                self.epochs.append(event)
            elif isinstance(event, MaskSnapshot):
                self.masks.setdefault(event.layer, deque(maxlen=MASKS_KEPT)).append(event)
            elif isinstance(event, Done):
                # The model stays out of the registry: it would pin memory for
                # every run ever trained. The CLI keeps it from fit() directly.
                self.done = Done(event.status, event.epochs_run, event.best_epoch, event.step,
                                 event.message, event.test_predictions)
                self._finish(event.status, event.message)

    def _finish(self, status: str, message: str) -> None:
        self.status, self.message = status, message
        self.queue_position = 0
        self.finished_at = time.time()
        self._finished.set()

    def mark_running(self) -> None:
        with self._lock:
            self.status, self.queue_position, self.started_at = RUNNING, 0, time.time()

    def mark_failed(self, message: str) -> None:
        with self._lock:
            if self.status not in FINAL_STATUSES:
                self._finish(FAILED, message)

    # -- read by pages --------------------------------------------------------
    def view(self) -> RunView:
        with self._lock:
            return RunView(
                key=self.key, config=self.config, status=self.status, message=self.message,
                queue_position=self.queue_position, started=self.started,
                progress=tuple(self.progress), epochs=tuple(self.epochs),
                masks={k: tuple(v) for k, v in self.masks.items()}, done=self.done,
                created_at=self.created_at, started_at=self.started_at,
                finished_at=self.finished_at,
            )

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def stop(self) -> None:
        """Ask the run to end; a queued run ends at once, a running one within a step."""
        self.stop_event.set()
        with self._lock:
            if self.status == QUEUED:
                self._finish(STOPPED, "Stopped before it started.")

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)


def default_workers() -> int:
    """Training threads: one per two cores, at least one (REGDEMO_WORKERS overrides)."""
    env = os.environ.get("REGDEMO_WORKERS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, (os.cpu_count() or 1) // 2)


class Registry:
    """Single-flight runs by config key, a bounded pool of trainer threads, a FIFO queue."""

    def __init__(self, workers: int | None = None, train: Callable | None = None,
                 on_finish: Callable[[Run], None] | None = None):
        from regdemo import engine

        self.workers = workers or default_workers()
        self._train = train or engine.fit
        self._on_finish = on_finish
        self._runs: dict[str, Run] = {}
        self._queue: deque[Run] = deque()
        self._cond = threading.Condition()
        self._closed = False
        # Split the cores among the trainer threads so parallel runs do not
        # oversubscribe the CPU (torch's thread count is process-wide).
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.workers))
        engine.warm_up()
        self._threads = [
            threading.Thread(target=self._worker, name=f"regdemo-trainer-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def get_or_start(self, config: RunConfig) -> Run:
        """The run for this config: joined if it exists, started (queued) if not.

        A stopped or failed run is started afresh; finished, early-stopped and
        diverged runs are final answers for their config and are returned as is.
        """
        config.validate()
        key = config.key()
        with self._cond:
            if self._closed:
                raise RuntimeError("the registry is shut down")
            run = self._runs.get(key)
            if run is not None and run.status not in (STOPPED, FAILED):
                return run
            run = Run(config)
            self._runs[key] = run
            self._queue.append(run)
            self._renumber()
            self._cond.notify()
            return run

    def get(self, key: str) -> Run | None:
        with self._cond:
            return self._runs.get(key)

    def runs(self) -> list[Run]:
        with self._cond:
            return sorted(self._runs.values(), key=lambda r: r.created_at)

    def stop(self, key: str) -> None:
        run = self.get(key)
        if run is not None:
            run.stop()
            with self._cond:
                if run in self._queue:
                    self._queue.remove(run)
                    self._renumber()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every run and join the trainer threads (st.cache_resource on_release)."""
        with self._cond:
            self._closed = True
            pending = list(self._runs.values())
            self._queue.clear()
            self._cond.notify_all()
        for run in pending:
            run.stop()
        for thread in self._threads:
            thread.join(timeout)

    def _renumber(self) -> None:
        for position, run in zip(itertools.count(1), self._queue):
            run.queue_position = position

    def _worker(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                run = self._queue.popleft()
                self._renumber()
            if run.finished:  # stopped while queued
                continue
            run.mark_running()
            try:
                for event in self._train(run.config, stop=run.stop_event):
                    run.apply(event)
                if not run.finished:
                    run.mark_failed("Training ended without a final status.")
            except Exception as err:  # noqa: BLE001 -- any failure becomes the run's status
                run.mark_failed(f"{type(err).__name__}: {err}")
            if self._on_finish is not None:
                try:
                    self._on_finish(run)
                except Exception:  # noqa: BLE001 -- a store failure must not kill the worker
                    pass
