"""Slide-ready screenshots of the real app, taken in headless Chromium.

    python -m tools.screenshots [--out docs/screenshots] [--lang en|zh|both] [--pages lessons|dropout,l2,...]

Starts `streamlit run streamlit_app.py` on a free local port (its own
REGDEMO_HOME in a temp folder, so nothing of a teacher's runs leaks in), drives
every page with Playwright and writes PNGs at a projector-friendly size (1600x900), in each
language asked for, at the desk and in presentation mode; the pages are the navigation's, so
a new page is shot without being named here. Then --out/manifest.json records the hash of
measured.json and the commit (tools/screenshot_manifest.py; a test fails when measured.json
changes and the shots do not follow).
The server and the browser come from tools/appserver.py, as in the browser tests.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import re
import signal
import sys
import tempfile
import urllib.parse

from tools import procmem, screenshot_manifest
from tools.appserver import (
    ROOT,
    VIEWPORT,
    charts_fingerprint,
    chromium_missing,
    draw_on_canvas,
    launch_chromium,
    nav_links,
    open_app,
    shown_errors,
    start_server,
    wait_charts_change,
    wait_rendered,
)

# --- the screenshots -----------------------------------------------------------

# The setup every page opens with: the sample's 4,000 digits for 12 epochs,
# about 15 s in the app on 2 quiet cores. Shorter runs (1,000 digits: ~1.5 s)
# end before the mid-run shots and the presentation tab opened mid-run can be taken.
SETUP = {"epochs": "12"}
# Per page (its URL path), the button that starts its demonstration, by widget
# key: keys do not change with the language. Pages not named here are shot as
# they open; History and Compare come last so they list every run trained before.
# A regularizer page's demonstration is its lesson pair (the catalog's two runs, side by side).
ACTIONS = {
    "": "pg_train",
    "dropout": "pair_dropout_try",
    "l1_l2": "pair_l1_try",
    "l2": "pair_l2_try",
    "early_stopping": "pair_early_stopping_try",
    "augmentation": "pair_augmentation_try",
    "batchnorm": "pair_batchnorm_try",
}
LESSON_PAGES = ("dropout", "l1_l2", "l2", "early_stopping", "augmentation", "batchnorm")
# Panels below a finished pair that get a slide of their own (page -> file suffix -> the panel's
# keyed box): what the net memorized (curve and gallery) and the weights over time.
PANELS = {
    "dropout": {"-memorization": ".st-key-pair_dropout_memo"},
    "l1_l2": {"-weights": ".st-key-pair_l1_weights"},
    "l2": {"-weights": ".st-key-pair_l2_weights"},
}
# Draw comes after the lesson pages: its first lesson's pair (dropout) is trained by then,
# and a "7" drawn on its canvas (STROKES) gets both nets' answers before the shot.
LAST = ("draw", "history", "compare", "about")
STROKES = {"draw": draw_on_canvas}
FIRST_CHART_TIMEOUT_MS = 600_000  # a lesson pair's first epoch, on a busy machine
RUN_TIMEOUT_MS = 20 * 60_000  # one page's runs, queued behind each other on a small machine


def page_slug(url: str) -> str:
    return urllib.parse.urlparse(url).path.strip("/")


def with_params(url: str, params: dict[str, str]) -> str:
    parts = urllib.parse.urlparse(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    query.update(params)
    return urllib.parse.urlunparse(parts._replace(query=urllib.parse.urlencode(query)))


def _main(page):
    return page.get_by_test_id("stMain")


def _status_prefix(key: str, lang: str):
    """A regex for a status line's fixed start, e.g. "Training: epoch" (the text before its first {field})."""
    from regdemo.i18n import STRINGS

    text = STRINGS.get(lang, {}).get(key) or STRINGS["en"][key]
    return re.compile(re.escape(text.split("{")[0].strip()))


def expect_training(page, lang: str) -> None:
    """Wait (bounded, best effort) until the page shows a run training."""
    from playwright.sync_api import Error, expect

    try:
        expect(_main(page).get_by_text(_status_prefix("status.running", lang)).first).to_be_visible(timeout=300_000)
    except (AssertionError, Error) as err:
        print(f"  (not seen training: {str(err).splitlines()[0]})", file=sys.stderr)


def wait_mid_run(page, lang: str, started: bool = True) -> None:
    """Charts that have drawn a few points of a run still going. Best effort, each
    wait bounded: a run may finish before it is seen, or a page draw its charts
    only at the end; it is then shot as it is. `started=False` skips waiting
    for the "Training: epoch ..." status (seen already, or a run that may be over)."""
    from playwright.sync_api import Error, expect

    if started:
        expect_training(page, lang)
    training = _main(page).get_by_text(_status_prefix("status.running", lang))
    try:
        expect(_main(page).get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=FIRST_CHART_TIMEOUT_MS)
        if training.count():
            wait_charts_change(page, charts_fingerprint(page), 60_000)
        wait_rendered(page)
    except (AssertionError, Error) as err:
        print(f"  (mid-run: {str(err).splitlines()[0]})", file=sys.stderr)


