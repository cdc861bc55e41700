"""Runs in worker processes, measured in the real app against the engine alone.

    python -m tools.measure_workers                 # everything below, ~10 min on 2 cores
    python -m tools.measure_workers --sequential 5 --memory-runs 0 --sessions 0   # one part
    python -m tools.measure_workers --json out.json # the numbers as JSON too

The server (and the worker processes it starts) is pinned to --server-cpu, this
script with its Chromium to --browser-cpu (as `taskset` would), so the browser's
rendering does not count against the server; the engine-alone reference runs in a
fresh process on the server's core with torch threads as a worker there gets.
Parts (engine and app alternate, one config at a time):

  route       the store route alone, no browser: first event of a run read back by a
              Registry (worker processes) after get_or_start; cost of append_events
              per batch and of one reader pass (events_since + live)
  sequential  N default runs one after another in one Chromium tab (a new seed each:
              the same config would come from the store): fit() alone on the server's
              core, then click Train -> first point drawn -> "Finished"; the target is
              (click -> Finished) - 1.5 s <= 1.3 x fit alone for EVERY run
  memory      the sequential runs continue to --memory-runs in all: resident memory of
              the server plus its workers (RSS sum, and PSS sum that counts shared
              library pages once) peak while each run streams and after each run
  sessions    M Chromium sessions at once, each a distinct default run: drain (first
              click -> every page "Finished") against the sum of fit() alone; the
              target is <= 1.25x; server CPU per watching session per minute while
              they train, and idle afterwards (pages open, nothing training)

Timing numbers from a busy machine mean little: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time

from tools.appserver import ROOT, chromium, chromium_missing, start_server, wait_rendered
from tools.classroom import status_of
from tools.procmem import Sampler, rss_mb, tree, tree_memory

RUN_TIMEOUT_MS = 10 * 60_000
PAGE_TIMEOUT_MS = 180_000  # opening a page on a busy machine
CLICK_SLACK = 1.5  # seconds of browser round trips the targets allow
FIRST_POINT_JS = """() => !!document.querySelector('[data-testid="stVegaLiteChart"] g.mark-line path, \
[data-testid="stVegaLiteChart"] g.mark-symbol path, [data-testid="stVegaLiteChart"] canvas')"""

ENGINE_ALONE = r"""
import json, sys, time
import torch
from regdemo.training import engine
from regdemo.training.config import RunConfig
from regdemo.training.data import load_dataset
torch.set_num_threads(int(sys.argv[2]))
engine.warm_up()
config = RunConfig.from_dict(json.loads(sys.argv[1]))
load_dataset(config.dataset)  # a worker has its data loaded after its first run
began = time.perf_counter()
for event in engine.fit(config):
    pass
