"""Screenshots of provoked library messages on a Chinese page: docs/screenshots/zh/errors-*.png.

    python -m tools.error_screenshots [bad-link] [diverged] [refused] [bad-database-url]

One app server (one worker, a session may have 1 run, a run unwatched for 20 s is
stopped), Playwright on Debian's chromium. bad-link: garbage URL parameters. diverged:
lr=10 and L1 10. refused: Train, change the seed, Train again past the session's limit;
then the tab closes, and a minute later the same link shows the reaped run.
bad-database-url: a second server whose REGDEMO_DATABASE_URL is not a PostgreSQL URL (with a
password, which must not show).
Look at the pictures: no English sentence may appear in a status, warning or error.
"""

from __future__ import annotations

import pathlib
import sys
import tempfile
import time

from playwright.sync_api import expect, sync_playwright

from regdemo.i18n import STRINGS
from tools import appserver
from tools import screenshots as sh

ZH = STRINGS["zh"]
OUT = pathlib.Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "zh"
GRACE_S = 20  # short, so a closed tab's run is reaped within the script; long enough for a busy machine


def shot(page, name: str) -> None:
    appserver.wait_rendered(page)
    time.sleep(1)
    sh.shoot(page, OUT / f"errors-{name}.png")
    page.close()


def main(only: set[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    home = tempfile.mkdtemp(prefix="regdemo-errshots-")
    server = appserver.start_server(home, workers=1, extra_env={"REGDEMO_SESSION_RUNS": "1",
                                                          "REGDEMO_GRACE_SECONDS": str(GRACE_S)})
    try:
        with sync_playwright() as p:
            browser = appserver.launch_chromium(p)

            def open_zh(params: dict[str, str]):
                page = browser.new_page(viewport=appserver.VIEWPORT)
                appserver.open_app(page, sh.with_params(server.url, {"lang": "zh", **params}))
                return page

            def train(page) -> None:
                page.get_by_role("button", name=ZH["button.train"], exact=True).first.click()

            def shown(page, key: str, timeout_ms: int) -> None:
                text = ZH[key].split("{")[0]
                expect(page.get_by_test_id("stMain").get_by_text(text).first).to_be_visible(timeout=timeout_ms)

            if not only or "bad-link" in only:
                page = open_zh({"lr": "abc", "colour": "red", "dropout": "9", "show": "nothing", "train_size": "99999"})
                shot(page, "bad-link")
            if not only or "diverged" in only:
                page = open_zh({"lr": "10", "l1": "10", "train_size": "200", "epochs": "2"})
                train(page)
                shown(page, "status.diverged", 180_000)
                shot(page, "diverged")
            if not only or "refused" in only:
                long_run = {"epochs": "60", "train_size": "4000"}
                page = open_zh(long_run)
                train(page)
                sh.expect_training(page, "zh")
                seed = page.get_by_label(ZH["sidebar.seed"])
                seed.fill("5")
                seed.press("Enter")
                appserver.wait_rendered(page)
                train(page)  # a second run: past the session's limit of one
                expect(page.get_by_test_id("stAlertContentError").first).to_be_visible(timeout=60_000)
                shot(page, "refused")  # closes the tab: nobody watches the first run any more
                time.sleep(2.5 * GRACE_S)
                page = open_zh(long_run)
                shown(page, "status.stopped_reason", 60_000)
                shot(page, "reaped")
            browser.close()
    finally:
        server.stop()
    if not only or "bad-database-url" in only:
        bad_url(home)


def bad_url(home: str) -> None:
    """What an operator's typo shows a Chinese page: one message, in Chinese, no password."""
    env = {"REGDEMO_DATABASE_URL": "mysql://teacher:s3cret@db.example.org/regdemo"}
    with appserver.start_server(home, workers=1, extra_env=env) as server, appserver.chromium() as browser:
        page = browser.new_page(viewport=appserver.VIEWPORT)
        appserver.open_app(page, sh.with_params(server.url, {"lang": "zh"}))
        expect(page.get_by_test_id("stAlertContentError").first).to_be_visible(timeout=60_000)
        shot(page, "bad-database-url")


if __name__ == "__main__":
    main(set(sys.argv[1:]))
