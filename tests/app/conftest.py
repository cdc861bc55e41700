"""Fixtures for the AppTest tests: the pages talk to a real Registry with a run store in tmp_path.

`registry` trains with `trainer`: support.scripted (known numbers, fates chosen by the seed)
unless a module overrides the `trainer` fixture (the lesson pages replay two real tiny
trainings, History never trains). The harness itself (open the app, a page, read its charts)
is tests/support.py.
"""

from __future__ import annotations

import pytest
from support import ARTICLE, WIDE, scripted, use_registry

from regdemo.runs.registry import Registry
from regdemo.storage.sqlite import RunStore
from regdemo.training import engine
from regdemo.training.events import Done, MaskSnapshot


@pytest.fixture(autouse=True)
def _no_server_registry_left():
    """A page opened without the `registry` fixture makes the server's own (cached) registry;
    drop it after the test (on_release shuts it down) so no worker thread outlives the test."""
    yield
    import webapp.state

    webapp.state.registry.clear()


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The run store the app uses: REGDEMO_HOME is tmp_path."""
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))
    return RunStore(tmp_path / "runs.sqlite3")


@pytest.fixture
def trainer():
    return scripted


@pytest.fixture
def registry(store, trainer, monkeypatch):
    """A real Registry (two trainers, `store`) training with `trainer`, in place of the app's."""
    reg = use_registry(monkeypatch, Registry(workers=2, train=trainer, store=store))
    yield reg
    reg.shutdown()


@pytest.fixture(scope="module")
def recorded():
    """The events of two real tiny trainings (100 digits), by model: the wide net and the article's."""
    events = {}
    for config in (WIDE, ARTICLE):
        events[config.model] = [_strip(e) if isinstance(e, Done) else e for e in engine.fit(config)]
    assert any(isinstance(e, MaskSnapshot) for e in events["wide"])
    assert any(isinstance(e, MaskSnapshot) and e.layer == "drop2" for e in events["article"])
    return events


def _strip(done: Done) -> Done:
    return Done(done.status, done.epochs_run, done.best_epoch, done.step, done.message, done.test_predictions)
