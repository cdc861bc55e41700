"""How many cores a worker may use: the process's affinity capped by its container's quota,
shared among the workers (each worker's torch threads, set once when it starts)."""

from __future__ import annotations

import math
import os
import pathlib


def available_cpus() -> int:
    """Cores this process may really use: its CPU affinity, capped by a cgroup quota
    (containers such as Streamlit Community Cloud report the host's cores otherwise)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    if (quota := _cgroup_cpu_quota()) is not None:
        cpus = min(cpus, max(1, math.ceil(quota)))
    return max(1, cpus)


def _cgroup_cpu_quota() -> float | None:
    """Cores this process's cgroup may use per period (None: no quota): cgroup v2's cpu.max,
    else v1's cpu.cfs_quota_us / cpu.cfs_period_us of its group (tools/rehearse_cloud.py)."""
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        group = next(line.split(":", 2)[2].strip() for line in open("/proc/self/cgroup")
                     if "cpu" in line.split(":", 2)[1].split(","))
        folder = pathlib.Path("/sys/fs/cgroup/cpu") / group.lstrip("/")
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        return None if quota <= 0 else quota / int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError, StopIteration, IndexError):
        return None


def threads_per_worker(workers: int) -> int:
    """torch threads of each worker: the usable cores split among the workers."""
    return max(1, available_cpus() // max(1, workers))
