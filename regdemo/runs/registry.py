"""Runs for the app: a Run per config key, trained by worker processes.

(Kept whole at ~530 lines: one Registry class whose rules below all run under its one lock,
self._cond; spread over files, which code holds the lock would no longer be visible. What a
cluster words otherwise is shared.SharedRegistry; where runs train, backend.Backend.)

The app keeps one Registry in st.cache_resource; every browser session asks it
for the run of its current config. Identical configs share one run
(single-flight), at most `workers` runs train at once, the rest wait in a FIFO
queue. Runs train in worker processes (worker.LocalPool), not in threads of
the server: the training loop no longer shares the server's GIL and cores
with the sessions' redraws. Workers write a run's events to a live store (a
SQLite file in a temp folder of this server); one reader thread here pulls new
events into the in-memory Runs a few times a second; pages read a consistent
copy with Run.view(). Nothing here knows about streamlit.

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
  - A failing run (an exception in its worker, or a worker process that died)
    becomes status "failed" with a readable message; the other runs and the
    pool go on (a dead worker process is replaced).
  - A device that is missing, or a GPU that runs out of memory: the run trains
    on the CPU instead and says so in its message.
  - shutdown() (st.cache_resource's on_release) stops every run and leaves no
    worker process or thread behind; a worker whose server died exits by itself.
"""

from __future__ import annotations

import itertools
import logging
import os
import pathlib
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable

from regdemo import settings
from regdemo.messages import encode, msg
from regdemo.runs.cpus import available_cpus
from regdemo.runs.records import MASKS_KEPT, QUEUED, RUNNING, Run, RunLimitError, RunView
from regdemo.runs.worker import InProcessPool, LocalPool
from regdemo.storage.rows import REUSABLE, worth_saving
from regdemo.storage.sqlite import RunStore
from regdemo.training.config import RunConfig
from regdemo.training.events import FAILED, FINAL_STATUSES, STOPPED

__all__ = ["MASKS_KEPT", "QUEUED", "RUNNING", "Registry", "Run", "RunLimitError", "RunView", "available_cpus",
           "default_workers"]

log = logging.getLogger(__name__)

KEEP_FINISHED = 64  # finished runs kept in memory; older ones are read back from the store
READ_SECONDS = 0.1  # the reader pulls new events this often while runs are going
LIVE_PREFIX = "regdemo-live-"

NOBODY_WAITING = encode(msg("run.nobody_waiting"))  # stored messages: see messages.py
NOBODY_WATCHING = encode(msg("run.nobody_watching"))
SHUT_DOWN = encode(msg("run.server_shut_down"))


