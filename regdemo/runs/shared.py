"""The registry of one app server among several: runs train on a task queue's workers
(cluster.RQDispatcher) and the live channel is the PostgreSQL every server shares.

Single-flight, queue positions, the session cap, Stop and reaping then hold across servers:
the limits are counted in the shared store's live rows, create_live decides which server
queues a run (the others join it), a visit is told to the other servers through the store,
and a run is reaped only when nobody anywhere watched it within the grace period. Everything
else is registry.Registry's; this class only words the rules a shared live channel changes.
"""

from __future__ import annotations

import time

from regdemo.messages import encode, msg
from regdemo.runs.records import QUEUED, RUNNING, Run, RunLimitError
from regdemo.runs.registry import NOBODY_WAITING, Registry
from regdemo.training.config import RunConfig
from regdemo.training.events import FINAL_STATUSES


class SharedRegistry(Registry):
    def __init__(self, dispatcher, **kwargs):
        """`dispatcher`: the backend.Backend of the task queue; `store`: the shared store, which
        is the live channel too. The other arguments are Registry's."""
        self._dispatcher = dispatcher
        self._touched: dict[str, float] = {}  # key -> when this server last touch_live()d it
        super().__init__(**kwargs)

    def _backend(self, store, train, in_process, source):
        self._live_dir = None
        return store, self._dispatcher

    def _start_new(self, config: RunConfig, session: str | None) -> Run:
        """The limits are counted in the shared store, and create_live decides which server
        queues the run; the others join it (lock held)."""
        key = config.key()
        reason = self.pool.capacity()
        if reason:
            raise RunLimitError(reason)
        going = self.live.live_keys((QUEUED, RUNNING))
        row = next((r for r in going if r.key == key), None)
        if row is None:
            if session is not None:
                mine = sum(1 for r in going if r.owner == session)
                if mine >= self.session_limit:
                    raise RunLimitError(msg("limit.session", count=mine, limit=self.session_limit))
            waiting = sum(1 for r in going if r.status == QUEUED)
            if waiting >= self.max_queued:
                raise RunLimitError(msg("limit.busy", count=waiting))
            self.live.delete_live(key, finished_only=True)  # a leftover of an earlier attempt
            created = self.live.create_live(key, config, session)
        else:
            created = False  # queued or training already, by this server or another: join it
        run = Run(config)
        run.managed = True
        run.owner = session if created else (row.owner if row is not None else None)
        if created:
            try:
                self.pool.submit(key, config)
            except RuntimeError as err:  # the queue refused it (Redis down): nothing half-made is left
                self.live.delete_live(key)
                raise RunLimitError(str(err)) from None
        self._touch(run, session)
        self._runs[key] = run
        self._cond.notify_all()  # wakes the reader
        return run

    def queue_length(self) -> int:
        """The cluster's queue: every server's runs."""
        return len(self.live.live_keys((QUEUED,)))

    def stop(self, key: str, reason: str = "") -> None:
        run = self.get(key)
        if run is None or not run.managed:
            # A run another server queued: the store carries the request to its worker.
            row = self.live.live(key)
            if row is not None and row.status not in FINAL_STATUSES:
                self.pool.stop(key, reason)
            return
        super().stop(key, reason)

    def shutdown(self, timeout: float = 5.0) -> None:
        """A cluster's runs are not this server's alone (other servers' sessions may watch
        them, and the workers save them): leave them be; only our own reader stops."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._cond.notify_all()
        self._reader.join(timeout + 5)
        self.pool.close(timeout)

    def _sync_first(self, going: list[Run]) -> None:
        """Queue positions from the shared queue's order, visits told to the other servers,
        queued runs nobody waits for (anywhere) dropped, lost workers noticed."""
        self.pool.check_stale()
        queued = [row for row in self.live.live_keys((QUEUED,))]
        position = {row.key: i for i, row in enumerate(queued, 1)}
        rows = {row.key: row for row in queued}
        now = self._clock()
        for run in going:
            if run.status == QUEUED:
                run.queue_position = position.get(run.key, 0)
            seen = max(run.viewers.values(), default=None)
            # Tell the other servers someone here watches it (every few seconds, not per redraw).
            recent = min(10.0, self.grace_seconds / 2)
            if seen is not None and now - seen < recent and now - self._touched.get(run.key, -1e9) >= recent / 2:
                self.live.touch_live(run.key)
                self._touched[run.key] = now
            with self._cond:
                gone = run.status == QUEUED and self._abandoned(run)
            if gone and run.key in rows and self._unwatched_everywhere(rows[run.key]):
                run.stop(NOBODY_WAITING)
                self.pool.stop(run.key, NOBODY_WAITING)

    def _unwatched_everywhere(self, row) -> bool:
        """No server told the store of a visit within the grace period (database clock)."""
        if row.watched_at is None:
            return True
        now = self.live.now() if hasattr(self.live, "now") else time.time()
        return now - row.watched_at >= self.grace_seconds

    def _row_gone(self, run: Run) -> None:
        """Its live row is gone (another server or the CLI finished with it first): the
        stored run is the answer; without one, the run was dropped."""
        view = self.store.get(run.key) if self.store is not None else None
        if view is not None:
            with run._lock:  # the stored curves are complete; ours may have missed the last batch
                run.started, run.progress, run.epochs = view.started, list(view.progress), list(view.epochs)
                run.done = view.done
            run.take_final(view.status, view.message)
            self._settle(run, saved=True)
        else:
            run.mark_failed(encode(msg("run.dropped_by_other_server")))
            self._settle(run, saved=False)

    def _drop_live(self, key: str) -> None:
        """Other servers may still read it: cluster.clean_finished drops it later."""
