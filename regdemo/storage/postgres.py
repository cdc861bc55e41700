"""The run store on PostgreSQL (REGDEMO_DATABASE_URL), shared by every app server, worker and CLI.

(Kept whole at ~400 lines: store.RunStore's twin, method for method, read side by side with it.)

Same methods and the same meaning as the SQLite store (store.RunStore): finished runs in
table `runs` (the same columns, rows built by the same code in store_rows.py), and the live
runs of the worker boundary (docs: /work/shared notes BOUNDARY.md) in tables `live` and
`live_events`. One store interface, two implementations; tests run the same cases
against both (tests/unit/test_store_backends.py).

What differs, and why:
  - Times the database compares (heartbeats, created_at ordering) come from the database
    server's clock, not the caller's: servers and workers on several machines would
    otherwise disagree about which heartbeat is stale.
  - Connections come from a small pool (psycopg 3, no extra package): a heartbeat or an
    event batch every fraction of a second would pay a TCP handshake each time.
  - At start the database must answer: PostgresStore() raises StoreUnavailable with one
    readable line (wrong URL, server down, bad password) that the app and CLI print
    instead of a traceback. Afterwards, like RunStore, a storage problem never raises
    from the finished-run methods: reads give nothing, writes give False, `warnings`
    says why, and the next call tries again (a restarted database comes back by itself).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.parse
from contextlib import contextmanager

from regdemo.messages import Message, encode, msg, render
from regdemo.runs.records import QUEUED, RUNNING
from regdemo.settings import UrlError, redact_url
from regdemo.storage import rows as store_rows
from regdemo.training.config import RunConfig
from regdemo.training.events import FINAL_STATUSES, STOPPED, from_json_dict, to_json_dict

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 5
POOL_SIZE = 4  # connections kept open per process; more are opened (and closed) under load
_LIVE_COLUMNS = ("key", "config", "status", "message", "owner", "worker", "stop_reason", "created_at",
                 "started_at", "heartbeat_at", "watched_at", "attempts")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    source TEXT NOT NULL,
    dataset TEXT NOT NULL,
    model TEXT NOT NULL,
    epochs_run INTEGER NOT NULL,
    best_epoch INTEGER NOT NULL,
    step INTEGER NOT NULL,
    test_acc DOUBLE PRECISION,
    train_acc DOUBLE PRECISION,
    train_acc_eval DOUBLE PRECISION,
    test_loss DOUBLE PRECISION,
    seconds DOUBLE PRECISION,
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    finished_at DOUBLE PRECISION,
    saved_at DOUBLE PRECISION NOT NULL,
    started TEXT,
    epochs TEXT NOT NULL,
    progress TEXT NOT NULL,
    test_predictions TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (saved_at);
CREATE TABLE IF NOT EXISTS live (
    key TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    owner TEXT,
    worker TEXT,
    stop_reason TEXT NOT NULL DEFAULT '',
    created_at DOUBLE PRECISION NOT NULL,
    started_at DOUBLE PRECISION,
    heartbeat_at DOUBLE PRECISION,
    watched_at DOUBLE PRECISION
);
ALTER TABLE live ADD COLUMN IF NOT EXISTS attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS live_by_time ON live (created_at);
CREATE TABLE IF NOT EXISTS live_events (
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (key, seq)
);
CREATE TABLE IF NOT EXISTS weights (
    key TEXT PRIMARY KEY,
    blob BYTEA NOT NULL,
    saved_at DOUBLE PRECISION NOT NULL
);
"""
# Two processes creating the schema at once can both pass IF NOT EXISTS: serialize them.
_SCHEMA_LOCK = 72_616_701  # any constant shared by every regdemo process

# The database's clock, as unix seconds.
NOW = "extract(epoch from clock_timestamp())::float8"


def check_url(url: str, variable: str = "REGDEMO_DATABASE_URL") -> str:
    """A postgresql:// URL with a host or a socket, else settings.UrlError naming the variable."""
    parsed = urllib.parse.urlsplit(url.strip())
    shown = repr(redact_url(url))
    if parsed.scheme not in ("postgresql", "postgres"):
        raise UrlError(msg("url.not_postgres", variable=variable, url=shown))
    try:
        parsed.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise UrlError(msg("url.bad_port", variable=variable, url=shown)) from None
    if not parsed.hostname and "host=" not in parsed.query:
        raise UrlError(msg("url.no_postgres_host", variable=variable, url=shown))
    return url.strip()