def live_box(action: str) -> str:
    """The keyed box of the runs a lesson page's Try it (`action`) trains, below the pair's
    measured curves (webapp/lesson_page.py); "" for other pages' actions."""
    return f".st-key-{action.removesuffix('_try')}_live" if action.startswith("pair_") else ""


def live_charts(action: str) -> str:
    """The selector of the charts of the runs a page's `action` trains."""
    return f"{live_box(action)} [data-testid='stVegaLiteChart'] svg".strip()


def wait_live(page, lang: str, action: str) -> None:
    """Best effort, each wait bounded: no run of the page still queued (one page's runs may wait
    behind the last page's), its runs' charts drawn, and one more epoch on them."""
    from playwright.sync_api import Error, expect

    try:
        expect(_main(page).get_by_text(_status_prefix("status.queued", lang))).to_have_count(0, timeout=120_000)
        page.locator(live_charts(action)).first.wait_for(timeout=FIRST_CHART_TIMEOUT_MS)
    except (AssertionError, Error) as err:
        print(f"  (live charts: {str(err).splitlines()[0]})", file=sys.stderr)
    wait_mid_run(page, lang, started=False)


def wait_finished(page, lang: str) -> None:
    """No run on the page is training or queued any more."""
    from playwright.sync_api import expect

    for key in ("status.running", "status.queued"):
        expect(_main(page).get_by_text(_status_prefix(key, lang))).to_have_count(0, timeout=RUN_TIMEOUT_MS)
    wait_rendered(page)


# When `el` sits below the top third of the viewport (a demonstration far down
# the page), scroll the page's scrolling container so it is `top` pixels below
# the top edge and its results fill the slide; near the top, leave the title in view.
_SCROLL_TO_JS = """([el, top, force]) => {
    const y = el.getBoundingClientRect().top;
    if (!force && y >= 0 && y < window.innerHeight / 3) return;
    let box = el.parentElement;
    while (box && !(box.scrollHeight > box.clientHeight && getComputedStyle(box).overflowY !== 'visible')) {
        box = box.parentElement;
    }
    (box || document.scrollingElement).scrollBy(0, y - top);
}"""


def scroll_to(page, selector: str, top: int = 120, force: bool = False) -> None:
    """Scroll `selector` to `top` px below the viewport's top edge (`force`: even when it is
    in the top third already, e.g. a projector's larger type pushing the charts below)."""
    target = page.locator(selector).first
    if target.count():
        page.evaluate(_SCROLL_TO_JS, [target.element_handle(), top, force])


@contextlib.contextmanager
def paused_workers(server_pid: int):
    """SIGSTOP the server's training processes (every descendant; the server itself keeps
    serving), SIGCONT them on exit. A lesson pair trains in ~15 s: shooting it mid-run in two
    languages at the desk and on the projector took longer than that, so the shots found the
    runs over. Paused, the runs hold still at a real epoch while every tab is opened and shot;
    a local pool has no heartbeat to miss (LocalPool.check_stale), and the runs go on after."""
    workers = [pid for pid in procmem.tree(server_pid) if pid != server_pid]
    for pid in workers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    try:
        yield workers
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def shoot(page, path: pathlib.Path) -> None:
    errors = shown_errors(page)
    if errors:
        raise RuntimeError(f"{page.url} shows an exception; not writing {path.name}:\n{errors[0][:2000]}")
    # The pointer off every chart (no hover toolbar) and off the sidebar (no collapse button).
    page.mouse.move(VIEWPORT["width"] - 2, VIEWPORT["height"] - 2)
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    print(f"  {path}")


