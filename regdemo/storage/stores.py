"""The two things a run store is, named: the archive of finished runs and the live channel to
workers; and open_store(), the one place that chooses SQLite or PostgreSQL.

Both stores (sqlite.RunStore, postgres.PostgresStore) implement both protocols: a server's
registry reads History from the Archive and runs' events, statuses, stop requests and
heartbeats from the LiveChannel. On one machine the live channel is a SQLite file of the
server's own and the archive the home's runs.sqlite3; on a cluster one PostgreSQL is both.
tests/unit/test_store_backends.py runs the same cases against the two.
"""

from __future__ import annotations

import os
from typing import Protocol

from regdemo import settings
from regdemo.messages import msg
from regdemo.runs.records import QUEUED, RUNNING, RunView
from regdemo.settings import UrlError
from regdemo.storage.postgres import PostgresStore, check_url
from regdemo.storage.rows import LiveRow, RunSummary, StoreUnavailable
from regdemo.storage.sqlite import RunStore
from regdemo.training.config import RunConfig


class Archive(Protocol):
    """Finished runs, one per config key: what History lists and a page reads back."""

    warnings: list

    def save(self, view: RunView, source: str = "app") -> bool: ...
    def get(self, key: str) -> RunView | None: ...
    def list(self, limit: int = 200) -> list[RunSummary]: ...
    def delete(self, key: str) -> bool: ...
    def __len__(self) -> int: ...
    def close(self) -> None: ...


class LiveChannel(Protocol):
    """Runs queued or training: a row per key (single-flight: create_live says who queued it),
    its events in order, its status, a stop request, the worker's heartbeat, visits."""

    def create_live(self, key: str, config: RunConfig, owner: str | None = None) -> bool: ...
    def live(self, key: str) -> LiveRow | None: ...
    def live_keys(self, statuses=(QUEUED, RUNNING)) -> list[LiveRow]: ...
    def mark_started(self, key: str, worker: str) -> bool: ...
    def requeue(self, key: str, message: str, attempts: int, beat: float) -> bool: ...
    def append_events(self, key: str, events: list) -> None: ...
    def events_since(self, key: str, after_seq: int) -> list[tuple[int, object]]: ...
    def set_status(self, key: str, status: str, message: str = "") -> None: ...
    def request_stop(self, key: str, reason: str) -> None: ...
    def heartbeat(self, key: str) -> None: ...
    def touch_live(self, key: str) -> None: ...
    def delete_live(self, key: str, finished_only: bool = False) -> None: ...
    def close(self) -> None: ...


DATABASE_VARIABLE = "REGDEMO_DATABASE_URL"


def open_store(path: str | os.PathLike | None = None) -> RunStore | PostgresStore:
    """The run store this process should use: PostgreSQL when $REGDEMO_DATABASE_URL is set
    (shared by every server, worker and CLI of a cluster), else the SQLite file at `path`
    (default $REGDEMO_HOME/runs.sqlite3). Raises StoreUnavailable for a malformed URL, a
    missing psycopg, or a database that does not answer."""
    url = settings.read().database_url
    if not url:
        return RunStore(path)
    try:
        check_url(url, DATABASE_VARIABLE)
    except UrlError as err:
        raise StoreUnavailable(err.message) from None
    try:
        return PostgresStore(url)
    except ImportError as err:  # PostgresStore imports psycopg, which only a cluster installs
        raise StoreUnavailable(msg("store.no_driver", variable=DATABASE_VARIABLE, error=str(err))) from None