def _connect_error_text(err: Exception) -> str:
    # psycopg's OperationalError text is several lines (one per address tried): keep the gist.
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__


class PostgresStore:
    """Finished and live runs in PostgreSQL; see the module docstring."""

    def __init__(self, url: str):
        import psycopg  # noqa: PLC0415 -- psycopg is optional: only the PostgreSQL store needs it

        self._psycopg = psycopg
        self.url = check_url(url)
        self.path = redact_url(self.url)  # what the CLI prints as "stored in ..."
        self.warnings: list[str] = []
        self.saving = True
        self._pool: queue.LifoQueue = queue.LifoQueue()
        self._closed = False
        self._warn_lock = threading.Lock()
        try:
            with self._connection() as con:
                with con.transaction():
                    con.execute(f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})")
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            con.execute(statement)
        except psycopg.Error as err:
            self.close()
            raise store_rows.StoreUnavailable(msg("store.unreachable", url=self.path,
                                                  reason=_connect_error_text(err))) from None

    # -- connections -----------------------------------------------------------------------
    @contextmanager
    def _connection(self):
        """A pooled connection in autocommit mode; broken ones are dropped, not returned."""
        try:
            con = self._pool.get_nowait()
        except queue.Empty:
            con = self._psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                        application_name="regdemo")
        try:
            yield con
        except BaseException:
            con.close()  # its state is unknown after an error: never hand it out again
            raise
        if self._closed or con.closed or con.broken or self._pool.qsize() >= POOL_SIZE:
            con.close()
        else:
            self._pool.put(con)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    def _warn(self, warning: Message) -> None:
        with self._warn_lock:
            if warning not in self.warnings:
                log.warning("%s", render(warning))
                self.warnings.append(warning)

    def _run(self, work, default, what: Message):
        """work(connection); a database error becomes a warning and `default` (once retried:
        a pooled connection the server closed meanwhile fails on first use)."""
        for attempt in range(2):
            try:
                with self._connection() as con:
                    return work(con)
            except self._psycopg.OperationalError as err:
                if attempt == 0:
                    continue
                self._warn(msg("db.no_answer", path=self.path, error=_connect_error_text(err), what=what))
                return default
            except self._psycopg.Error as err:
                self._warn(msg("db.refused", path=self.path, error=_connect_error_text(err), what=what))
                return default
        return default

    def _rows(self, con, sql: str, params=()):
        from psycopg.rows import dict_row  # noqa: PLC0415 -- psycopg is optional: only the PostgreSQL store needs it

        with con.cursor(row_factory=dict_row) as cur:
            return cur.execute(sql, params).fetchall()

    # -- finished runs (store.RunStore's API) ------------------------------------------------
    def save(self, view, source: str = "app") -> bool:
        if source not in store_rows.SOURCES:
            raise ValueError(f"source must be one of {store_rows.SOURCES}, got {source!r}")
        if not store_rows.worth_saving(view):
            return False
        try:
            row = store_rows.to_row(view, source)
        except ValueError as err:
            self._warn(msg("store.run_not_saved", run=view.key, error=str(err)))
            return False
        names = ", ".join(row)
        marks = ", ".join("%s" for _ in row)
        updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in row if name != "key")
        reusable = ", ".join(f"'{status}'" for status in store_rows.REUSABLE)
        # One statement: a stopped run never replaces a final answer, even when two
        # servers save the same key at the same moment.
        sql = (f"INSERT INTO runs ({names}) VALUES ({marks}) ON CONFLICT (key) DO UPDATE SET {updates} "
               f"WHERE EXCLUDED.status IN ({reusable}) OR runs.status NOT IN ({reusable}) RETURNING key")

        def write(con):
            return con.execute(sql, tuple(row.values())).fetchone() is not None

        written = self._run(write, None, msg("db.not_saved"))
        if written is not None:
            self.saving = True
        else:
            self.saving = False
        return bool(written)

    def get(self, key: str):
        rows = self._run(lambda con: self._rows(con, "SELECT * FROM runs WHERE key = %s", (key,)), None,
                         msg("db.run_unread"))
        if not rows:
            return None
        try:
            return store_rows.from_row(rows[0])
        except (ValueError, TypeError, KeyError) as err:
            self._warn(msg("store.run_unreadable", run=key, error=str(err)))
            return None

    def list(self, limit: int = 200) -> list[store_rows.RunSummary]:
        sql = f"SELECT {', '.join(store_rows.SUMMARY_COLUMNS)} FROM runs ORDER BY saved_at DESC LIMIT %s"
        rows = self._run(lambda con: self._rows(con, sql, (max(0, int(limit)),)), [],
                         msg("db.runs_unlisted"))
        return store_rows.summaries(rows, self._warn)

    def delete(self, key: str) -> bool:
        def write(con):
            con.execute("DELETE FROM weights WHERE key = %s", (key,))
            return con.execute("DELETE FROM runs WHERE key = %s", (key,)).rowcount > 0

        return self._run(write, False, msg("db.not_deleted"))

    def save_weights(self, key: str, blob: bytes) -> bool:
        """A finished run's weights (store.RunStore.save_weights)."""
        sql = (f"INSERT INTO weights (key, blob, saved_at) VALUES (%s, %s, {NOW}) "
               "ON CONFLICT (key) DO UPDATE SET blob = EXCLUDED.blob, saved_at = EXCLUDED.saved_at")
        return bool(self._run(lambda con: con.execute(sql, (key, blob)) is not None, False, msg("db.not_saved")))

    def weights(self, key: str) -> bytes | None:
        row = self._run(lambda con: con.execute("SELECT blob FROM weights WHERE key = %s", (key,)).fetchone(),
                        None, msg("db.run_unread"))
        return bytes(row[0]) if row is not None else None

    def __len__(self) -> int:
        return self._run(lambda con: con.execute("SELECT count(*) FROM runs").fetchone()[0], 0,
                         msg("db.runs_uncounted"))

    # -- live runs (BOUNDARY.md: workers write, app servers read) ----------------------------
    # Times are the database's (NOW): one clock for every machine of the cluster.
    def now(self) -> float:
        """The database server's clock, the one heartbeat_at and created_at are on."""
        return self._run(lambda con: con.execute(f"SELECT {NOW}").fetchone()[0], time.time(),
                         msg("db.clock_unread"))

    def create_live(self, key: str, config: RunConfig, owner: str | None = None) -> bool:
        """A queued row for `key`; True only for the one caller (of any server) that created it."""
        def write(con):
            return con.execute(
                "INSERT INTO live (key, config, status, message, owner, stop_reason, created_at) "
                f"VALUES (%s, %s, %s, '', %s, '', {NOW}) ON CONFLICT (key) DO NOTHING",
                (key, store_rows.dumps(config.to_dict()), QUEUED, owner)).rowcount > 0

        return bool(self._run(write, False, msg("db.not_queued")))

    def live(self, key: str):
        rows = self._run(lambda con: con.execute(
            f"SELECT {', '.join(_LIVE_COLUMNS)} FROM live WHERE key = %s", (key,)).fetchall(), [],
            msg("db.live_unread"))
        return _live_row(rows[0]) if rows else None

    def live_keys(self, statuses=(QUEUED, RUNNING)) -> list:
        """Rows with these statuses, oldest first (the queue's order, across servers)."""
        rows = self._run(lambda con: con.execute(
            f"SELECT {', '.join(_LIVE_COLUMNS)} FROM live WHERE status = ANY(%s) ORDER BY created_at, key",
            (list(statuses),)).fetchall(), [], msg("db.lives_unread"))
        return [_live_row(row) for row in rows]

    def mark_started(self, key: str, worker: str) -> bool:
        """queued -> running; False when it was stopped, claimed or dropped meanwhile."""
        return bool(self._run(lambda con: con.execute(
            f"UPDATE live SET status = %s, worker = %s, started_at = {NOW}, heartbeat_at = {NOW} "
            "WHERE key = %s AND status = %s AND stop_reason = ''", (RUNNING, worker, key, QUEUED)).rowcount > 0,
            False, msg("db.not_started")))

    def append_events(self, key: str, events: list) -> None:
        """The run's next events, numbered on from the last; one transaction per batch."""
        if not events:
            return
        texts = [store_rows.dumps(to_json_dict(event, compact=True)) for event in events]  # masks packed, as in SQLite

        def write(con):
            with con.transaction():
                last = con.execute("SELECT coalesce(max(seq), 0) FROM live_events WHERE key = %s",
                                   (key,)).fetchone()[0]
                with con.cursor() as cur:
                    cur.executemany("INSERT INTO live_events (key, seq, event) VALUES (%s, %s, %s)",
                                    [(key, last + i, text) for i, text in enumerate(texts, 1)])

        self._run(write, None, msg("db.progress_unwritten"))

    def events_since(self, key: str, after_seq: int) -> list[tuple[int, object]]:
        rows = self._run(lambda con: con.execute(
            "SELECT seq, event FROM live_events WHERE key = %s AND seq > %s ORDER BY seq",
            (key, after_seq)).fetchall(), [], msg("db.progress_unread"))
        return [(seq, from_json_dict(json.loads(text))) for seq, text in rows]

    def set_status(self, key: str, status: str, message: str = "") -> None:
        if status not in FINAL_STATUSES + (RUNNING,):
            raise ValueError(f"status must be running or final, got {status!r}")
        self._run(lambda con: con.execute("UPDATE live SET status = %s, message = %s WHERE key = %s",
                                          (status, message, key)), None, msg("db.status_unwritten"))

    def request_stop(self, key: str, reason: str) -> None:
        reason = reason or encode(msg("run.stopped_by_user"))

        def write(con):
            with con.transaction():
                con.execute("UPDATE live SET stop_reason = %s WHERE key = %s AND stop_reason = ''", (reason, key))
                con.execute("UPDATE live SET status = %s, message = %s WHERE key = %s AND status = %s",
                            (STOPPED, reason, key, QUEUED))

        self._run(write, None, msg("db.stop_unwritten"))

    def heartbeat(self, key: str) -> None:
        self._run(lambda con: con.execute(f"UPDATE live SET heartbeat_at = {NOW} WHERE key = %s", (key,)),
                  None, msg("db.heartbeat_unwritten"))

    def touch_live(self, key: str) -> None:
        self._run(lambda con: con.execute(f"UPDATE live SET watched_at = {NOW} WHERE key = %s", (key,)),
                  None, msg("db.visit_unwritten"))

    def delete_live(self, key: str, finished_only: bool = False) -> None:
        """Drop the run's live row and events; `finished_only`: only if its status is final."""
        def write(con):
            with con.transaction():
                if finished_only:
                    gone = con.execute("DELETE FROM live WHERE key = %s AND status = ANY(%s) RETURNING key",
                                       (key, list(FINAL_STATUSES))).fetchone()
                    if gone is None:
                        return
                else:
                    con.execute("DELETE FROM live WHERE key = %s", (key,))
                con.execute("DELETE FROM live_events WHERE key = %s", (key,))

        self._run(write, None, msg("db.live_not_deleted"))

    def requeue(self, key: str, message: str, attempts: int, beat: float) -> bool:
        """running -> queued again (runs/requeue.py), at the back of the queue: only attempt
        `attempts` whose heartbeat is still `beat` (another server, or a late heartbeat, wins)."""
        return bool(self._run(lambda con: con.execute(
            f"UPDATE live SET status = %s, message = %s, worker = NULL, started_at = NULL, heartbeat_at = NULL, "
            f"created_at = {NOW}, attempts = attempts + 1 WHERE key = %s AND status = %s AND attempts = %s "
            "AND coalesce(heartbeat_at, started_at, created_at) = %s",
            (QUEUED, message, key, RUNNING, attempts, beat)).rowcount > 0, False, msg("db.stale_unchecked")))


def _live_row(row):
    data = dict(zip(_LIVE_COLUMNS, row, strict=True))
    data["config"] = RunConfig.from_dict(json.loads(data["config"]))
    return store_rows.LiveRow(**data)
