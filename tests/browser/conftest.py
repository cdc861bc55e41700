"""Fixtures for the browser tests: the real app server and headless Chromium.

The server is started by tools.appserver.start_server (the same code the screenshot and
load-test tools use), once per test module, with REGDEMO_HOME in a temp folder and one
worker process. Without Chromium or Playwright these tests skip with the reason; under CI
(CI=true), which installs Chromium, they fail. Every test in this folder is marked `browser`.
"""

from __future__ import annotations

import os

import pytest

from tools.appserver import VIEWPORT, chromium, chromium_missing, start_server

# Pages render in a second or two; a cold first run imports torch, and the
# machine is shared: give auto-waiting expectations room.
TIMEOUT_MS = 60_000


def pytest_collection_modifyitems(items):
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.browser)


# Module scope, not session: Playwright's sync API allows one running instance
# per thread, and other test files (the load test, History) start their own.
@pytest.fixture(scope="module")
def browser(require):
    require(chromium_missing())
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def app(browser, tmp_path_factory):
    """Base URL of a fresh app server for this module (depends on browser so a
    missing Chromium skips before a server is started for nothing)."""
    server = start_server(tmp_path_factory.mktemp("regdemo-home"), workers=1)
    yield server
    server.stop()
    # A crash inside the server (not shown in the page) still fails the module.
    assert "Traceback" not in server.log(), server.log()[-4000:]


@pytest.fixture
def expect(browser):
    """Playwright's auto-waiting expect (a fixture, so a missing playwright skips)."""
    from playwright.sync_api import expect

    return expect


@pytest.fixture
def page(browser, app):
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()
