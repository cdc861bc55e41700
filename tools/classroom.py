"""A class of browser sessions on the app: what both load tests share (tools/loadtest.py on one
server, tools/loadtest_cluster.py on several). Session i opens the link of config i mod configs,
everyone clicks Train, and every page is watched until it shows its run finished; judge() turns
the measurements into the pass conditions both tests print.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from dataclasses import dataclass, field

from tools.appserver import wait_rendered
from tools.procmem import machine_cpu_seconds, tree_cpu_seconds

STATUS = re.compile(r"^(Queued: position \d+|Training: epoch \d+ of \d+|Finished: \d+ epochs?)")
POLL_SECONDS = 1.0


@dataclass
class Result:
    sessions: int
    configs: int
    epochs: int
    train_size: int
    workers: int
    cpus: int
    exceptions: int = 0
    server_tracebacks: int = 0
    sessions_started: int = 0  # saw queued / training / finished right after Train
    sessions_finished: int = 0
    stored_runs: int = 0
    stored_finished: int = 0
    max_queue_position: int = 0
    open_seconds: float = 0.0  # all sessions opened and rendered
    # CPU seconds while the sessions opened: the server and its workers, and the whole machine
    # (the rest is the 30 Chromium tabs, which a class runs on its own laptops).
    open_server_cpu_s: float = 0.0
    open_machine_cpu_s: float = 0.0
    drain_seconds: float = 0.0  # first Train click -> every page finished
    run_seconds_mean: float = 0.0  # one run's wall time, start to finish (from the store)
    run_seconds_max: float = 0.0
    revisit_seconds: float = 0.0  # fresh session on a trained link -> "Finished" shown
    rss_start_mb: float = 0.0  # server after start-up, before any session
    rss_peak_mb: float = 0.0
    rss_end_mb: float = 0.0
    max_rss_mb: float = 0.0  # the pass limit
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def markdown(self) -> str:
        return "\n".join([
            "| measure | value |",
            "|---|---|",
            f"| browser sessions / distinct configs | {self.sessions} / {self.configs} |",
            f"| run size | {self.train_size} digits x {self.epochs} epochs, {self.workers} worker process(es), "
            f"{self.cpus} CPU(s) |",
            f"| exceptions shown in pages / tracebacks in the server log | {self.exceptions} / "
            f"{self.server_tracebacks} |",
            f"| sessions whose run was queued or started / finished | {self.sessions_started} / "
            f"{self.sessions_finished} of {self.sessions} |",
            f"| runs trained and stored | {self.stored_finished} finished of {self.stored_runs} stored |",
            f"| deepest queue position shown | {self.max_queue_position} |",
            f"| all sessions open | {self.open_seconds:.1f} s |",
            f"| CPU while they opened: server + workers / whole machine | {self.open_server_cpu_s:.1f} / "
            f"{self.open_machine_cpu_s:.1f} s |",
            f"| queue drained (first Train click to every page finished) | {self.drain_seconds:.1f} s |",
            f"| one run, start to finish: mean / max | {self.run_seconds_mean:.1f} / {self.run_seconds_max:.1f} s |",
            f"| fresh session on a trained link shows the result | {self.revisit_seconds:.1f} s |",
            f"| server + workers memory (VmRSS sum): start / peak / end | {self.rss_start_mb:.0f} / "
            f"{self.rss_peak_mb:.0f} / {self.rss_end_mb:.0f} MB |",
        ])


def config_params(i: int, epochs: int, train_size: int) -> dict[str, str]:
    """The i-th distinct config: five dropout rates x seeds."""
    return {"dropout": f"{0.1 * (i % 5):g}", "seed": str(i // 5), "epochs": str(epochs),
            "train_size": str(train_size)}


def status_of(page) -> str:
    """The run's status line on the page ("" while none is drawn)."""
    boxes = page.locator('[data-testid="stAlert"], [data-testid="stProgress"]')
    for i in range(boxes.count()):
        text = boxes.nth(i).inner_text().strip()
        match = STATUS.match(text)
        if match:
            return match.group(1)
    return ""