print(json.dumps({"seconds": time.perf_counter() - began, "status": event.status}))
"""


# -- processes ---------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (not its children)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the engine alone --------------------------------------------------------------------------

def engine_alone(config, cpu: int) -> float:
    """fit() seconds of `config` in a fresh process pinned to `cpu` (data loaded before)."""
    out = subprocess.run([sys.executable, "-c", ENGINE_ALONE, json.dumps(config.to_dict()), "1"], cwd=ROOT,
                         capture_output=True, text=True, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"),
                         preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


# -- parts ---------------------------------------------------------------------------------------

def measure_route(cpu: int) -> dict:
    """First event through the store, and what a write batch and a read pass cost."""
    from regdemo.runs.registry import Registry
    from regdemo.storage.sqlite import RunStore
    from regdemo.training.config import RunConfig
    from regdemo.training.events import MaskSnapshot, Progress

    os.sched_setaffinity(0, {cpu})
    try:
        with tempfile.TemporaryDirectory(prefix="regdemo-route-") as home:
            registry = Registry(workers=1, store=RunStore(pathlib.Path(home) / "runs.sqlite3"))
            try:
                time.sleep(8)  # the worker process imports torch before anyone presses Train
                firsts = []
                for seed in range(3):
                    began = time.monotonic()
                    run = registry.get_or_start(RunConfig(seed=900 + seed, epochs=1))
                    while not run.view().progress:
                        time.sleep(0.005)
                    firsts.append(time.monotonic() - began)
                    run.wait(300)
            finally:
                registry.shutdown()
            store = RunStore(pathlib.Path(home) / "live.sqlite3")
            config = RunConfig(model="article", dropout=0.25)
            store.create_live(config.key(), config, None)
            mask = MaskSnapshot(step=1, epoch=0.1, layer="conv3", p=0.25, shape=(20, 22, 22),
                                activation=tuple(0.123456 for _ in range(20 * 22 * 22)),
                                kept=tuple(True for _ in range(20 * 22 * 22)))
            batches = {"progress": [Progress(step=1, epoch=0.1, train_loss=1.234567, train_acc=0.5)],
                       "progress + 2 article masks": [Progress(step=1, epoch=0.1, train_loss=1.2, train_acc=0.5),
                                                      mask, mask]}
            costs = {}
            for name, batch in batches.items():
                began = time.perf_counter()
                for _ in range(50):
                    store.append_events(config.key(), batch)
                costs[name] = (time.perf_counter() - began) / 50 * 1000
            seq = len(store.events_since(config.key(), 0))
            began = time.perf_counter()
            for _ in range(200):
                store.live(config.key())
                store.events_since(config.key(), seq)
            read_ms = (time.perf_counter() - began) / 200 * 1000
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    return {"first_event_s": firsts, "write_batch_ms": costs, "reader_pass_ms": read_ms}


def run_in_app(page, url: str, query: str, shots: str | None = None) -> dict:
    from playwright.sync_api import expect

    page.goto(f"{url}/?{query}")
    wait_rendered(page)
    main = page.get_by_test_id("stMain")
    clicked = time.monotonic()
    page.locator(".st-key-pg_train button").click()
    page.wait_for_function(FIRST_POINT_JS, timeout=RUN_TIMEOUT_MS, polling=50)
    first = time.monotonic() - clicked
    if shots:
        page.screenshot(path=f"{shots}-first-point.png")
    done = main.get_by_text(re.compile(r"^Finished: \d+ epochs?"))
    expect(done.first).to_be_visible(timeout=RUN_TIMEOUT_MS)
    finished = time.monotonic() - clicked
    if shots:
        page.screenshot(path=f"{shots}-finished.png")
    return {"first_point_s": first, "finished_s": finished}


def wait_worker_ready(pid: int, timeout: float = 120.0) -> None:
    """Until the server's worker process has imported torch and loaded the digits (its
    memory stops growing): a student reads the page for that long before pressing Train."""
    deadline, last = time.monotonic() + timeout, -1.0
    while time.monotonic() < deadline:
        kids = tree(pid)[1:]
        now = sum(rss_mb(k) for k in kids)
        if kids and now > 100 and abs(now - last) < 1:
            return
        last = now
        time.sleep(1)


def measure_sequential(browser, server, runs: int, timed: int, cpu: int, log, shots: str | None = None) -> dict:
    from regdemo.training.config import RunConfig

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    page.goto(server.url)  # the first page load creates the registry, which starts the worker
    wait_rendered(page)
    wait_worker_ready(server.pid)
    rows = []
    for i in range(runs):
        seed = 100 + i
        alone = engine_alone(RunConfig(seed=seed), cpu) if i < timed else None
        sampler = Sampler({"server": server.pid}, every=0.25)
        sampler.start()
        app = run_in_app(page, server.url, f"seed={seed}", shots=shots if i == 0 else None)
        peak_rss, peak_pss = sampler.stop()["server"]
        time.sleep(1)
        rss, pss = tree_memory(server.pid)
        row = {"seed": seed, "fit_alone_s": alone, **app, "peak_rss_mb": peak_rss, "peak_pss_mb": peak_pss,
               "after_rss_mb": rss, "after_pss_mb": pss, "processes": len(tree(server.pid))}
        if alone:
            row["ratio"] = (app["finished_s"] - CLICK_SLACK) / alone
        rows.append(row)
        log(f"run {i + 1}/{runs}: " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                                               for k, v in row.items()))
    page.close()
    return {"runs": rows}


def measure_sessions(browser, server, sessions: int, cpu: int, log) -> dict:
    from playwright.sync_api import expect

    from regdemo.training.config import RunConfig

    seeds = [200 + i for i in range(sessions)]
    alone = [engine_alone(RunConfig(seed=s), cpu) for s in seeds]
    log(f"{sessions} configs alone: {', '.join(f'{a:.2f}' for a in alone)} s")
    pages = []
    for seed in seeds:
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(f"{server.url}/?seed={seed}")
        pages.append(page)
    for page in pages:
        wait_rendered(page)
    cpu_before = cpu_seconds(server.pid)
    clicked = time.monotonic()
    for page in pages:
        page.locator(".st-key-pg_train button").click()
    done_at = [None] * len(pages)
    deadline = clicked + RUN_TIMEOUT_MS / 1000
    while None in done_at and time.monotonic() < deadline:
        for i, page in enumerate(pages):
            if done_at[i] is None and status_of(page).startswith("Finished"):
                done_at[i] = time.monotonic() - clicked
        time.sleep(0.25)
    drain = time.monotonic() - clicked
    training_cpu = cpu_seconds(server.pid) - cpu_before
    for page in pages:  # every page drawn in its final state
        expect(page.get_by_text(re.compile(r"^Finished: \d+ epochs?")).first).to_be_visible(timeout=60_000)
    time.sleep(3)
    before, began = cpu_seconds(server.pid), time.monotonic()
    time.sleep(30)
    idle_cpu, idle_minutes = cpu_seconds(server.pid) - before, (time.monotonic() - began) / 60
    for page in pages:
        page.context.close()
    return {
        "sessions": sessions, "fit_alone_s": alone, "fit_alone_sum_s": sum(alone), "drain_s": drain,
        "drain_ratio": drain / sum(alone), "finished_s": done_at,
        "server_cpu_s_per_session_minute_training": training_cpu / sessions / (drain / 60),
        "server_cpu_s_per_session_minute_idle": idle_cpu / sessions / idle_minutes,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-cpu", type=int, default=0)
    parser.add_argument("--browser-cpu", type=int, default=1)
    parser.add_argument("--sequential", type=int, default=5, help="default runs timed against fit() alone")
    parser.add_argument("--memory-runs", type=int, default=20, help="sequential runs in all (memory flatness)")
    parser.add_argument("--sessions", type=int, default=6, help="sessions at once (0: skip)")
    parser.add_argument("--no-route", action="store_true", help="skip the store-route part")
    parser.add_argument("--json", metavar="PATH", help="also write the numbers here")
    parser.add_argument("--shots", metavar="PREFIX", help="screenshots of the first run: PREFIX-first-point.png, ...")
    args = parser.parse_args(argv)
    missing = chromium_missing()
    if missing:
        print(f"cannot measure: {missing}", file=sys.stderr)
        return 2

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    result: dict = {"server_cpu": args.server_cpu, "browser_cpu": args.browser_cpu,
                    "load_average_at_start": os.getloadavg()}
    if not args.no_route:
        result["route"] = measure_route(args.server_cpu)
        log(f"route: {result['route']}")
    os.sched_setaffinity(0, {args.browser_cpu})  # this script, Playwright's driver and Chromium
    runs = max(args.sequential, args.memory_runs)
    with tempfile.TemporaryDirectory(prefix="regdemo-workers-") as home, \
            start_server(home, workers=1, cpus={args.server_cpu}) as server, chromium() as browser:
        result["server_started_rss_mb"], result["server_started_pss_mb"] = tree_memory(server.pid)
        result["server_alone_rss_mb"] = rss_mb(server.pid)
        if runs:
            result["sequential"] = measure_sequential(browser, server, runs, args.sequential, args.server_cpu, log,
                                                      args.shots)
        if args.sessions:
            result["sessions"] = measure_sessions(browser, server, args.sessions, args.server_cpu, log)
        result["server_log_tracebacks"] = server.log().count("Traceback")
    result["load_average_at_end"] = os.getloadavg()
    print(summary(result))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


def summary(result: dict) -> str:
    lines = [f"load average at start / end: {result['load_average_at_start'][0]:.1f} / "
             f"{result['load_average_at_end'][0]:.1f} (busy machine: timings are preliminary)"]
    if "route" in result:
        r = result["route"]
        lines.append("store route: first event read back " + ", ".join(f"{s:.2f}" for s in r["first_event_s"])
                     + " s after get_or_start; write batch " + ", ".join(
                         f"{k} {v:.2f} ms" for k, v in r["write_batch_ms"].items())
                     + f"; reader pass {r['reader_pass_ms']:.2f} ms per run")
    seq = result.get("sequential", {}).get("runs", [])
    timed = [r for r in seq if r.get("fit_alone_s")]
    if timed:
        lines.append("| run | fit alone s | click->first point s | click->Finished s | (Finished-1.5)/alone |")
        lines.append("|---|---|---|---|---|")
        for i, r in enumerate(timed, 1):
            lines.append(f"| {i} | {r['fit_alone_s']:.2f} | {r['first_point_s']:.2f} | {r['finished_s']:.2f} | "
                         f"{r['ratio']:.2f} |")
        worst = max(r["ratio"] for r in timed)
        lines.append(f"worst ratio {worst:.2f} (target <= 1.3 for every run): {'OK' if worst <= 1.3 else 'MISSED'}")
    if seq:
        peaks = [r["peak_rss_mb"] for r in seq]
        after = [r["after_pss_mb"] for r in seq]
        lines.append(f"memory over {len(seq)} runs: peak RSS sum {max(peaks):.0f} MB (first run {peaks[0]:.0f}, "
                     f"last {peaks[-1]:.0f}); peak PSS sum {max(r['peak_pss_mb'] for r in seq):.0f} MB; PSS after "
                     f"each run {after[0]:.0f} -> {after[-1]:.0f} MB (median {statistics.median(after):.0f}); "
                     f"server alone at start {result['server_alone_rss_mb']:.0f} MB")
    if "sessions" in result:
        s = result["sessions"]
        lines.append(f"{s['sessions']} sessions at once: drain {s['drain_s']:.1f} s vs {s['fit_alone_sum_s']:.1f} s "
                     f"of fit alone = {s['drain_ratio']:.2f}x (target <= 1.25); server CPU per watching session "
                     f"per minute: {s['server_cpu_s_per_session_minute_training']:.2f} s training, "
                     f"{s['server_cpu_s_per_session_minute_idle']:.3f} s idle")
    lines.append(f"tracebacks in the server log: {result.get('server_log_tracebacks')}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
