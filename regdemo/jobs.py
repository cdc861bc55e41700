"""Background runs: a Run per config key, trained by a bounded pool of threads.

The app keeps one Registry in st.cache_resource; every browser session asks it
for the run of its current config. Identical configs share one run
(single-flight), at most `workers` runs train at once, the rest wait in a FIFO
queue. Training threads only append events to their Run under its lock; pages
read a consistent copy with Run.view(). Nothing here knows about streamlit.

A class of thirty on one small server, the rules:
  - Finished runs are saved to the run store and served from it: a config
    anyone trained before (in the app, or with the CLI the night before) comes
    back at once, without training.
  - Each browser session may have `session_limit` runs queued or training at
    once (default 4: the article's four experiments side by side). One more is
    refused with RunLimitError, whose message the page shows; joining a run
    someone else started, or one from the store, is free. Refusing is safer than
    stopping the session's oldest run, which may be shared with other students.
  - The queue holds at most `max_queued` runs; past that, RunLimitError too.
  - Viewers: a page calls touch(key, session) on every redraw. A run nobody has
    looked at for `grace_seconds` (default 120: a reload, a glance at another
    tab or page) is stopped -- unless it would finish within the grace period
    anyway, in which case it finishes and is stored. A queued run nobody waits
    for gives up its place. The rule is opt-in per run: only runs some page has
    touch()ed are ever reaped, so the CLI, tests, the benchmark -- or a page
    that never calls touch() -- cannot lose a run to it. A stopped run that
    drew curves is stored as "stopped".
  - A failing run (an exception in its thread) becomes status "failed" with a
    readable message; the other runs and the pool go on.
  - A device that is missing, or a GPU that runs out of memory: the run trains
    on the CPU instead and says so in its message.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import torch

from regdemo.config import ConfigError, RunConfig
from regdemo.events import FAILED, FINAL_STATUSES, STOPPED, Done, EpochEnd, MaskSnapshot, Progress, Started

log = logging.getLogger(__name__)

QUEUED, RUNNING = "queued", "running"
MASKS_KEPT = 6  # latest mask snapshots kept per dropout layer
SESSION_LIMIT = 4  # runs one browser session may have queued or training (REGDEMO_SESSION_RUNS)
MAX_QUEUED = 100  # runs waiting at most (REGDEMO_MAX_QUEUED)
GRACE_SECONDS = 120.0  # a run unwatched this long is stopped (REGDEMO_GRACE_SECONDS)
KEEP_FINISHED = 64  # finished runs kept in memory; older ones are read back from the store

NOBODY_WAITING = "Nobody was waiting for this run any more, so it gave its place in the queue to others."
NOBODY_WATCHING = "Nobody was watching this run any more, so it was stopped to free the trainer for others."


class RunLimitError(RuntimeError):
    """The server turns a new run down for now; the message is meant for the student."""


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
    # "" for a run trained by this server process; for a run read back from the
    # store, who trained it: "app", "cli" or "sweep" (stored runs keep no masks).
    source: str = ""

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
        # Set once the run is final *and* its registry has saved it (see wait()).
        self._settled = threading.Event()
        self.managed = False  # True when a Registry trains it and settles it after saving
        self.status = QUEUED
        self.message = ""
        self.notice = ""  # e.g. "trained on the CPU instead"; prefixed to the final message
        self.queue_position = 0
        self.started: Started | None = None
        self.progress: list[Progress] = []
        self.epochs: list[EpochEnd] = []
        self.masks: dict[str, deque[MaskSnapshot]] = {}
        self.done: Done | None = None
        self.created_at = time.time()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.source = ""
        self.saved = False  # in the run store: memory may let go of it
        # Registry bookkeeping, guarded by the registry's lock.
        self.owner: str | None = None  # the session that started it (session cap)
        self.viewers: dict[str, float] = {}  # session -> last touch (registry clock)
        self.watched = False  # a page called touch() for it: the grace-period rule applies
        self.started_tick: float | None = None  # registry clock when training began
        self._stop_reason = ""

    @classmethod
    def from_view(cls, view: RunView) -> Run:
        """A finished Run holding a stored run (RunStore.get), as if trained here."""
        run = cls(view.config)
        run.status, run.message = view.status, view.message
        run.started, run.done = view.started, view.done
        run.progress, run.epochs = list(view.progress), list(view.epochs)
        run.created_at, run.started_at, run.finished_at = view.created_at, view.started_at, view.finished_at
        run.source, run.saved = view.source, True
        run._settled.set()
        return run

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
                message = event.message
                if event.status == STOPPED and self._stop_reason:
                    message = self._stop_reason
                # The model stays out of the registry: it would pin memory for
                # every run ever trained. The CLI keeps it from fit() directly.
                self.done = Done(event.status, event.epochs_run, event.best_epoch, event.step,
                                 message, event.test_predictions)
                self._finish(event.status, message)

    def _finish(self, status: str, message: str) -> None:
        self.status = status
        self.message = " ".join(part for part in (self.notice, message) if part)
        self.queue_position = 0
        self.finished_at = time.time()
        if not self.managed:
            self._settled.set()

    def mark_running(self) -> None:
        with self._lock:
            self.status, self.queue_position, self.started_at = RUNNING, 0, time.time()

    def mark_failed(self, message: str) -> None:
        with self._lock:
            if self.status not in FINAL_STATUSES:
                self._finish(FAILED, message)

    def add_notice(self, text: str) -> None:
        """A note shown while the run trains and kept in its final message."""
        with self._lock:
            self.notice = " ".join(part for part in (self.notice, text) if part)
            if not self.finished:
                self.message = self.notice

    def restart(self) -> None:
        """Forget what a failed attempt drew, before training again (on the CPU)."""
        with self._lock:
            self.started, self.done = None, None
            self.progress, self.epochs, self.masks = [], [], {}

    # -- read by pages --------------------------------------------------------
    def view(self) -> RunView:
        with self._lock:
            return RunView(
                key=self.key, config=self.config, status=self.status, message=self.message,
                queue_position=self.queue_position, started=self.started,
                progress=tuple(self.progress), epochs=tuple(self.epochs),
                masks={k: tuple(v) for k, v in self.masks.items()}, done=self.done,
                created_at=self.created_at, started_at=self.started_at,
                finished_at=self.finished_at, source=self.source,
            )

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def stop(self, reason: str = "") -> None:
        """Ask the run to end; a queued run ends at once, a running one within a step."""
        with self._lock:
            if self.status in FINAL_STATUSES:
                return
            self._stop_reason = reason
            self.stop_event.set()
            if self.status == QUEUED:
                self._finish(STOPPED, reason or "Stopped before it started.")
                self._settled.set()  # no trainer will pick it up: nothing left to save

    def settle(self) -> None:
        """The registry is done with it (saved, or not worth saving)."""
        self._settled.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Until the run is final and, in a registry, saved: after wait() the store has it."""
        return self._settled.wait(timeout)


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