def default_workers() -> int:
    """Worker processes: one per two cores, at least one (REGDEMO_WORKERS overrides)."""
    return settings.read().workers or max(1, available_cpus() // 2)


_DEFAULT_STORE = object()


def _remove_stale_live_dirs() -> None:
    """Live folders of servers that died without shutdown() (killed): nobody reads them."""
    for folder in pathlib.Path(tempfile.gettempdir()).glob(f"{LIVE_PREFIX}*"):
        try:
            pid = int(folder.name[len(LIVE_PREFIX):].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (ValueError, PermissionError, OSError):
            continue


class Registry:
    """Single-flight runs by config key, a pool of workers, a FIFO queue, backed by the
    run store. See the module docstring for the rules."""

    def __init__(self, workers: int | None = None, train: Callable | None = None,
                 on_finish: Callable[[Run], None] | None = None, store=_DEFAULT_STORE,
                 session_limit: int | None = None, max_queued: int | None = None,
                 grace_seconds: float | None = None, keep_finished: int = KEEP_FINISHED,
                 clock: Callable[[], float] = time.monotonic, source: str = "app",
                 in_process: bool | None = None):
        """`store`: a store.RunStore, None for no store, default RunStore() at
        $REGDEMO_HOME/runs.sqlite3. Runs train in `workers` processes (worker.LocalPool).
        For unit tests only: `train(config, stop=event)` yielding events (fakes of
        engine.fit) or in_process=True trains in threads of this process instead, through
        the same worker function and live store. `clock` times viewers (tests fake it).
        On a cluster, shared.SharedRegistry: runs go to a task queue's workers instead."""
        self.workers = workers or default_workers()
        if store is _DEFAULT_STORE:
            store = RunStore()
        self.store = store
        self.source = source  # who trains, as recorded in the store: "app", or "sweep" for the CLI's sweeps
        env = settings.read()  # REGDEMO_SESSION_RUNS, REGDEMO_MAX_QUEUED, REGDEMO_GRACE_SECONDS
        self.session_limit = session_limit or env.session_runs
        self.max_queued = max_queued or env.max_queued
        self.grace_seconds = grace_seconds or env.grace_seconds
        self.keep_finished = keep_finished
        self._clock = clock
        self._on_finish = on_finish
        self._runs: dict[str, Run] = {}
        self._finished_keys: deque[str] = deque()  # finish order, for letting go of old runs
        self._by_session: dict[str, list[Run]] = {}
        self._queue: deque[Run] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self.live, self.pool = self._backend(store, train, in_process, source)
        self.pool.on_take = self._taken
        self._reader = threading.Thread(target=self._read_loop, name="regdemo-reader", daemon=True)
        self._reader.start()

    def _backend(self, store, train, in_process, source):
        """(the live channel, the backend.Backend): this server's own, in worker processes."""
        # Live runs go through a store file of this server's own, in a temp folder: a
        # read-only, full or damaged home must not stop training, and a server that was
        # killed leaves no rows that would block its successor's runs.
        _remove_stale_live_dirs()
        self._live_dir = tempfile.mkdtemp(prefix=f"{LIVE_PREFIX}{os.getpid()}-")
        live = RunStore(pathlib.Path(self._live_dir) / "live.sqlite3")
        results = store if store is not None and getattr(store, "path", None) is not None else None
        if train is not None or in_process:
            return live, InProcessPool(self.workers, live, results, source, save=results is not None, train=train)
        return live, LocalPool(self.workers, live, results.path if results is not None else None,
                               source=source, save=results is not None, on_death=self._worker_died)

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
        Raises RunLimitError when the session already has session_limit runs going or the
        queue is full. `config` was validated where it entered (a link, the sidebar, the CLI,
        the catalog) and is trusted here.
        """
        key = config.key()
        with self._cond:
            self._check_open()
            run = self._live(key, session)
            if run is not None:
                return run
        stored = self._from_store(key)  # disk I/O outside the lock
        old = self._runs.get(key)
        if old is not None and old.finished:
            old.wait(3.0)  # stopped a moment ago: its worker is saving it and letting go
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
            return self._start_new(config, session)

    def _start_new(self, config: RunConfig, session: str | None) -> Run:
        """A run nobody has going: queued for `session` within the limits (lock held)."""
        key = config.key()
        if session is not None:
            mine = [r for r in self._by_session.get(session, ()) if not r.finished]
            self._by_session[session] = mine
            if len(mine) >= self.session_limit:
                raise RunLimitError(msg("limit.session", count=len(mine), limit=self.session_limit))
        if len(self._queue) >= self.max_queued:
            raise RunLimitError(msg("limit.busy", count=len(self._queue)))
        old = self._runs.get(key)
        if old is not None and not old.wait(0):  # stopped or failed, its worker not done yet
            raise RunLimitError(msg("limit.stopping"))
        # Single-flight in the live store too; a leftover row of an earlier attempt goes.
        self.live.delete_live(key)
        self.live.create_live(key, config, session)
        run = Run(config)
        run.managed = True
        run.owner = session
        if session is not None:
            self._by_session.setdefault(session, []).append(run)
        self._touch(run, session)
        self._runs[key] = run
        self._queue.append(run)
        self._renumber()
        self.pool.submit(key, config)
        self._cond.notify_all()  # wakes the reader
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

    def predict(self, keys: list[str], pixels, timeout: float = 15.0) -> dict[str, dict]:
        """What the finished runs `keys` make of a 28x28 digit (the Draw page), answered by a
        worker beside the training queue: {key: {"probs": [...]} | {"error": code}}. Waits up
        to `timeout` seconds for a worker still starting; raises predict.PredictError when none
        answers."""
        return self.pool.predict(keys, pixels, timeout)

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

    def watching(self, within: float = 10.0) -> int:
        """Sessions that looked at any unfinished run in the last `within` seconds (pages
        redraw less often when many watch)."""
        now = self._clock()
        with self._cond:
            return len({s for r in self._runs.values() if not r.finished
                        for s, seen in r.viewers.items() if now - seen < within})

    def runs(self) -> list[Run]:
        with self._cond:
            return sorted(self._runs.values(), key=lambda r: r.created_at)

    def queue_length(self) -> int:
        with self._cond:
            return len(self._queue)

    def stop(self, key: str, reason: str = "") -> None:
        """Stop run `key`: a queued one at once, a training one within a second."""
        run = self.get(key)
        if run is None or run.finished:
            return
        run.stop(reason)
        if run.managed:
            self.pool.stop(key, reason)
        with self._cond:
            if run in self._queue:
                self._queue.remove(run)
                self._renumber()
            self._cond.notify_all()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every run, close the pool and the reader (st.cache_resource on_release).

        A training run sees its stop request within a second, is stored as stopped
        if it drew anything, and its worker process exits; no process or thread of
        this registry is left afterwards.
        """
        with self._cond:
            if self._closed:
                return
            self._closed = True
            pending = [r for r in self._runs.values() if r.managed and not r.finished]
            self._queue.clear()
            self._cond.notify_all()
        for run in pending:
            run.stop(SHUT_DOWN)
            self.pool.stop(run.key, SHUT_DOWN)
        self.pool.close(timeout)
        self._reader.join(timeout + 5)
        self._sync()  # the workers' last events and final statuses
        self.live.close()
        shutil.rmtree(self._live_dir, ignore_errors=True)

    def alive_threads(self) -> int:
        """Worker threads or processes, and the reader, still alive (0 after shutdown)."""
        return self.pool.alive() + self._reader.is_alive()

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
            self.pool.stop(run.key, NOBODY_WAITING)
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

        view = self.store.get(key)
        if view is None or view.status not in REUSABLE:
            return None
        return Run.from_view(view)

    # -- the reader: events from the workers into the Runs ----------------------
    def _read_loop(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                if not any(r.managed and not r.wait(0) for r in self._runs.values()):
                    self._cond.wait(1.0)  # nothing going: sleep until get_or_start wakes us
                    continue
            try:
                self._sync()
            except Exception:  # noqa: BLE001 -- the reader must outlive a bad row
                log.exception("reading live runs failed")
            time.sleep(READ_SECONDS)

    def _sync(self) -> None:
        """One pass over the unsettled runs: new events, status changes, the viewer rules."""
        with self._cond:
            going = [r for r in self._runs.values() if r.managed and not r.wait(0)]
        self._sync_first(going)
        for run in going:
            row = self.live.live(run.key)
            for seq, event in self.live.events_since(run.key, run.seq):
                run.apply(event)
                run.seq = seq
            if row is None:
                if run.finished:  # stopped while queued: no worker will touch it
                    self._settle(run, saved=False)
                else:
                    self._row_gone(run)
                continue
            if row.status == RUNNING and run.status == QUEUED:
                run.mark_running()
                with self._cond:
                    run.started_tick = self._clock()
                    if run in self._queue:
                        self._queue.remove(run)
                        self._renumber()
            if row.status == QUEUED and run.status == RUNNING:  # its worker was lost: queued again
                run.mark_queued_again(row.message)
            if row.status == RUNNING and row.message:
                run.set_notice(row.message)
            if row.status in FINAL_STATUSES:
                if row.worker is None and run.finished:  # stopped before a worker took it
                    self.live.delete_live(run.key, finished_only=True)
                    self._settle(run, saved=False)
                    continue
                run.take_final(row.status, row.message)
                self._after(run)
                continue
            if run.status == RUNNING and run.progress:
                with self._cond:
                    reap = self._abandoned(run) and not self._nearly_done(run) and not run.stop_event.is_set()
                if reap and self._unwatched_everywhere(row):
                    run.stop(NOBODY_WATCHING)
                    self.pool.stop(run.key, NOBODY_WATCHING)

    # -- the rules a cluster's registry (shared.SharedRegistry) words otherwise ------------------
    def _sync_first(self, going: list[Run]) -> None:
        """Before a sync pass: drop queued runs nobody waits for."""
        with self._cond:
            self._sweep_queue()

    def _row_gone(self, run: Run) -> None:
        """A going run's live row vanished: here only this server deletes rows, so nothing to do."""

    def _unwatched_everywhere(self, row) -> bool:
        """Nobody watches it anywhere else: this server is the only one."""
        return True

    def _drop_live(self, key: str) -> None:
        """A settled run's live row: nobody else reads it."""
        self.live.delete_live(key)

    def _taken(self, key: str) -> bool:
        """A worker is free for run `key`: it leaves the queue (False: skip it, nobody waits)."""
        with self._cond:
            run = self._runs.get(key)
            if run is None or not run.managed or run.status != QUEUED:
                return run is not None and not run.finished  # a stopped one: the worker skips it
            if run in self._queue:
                self._queue.remove(run)
                self._renumber()
            if self._abandoned(run):
                run.stop(NOBODY_WAITING)
                self.pool.stop(key, NOBODY_WAITING)
                return False
            run.mark_running()
            run.started_tick = self._clock()
            return True

    def _worker_died(self, key: str, message: str) -> None:
        """A worker process died while training `key` (called by the pool)."""
        row = self.live.live(key)
        if row is not None and row.status == QUEUED and not row.stop_reason:
            self.pool.submit(key, row.config)  # it died taking the task: the run never began
        elif row is not None and row.status not in FINAL_STATUSES:
            self.live.set_status(key, FAILED, message)
        with self._cond:
            self._cond.notify_all()

    def _after(self, run: Run) -> None:
        """A run is final and its worker done with it: saved?, callback, bookkeeping."""
        saved = False
        view = run.view()
        if self.store is not None and worth_saving(view):
            try:
                stored = self.store.get(run.key)
                saved = stored is not None and stored.status == view.status
                if not saved:  # the worker could not save it (e.g. its disk was full): try here
                    saved = self.store.save(view, source=self.source)
            except Exception:  # noqa: BLE001 -- a store failure must not stop the reader
                log.exception("run %s: saving it failed", run.key)
        self._drop_live(run.key)
        if self._on_finish is not None:
            try:
                self._on_finish(run)
            except Exception:  # noqa: BLE001 -- a callback failure must not stop the reader
                log.exception("run %s: on_finish failed", run.key)
        self._settle(run, saved)

    def _settle(self, run: Run, saved: bool) -> None:
        run.saved = saved
        with self._cond:
            if run in self._queue:
                self._queue.remove(run)
                self._renumber()
            if self._runs.get(run.key) is run:
                self._keep(run)
            mine = self._by_session.get(run.owner, [])
            if run in mine:
                mine.remove(run)
                if not mine:
                    del self._by_session[run.owner]
        run.settle()
