"""The run store: finished runs and their curves in SQLite, so nothing is lost on a restart.

(Kept whole at ~430 lines: one RunStore class whose finished-run and live-run methods share its
connections, write transactions and corruption handling; split, which method holds which
connection would no longer be visible. Its tables are sqlite_schema.py, what both stores share
rows.py, the PostgreSQL twin postgres.py.)

One file, $REGDEMO_HOME/runs.sqlite3 (default: ~/.local/share/regdemo, or
$XDG_DATA_HOME/regdemo), one row per config key. The app's registry saves every
run that ended with something to show; `python -m regdemo train` saves its runs
too (source "cli"), so a teacher can train the night before and the app shows
the results at once. Pages read a stored run back as a records.RunView and draw it
with the same code as a live one. Live runs pass through it too: see the live tables.

The store never takes the app down:
  - a corrupt or truncated file is moved aside (runs.sqlite3.corrupt-<time>)
    and a fresh one started, with a warning;
  - a read-only or full disk turns saving off, with a warning; training goes on.
Warnings are logged and kept in RunStore.warnings for the app to show.

Stdlib sqlite3 in WAL mode (readers never wait for the writer); a connection per
call, so any thread may use one RunStore; busy_timeout covers writers that meet.
"""

from __future__ import annotations

import json
import logging
import os
import pathlib
import sqlite3
import threading
import time
from contextlib import closing, suppress

from regdemo import settings
from regdemo.messages import Message, encode, msg, render
from regdemo.runs.records import QUEUED, RUNNING
from regdemo.storage.rows import (  # noqa: F401 -- REUSABLE, RunSummary, worth_saving: importable from here too
    REUSABLE,
    SOURCES,
    SUMMARY_COLUMNS,
    LiveRow,
    RunSummary,
    StoreUnavailable,
    dumps,
    from_row,
    parse_config,
    summaries,
    to_row,
    worth_saving,
)
from regdemo.storage.sqlite_schema import COLUMNS_ADDED, SCHEMA, SCHEMA_VERSION
from regdemo.training.config import RunConfig
from regdemo.training.events import FINAL_STATUSES, STOPPED, from_json_dict, to_json_dict

log = logging.getLogger(__name__)

STORE_FILE = "runs.sqlite3"
BUSY_TIMEOUT = 10.0  # seconds a writer waits for another writer before giving up


def home_dir() -> pathlib.Path:
    """$REGDEMO_HOME, else $XDG_DATA_HOME/regdemo, else ~/.local/share/regdemo."""
    return settings.read().home


def default_path() -> pathlib.Path:
    return home_dir() / STORE_FILE


_LIVE_COLUMNS = ("key", "config", "status", "message", "owner", "worker", "stop_reason", "created_at",
                 "started_at", "heartbeat_at", "watched_at", "attempts")


def _live_row(row) -> LiveRow:
    data = dict(zip(_LIVE_COLUMNS, row, strict=True))
    data["config"] = parse_config(data["config"])
    return LiveRow(**data)


class StoreCorrupt(Exception):
    """The file is not a usable SQLite database (raised inside the store only)."""


def _is_corruption(err: sqlite3.Error) -> bool:
    # SQLITE_CORRUPT (11) and SQLITE_NOTADB (26); Python < 3.11 has only the text.
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (11, 26)
    text = str(err).lower()
    return "malformed" in text or "not a database" in text or "corrupt" in text


