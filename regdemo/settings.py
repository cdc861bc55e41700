"""The REGDEMO_* environment variables, read and checked in one place.

    from regdemo.settings import read
    read().session_runs   # 4, or $REGDEMO_SESSION_RUNS

read() looks at os.environ every time it is called (cheap: a dozen lookups), so a test
that sets a variable, or a worker process that inherits one, gets what it set. A value
that is set but unusable raises SettingError naming the variable and what it accepts;
an unset or empty variable means the default. README.md ("Settings") lists them all.

The two URLs of a cluster are checked where they are used, by the code that knows the
scheme (cluster.check_broker_url, store_postgres.check_url), so a malformed one becomes
the store's one-line "cannot be used" message in the app and the CLI; they raise UrlError,
coded like SettingError, and show a URL only through redact_url().
"""

from __future__ import annotations

import math
import os
import pathlib
import urllib.parse
from dataclasses import dataclass

from regdemo.messages import Message, MessageError, msg

PREFIX = "REGDEMO_"


class SettingError(MessageError, ValueError):
    """A REGDEMO_* variable holds a value it cannot take: a message (messages.py) naming
    the variable, the value and what it accepts, so a page says it in the reader's
    language; str() is the English sentence."""

    def __init__(self, name: str, value: str, expected: Message):
        super().__init__(msg("setting.invalid", name=name, value=repr(value), expected=expected))


class UrlError(MessageError, ValueError):
    """REGDEMO_DATABASE_URL or REGDEMO_BROKER_URL is malformed: a message naming the
    variable (its password redacted), in the reader's language; str() is English."""


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        parsed = urllib.parse.urlsplit(url)
        if parsed.password is None:
            return url
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return urllib.parse.urlunsplit(parsed._replace(netloc=netloc))
    except ValueError:
        return "<unparseable URL>"


@dataclass(frozen=True)
class Settings:
    home: pathlib.Path  # REGDEMO_HOME: the run store (runs.sqlite3), and downloads unless data_dir
    data_dir: pathlib.Path  # REGDEMO_DATA_DIR: downloaded datasets, one folder per dataset
    workers: int | None  # REGDEMO_WORKERS: local worker processes (None: one per two cores)
    torch_threads: int  # REGDEMO_TORCH_THREADS: torch threads per run on a cluster worker (0: torch's own)
    session_runs: int  # REGDEMO_SESSION_RUNS: runs one browser session may have queued or training
    max_queued: int  # REGDEMO_MAX_QUEUED: runs waiting at most
    grace_seconds: float  # REGDEMO_GRACE_SECONDS: a run nobody watches this long is stopped
    stale_seconds: float  # REGDEMO_STALE_SECONDS: heartbeat older -> queued again once, then failed
    database_url: str  # REGDEMO_DATABASE_URL: PostgreSQL run store shared by a cluster ("" = SQLite file)
    broker_url: str  # REGDEMO_BROKER_URL: Redis task queue of a cluster ("" = train on this machine)
    mnist_url: str  # REGDEMO_MNIST_URL: MNIST mirror(s), space-separated ("" = the built-in list)
    fashion_url: str  # REGDEMO_FASHION_URL: Fashion-MNIST mirror(s) ("" = the built-in list)


# Defaults of the numbers (README.md's table says the same).
SESSION_RUNS = 4  # the article's four experiments side by side
MAX_QUEUED = 100
GRACE_SECONDS = 120.0  # a reload, a glance at another tab or page
STALE_SECONDS = 20.0


def read(environ=None) -> Settings:
    """The settings now in `environ` (default os.environ); SettingError for a bad value."""
    env = os.environ if environ is None else environ
    home = _path(env, "HOME") or _xdg(env, "XDG_DATA_HOME", ".local/share") / "regdemo"
    data_dir = (_path(env, "DATA_DIR") or (home / "data" if _text(env, "HOME")
                                           else _xdg(env, "XDG_CACHE_HOME", ".cache") / "regdemo" / "data"))
    return Settings(
        home=home,
        data_dir=data_dir,
        workers=_number(env, "WORKERS", None, int, 1),
        torch_threads=_number(env, "TORCH_THREADS", 0, int, 0),
        session_runs=_number(env, "SESSION_RUNS", SESSION_RUNS, int, 1),
        max_queued=_number(env, "MAX_QUEUED", MAX_QUEUED, int, 1),
        grace_seconds=_number(env, "GRACE_SECONDS", GRACE_SECONDS, float, 0),
        stale_seconds=_number(env, "STALE_SECONDS", STALE_SECONDS, float, 0),
        database_url=_text(env, "DATABASE_URL"),
        broker_url=_text(env, "BROKER_URL"),
        mnist_url=_text(env, "MNIST_URL"),
        fashion_url=_text(env, "FASHION_URL"),
    )


def _text(env, name: str) -> str:
    return env.get(PREFIX + name, "").strip()


def _path(env, name: str) -> pathlib.Path | None:
    text = _text(env, name)
    return pathlib.Path(text).expanduser() if text else None


def _xdg(env, name: str, fallback: str) -> pathlib.Path:
    return pathlib.Path(env.get(name) or pathlib.Path.home() / fallback).expanduser()


def _number(env, name: str, default, kind, low):
    """An int (kind=int, at least `low`) or a finite float (kind=float, above `low`)."""
    text = _text(env, name)
    if not text:
        return default
    expected = msg("setting.whole_number", low=low) if kind is int else msg("setting.seconds", low=f"{low:g}")
    try:
        value = kind(text)
    except ValueError:
        raise SettingError(PREFIX + name, text, expected) from None
    if (value < low) if kind is int else (not math.isfinite(value) or value <= low):
        raise SettingError(PREFIX + name, text, expected)
    return value