def take_screenshots(out: pathlib.Path, lang: str = "en", workers: int = 2,
                     pages: tuple[str, ...] | None = None, langs: dict[str, pathlib.Path] | None = None,
                     phase: str = "all", home: str | os.PathLike | None = None) -> list[pathlib.Path]:
    """Drive every page of a fresh app server (or only `pages`, by URL path; "playground"
    for the first) and write its PNGs to `out`.

    `langs` (language -> folder) shoots several languages from one server: a tab per
    language opens each page beside the first, so every language sees the same runs
    training and finished (identical setups share one run), and each page trains once.

    `phase` "running" shoots only mid-run (and leaves the runs to be stopped when nobody
    watches them); "finished" presses nothing and shoots the runs `home`'s store already
    holds (trained beforehand, e.g. with `python -m regdemo train`). On a busy machine the
    two phases let the slow training happen once, in the background."""
    from playwright.sync_api import sync_playwright

    langs = langs or {lang: out}
    for folder in langs.values():
        folder.mkdir(parents=True, exist_ok=True)
    first = next(iter(langs))
    written = []
    with tempfile.TemporaryDirectory(prefix="regdemo-shots-") as temp, \
            start_server(home or temp, workers=workers) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
        context.set_default_timeout(120_000)
        tabs = {code: (context.new_page(), context.new_page()) for code in langs}  # (desk, projector)
        page = tabs[first][0]
        open_app(page, with_params(server.url + "/", dict(SETUP, lang=first)))
        urls = [href for _, href in nav_links(page)] or [server.url + "/"]
        # Nav order, except that the pages showing every run so far come after the runs.
        urls.sort(key=lambda u: LAST.index(page_slug(u)) + 1 if page_slug(u) in LAST else 0)
        if pages:
            urls = [u for u in urls if (page_slug(u) or "playground") in pages]

        def name(slug: str, code: str) -> str:
            return (slug or "playground") + ("" if code == "en" else f"-{code}")

        def opened(code: str, url: str, wait: bool = True) -> list[tuple]:
            """This language's desk and projector tabs, each opened on `url` (a stroke drawn where
            the page wants one): (language, tab, "" or "-presentation"). `wait=False`: only
            navigate, so several tabs load at once (their shots wait for them)."""
            desk, twin = tabs[code]
            for tab, present in ((desk, ""), (twin, "-presentation")):
                target = with_params(url, {"lang": code, **({"present": "1"} if present else {})})
                if not wait and slug not in STROKES:
                    tab.goto(target)
                    continue
                open_app(tab, target)
                if slug in STROKES:
                    STROKES[slug](tab)
                    tab.locator('[data-testid="stVegaLiteChart"] svg').nth(1).wait_for()
                    wait_rendered(tab)
            return [(code, desk, ""), (code, twin, "-presentation")]

        def shoot_opened(shots: list[tuple], suffix: str, started: bool) -> None:
            """Shoot opened tabs once `started` (mid-run) or finished."""
            for code, tab, present in shots:
                if action and started:  # the runs are paused: drawn once rendered
                    wait_rendered(tab)
                    tab.locator(live_charts(action)).first.wait_for()
                    wait_rendered(tab)
                elif action:
                    wait_finished(tab, code)
                if action:
                    # A lesson page's runs trained here sit below the pair's measured curves
                    # (drawn before any run): the shot scrolls to those runs, their status
                    # line at the top, at the desk and on the projector alike. Elsewhere the
                    # page's own button (or, on the projector, its first chart) goes near the top.
                    target = live_box(action) or f".st-key-{action}"
                    if present and not live_box(action) and not tab.locator(target).count():
                        target = '[data-testid="stVegaLiteChart"]'
                    scroll_to(tab, target, top=40 if live_box(action) else 120, force=bool(live_box(action)))
                written.append(langs[code] / f"{name(slug, code)}{suffix}{present}.png")
                if started and not _main(tab).get_by_text(_status_prefix("status.running", code)).count():
                    print(f"  ({written[-1].name}: the run ended before it was shot mid-run)", file=sys.stderr)
                shoot(tab, written[-1])
                for extra, panel in (PANELS.get(slug, {}) if not started else {}).items():
                    scroll_to(tab, panel, top=40, force=True)
                    written.append(langs[code] / f"{name(slug, code)}{extra}{present}.png")
                    shoot(tab, written[-1])

        for url in urls:
            slug = page_slug(url)
            print(f"{name(slug, first)}: {url}")
            open_app(page, with_params(url, dict(SETUP, lang=first)))
            action = ACTIONS.get(slug)
            if action and phase != "finished":
                page.locator(f".st-key-{action} button").click()
                # Once it trains, the sidebar has put the run's setup in the URL: every tab
                # opens that setup and streams the same run.
                expect_training(page, first)
                wait_live(page, first, action)  # a few epochs of this page's runs drawn
                with paused_workers(server.pid):
                    running = [shot for code in langs for shot in opened(code, page.url, wait=False)]
                    shoot_opened(running, "-running", started=True)
            if phase == "running":
                continue
            for code in langs:
                shoot_opened(opened(code, page.url if action else with_params(url, SETUP)), "", started=False)
        browser.close()
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--lang", choices=("en", "zh", "both"), default="en",
                        help="both: English into --out, Chinese into --out/zh, from one server (each page trains once)")
    parser.add_argument("--workers", type=int, default=2, help="training threads of the app server")
    parser.add_argument("--pages", default="", help="only these pages (URL paths, comma-separated; "
                        "'playground' for the first, 'lessons' for the regularizer pages)")
    parser.add_argument("--phase", choices=("all", "running", "finished"), default="all",
                        help="running: mid-run shots only; finished: shoot the runs --home's store holds")
    parser.add_argument("--home", default=None, help="REGDEMO_HOME of the app server (default: a temp folder)")
    args = parser.parse_args(argv)
    pages = tuple(p.strip() for p in args.pages.split(",") if p.strip())
    if "lessons" in pages:
        pages = tuple(p for p in pages if p != "lessons") + LESSON_PAGES
    # Ended with SIGTERM: unwind, so the app server is stopped and the temp home removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    missing = chromium_missing()
    if missing:
        print(f"cannot take screenshots: {missing}", file=sys.stderr)
        return 2
    langs = {"en": args.out, "zh": args.out / "zh"} if args.lang == "both" else None
    written = take_screenshots(args.out, args.lang, args.workers, pages or None, langs, args.phase, args.home)
    print(f"{len(written)} screenshots in {args.out}; {screenshot_manifest.write(args.out, written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
