"""AppTest for the History page: stored runs listed, reopened with their curves, store warnings shown.

The runs are written to a run store in tmp_path from hand-made event records (no training);
the page's registry is a real Registry over that store. One browser test follows "Open in
Playground" in the real app (AppTest cannot follow st.switch_page out of a page run alone).
"""

from __future__ import annotations

import os
import re

import pytest
from streamlit.testing.v1 import AppTest

import webapp.state
from regdemo.config import RunConfig
from regdemo.events import DIVERGED, FINISHED, Done, EpochEnd, Progress, Started
from regdemo.i18n import STRINGS
from regdemo.jobs import Registry
from regdemo.records import Run
from regdemo.screenshots import chromium_missing, launch_chromium, shown_errors, start_server, wait_rendered
from regdemo.store import RunStore

TIMEOUT = 120
CLI_RUN = RunConfig(dropout=0.5, train_size=200, epochs=2)
APP_RUN = RunConfig(l2=1e-3, train_size=200, epochs=2)


def stored_run(config: RunConfig, test_accs=(0.81, 0.9), status=FINISHED, message="") -> Run:
    run = Run(config)
    run.mark_running()
    run.apply(Started(device="cpu", train_size=200, test_size=1000, val_size=0, steps_per_epoch=4, parameters=99))
    for n, acc in enumerate(test_accs, 1):
        run.apply(Progress(step=4 * n, epoch=float(n), train_loss=1.0 / n, train_acc=0.5 + n / 10))
        run.apply(EpochEnd(epoch=n, train_loss=1.0 / n, train_acc=0.5 + n / 10, train_loss_eval=0.8 / n,
                           train_acc_eval=0.95, test_loss=0.9 / n, test_acc=acc, val_loss=None, val_acc=None,
                           l1_norm=50.0, l2_norm=3.0, near_zero=0.01, weight_hist=(1,) * 61, best_epoch=n,
                           seconds=0.2, step=4 * n))
    run.apply(Done(status, len(test_accs), len(test_accs), 4 * len(test_accs), message, test_predictions=(1, 2)))
    return run


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))
    return RunStore(tmp_path / "runs.sqlite3")


@pytest.fixture
def registry(store, monkeypatch):
    def never(config, stop):
        raise AssertionError("the History page must not train")
        yield

    reg = Registry(workers=1, train=never, store=store)
    monkeypatch.setattr(webapp.state, "override", reg)
    yield reg
    reg.shutdown()


def page(**state) -> AppTest:
    at = AppTest.from_file("../app_pages/history.py", default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list:
    return at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def test_an_empty_store_says_how_runs_get_there(registry):
    at = page()
    assert "No stored runs yet" in at.info[0].value
    assert not charts(at)


def test_stored_runs_are_listed_newest_first_and_the_newest_is_open(registry, store):
    store.save(stored_run(CLI_RUN).view(), source="cli")
    store.save(stored_run(APP_RUN, test_accs=(0.7, 0.75)).view(), source="app")
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
    store.save(stored_run(CLI_RUN).view(), source="cli")
    store.save(stored_run(APP_RUN, test_accs=(0.7, 0.75)).view(), source="app")
    at = page()
    at.selectbox(key="history_key").set_value(CLI_RUN.key()).run()
    assert not at.exception
    assert at.subheader[0].value == CLI_RUN.label()
    assert at.metric[0].value == "90.00%"
    assert "trained by the command line" in at.caption[-1].value and CLI_RUN.key() in at.caption[-1].value


def test_a_diverged_run_shows_its_advice(registry, store):
    config = RunConfig(l1=10, lr=10, train_size=200, epochs=2)
    store.save(stored_run(config, test_accs=(), status=DIVERGED,
                          message="The loss became NaN or infinite at step 3: lower the learning rate.").view())
    at = page()
    assert "Diverged: The loss became NaN or infinite at step 3" in at.warning[0].value
    assert not charts(at)  # no epoch finished: nothing to draw, and no NaN to draw


def test_open_in_playground_loads_the_setup_and_the_run(registry, store):
    store.save(stored_run(CLI_RUN).view(), source="cli")
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


@pytest.mark.browser
@pytest.mark.slow
def test_open_in_playground_in_the_browser(tmp_path):
    """The real app: a run the CLI stored is listed, and Open in Playground shows it there with its setup."""
    reason = chromium_missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests need Chromium under CI: {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    from playwright.sync_api import expect, sync_playwright

    home = tmp_path / "home"
    RunStore(home / "runs.sqlite3").save(stored_run(CLI_RUN).view(), source="cli")
    with start_server(home) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
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
        browser.close()
    assert "Traceback" not in server.log()


def test_store_warnings_are_shown_and_the_page_still_works(tmp_path, monkeypatch):
    bad = tmp_path / "runs.sqlite3"
    bad.write_bytes(b"not a database" * 100)
    reg = Registry(workers=1, store=RunStore(bad))
    monkeypatch.setattr(webapp.state, "override", reg)
    try:
        at = page()
        assert "Run store: The run store" in at.warning[0].value and "moved to" in at.warning[0].value
        assert "No stored runs yet" in at.info[0].value
    finally:
        reg.shutdown()


def test_the_page_speaks_chinese(registry, store):
    store.save(stored_run(CLI_RUN).view(), source="cli")
    at = page(lang="zh")
    assert at.title[0].value == STRINGS["zh"]["nav.history"]
    assert list(at.dataframe[0].value["训练来源"]) == ["命令行"]
