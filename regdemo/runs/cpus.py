"""How many cores a worker may use: the process's affinity capped by its container's quota,
shared among the workers (each worker's torch threads, set once when it starts)."""

from __future__ import annotations

import math
import os


def available_cpus() -> int:
    """Cores this process may really use: its CPU affinity, capped by a cgroup v2 quota
    (containers such as Streamlit Community Cloud report the host's cores otherwise)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def threads_per_worker(workers: int) -> int:
    """torch threads of each worker: the usable cores split among the workers."""
    return max(1, available_cpus() // max(1, workers))