def _env_number(name: str, default, kind=int):
    try:
        value = kind(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 and math.isfinite(value) else default


def default_workers() -> int:
    """Training threads: one per two cores, at least one (REGDEMO_WORKERS overrides)."""
    return _env_number("REGDEMO_WORKERS", max(1, available_cpus() // 2))


_DEFAULT_STORE = object()


class Registry:
    """Single-flight runs by config key, a bounded pool of trainer threads, a FIFO queue,
    backed by the run store. See the module docstring for the rules."""

    def __init__(self, workers: int | None = None, train: Callable | None = None,
                 on_finish: Callable[[Run], None] | None = None, store=_DEFAULT_STORE,
                 session_limit: int | None = None, max_queued: int | None = None,
                 grace_seconds: float | None = None, keep_finished: int = KEEP_FINISHED,
                 clock: Callable[[], float] = time.monotonic, source: str = "app"):
        """`store`: a store.RunStore, None for no store, default RunStore() at
        $REGDEMO_HOME/runs.sqlite3. `train(config, stop=event)` yields events
        (engine.fit; tests inject fakes). `clock` times viewers (tests fake it)."""
        from regdemo import engine

        self.workers = workers or default_workers()
        if store is _DEFAULT_STORE:
            from regdemo.store import RunStore

            store = RunStore()
        self.store = store
        self.source = source  # who trains, as recorded in the store: "app", or "sweep" for the CLI's sweeps
        self.session_limit = session_limit or _env_number("REGDEMO_SESSION_RUNS", SESSION_LIMIT)
        self.max_queued = max_queued or _env_number("REGDEMO_MAX_QUEUED", MAX_QUEUED)
        self.grace_seconds = grace_seconds or _env_number("REGDEMO_GRACE_SECONDS", GRACE_SECONDS, float)
        self.keep_finished = keep_finished
        self._clock = clock
        self._train = train or engine.fit
        self._on_finish = on_finish
        self._runs: dict[str, Run] = {}
        self._finished_keys: deque[str] = deque()  # finish order, for letting go of old runs
        self._by_session: dict[str, list[Run]] = {}
        self._queue: deque[Run] = deque()
        self._cond = threading.Condition()
        self._closed = False
        # Split the cores among the trainer threads so parallel runs do not
        # oversubscribe the CPU (torch's thread count is process-wide; each
        # trainer's ops use this many threads).
        torch.set_num_threads(max(1, available_cpus() // self.workers))
        engine.warm_up()
        self._threads = [
            threading.Thread(target=self._worker, name=f"regdemo-trainer-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def warnings(self) -> list[str]:
        """Problems the app should show once (a damaged store moved aside, a read-only disk)."""
        return list(self.store.warnings) if self.store is not None else []

    # -- asked by pages --------------------------------------------------------
    def get_or_start(self, config: RunConfig, session: str | None = None) -> Run:
        """The run for this config: joined if it exists, read from the store if it was
        trained before, else started (queued) for `session`.

        A stopped or failed run is started afresh; finished, early-stopped and
        diverged runs are final answers for their config and are returned as is.
        Raises ConfigError for a bad config and RunLimitError when the session
        already has session_limit runs going or the queue is full.
        """
        config.validate()
        key = config.key()
        with self._cond:
            self._check_open()
            run = self._live(key, session)
            if run is not None:
                return run
        stored = self._from_store(key)  # disk I/O outside the lock
        with self._cond:
            self._check_open()
            run = self._live(key, session)  # someone may have started it meanwhile
            if run is not None:
                return run
            if stored is not None:
                self._keep(stored)
                self._touch(stored, session)
                return stored
            self._sweep_queue()
            if session is not None:
                mine = [r for r in self._by_session.get(session, ()) if not r.finished]
                self._by_session[session] = mine
                if len(mine) >= self.session_limit:
                    raise RunLimitError(
                        f"You already have {len(mine)} runs training or waiting (the limit is "
                        f"{self.session_limit}). Wait for one to finish, or stop one, then try again.")
            if len(self._queue) >= self.max_queued:
                raise RunLimitError(f"The server is busy: {len(self._queue)} runs are waiting. "
                                    "Try again in a few minutes, or pick a run someone already trained.")
            run = Run(config)
            run.managed = True
            run.owner = session
            if session is not None:
                self._by_session.setdefault(session, []).append(run)
            self._touch(run, session)
            self._runs[key] = run
            self._queue.append(run)
            self._renumber()
            self._cond.notify()
            return run

    def get(self, key: str) -> Run | None:
        """The run with this key: in memory, else from the store, else None."""
        with self._cond:
            run = self._runs.get(key)
        if run is not None:
            return run
        stored = self._from_store(key)
        if stored is None:
            return None
        with self._cond:
            return self._runs.get(key) or self._keep(stored)

    def touch(self, key: str, session: str) -> None:
        """Session `session` is looking at run `key` now (call it on every redraw)."""
        with self._cond:
            run = self._runs.get(key)
            if run is not None:
                run.watched = True
                self._touch(run, session)

    def viewers(self, key: str) -> int:
        """Sessions that looked at this run within the grace period."""
        with self._cond:
            run = self._runs.get(key)
            if run is None:
                return 0
            now = self._clock()
            return sum(1 for seen in run.viewers.values() if now - seen < self.grace_seconds)

    def runs(self) -> list[Run]:
        with self._cond:
            return sorted(self._runs.values(), key=lambda r: r.created_at)

    def queue_length(self) -> int:
        with self._cond:
            return len(self._queue)

    def stop(self, key: str) -> None:
        run = self.get(key)
        if run is not None:
            run.stop()
            with self._cond:
                if run in self._queue:
                    self._queue.remove(run)
                    self._renumber()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every run and join the trainer threads (st.cache_resource on_release).

        A training run sees its stop event within one step, is stored as stopped
        if it drew anything, and its thread exits.
        """
        with self._cond:
            self._closed = True
            pending = list(self._runs.values())
            self._queue.clear()
            self._cond.notify_all()
        for run in pending:
            run.stop("The server shut down.")
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def alive_threads(self) -> int:
        return sum(thread.is_alive() for thread in self._threads)

    # -- bookkeeping (call with self._cond held) ------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("the registry is shut down")

    def _live(self, key: str, session: str | None) -> Run | None:
        run = self._runs.get(key)
        if run is None or run.status in (STOPPED, FAILED):
            return None
        self._touch(run, session)
        return run

    def _touch(self, run: Run, session: str | None) -> None:
        if session is None:
            return
        now = self._clock()
        run.viewers[session] = now
        # Forget long-gone viewers so the dict stays as small as the audience.
        if len(run.viewers) > 8:
            for other, seen in list(run.viewers.items()):
                if now - seen > 10 * self.grace_seconds:
                    del run.viewers[other]

    def _abandoned(self, run: Run) -> bool:
        """Everyone who watched it left more than grace_seconds ago (and a page watched it)."""
        if not run.watched or not run.viewers:
            return False
        return self._clock() - max(run.viewers.values()) >= self.grace_seconds

    def _nearly_done(self, run: Run) -> bool:
        """It would finish within the grace period at its pace so far."""
        epochs_done = run.progress[-1].epoch if run.progress else 0.0
        fraction = epochs_done / run.config.epochs
        if fraction <= 0 or run.started_tick is None:
            return False
        elapsed = self._clock() - run.started_tick
        return elapsed * (1 - fraction) / fraction <= self.grace_seconds

    def _sweep_queue(self) -> None:
        """Drop queued runs nobody waits for, so the positions shown are honest."""
        gone = [run for run in self._queue if self._abandoned(run)]
        for run in gone:
            self._queue.remove(run)
            run.stop(NOBODY_WAITING)
        if gone:
            self._renumber()

    def _renumber(self) -> None:
        for position, run in zip(itertools.count(1), self._queue):
            run.queue_position = position

    def _keep(self, run: Run) -> Run:
        """Hold a finished run in memory; let go of the oldest stored ones past keep_finished."""
        self._runs[run.key] = run
        self._finished_keys.append(run.key)
        excess = len(self._finished_keys) - self.keep_finished
        for _ in range(len(self._finished_keys)):
            if excess <= 0:
                break
            key = self._finished_keys.popleft()
            old = self._runs.get(key)
            if old is not None and old.finished and old.saved and old is not run:
                del self._runs[key]  # the store has it: get() reads it back
                excess -= 1
            elif old is not None and old.finished and old is not run:
                self._finished_keys.append(key)  # unsaved (store off): keep it, nothing is lost
        return run

    def _from_store(self, key: str) -> Run | None:
        if self.store is None:
            return None
        from regdemo.store import REUSABLE

        view = self.store.get(key)
        if view is None or view.status not in REUSABLE:
            return None
        return Run.from_view(view)

    # -- the trainer threads ---------------------------------------------------
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
                if self._abandoned(run):
                    run.stop(NOBODY_WAITING)
                    continue
                run.mark_running()
                run.started_tick = self._clock()
            try:
                self._train_run(run)
                self._after(run)
            finally:
                run.settle()  # wait() returns even if bookkeeping broke

    def _train_run(self, run: Run) -> None:
        config = run.config
        try:
            from regdemo.engine import resolve_device

            resolve_device(config.device)
        except ConfigError:
            config = config.replace(device="cpu")
            run.add_notice(f"The {run.config.device} device is not available here, so this run trained on the CPU.")
        try:
            self._consume(run, config)
        except torch.OutOfMemoryError:
            used = run.started.device if run.started else config.device
            if used == "cpu":
                run.mark_failed("Out of memory on the CPU: try a smaller train size or batch size.")
                return
            log.warning("run %s: out of memory on %s, training again on the CPU", run.key, used)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            run.restart()
            run.add_notice(f"The GPU ({used}) ran out of memory, so this run trained on the CPU.")
            try:
                self._consume(run, config.replace(device="cpu"))
            except Exception as err:  # noqa: BLE001 -- any failure becomes the run's status
                self._fail(run, err)
        except Exception as err:  # noqa: BLE001 -- any failure becomes the run's status
            self._fail(run, err)

    def _consume(self, run: Run, config: RunConfig) -> None:
        for event in self._train(config, stop=run.stop_event):
            run.apply(event)
            if not run.stop_event.is_set() and isinstance(event, Progress):
                with self._cond:
                    reap = self._abandoned(run) and not self._nearly_done(run)
                if reap:
                    run.stop(NOBODY_WATCHING)
        if not run.finished:
            run.mark_failed("Training ended without a final status.")

    def _fail(self, run: Run, err: Exception) -> None:
        from regdemo.data import DataError

        if isinstance(err, (DataError, ConfigError)):
            run.mark_failed(str(err))  # written for the user already
        else:
            log.exception("run %s failed", run.key)  # the traceback goes to the server log only
            run.mark_failed(f"Training failed: {type(err).__name__}: {err}")

    def _after(self, run: Run) -> None:
        if self.store is not None:
            try:
                run.saved = self.store.save(run.view(), source=self.source)
            except Exception:  # noqa: BLE001 -- a store failure must not kill the worker
                log.exception("run %s: saving it failed", run.key)
        if self._on_finish is not None:
            try:
                self._on_finish(run)
            except Exception:  # noqa: BLE001 -- a callback failure must not kill the worker
                log.exception("run %s: on_finish failed", run.key)
        with self._cond:
            if self._runs.get(run.key) is run:
                self._keep(run)
            mine = self._by_session.get(run.owner, [])
            if run in mine:
                mine.remove(run)
                if not mine:
                    del self._by_session[run.owner]
