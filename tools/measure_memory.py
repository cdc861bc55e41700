"""Server memory while one default run streams to one browser session, or (--pair) the whole
app's PSS while a lesson pair trains.

    python -m tools.measure_memory [--limit-mb 690] [--param key=value ...]
    python -m tools.measure_memory --pair dropout [--limit-mb 600] [--workers N]

--pair (issue 18): the app started as a user starts it (`streamlit run streamlit_app.py`, its
worker processes as the registry starts them: REGDEMO_WORKERS unset unless --workers), every
page opened, then the lesson page: Try it, both runs waited for (tools/drive_lesson.py). The
PSS of the server and of its workers (/proc/PID/smaps_rollup, tools/procmem.SplitSampler) is
sampled four times a second from the first page on; the peak of the sum is compared with the
limit (PSS, not RSS: the workers share libtorch's pages with each other).

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
import contextlib
import re
import sys
import tempfile
import time
import urllib.parse

from regdemo.i18n import translate
from tools.appserver import chromium, chromium_missing, open_app, start_server
from tools.drive_lesson import open_every_page, train_pair
from tools.procmem import Sampler, SplitSampler, tree, tree_memory

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


def measure_pair(name: str, workers: int | None, server=None, timeout_ms: float = RUN_TIMEOUT_MS) -> dict:
    """The --pair measurement; `server`: an AppServer already started (tools/rehearse_cloud.py),
    else one is started here on a fresh REGDEMO_HOME."""
    with contextlib.ExitStack() as stack:
        if server is None:
            home = stack.enter_context(tempfile.TemporaryDirectory(prefix="regdemo-mem-"))
            server = stack.enter_context(start_server(home, workers=workers))
        browser = stack.enter_context(chromium())
        sampler = SplitSampler(server.pid)
        sampler.start()
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        pages_s = open_every_page(page, server.url, timeout_ms)
        numbers = train_pair(page, server.url, name, timeout_ms)
        sampler.stop()
        server_now, workers_now = sampler.sample()
        numbers.update(pages_s=pages_s, peak_total=sampler.peak_total, split_at_peak=sampler.split_at_peak,
                       peak_server=sampler.peak_server, peak_workers=sampler.peak_workers, samples=sampler.samples,
                       worker_processes=len(sampler.workers_seen), end=(server_now, workers_now))
    return numbers


def report_pair(name: str, n: dict, limit_mb: float) -> bool:
    print(f"lesson pair {name}: {n['status']!r}")
    print(f"pages opened ({len(n['pages_s'])}): " + ", ".join(f"{k} {v:.1f} s" for k, v in n["pages_s"].items()))
    curve = "no curve file" if n["first_curve_s"] is None else f"{n['first_curve_s']:.1f} s after opening the page"
    print(f"measured curves drawn: {curve}; Try it -> both final {n['finished_s']:.1f} s")
    server, workers = n["split_at_peak"]
    print(f"PSS peak of server + workers: {n['peak_total']:.0f} MB (server {server:.0f} MB + "
          f"{n['worker_processes']} worker process(es) {workers:.0f} MB at that moment; own peaks "
          f"{n['peak_server']:.0f} / {n['peak_workers']:.0f} MB; {n['samples']} samples); "
          f"after the pair {n['end'][0] + n['end'][1]:.0f} MB")
    ok = n["peak_total"] <= limit_mb and n["done"] and not n["failed"]
    print(f"{'OK' if ok else 'TOO MUCH / NOT FINISHED'}: peak {n['peak_total']:.0f} MB PSS vs limit {limit_mb:.0f} MB")
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mb", type=float, default=690.0)
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="a link parameter of the run, e.g. train_size=1000 (default: the app's default run)")
    parser.add_argument("--pair", metavar="LESSON", help="measure the app's PSS while this lesson's pair trains")
    parser.add_argument("--workers", type=int, help="with --pair: REGDEMO_WORKERS (default: the app's own choice)")
    args = parser.parse_args(argv)
    missing = chromium_missing()
    if missing:
        print(f"cannot measure: {missing}", file=sys.stderr)
        return 2
    if args.pair:
        return 0 if report_pair(args.pair, measure_pair(args.pair, args.workers), args.limit_mb) else 1
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
