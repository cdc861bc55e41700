"""Server memory while one default run streams to one browser session.

    python -m tools.measure_memory [--limit-mb 690] [--param key=value ...]

Streamlit Community Cloud's smallest apps get about 690 MB of RAM. This starts
the real app (`streamlit run streamlit_app.py`, one trainer thread, a fresh
REGDEMO_HOME), opens the Playground in headless Chromium, presses Train on the
default setup (or the one given by --param, as in a link), and samples the
resident memory of the server process and any children it starts four times a
second until the run is finished. Prints the numbers; exits 1 when the peak
reaches the limit, 2 when Chromium is missing.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import urllib.parse

from regdemo.i18n import translate
from tools.appserver import chromium, chromium_missing, open_app, start_server
from tools.procmem import Sampler, tree, tree_memory

RUN_TIMEOUT_MS = 30 * 60_000


def measure(params: dict[str, str]) -> dict:
    from playwright.sync_api import expect

    with tempfile.TemporaryDirectory(prefix="regdemo-mem-") as home, \
            start_server(home, workers=1) as server, chromium() as browser:
        numbers = {"server_started_mb": tree_memory(server.pid)[0]}
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        query = urllib.parse.urlencode(params)
        open_app(page, f"{server.url}/" + (f"?{query}" if query else ""))
        numbers["page_open_mb"] = tree_memory(server.pid)[0]

        sampler = Sampler({"server": server.pid}, every=0.25)
        sampler.start()
        main = page.get_by_test_id("stMain")
        clicked = time.monotonic()
        page.locator(".st-key-pg_train button").click()
        expect(main.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=RUN_TIMEOUT_MS)
        numbers["first_chart_s"] = time.monotonic() - clicked
        expect(main.get_by_test_id("stProgress")).to_have_count(0, timeout=RUN_TIMEOUT_MS)
        done = main.get_by_text(re.compile("^" + re.escape(translate("status.finished", "en", epochs=0).split("0")[0])))
        expect(done).to_be_visible(timeout=RUN_TIMEOUT_MS)
        numbers["run_s"] = time.monotonic() - clicked
        numbers["status"] = done.first.inner_text()
        time.sleep(2)  # what is left after the run ends
        numbers["peak_mb"] = sampler.stop()["server"][0]
        numbers["end_mb"] = tree_memory(server.pid)[0]
        numbers["samples"] = sampler.samples
        numbers["processes"] = len(tree(server.pid))
    return numbers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=float, default=690.0)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a link parameter of the run, e.g. train_size=1000 (default: the app's default run)")
    args = parser.parse_args(argv)
    missing = chromium_missing()
    if missing:
        print(f"cannot measure: {missing}", file=sys.stderr)
        return 2
    params = dict(p.split("=", 1) for p in args.param)
    n = measure(params)
    print(f"setup: {params or 'the default run'}; {n['status']}")
    print(f"time to first chart: {n['first_chart_s']:.1f} s; whole run: {n['run_s']:.1f} s")
    print(f"server RSS (process + {n['processes'] - 1} children): started {n['server_started_mb']:.0f} MB, "
          f"page open {n['page_open_mb']:.0f} MB, peak while streaming {n['peak_mb']:.0f} MB "
          f"({n['samples']} samples), after the run {n['end_mb']:.0f} MB")
    ok = n["peak_mb"] < args.limit_mb
    print(f"{'OK' if ok else 'TOO MUCH'}: peak {n['peak_mb']:.0f} MB vs limit {args.limit_mb:.0f} MB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
