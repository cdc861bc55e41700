"""The real app in a real browser: one way to start it and drive it, for tools and tests.

start_server runs `streamlit run streamlit_app.py` on a free 127.0.0.1 port with its own
REGDEMO_HOME and waits until /_stcore/health answers; AppServer.stop() ends it.
launch_chromium starts Debian's chromium through Playwright (Playwright's own browser
download does not work on the machines this runs on); the page helpers below wait for
Streamlit to finish drawing. Used by tools/screenshots.py, tools/loadtest*.py, the measuring
scripts, tests/browser/ and the other tests that start a server. Playwright is imported
only inside the functions that drive a page, so importing this module needs none.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys
import time
import urllib.error
import urllib.request

from tools.services import free_port

ROOT = pathlib.Path(__file__).resolve().parent.parent
APP = "streamlit_app.py"
CHROMIUM = "/usr/bin/chromium"
# Playwright's own browser download does not work on the machines this runs
# on; Debian's chromium does, with these flags (no sandbox as root in a
# container, no GPU, no background traffic to the internet).
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
)
VIEWPORT = {"width": 1600, "height": 900}  # 16:9, the common projector shape
HEALTH_TIMEOUT_S = 60.0  # a cold start imports torch and pandas: slow on 2 busy cores


# --- the app server ----------------------------------------------------------


class AppServer:
    """A running `streamlit run streamlit_app.py`; stop() ends it and its children."""

    def __init__(self, process: subprocess.Popen, url: str, log_path: pathlib.Path):
        self.process = process
        self.url = url
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def __enter__(self) -> AppServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_server(
    home: str | os.PathLike,
    *,
    port: int | None = None,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
    timeout: float = HEALTH_TIMEOUT_S,
    cpus: set[int] | None = None,
) -> AppServer:
    """Start the app on 127.0.0.1 and return once /_stcore/health answers "ok".

    `home` becomes REGDEMO_HOME (run store, downloads); `workers` caps the
    worker processes; `cpus` pins the server (and the workers it starts) to those
    cores, as `taskset` would. Raises RuntimeError with the server's output when it
    exits early or does not answer within `timeout` seconds.
    """
    port = port or free_port()
    home = pathlib.Path(home)
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, REGDEMO_HOME=str(home), REGDEMO_WORKERS=str(workers), PYTHONUNBUFFERED="1")
    env.update(extra_env or {})
    log_path = home / f"streamlit-{port}.log"
    command = [
        sys.executable, "-m", "streamlit", "run", APP,
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # Nobody edits the app while it is being tested; watching files costs CPU.
        "--server.fileWatcherType", "none",
    ]
    with open(log_path, "wb") as log:  # a file, not a pipe: a full pipe would block the server
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL,
                                   preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    server = AppServer(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_healthy(server, timeout)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_healthy(server: AppServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"streamlit exited with code {server.process.returncode} before it was healthy; "
                f"its output:\n{server.log()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(server.url + "/_stcore/health", timeout=2) as reply:
                if reply.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"streamlit did not answer {server.url}/_stcore/health within {timeout:.0f}s; "
                f"its output:\n{server.log()[-4000:]}"
            )
        time.sleep(0.25)


# --- the browser ---------------------------------------------------------------


def chromium_missing() -> str:
    """Why the browser cannot run here ("" when it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return ""


def launch_chromium(playwright):
    """Debian's chromium through Playwright (its bundled browser is not used)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))


# Drawn, not just sent: Streamlit shows grey skeletons while an element's code
# loads, Vega draws charts after the element mounts, images load on their own.
_DRAWN_JS = """() => !document.querySelector('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]')
    && Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]'))
        .every(el => el.querySelector('svg, canvas'))
    && Array.from(document.images).every(img => img.complete)"""


def wait_rendered(page, timeout_ms: float = 120_000) -> None:
    """Wait until the app is connected, its script run has finished and the page is drawn.

    Streamlit marks its root element with the script state; a fragment that
    reruns on a timer flips it back to "running" briefly, and the auto-retrying
    expectation catches a moment between runs.
    """
    from playwright.sync_api import expect

    root = page.get_by_test_id("stApp")
    expect(root).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=timeout_ms)
    expect(root).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout_ms)
    page.wait_for_function(_DRAWN_JS, timeout=timeout_ms)


def open_app(page, url: str, timeout_ms: float = 120_000) -> None:
    page.goto(url)
    wait_rendered(page, timeout_ms)


def shown_errors(page) -> list[str]:
    """Texts of the exception boxes Streamlit shows (empty when the page is clean)."""
    boxes = page.get_by_test_id("stException")
    return [boxes.nth(i).inner_text() for i in range(boxes.count())]


def nav_links(page) -> list[tuple[str, str]]:
    """(label, absolute URL) of every page in the app's navigation, in order."""
    links = page.locator('[data-testid="stSidebarNavLink"], [data-testid="stTopNavLink"]')
    found = []
    for i in range(links.count()):
        link = links.nth(i)
        href = link.evaluate("a => a.href")  # resolved against the page URL
        found.append((link.inner_text().strip(), href))
    return found


# A fingerprint of what every chart on the page currently draws: Vega renders
# to SVG or canvas; either way a new point changes it.
_CHARTS_JS = """() => Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"]')).map(el => {
    const canvas = el.querySelector('canvas');
    if (canvas) return canvas.toDataURL();
    const svg = el.querySelector('svg');
    return svg ? svg.outerHTML : '';
}).join('|')"""


def charts_fingerprint(page) -> str:
    return page.evaluate(_CHARTS_JS)


def wait_charts_change(page, before: str, timeout_ms: float = 60_000) -> str:
    """Block until the charts draw something other than `before`; return the new fingerprint."""
    page.wait_for_function(f"(before) => ({_CHARTS_JS})() !== before", arg=before, timeout=timeout_ms)
    return charts_fingerprint(page)


@contextlib.contextmanager
def chromium():
    """Playwright with Debian's chromium launched, closed on the way out: `with chromium() as browser:`.

    One at a time per thread: Playwright's sync API allows one running instance per thread."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


# A "7" in fractions of the canvas: the bar, then the stem down to the left.
SEVEN = ((0.25, 0.2), (0.75, 0.2), (0.45, 0.85))


def draw_on_canvas(page, points=SEVEN, steps: int = 12) -> None:
    """Draw one stroke through `points` (fractions of width and height) on the Draw page's
    canvas (streamlit-drawable-canvas: fabric.js listens on its upper canvas) with the mouse."""
    canvas = page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()

    def at(fx: float, fy: float) -> tuple[float, float]:
        return box["x"] + fx * box["width"], box["y"] + fy * box["height"]

    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        for i in range(1, steps + 1):
            page.mouse.move(*at(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps))
    page.mouse.up()
