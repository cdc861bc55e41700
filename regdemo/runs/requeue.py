"""At least once, like the queues under it: a run whose worker is lost trains again, once.

A task queue (RQ on Redis) delivers a job to one worker; if that worker vanishes mid-run the
job is gone with it. The live row in the store is what remembers the run, so the store decides:

  - a worker that stopped heartbeating (its machine or process lost): the run is queued again,
    once (live.attempts 0 -> 1), for any worker; lost a second time, it ends "failed" and says
    it was retried;
  - a worker whose training process died (killed, out of memory): the same, once; dying a
    second time, it ends "failed" with "it may need more memory than a worker has";
  - a queued row with no job behind it in the broker (Redis restarted without its data): the
    job is enqueued again from the row, by the first server that notices.

Every change is a conditional UPDATE (store.requeue: only the attempt that was seen, only while
its heartbeat is the stale one that was seen), so several servers looking at once queue a run
again once. A duplicate job can still happen (two servers notice a lost job at once); it is
harmless: mark_started lets one worker take the row, the other skips it.
"""

from __future__ import annotations

import time

from regdemo.messages import encode, msg
from regdemo.runs.records import QUEUED, RUNNING
from regdemo.training.events import FAILED, FINAL_STATUSES

LOST = encode(msg("run.worker_lost"))  # stored messages: see messages.py
LOST_AGAIN = encode(msg("run.worker_lost_retried"))
QUEUED_AGAIN = encode(msg("run.worker_lost_requeued"))


def _now(store) -> float:
    """The store's clock (PostgreSQL's, shared by every machine), else this machine's."""
    return store.now() if hasattr(store, "now") else time.time()


def _beat(row) -> float:
    return row.heartbeat_at or row.started_at or row.created_at


def lost_workers(store, seconds: float) -> tuple[list, list[str]]:
    """Running rows whose heartbeat is older than `seconds`: (rows queued again -- the caller
    enqueues them --, keys failed). A run stopped meanwhile fails rather than train again."""
    now = _now(store)
    again, failed = [], []
    for row in store.live_keys((RUNNING,)):
        beat = _beat(row)
        if now - beat <= seconds:
            continue
        if row.attempts == 0 and not row.stop_reason:
            if store.requeue(row.key, QUEUED_AGAIN, row.attempts, beat):
                again.append(row)
            continue  # another server queued it again first, or its heartbeat came back
        store.set_status(row.key, FAILED, LOST_AGAIN if row.attempts else LOST)
        failed.append(row.key)
    return again, failed


def after_death(store, key: str, how) -> bool:
    """Run `key`'s training process died (`how`: a Message, e.g. killed by SIGKILL). True when it
    was queued again (the caller enqueues it); else it ends failed, or had ended already."""
    row = store.live(key)
    if row is None or row.status in FINAL_STATUSES:
        return False
    if row.status == RUNNING and row.attempts == 0 and not row.stop_reason:
        if store.requeue(key, encode(msg("run.worker_died_requeued", how=how)), 0, _beat(row)):
            return True
    store.set_status(key, FAILED, encode(msg("run.worker_died_twice" if row.attempts else "run.worker_died",
                                              how=how)))
    return False


def lost_jobs(store, in_broker: set[str], seconds: float) -> list:
    """Queued rows older than `seconds` whose key no job in the broker carries (`in_broker`:
    the keys of its waiting and started jobs): the rows to enqueue again."""
    now = _now(store)
    return [row for row in store.live_keys((QUEUED,))
            if row.key not in in_broker and not row.stop_reason and now - row.created_at > seconds]
