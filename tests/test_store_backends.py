"""The run store's interface, run against both implementations: SQLite (store.RunStore, the
embedded default) and PostgreSQL (store_postgres.PostgresStore, REGDEMO_DATABASE_URL).

The PostgreSQL half uses a real server started by tests/conftest.py (skips without the
Debian package, fails under CI). Runs are hand-made event records, as in test_store.py.
"""

from __future__ import annotations

import os
import threading

import pytest
from test_store import make_run

from regdemo import store
from regdemo.config import RunConfig
from regdemo.events import DIVERGED, EARLY_STOPPED, FINISHED, STOPPED
from regdemo.store import RunStore, StoreUnavailable, open_store


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request, tmp_path, monkeypatch):
    """A fresh, empty store of each kind, opened the way the app opens it (open_store)."""
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "home"))
    if request.param == "sqlite":
        monkeypatch.delenv(store.DATABASE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(store.DATABASE_VARIABLE, request.getfixturevalue("postgres_url"))
    s = open_store()
    yield s
    if hasattr(s, "close"):
        s.close()


def test_the_variable_picks_the_store(backend):
    from regdemo.store_postgres import PostgresStore

    assert isinstance(backend, PostgresStore if os.environ.get(store.DATABASE_VARIABLE) else RunStore)


def test_save_and_get_round_trip(backend):
    run = make_run()
    assert backend.save(run.view(), source="cli")
    back, live = backend.get(run.key), run.view()
    assert back.config == live.config and back.key == live.key
    assert back.epochs == live.epochs and back.progress == live.progress
    assert back.started == live.started and back.done == live.done
    assert back.status == FINISHED and back.source == "cli" and back.masks == {}
    assert backend.get("nope") is None and backend.warnings == []


def test_summary_list_order_limit_and_len(backend):
    keys = []
    for seed in range(4):
        run = make_run(RunConfig(seed=seed, train_size=200, epochs=2))
        assert backend.save(run.view())
        keys.append(run.key)
    assert [r.key for r in backend.list()] == keys[::-1]
    assert [r.key for r in backend.list(limit=2)] == keys[:1:-1]
    assert len(backend) == 4
    config = RunConfig(patience=2, train_size=200, epochs=5)
    backend.save(make_run(config, status=EARLY_STOPPED, epochs=(0.7, 0.85, 0.8, 0.79), best_epoch=2).view())
    newest = backend.list(1)[0]
    assert newest.test_acc == 0.85 and newest.best_epoch == 2 and newest.config == config


def test_what_is_saved_and_what_replaces_what(backend):
    config = RunConfig(train_size=200, epochs=2)
    assert backend.save(make_run(config, epochs=(0.8, 0.9)).view())
    assert not backend.save(make_run(config, status=STOPPED, epochs=(0.1,)).view())
    assert backend.get(config.key()).status == FINISHED
    assert backend.save(make_run(config, epochs=(0.8, 0.95)).view())
    assert backend.get(config.key()).epochs[-1].test_acc == 0.95
    other = RunConfig(train_size=200, epochs=1, seed=9)
    assert backend.save(make_run(other, status=STOPPED, epochs=(0.2,)).view())
    assert backend.save(make_run(other, status=DIVERGED, epochs=(0.5,), message="NaN").view())
    assert backend.get(other.key()).status == DIVERGED


def test_delete(backend):
    run = make_run()
    backend.save(run.view())
    assert backend.delete(run.key) and not backend.delete(run.key)
    assert backend.get(run.key) is None and backend.list() == [] and len(backend) == 0


def test_a_nan_is_refused_not_written(backend):
    assert not backend.save(make_run(epochs=(float("nan"),)).view())
    assert "not saved" in backend.warnings[-1] and backend.list() == []


def test_many_threads_save_at_once(backend):
    runs = [make_run(RunConfig(seed=seed, train_size=200, epochs=2)) for seed in range(12)]
    results = []
    threads = [threading.Thread(target=lambda r=r: results.append(backend.save(r.view()))) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 12 and len(backend) == 12


# ----------------------------------------------------------------------- PostgreSQL's own faults

@pytest.mark.parametrize("url, words", [
    ("mysql://u@h/db", "must be a PostgreSQL URL"),
    ("postgresql://u@h:port/db", "port that is not a number"),
    ("postgresql:///db", "names no database host"),
])
def test_a_malformed_url_names_the_variable(monkeypatch, url, words):
    monkeypatch.setenv(store.DATABASE_VARIABLE, url)
    with pytest.raises(StoreUnavailable) as info:
        open_store()
    assert store.DATABASE_VARIABLE in str(info.value) and words in str(info.value)
    assert "\n" not in str(info.value)


def test_a_password_never_shows_in_a_message(monkeypatch):
    monkeypatch.setenv(store.DATABASE_VARIABLE, "mysql://u:s3cret@h/db")
    with pytest.raises(StoreUnavailable) as info:
        open_store()
    assert "s3cret" not in str(info.value)


def test_a_database_that_does_not_answer_is_one_clear_line(monkeypatch):
    pytest.importorskip("psycopg")
    from regdemo.services import free_port

    monkeypatch.setenv(store.DATABASE_VARIABLE, f"postgresql://regdemo:pw@127.0.0.1:{free_port()}/regdemo")
    with pytest.raises(StoreUnavailable) as info:
        open_store()
    text = str(info.value)
    assert "cannot be used" in text and "REGDEMO_DATABASE_URL" in text and "\n" not in text
    assert "pw@" not in text


def test_a_database_that_goes_away_later_gives_warnings_not_exceptions(postgres_server, monkeypatch):
    """Stopping the server under a running store: reads give nothing, writes False."""
    from regdemo.services import PostgresServer
    from regdemo.store_postgres import PostgresStore

    own = PostgresServer()  # its own server: the session's one stays up for the other tests
    try:
        s = PostgresStore(own.url)
        run = make_run()
        assert s.save(run.view())
    finally:
        own.stop()
    assert s.get(run.key) is None and s.list() == [] and len(s) == 0
    assert not s.save(make_run(RunConfig(seed=5)).view())
    assert s.warnings and all("did not answer" in w for w in s.warnings)
