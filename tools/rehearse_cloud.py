"""Rehearse Streamlit Community Cloud's smallest tier: the app in a cgroup capped at 690 MB and
a quarter of one core, a visitor in headless Chromium outside it.

    sudo python -m tools.rehearse_cloud [--lesson dropout] [--memory 690M] [--cpu 0.25]

As root, with cgroup v1's memory and cpu controllers mounted (/sys/fs/cgroup/memory, .../cpu):
makes one group in each, beside nothing and inside the group this process is already in,
writes memory.limit_in_bytes and cpu.cfs_quota_us / cpu.cfs_period_us, and starts
`streamlit run streamlit_app.py` in it (its worker processes inherit the group). Then, as
tools/drive_lesson.py does for a visitor: every page opened, the lesson page's measured curves
waited for, Try it, both runs waited for. Prints the seconds (server healthy, each page, first
curve, Try it -> Finished), the group's peak memory (memory.max_usage_in_bytes), the PSS of
server and workers, how often the limit was hit (memory.failcnt) and whether the kernel's OOM
killer ended a process (memory.oom_control's oom_kill). Exits 0 when the pair finished with no
process killed, 1 otherwise, 2 when it cannot run here.

A worker killed for memory is a run that ends `failed` with the words of msg.run.worker_died
("... killed by signal SIGKILL; out of memory, or stopped by the system ..."):
tests/unit/test_faults.py kills one mid-run and checks both. `--memory 450M` shows it here.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import sys
import tempfile
import threading
import time

from tools.appserver import chromium, chromium_missing, start_server
from tools.drive_lesson import open_every_page, train_pair
from tools.procmem import SplitSampler

ROOT = pathlib.Path("/sys/fs/cgroup")
PERIOD_US = 100_000
TIMEOUT_MS = 40 * 60_000  # a pair at a quarter core takes minutes


def own_group(controller: str) -> pathlib.Path:
    """This process's cgroup v1 folder for `controller` (the group a new one nests in)."""
    for line in pathlib.Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return ROOT / controller / path.lstrip("/")
    raise RuntimeError(f"no cgroup v1 {controller} controller in /proc/self/cgroup")


def parse_bytes(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)


@contextlib.contextmanager
def cgroups(memory_bytes: int, cpus: float):
    """The memory and cpu groups, made and limited; removed on the way out (once empty)."""
    name = f"regdemo-cloud-{os.getpid()}"
    memory, cpu = own_group("memory") / name, own_group("cpu") / name
    memory.mkdir()
    cpu.mkdir()
    try:
        (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
        if (memory / "memory.memsw.limit_in_bytes").exists():  # no swap to hide in, as on Cloud
            (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (cpu / "cpu.cfs_quota_us").write_text(str(int(cpus * PERIOD_US)))
        yield memory, cpu
    finally:
        for group in (memory, cpu):
            for _ in range(50):  # the server's processes leave the group as they exit
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.2)


def oom_kills(memory: pathlib.Path) -> int:
    for line in (memory / "memory.oom_control").read_text().splitlines():
        if line.startswith("oom_kill "):
            return int(line.split()[1])
    return 0


class GroupSampler(threading.Thread):
    """memory.usage_in_bytes, sampled: the peak, and the peak while the pair trained."""

    def __init__(self, memory: pathlib.Path, every: float = 0.25):
        super().__init__(name="cgroup-sampler", daemon=True)
        self.memory, self.every = memory, every
        self.peak = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, int((self.memory / "memory.usage_in_bytes").read_text()))

    def stop(self) -> int:
        self._halt.set()
        self.join(5)
        return self.peak


def rehearse(lesson: str, memory_bytes: int, cpus: float) -> dict:
    with cgroups(memory_bytes, cpus) as (memory, cpu), \
            tempfile.TemporaryDirectory(prefix="regdemo-cloud-") as home:
        def join() -> None:  # in the server's process, before exec: it and its children are in both groups
            for group in (memory, cpu):
                (group / "cgroup.procs").write_text(str(os.getpid()))

        started = time.monotonic()
        with start_server(home, workers=None, preexec_fn=join, timeout=600) as server:
            numbers = {"healthy_s": round(time.monotonic() - started, 1)}
            group_sampler, pss = GroupSampler(memory), SplitSampler(server.pid)
            group_sampler.start()
            pss.start()
            with chromium() as browser:
                page = browser.new_page(viewport={"width": 1600, "height": 900})
                numbers["pages_s"] = open_every_page(page, server.url, TIMEOUT_MS)
                numbers.update(train_pair(page, server.url, lesson, TIMEOUT_MS))
            numbers["sampled_peak"] = group_sampler.stop()
            pss.stop()
            numbers.update(pss_peak=pss.peak_total, pss_split=pss.split_at_peak, workers=len(pss.workers_seen))
            numbers["max_usage"] = int((memory / "memory.max_usage_in_bytes").read_text())
            numbers["failcnt"] = int((memory / "memory.failcnt").read_text())
            numbers["oom_kill"] = oom_kills(memory)
            numbers["throttled"] = dict(line.split() for line in (cpu / "cpu.stat").read_text().splitlines())
            numbers["server_alive"] = server.process.poll() is None
    return numbers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", default="dropout", help="the lesson pair to train (default dropout)")
    parser.add_argument("--memory", default="690M", help="memory.limit_in_bytes (default 690M)")
    parser.add_argument("--cpu", type=float, default=0.25, help="cores per period (default 0.25: a quarter core)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0 or not (ROOT / "memory").is_dir() or not (ROOT / "cpu").is_dir():
        print("cannot rehearse: needs root and cgroup v1's memory and cpu controllers", file=sys.stderr)
        return 2
    if missing := chromium_missing():
        print(f"cannot rehearse: {missing}", file=sys.stderr)
        return 2
    limit = parse_bytes(args.memory)
    n = rehearse(args.lesson, limit, args.cpu)
    mb = 1 << 20
    print(f"cgroup: memory {limit / mb:.0f} MB, cpu {args.cpu:g} core ({int(args.cpu * PERIOD_US)} of {PERIOD_US} us)")
    print(f"server healthy after {n['healthy_s']:.1f} s; pages: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in n["pages_s"].items()))
    curve = "no curve file" if n["first_curve_s"] is None else f"{n['first_curve_s']:.1f} s after opening it"
    print(f"lesson {args.lesson}: measured curves drawn {curve}; Try it -> both final {n['finished_s']:.1f} s")
    print(f"status: {n['status']!r}")
    print(f"memory: max_usage_in_bytes {n['max_usage'] / mb:.0f} MB (sampled peak {n['sampled_peak'] / mb:.0f} MB); "
          f"PSS peak {n['pss_peak']:.0f} MB (server {n['pss_split'][0]:.0f} + {n['workers']} worker process(es) "
          f"{n['pss_split'][1]:.0f}); failcnt {n['failcnt']}; oom_kill {n['oom_kill']}")
    print(f"cpu.stat: {n['throttled']}")
    ok = n["done"] and not n["failed"] and n["oom_kill"] == 0 and n["server_alive"]
    print("OK: finished, nothing killed" if ok else "NOT OK: see the status and oom_kill above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
