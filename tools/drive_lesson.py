"""A visitor's path through the hosted demo, in headless Chromium: every page opened in turn,
then one lesson page (its measured curves must be on screen before anything trains), Try it
pressed, and both runs of the pair waited for until each says Finished (or fails).

Shared by tools/measure_memory.py (memory while the pair trains) and tools/rehearse_cloud.py
(the same on Cloud's smallest tier, in a cgroup). Returns seconds and what the page said.
"""

from __future__ import annotations

import re
import time

from regdemo.i18n import translate
from regdemo.teaching.lessons import curves
from tools.appserver import nav_links, open_app, shown_errors, wait_rendered

PAGES = {"dropout": "dropout", "l1": "l1_l2", "l2": "l2", "early_stopping": "early_stopping",
         "augmentation": "augmentation", "more_data": "augmentation", "batchnorm": "batchnorm", "adamw": "l2"}


def _final_texts() -> tuple[str, str]:
    """The starts of a finished run's status and a failed one's, in English."""
    finished = translate("status.finished", "en", epochs=2, count=2).split("2")[0].strip()
    failed = translate("status.failed", "en", message="").strip()
    return finished, failed


def open_every_page(page, url: str, timeout_ms: float) -> dict[str, float]:
    """Each page of the navigation, one after the other: seconds until each is drawn."""
    open_app(page, url, timeout_ms)
    more = page.get_by_test_id("stSidebarNavViewButton")  # a long navigation shows its first pages only
    if more.count() and "more" in more.first.inner_text().lower():
        more.first.click()
    seconds = {}
    for label, href in nav_links(page):
        label = label.splitlines()[-1].strip()  # the link's text after its icon's name
        started = time.monotonic()
        open_app(page, href, timeout_ms)
        seconds[label] = round(time.monotonic() - started, 1)
        if errors := shown_errors(page):
            raise RuntimeError(f"{label}: the page shows an exception: {errors[0][:300]}")
    return seconds


def train_pair(page, url: str, name: str, timeout_ms: float, on_click=None) -> dict:
    """Open `name`'s lesson page, see its measured curves, press Try it, wait for both runs.

    Returns first_curve_s (page opened -> the measured accuracy chart drawn), finished_s
    (Try it -> both runs final), the pair's status line and whether a run failed."""
    from playwright.sync_api import expect

    finished, failed = _final_texts()
    measured_title = translate("pair.curves.chart.acc", "en")
    started = time.monotonic()
    page.goto(f"{url}/{PAGES[name]}")
    out = {"first_curve_s": None}
    if curves.load(name) is not None:  # the repository has them: they must show before any run
        chart = page.locator(f'[data-testid="stVegaLiteChart"]:has([aria-label*="{measured_title}"]), '
                             f'[data-testid="stVegaLiteChart"][aria-label*="{measured_title}"]').first
        expect(chart).to_be_visible(timeout=timeout_ms)
        page.wait_for_function("el => el.querySelector('svg, canvas')", arg=chart.element_handle(),
                               timeout=timeout_ms)
        out["first_curve_s"] = round(time.monotonic() - started, 1)
    wait_rendered(page, timeout_ms)
    button = page.locator(f".st-key-pair_{name}_try button")
    clicked = time.monotonic()
    button.click()
    if on_click is not None:
        on_click()
    main = page.get_by_test_id("stMain")
    final = re.compile(f"({re.escape(finished)}|{re.escape(failed)}|Early-stopped)")
    # both runs' statuses sit in one caption: "without: Finished: 20 epochs. · with dropout: ..."
    status = main.get_by_text(re.compile(re.escape(translate("pair.baseline", "en")) + r": .*·")).first
    deadline = clicked + timeout_ms / 1000
    text = ""
    while time.monotonic() < deadline:
        try:
            text = status.inner_text(timeout=5_000)
        except Exception:  # noqa: BLE001 -- not drawn yet: the fragment redraws every second
            text = ""
        if len(final.findall(text)) >= 2 or failed in text:
            break
        time.sleep(0.5)
    out["finished_s"] = round(time.monotonic() - clicked, 1)
    out["status"] = text
    out["failed"] = failed in text
    out["done"] = len(final.findall(text)) >= 2
    return out