class RunStore:
    """Finished runs by config key. Every method is safe from any thread and never raises
    for a storage problem: reads give nothing, writes give False, and `warnings` says why."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = pathlib.Path(path).expanduser() if path else default_path()
        self.warnings: list[str] = []
        self.saving = True  # False while the folder or the disk refuses writes
        self._lock = threading.Lock()  # guards opening / moving the file aside
        # The live API keeps one connection per thread: closing the last connection to
        # a WAL file checkpoints it with an fsync (19 ms a batch on this disk, against
        # 0.2 ms for the write itself), and live runs write several batches a second.
        self._local = threading.local()
        self._ready = False
        self._open()

    # -- opening, and what to do when the file is bad ---------------------------------------
    def _open(self) -> None:
        """Make the file usable: create it, or move a damaged one aside and start afresh.

        Under the lock, and it checks before it moves: when two threads meet a damaged
        file at once, the second finds the fresh one and leaves it alone.
        """
        with self._lock:
            self._ready = False
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                self._stop_saving(f"cannot create the folder {self.path.parent} ({err.strerror or err})")
                return
            for attempt in range(2):
                try:
                    self._create()
                    self._ready = True
                    return
                except StoreCorrupt as err:
                    if attempt == 0 and self._move_aside(str(err)):
                        continue
                    self._stop_saving(f"the run store {self.path} is damaged ({err})")
                    return
                except sqlite3.Error as err:
                    self._stop_saving(f"cannot write {self.path} ({err})")
                    return

    def _create(self) -> None:
        try:
            with closing(self._connect()) as con:
                check = con.execute("PRAGMA quick_check").fetchone()
                if check is None or check[0] != "ok":
                    raise StoreCorrupt(check[0] if check else "integrity check gave no answer")
                # WAL is a property of the file: set once, kept by every later connection.
                con.execute("PRAGMA journal_mode=WAL")
                version = con.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise sqlite3.OperationalError(
                        f"it was written by a newer regdemo (schema {version} > {SCHEMA_VERSION})")
                con.executescript(SCHEMA)
                for table, column, definition in COLUMNS_ADDED:
                    if column not in {row[1] for row in con.execute(f"PRAGMA table_info({table})")}:
                        con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
                con.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as err:
            if _is_corruption(err):
                raise StoreCorrupt(str(err)) from None
            raise

    def _connect(self) -> sqlite3.Connection:
        # Autocommit; writes open their own BEGIN IMMEDIATE (see _write).
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        con.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable enough, no fsync per run
        return con

    def _move_aside(self, reason: str) -> bool:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for n in range(2, 100):  # never overwrite an earlier damaged copy
            if not aside.exists():
                break
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):  # the journal belongs to the bad file
                extra = self.path.with_name(self.path.name + suffix)
                if extra.exists():
                    os.replace(extra, aside.with_name(aside.name + suffix))
        except OSError as err:
            self._warn(msg("store.damaged_stuck", path=str(self.path), reason=reason,
                           error=str(err.strerror or err)))
            return False
        self._warn(msg("store.damaged_moved", path=str(self.path), reason=reason, aside=aside.name))
        return True

    def _stop_saving(self, reason: str) -> None:
        self.saving = False
        self._warn(msg("store.not_saving", reason=reason))

    def _warn(self, warning: Message) -> None:
        if warning not in self.warnings:  # a full disk fails every save: say it once
            log.warning("%s", render(warning))
            self.warnings.append(warning)

    def _run(self, work, default):
        """Run `work(connection)`; a damaged file is moved aside (once) and a storage
        error becomes a warning and `default`."""
        for attempt in range(2):
            if not self._ready:
                return default
            try:
                with closing(self._connect()) as con:
                    return work(con)
            except sqlite3.DatabaseError as err:
                if attempt == 0 and _is_corruption(err):
                    self._open()  # moves the damaged file aside, or stops saving
                    continue
                self._stop_saving(f"{self.path}: {err}")
                return default
        return default

    def _live(self, work, default):
        """Like _run, on this thread's own long-lived connection (see __init__)."""
        if not self._ready:
            return default
        con = getattr(self._local, "con", None)
        try:
            if con is None:
                con = self._local.con = self._connect()
            return work(con)
        except sqlite3.DatabaseError as err:
            self._local.con = None
            with suppress(sqlite3.Error):
                con.close()
            if _is_corruption(err):
                self._open()
            self._warn(msg("store.live_failed", path=str(self.path), error=str(err)))
            return default

    def close(self) -> None:
        """Close this thread's live connection (others close when their thread ends)."""
        con, self._local.con = getattr(self._local, "con", None), None
        if con is not None:
            con.close()

    # -- the API ---------------------------------------------------------------------------
    def save(self, view, source: str = "app") -> bool:
        """Store a run's final snapshot (a records.RunView). True when written.

        One row per key: a later run of the same config replaces the earlier one,
        except that a stopped run never replaces a final answer.
        """
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        if not worth_saving(view):
            return False
        try:
            row = to_row(view, source)
        except ValueError as err:  # a NaN slipped into an event: refuse it, say so
            self._warn(msg("store.run_not_saved", run=view.key, error=str(err)))
            return False

        def write(con):
            if row["status"] not in REUSABLE:
                old = con.execute("SELECT status FROM runs WHERE key=?", (row["key"],)).fetchone()
                if old is not None and old[0] in REUSABLE:
                    return False
            names = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            con.execute(f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})", tuple(row.values()))
            return True

        # Every save tries again: a disk that was full may have room now.
        written = self._run(lambda con: _write(con, write), None)
        if written is not None:
            self.saving = True
        return bool(written)

    def get(self, key: str):
        """The stored run as a records.RunView (curves included, no dropout masks), or None."""
        def read(con):
            con.row_factory = sqlite3.Row
            return con.execute("SELECT * FROM runs WHERE key=?", (key,)).fetchone()

        row = self._run(read, None)
        if row is None:
            return None
        try:
            return from_row(row)
        except (ValueError, TypeError, KeyError) as err:  # a row this version cannot read
            self._warn(msg("store.run_unreadable", run=key, error=str(err)))
            return None

    def list(self, limit: int = 200) -> list[RunSummary]:
        """The newest `limit` stored runs, newest first, without curves."""
        def read(con):
            con.row_factory = sqlite3.Row
            return con.execute(f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM runs "
                               "ORDER BY saved_at DESC LIMIT ?", (max(0, int(limit)),)).fetchall()

        return summaries(self._run(read, []), self._warn)

    def delete(self, key: str) -> bool:
        def write(con):
            con.execute("DELETE FROM weights WHERE key=?", (key,))
            return con.execute("DELETE FROM runs WHERE key=?", (key,)).rowcount > 0

        return self._run(lambda con: _write(con, write), False)

    def __len__(self) -> int:
        return self._run(lambda con: con.execute("SELECT count(*) FROM runs").fetchone()[0], 0)

    def save_weights(self, key: str, blob: bytes) -> bool:
        """Keep a finished run's weights (bytes the store does not look into). True when written."""
        def write(con):
            con.execute("INSERT OR REPLACE INTO weights (key, blob, saved_at) VALUES (?, ?, ?)",
                        (key, sqlite3.Binary(blob), time.time()))
            return True

        return bool(self._run(lambda con: _write(con, write), False))

    def weights(self, key: str) -> bytes | None:
        """The run's weights as save_weights got them; None for a run stored without them."""
        row = self._run(lambda con: con.execute("SELECT blob FROM weights WHERE key=?", (key,)).fetchone(), None)
        return bytes(row[0]) if row is not None else None

    # -- live runs (see BOUNDARY: workers write, app servers read) ----------------------------
    def create_live(self, key: str, config: RunConfig, owner: str | None = None) -> bool:
        """A queued row for `key`; True only for the one caller that created it."""
        def write(con):
            return con.execute(
                "INSERT INTO live (key, config, status, message, owner, stop_reason, created_at) "
                "VALUES (?, ?, ?, '', ?, '', ?) ON CONFLICT (key) DO NOTHING",
                (key, dumps(config.to_dict()), QUEUED, owner, time.time())).rowcount > 0

        return bool(self._live(lambda con: _write(con, write), False))

    def live(self, key: str) -> LiveRow | None:
        row = self._live(lambda con: con.execute(
            f"SELECT {', '.join(_LIVE_COLUMNS)} FROM live WHERE key=?", (key,)).fetchone(), None)
        return _live_row(row) if row is not None else None

    def live_keys(self, statuses=(QUEUED, RUNNING)) -> list[LiveRow]:
        """Rows with these statuses, oldest first (the queue's order)."""
        statuses = tuple(statuses)
        marks = ", ".join("?" for _ in statuses)
        rows = self._live(lambda con: con.execute(
            f"SELECT {', '.join(_LIVE_COLUMNS)} FROM live WHERE status IN ({marks}) "
            "ORDER BY created_at, key", statuses).fetchall(), [])
        return [_live_row(row) for row in rows]

    def mark_started(self, key: str, worker: str) -> bool:
        """queued -> running; False when it was stopped, claimed or dropped meanwhile."""
        def write(con):
            now = time.time()
            return con.execute(
                "UPDATE live SET status=?, worker=?, started_at=?, heartbeat_at=? "
                "WHERE key=? AND status=? AND stop_reason=''", (RUNNING, worker, now, now, key, QUEUED)).rowcount > 0

        return bool(self._live(lambda con: _write(con, write), False))

    def requeue(self, key: str, message: str, attempts: int, beat: float) -> bool:
        """running -> queued again (runs/requeue.py), at the back of the queue: only attempt
        `attempts` whose heartbeat is still `beat` (another looker, or a late heartbeat, wins)."""
        def write(con):
            return con.execute(
                "UPDATE live SET status=?, message=?, worker=NULL, started_at=NULL, heartbeat_at=NULL, "
                "created_at=?, attempts=attempts+1 WHERE key=? AND status=? AND attempts=? "
                "AND coalesce(heartbeat_at, started_at, created_at)=?",
                (QUEUED, message, time.time(), key, RUNNING, attempts, beat)).rowcount > 0

        return bool(self._live(lambda con: _write(con, write), False))

    def append_events(self, key: str, events: list) -> None:
        """The run's next events, numbered on from the last: one transaction per batch."""
        if not events:
            return
        texts = [dumps(to_json_dict(event, compact=True)) for event in events]

        def write(con):
            last = con.execute("SELECT coalesce(max(seq), 0) FROM live_events WHERE key=?", (key,)).fetchone()[0]
            con.executemany("INSERT INTO live_events (key, seq, event) VALUES (?, ?, ?)",
                            [(key, last + i, text) for i, text in enumerate(texts, 1)])

        self._live(lambda con: _write(con, write), None)

    def events_since(self, key: str, after_seq: int) -> list[tuple[int, object]]:
        """The run's events numbered above `after_seq`, rebuilt as event records."""
        rows = self._live(lambda con: con.execute(
            "SELECT seq, event FROM live_events WHERE key=? AND seq>? ORDER BY seq", (key, after_seq)).fetchall(), [])
        return [(seq, from_json_dict(json.loads(text))) for seq, text in rows]

    def set_status(self, key: str, status: str, message: str = "") -> None:
        """A final status (or, for "running", the worker's notice) and its message."""
        if status not in FINAL_STATUSES + (RUNNING,):
            raise ValueError(f"status must be running or final, got {status!r}")
        self._live(lambda con: _write(con, lambda c: c.execute(
            "UPDATE live SET status=?, message=? WHERE key=?", (status, message, key))), None)

    def request_stop(self, key: str, reason: str) -> None:
        """Ask the run to stop (its worker polls this); a queued run is stopped at once."""
        reason = reason or encode(msg("run.stopped_by_user"))

        def write(con):
            con.execute("UPDATE live SET stop_reason=? WHERE key=? AND stop_reason=''", (reason, key))
            con.execute("UPDATE live SET status=?, message=? WHERE key=? AND status=?", (STOPPED, reason, key, QUEUED))

        self._live(lambda con: _write(con, write), None)

    def heartbeat(self, key: str) -> None:
        self._live(lambda con: con.execute("UPDATE live SET heartbeat_at=? WHERE key=?", (time.time(), key)), None)

    def touch_live(self, key: str) -> None:
        self._live(lambda con: con.execute("UPDATE live SET watched_at=? WHERE key=?", (time.time(), key)), None)

    def delete_live(self, key: str, finished_only: bool = False) -> None:
        """Drop the run's live row and events; `finished_only`: only if its status is final
        (servers sharing a store must not drop a run another one just queued)."""
        def write(con):
            if finished_only:
                row = con.execute("SELECT status FROM live WHERE key=?", (key,)).fetchone()
                if row is None or row[0] not in FINAL_STATUSES:
                    return
            con.execute("DELETE FROM live_events WHERE key=?", (key,))
            con.execute("DELETE FROM live WHERE key=?", (key,))

        self._live(lambda con: _write(con, write), None)


def _write(con: sqlite3.Connection, work):
    """One write transaction; IMMEDIATE takes the write lock up front, so a read-then-write
    (save's check of the old status) cannot interleave with another writer."""
    con.execute("BEGIN IMMEDIATE")
    try:
        result = work(con)
        con.execute("COMMIT")
        return result
    except BaseException:
        if con.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
            con.execute("ROLLBACK")
        raise
