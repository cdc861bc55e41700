"""AppTest for the History page: stored runs listed, reopened with their curves, store warnings shown.

The runs are written to a run store in tmp_path from hand-made event records (no training);
the page's registry is a real Registry over that store. One browser test follows "Open in
Playground" in the real app (AppTest cannot follow st.switch_page out of a page run alone).
"""

from __future__ import annotations

import re

import pytest
from support import charts, make_run, never, page_alone, use_registry

from regdemo.i18n import STRINGS
from regdemo.runs.registry import Registry
from regdemo.storage.sqlite import RunStore
from regdemo.training.config import RunConfig
from regdemo.training.events import DIVERGED
from tools.appserver import chromium, chromium_missing, shown_errors, start_server, wait_rendered

CLI_RUN = RunConfig(dropout=0.5, train_size=200, epochs=2)
APP_RUN = RunConfig(l2=1e-3, train_size=200, epochs=2)


@pytest.fixture
def trainer():
    return never  # the History page must not train


def page(**state):
    return page_alone("app_pages/history.py", **state)


def test_an_empty_store_says_how_runs_get_there(registry):
    at = page()
    assert "No stored runs yet" in at.info[0].value
    assert not charts(at)


def test_stored_runs_are_listed_newest_first_and_the_newest_is_open(registry, store):
    store.save(make_run(CLI_RUN).view(), source="cli")
    store.save(make_run(APP_RUN, epochs=(0.7, 0.75)).view(), source="app")
    at = page()
    table = at.dataframe[0].value
    assert list(table["run"]) == [APP_RUN.label(), CLI_RUN.label()]
    assert list(table["test %"]) == pytest.approx([75.0, 90.0])
    assert list(table["trained by"]) == ["the app", "the command line"]
    assert at.subheader[0].value == APP_RUN.label()
    assert at.metric[0].value == "75.00%"
    assert len(charts(at)) == 2  # accuracy and loss, as in the Playground
    assert "Finished: 2 epochs." in at.success[0].value
    assert registry.runs() == []  # reading history starts nothing


def test_picking_a_run_reopens_it_with_its_curves(registry, store):
    store.save(make_run(CLI_RUN).view(), source="cli")
    store.save(make_run(APP_RUN, epochs=(0.7, 0.75)).view(), source="app")
    at = page()
    at.selectbox(key="history_key").set_value(CLI_RUN.key()).run()
    assert not at.exception
    assert at.subheader[0].value == CLI_RUN.label()
    assert at.metric[0].value == "90.00%"
    assert "trained by the command line" in at.caption[-1].value and CLI_RUN.key() in at.caption[-1].value


def test_a_diverged_run_shows_its_advice(registry, store):
    config = RunConfig(l1=10, lr=10, train_size=200, epochs=2)
    store.save(make_run(config, epochs=(), status=DIVERGED,
                          message="The loss became NaN or infinite at step 3: lower the learning rate.").view())
    at = page()
    assert "Diverged: The loss became NaN or infinite at step 3" in at.warning[0].value
    assert not charts(at)  # no epoch finished: nothing to draw, and no NaN to draw


def test_open_in_playground_loads_the_setup_and_the_run(registry, store):
    store.save(make_run(CLI_RUN).view(), source="cli")
    at = page()
    at.button(key="history_open").click().run()
    # The callback put the run's setup into the sidebar's widgets and the run on screen...
    assert at.session_state["run_key"] == CLI_RUN.key()
    assert at.session_state["cfg_dropout"] == 0.5 and at.session_state["cfg_train_size"] == 200
    assert at.session_state["cfg_epochs"] == 2
    # ...and the page asked for the Playground. Run alone (no st.navigation around it), the
    # switch can only fail, naming the page it was asked for; the browser test below follows it.
    assert [e.value for e in at.exception] == [
        "Could not find page: `app_pages/playground.py`. You must provide a `Page` object or file path relative to "
        "the entrypoint file. Only pages previously defined by `st.Page` and passed to `st.navigation` are allowed."]


@pytest.mark.subprocess
@pytest.mark.browser
@pytest.mark.slow
def test_open_in_playground_in_the_browser(tmp_path, require):
    """The real app: a run the CLI stored is listed, and Open in Playground shows it there with its setup."""
    require(chromium_missing())
    from playwright.sync_api import expect

    home = tmp_path / "home"
    RunStore(home / "runs.sqlite3").save(make_run(CLI_RUN).view(), source="cli")
    with start_server(home) as server, chromium() as browser:
        tab = browser.new_page()
        tab.goto(server.url)
        wait_rendered(tab, timeout_ms=120_000)
        sidebar = tab.get_by_test_id("stSidebar")
        expect(sidebar.get_by_text("Dropout p")).to_be_visible(timeout=120_000)  # the app's first run is done
        tab.get_by_test_id("stSidebarNav").get_by_role("link", name="History").click()
        tab.get_by_role("button", name="Open in Playground").click(timeout=120_000)
        expect(tab.get_by_text("Finished: 2 epochs.")).to_be_visible(timeout=120_000)
        expect(tab).to_have_url(re.compile(r"dropout=0\.5&train_size=200&epochs=2"), timeout=60_000)
        wait_rendered(tab, timeout_ms=120_000)
        assert tab.get_by_text("The sidebar has changed").count() == 0  # the sidebar holds the stored setup
        assert shown_errors(tab) == []
    assert "Traceback" not in server.log()


def test_store_warnings_are_shown_and_the_page_still_works(tmp_path, monkeypatch):
    bad = tmp_path / "runs.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    reg = use_registry(monkeypatch, Registry(workers=1, store=RunStore(bad)))
    try:
        at = page()
        assert "Run store: The run store" in at.warning[0].value and "moved to" in at.warning[0].value
        assert "No stored runs yet" in at.info[0].value
    finally:
        reg.shutdown()


def test_the_page_speaks_chinese(registry, store):
    store.save(make_run(CLI_RUN).view(), source="cli")
    at = page(lang="zh")
    assert at.title[0].value == STRINGS["zh"]["nav.history"]
    assert list(at.dataframe[0].value["训练来源"]) == ["命令行"]
