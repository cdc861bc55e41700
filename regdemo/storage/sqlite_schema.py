"""The SQLite store's tables (storage/sqlite.py creates them): finished runs, live runs and
their events, finished runs' weights. PRAGMA user_version holds SCHEMA_VERSION; a file from a
newer regdemo is refused rather than misread. A column added later to a live table is added to
an older file by COLUMNS_ADDED (live rows are short-lived; finished runs' schema is unchanged).
"""

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    key TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    config TEXT NOT NULL,          -- RunConfig.to_dict() as JSON
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    source TEXT NOT NULL,          -- app | cli | sweep
    dataset TEXT NOT NULL,
    model TEXT NOT NULL,
    epochs_run INTEGER NOT NULL,
    best_epoch INTEGER NOT NULL,
    step INTEGER NOT NULL,
    test_acc REAL,                 -- of the kept model (best epoch under early stopping)
    train_acc REAL,                -- running train-mode accuracy of that epoch
    train_acc_eval REAL,           -- eval-mode accuracy on the training digits
    test_loss REAL,
    seconds REAL,                  -- wall time from start to finish
    created_at REAL NOT NULL,      -- unix times
    started_at REAL,
    finished_at REAL,
    saved_at REAL NOT NULL,
    started TEXT,                  -- the Started event as JSON
    epochs TEXT NOT NULL,          -- [EpochEnd as JSON object, ...]
    progress TEXT NOT NULL,        -- [[step, epoch, train_loss, train_acc], ...]
    test_predictions TEXT NOT NULL -- [class, ...] in test order
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (saved_at);

-- Live runs: one row per key queued or training, and its events so far. Workers write
-- them, app servers read them back (see runs/execute.py and docs/load.md). Adding these two
-- tables left the finished runs' schema as it was: SCHEMA_VERSION stays 1.
CREATE TABLE IF NOT EXISTS live (
    key TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    status TEXT NOT NULL,          -- queued | running | one of the final statuses
    message TEXT NOT NULL,
    owner TEXT,                    -- the browser session that started it
    worker TEXT,                   -- who trains it ("host:pid")
    stop_reason TEXT NOT NULL,     -- "" = nobody asked it to stop
    created_at REAL NOT NULL,
    started_at REAL,
    heartbeat_at REAL,
    watched_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0  -- queued again after a lost worker (runs/requeue.py)
);
CREATE INDEX IF NOT EXISTS live_by_time ON live (created_at);
CREATE TABLE IF NOT EXISTS live_events (
    key TEXT NOT NULL,
    seq INTEGER NOT NULL,          -- 1, 2, 3.. per key
    event TEXT NOT NULL,           -- events.to_json_dict(compact=True) as JSON
    PRIMARY KEY (key, seq)
) WITHOUT ROWID;

-- A finished run's weights (inference.weights_bytes), for the Draw page; runs saved before
-- this table existed have none. A new table again: SCHEMA_VERSION stays 1.
CREATE TABLE IF NOT EXISTS weights (
    key TEXT PRIMARY KEY,
    blob BLOB NOT NULL,
    saved_at REAL NOT NULL
);
"""

# (table, column, its definition): added to a file created before the column existed.
COLUMNS_ADDED = (("live", "attempts", "INTEGER NOT NULL DEFAULT 0"),)