def count_exceptions(page) -> int:
    return page.get_by_test_id("stException").count()


def drive(browser, url, result: Result, deadline: float, log, server_pid: int | None = None) -> None:
    """`url`: one server's, or a list (a cluster's servers): session i opens server
    (i // configs) mod n, so each config's sessions are spread over the servers."""
    urls = list(url) if isinstance(url, (list, tuple)) else [url]
    pages = []
    opened = time.monotonic()
    server_cpu, machine_cpu = (tree_cpu_seconds(server_pid) if server_pid else 0.0), machine_cpu_seconds()
    for i in range(result.sessions):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(60_000)
        page = context.new_page()
        query = urllib.parse.urlencode(config_params(i % result.configs, result.epochs, result.train_size))
        page.goto(f"{urls[(i // result.configs) % len(urls)]}/?{query}")
        pages.append(page)
    for page in pages:
        wait_rendered(page, timeout_ms=120_000)
    result.open_seconds = time.monotonic() - opened
    if server_pid:
        result.open_server_cpu_s = tree_cpu_seconds(server_pid) - server_cpu
    result.open_machine_cpu_s = machine_cpu_seconds() - machine_cpu
    log(f"{len(pages)} sessions open in {result.open_seconds:.1f} s (CPU: server + workers "
        f"{result.open_server_cpu_s:.1f} s, machine {result.open_machine_cpu_s:.1f} s)")

    clicked = time.monotonic()
    for page in pages:
        page.get_by_role("button", name="Train", exact=True).click()
    started = [False] * len(pages)
    finished = [False] * len(pages)
    # Poll every page until all show their run finished: bounded by the deadline and a count.
    for _ in range(int((deadline - time.monotonic()) / POLL_SECONDS) + 1):
        for i, page in enumerate(pages):
            if finished[i]:
                continue
            result.exceptions += count_exceptions(page)
            status = status_of(page)
            if status:
                started[i] = True
            if status.startswith("Queued"):
                position = int(status.split()[2])
                result.max_queue_position = max(result.max_queue_position, position)
            if status.startswith("Finished"):
                finished[i] = True
        if all(finished) or time.monotonic() > deadline:
            break
        time.sleep(POLL_SECONDS)
    result.drain_seconds = time.monotonic() - clicked
    result.sessions_started = sum(started)
    result.sessions_finished = sum(finished)
    log(f"{sum(finished)} of {len(pages)} sessions finished after {result.drain_seconds:.1f} s")
    for page in pages:  # a last look: exceptions drawn after the finish
        result.exceptions += count_exceptions(page)
        page.context.close()

    # A latecomer on a link someone trained: the result at once, no training.
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    query = urllib.parse.urlencode(config_params(0, result.epochs, result.train_size))
    began = time.monotonic()
    page.goto(f"{urls[-1]}/?{query}")
    wait_rendered(page, timeout_ms=60_000)
    for _ in range(120):
        if status_of(page).startswith("Finished") or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    result.revisit_seconds = time.monotonic() - began
    if not status_of(page).startswith("Finished"):
        result.problems.append("a fresh session on a trained link did not show the finished run")
    result.exceptions += count_exceptions(page)
    context.close()


def judge(result: Result) -> None:
    """The pass conditions: each one that failed becomes a line in result.problems."""
    if result.exceptions:
        result.problems.append(f"{result.exceptions} exception box(es) shown in pages")
    if result.server_tracebacks:
        result.problems.append(f"{result.server_tracebacks} traceback(s) in the server log")
    if result.sessions_started < result.sessions:
        result.problems.append(f"only {result.sessions_started} of {result.sessions} sessions saw their run start")
    if result.sessions_finished < result.sessions:
        result.problems.append(f"only {result.sessions_finished} of {result.sessions} sessions saw their run finish")
    if result.stored_finished != result.configs:
        result.problems.append(f"{result.stored_finished} finished runs stored, expected {result.configs} "
                               "(one per distinct config)")
    if result.rss_peak_mb > result.max_rss_mb:
        result.problems.append(f"server memory peaked at {result.rss_peak_mb:.0f} MB > {result.max_rss_mb:.0f} MB")
