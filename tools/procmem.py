"""Memory and CPU time of a process and its descendants, read from /proc (Linux only).

RSS counts a shared library's pages once in every process that maps it: summed over a server
and its worker processes it is an upper bound. PSS splits shared pages between the processes
sharing them (a forked child shares most of its parent's), so a PSS sum is what the tree costs.
A process that is gone, or a field the kernel does not have, reads as 0.
"""

from __future__ import annotations

import os
import threading


def _kb(pid: int, path: str, name: str) -> int:
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> float:
    """Resident memory of one process, MB."""
    return _kb(pid, "status", "VmRSS") / 1024


def pss_mb(pid: int) -> float:
    """Proportional set size of one process, MB."""
    return _kb(pid, "smaps_rollup", "Pss") / 1024


def tree(pid: int) -> list[int]:
    """pid and all its descendants (a server and its workers; a worker and its forked horse)."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            kids.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(kids.get(current, []))
    return out


def tree_memory(pid: int) -> tuple[float, float]:
    """(RSS sum, PSS sum) in MB of a process and its descendants."""
    pids = tree(pid)
    return sum(rss_mb(p) for p in pids), sum(pss_mb(p) for p in pids)


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its living descendants."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / _TICK


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores, /proc/stat), for comparison."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICK


class Sampler(threading.Thread):
    """Peak RSS and PSS sums of named process trees, sampled every `every` seconds until stop()."""

    def __init__(self, pids: dict[str, int], every: float = 0.5):
        super().__init__(name="memory-sampler", daemon=True)
        self.pids, self.every = pids, every
        self.peak = {name: (0.0, 0.0) for name in pids}  # name -> (RSS, PSS) MB
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every):
            for name, pid in self.pids.items():
                rss, pss = tree_memory(pid)
                self.peak[name] = (max(self.peak[name][0], rss), max(self.peak[name][1], pss))
            self.samples += 1

    def stop(self) -> dict[str, tuple[float, float]]:
        self._halt.set()
        self.join(5)
        return self.peak


class SplitSampler(threading.Thread):
    """Peak PSS of a server and its descendants (the workers), sampled every `every` seconds:
    the peak of the sum, with the split at that moment, and each part's own peak (MB)."""

    def __init__(self, pid: int, every: float = 0.25):
        super().__init__(name="pss-sampler", daemon=True)
        self.pid, self.every = pid, every
        self.peak_total, self.split_at_peak = 0.0, (0.0, 0.0)
        self.peak_server = self.peak_workers = 0.0
        self.workers_seen: set[int] = set()
        self.samples = 0
        self._halt = threading.Event()

    def sample(self) -> tuple[float, float]:
        """(server PSS, its descendants' PSS) now, MB."""
        kids = [p for p in tree(self.pid) if p != self.pid]
        self.workers_seen.update(kids)
        return pss_mb(self.pid), sum(pss_mb(p) for p in kids)

    def run(self) -> None:
        while not self._halt.wait(self.every):
            server, workers = self.sample()
            if server + workers > self.peak_total:
                self.peak_total, self.split_at_peak = server + workers, (server, workers)
            self.peak_server, self.peak_workers = max(self.peak_server, server), max(self.peak_workers, workers)
            self.samples += 1

    def stop(self) -> SplitSampler:
        self._halt.set()
        self.join(5)
        return self
