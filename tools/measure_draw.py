"""How fast the Draw page's question is answered: Registry.predict through the app's local pool,
or with --cluster through Redis to the answering process beside a cluster's worker (runs/answers.py).

    python -m tools.measure_draw [--asks 50] [--workers 1] [--cluster]

A fresh Registry (REGDEMO_HOME in a temp folder, real worker processes) trains two small runs,
then asks about one prepared digit for both of them:
  - startup: from the Registry's creation to the first answer (the worker importing torch);
  - idle: `--asks` questions while the worker trains nothing;
  - training: `--asks` questions while the worker trains a long run (the lessons' common
    noisy setup), the worst case DESIGN.md asks for: the question must not wait for the run.
Prints milliseconds (median, 95th percentile, max) per phase, and --json for a record.

Measured 2026-12-05 22:05 UTC, `--asks 30`, 2-core AMD EPYC, torch 2.13.0+cpu, one worker:
  startup 1270 ms (a cold worker importing torch); first load of both nets 18.4 ms;
  idle: median 4.6 ms, p95 5.4, max 6.2; training: median 8.7 ms, p95 14.0, max 14.4.
`--asks 30 --cluster` (2026-12-05 23:14 UTC, the same machine, redis-server 7 and PostgreSQL 15
started by the script, one `regdemo worker`): idle median 3.7 ms, p95 13.1, max 39.3; while the
worker trains: median 5.6 ms, p95 46.2, max 123.2; first load of both nets from PostgreSQL
47.2 ms; the answering process RSS 257 MB, PSS 201 MB (torch and the two nets).
In Chromium, tests/browser/test_draw_page.py prints click-to-both-charts-redrawn: 161 ms (en),
196 ms (zh), the worker's share 18-20 ms; the rest is Streamlit's rerun and the browser drawing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import signal
import statistics
import tempfile
import time

import numpy as np


def _seven() -> np.ndarray:
    ink = np.zeros((280, 280), dtype=np.float32)
    ink[50:75, 60:220] = 1.0
    for row in range(75, 240):
        col = 220 - (row - 75) * 90 // 165
        ink[row, col - 11:col + 11] = 1.0
    return ink


def _times(reg, keys, digit, asks: int, pause: float = 0.05) -> list[float]:
    out = []
    for _ in range(asks):
        started = time.perf_counter()
        answers = reg.predict(keys, digit)
        out.append(1000 * (time.perf_counter() - started))
        assert all("probs" in a for a in answers.values()), answers
        time.sleep(pause)
    return out


def _summary(ms: list[float]) -> dict:
    ordered = sorted(ms)
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 1),
            "p95_ms": round(ordered[max(0, int(0.95 * len(ms)) - 1)], 1), "max_ms": round(max(ms), 1)}


def _local_registry(workers: int):
    from regdemo.runs.registry import Registry
    from regdemo.storage.sqlite import RunStore

    return Registry(workers=workers, store=RunStore()), [], []


def _cluster_registry(workers: int):
    """Throwaway redis-server and PostgreSQL (tools/services.py), `workers` real `python -m
    regdemo worker` processes (each with its answering process, runs/answers.py), and the
    registry an app server of that cluster makes."""
    import subprocess
    import sys

    from regdemo.runs import cluster
    from tools.services import PostgresServer, RedisServer

    services = [RedisServer(), PostgresServer()]
    os.environ["REGDEMO_BROKER_URL"], os.environ["REGDEMO_DATABASE_URL"] = services[0].url, services[1].url
    logs = pathlib.Path(os.environ["REGDEMO_HOME"])
    procs = [subprocess.Popen([sys.executable, "-m", "regdemo", "worker", "--concurrency", "1"],
                              stdout=open(logs / f"worker{i}.log", "w"), stderr=subprocess.STDOUT)
             for i in range(workers)]
    for i in range(workers):
        while "waiting for runs" not in (logs / f"worker{i}.log").read_text():
            time.sleep(0.1)
    return cluster.registry_from_environment(), procs, services


def measure(asks: int = 50, workers: int = 1, on_cluster: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="regdemo-draw-") as home:
        os.environ["REGDEMO_HOME"] = home
        from regdemo.teaching.lessons.catalog import NOISY
        from regdemo.training.config import RunConfig
        from regdemo.training.drawing import mnist_digit
        from tools import procmem

        digit = mnist_digit(_seven())
        created = time.perf_counter()
        reg, worker_procs, services = (_cluster_registry if on_cluster else _local_registry)(workers)
        try:
            pair = [RunConfig(train_size=500, epochs=2), RunConfig(train_size=500, epochs=2, dropout=0.5)]
            runs = [reg.get_or_start(config) for config in pair]
            keys = [run.key for run in runs]
            first = reg.predict(keys, digit)  # answered while the pair trains: no weights yet
            startup_ms = 1000 * (time.perf_counter() - created)
            for run in runs:
                run.wait(600)
            result = {"cpus": os.cpu_count(), "workers": workers, "startup_ms": round(startup_ms),
                      "first_answer": sorted({a.get("error", "probs") for a in first.values()})}
            cold = time.perf_counter()
            reg.predict(keys, digit)  # loads both nets from the store
            result["first_load_ms"] = round(1000 * (time.perf_counter() - cold), 1)
            result["idle"] = _summary(_times(reg, keys, digit, asks))
            long = reg.get_or_start(NOISY.replace(seed=7))
            while not long.view().progress:
                time.sleep(0.05)
            result["training"] = _summary(_times(reg, keys, digit, asks))
            result["training_run_still_going"] = not long.finished
            answerers = [pid for proc in worker_procs for pid in procmem.tree(proc.pid)
                         if "regdemo.runs.answers" in pathlib.Path(f"/proc/{pid}/cmdline").read_text()]
            if answerers:  # RSS / PSS of the answering processes, after both nets were loaded
                result["answerer_mb"] = [(round(procmem.rss_mb(p)), round(procmem.pss_mb(p))) for p in answerers]
            reg.stop(long.key)
        finally:
            reg.shutdown()
            for proc in worker_procs:  # a worker process: its horse and answerer go with it
                for pid in procmem.tree(proc.pid)[::-1]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                proc.wait(10)
            for service in services:
                service.stop()
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.measure_draw", description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cluster", action="store_true", help="ask through Redis, as an app server of a cluster "
                        "does (starts its own redis-server, PostgreSQL and `regdemo worker` processes)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.asks, args.workers, args.cluster)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['cpus']} CPUs, {result['workers']} worker(s); first answer {result['startup_ms']} ms after the "
          f"registry was made ({', '.join(result['first_answer'])})")
    print(f"first load of both nets from the store: {result['first_load_ms']} ms")
    for phase in ("idle", "training"):
        s = result[phase]
        print(f"{phase:9s} {s['n']} asks: median {s['median_ms']} ms, p95 {s['p95_ms']} ms, max {s['max_ms']} ms")
    for rss, pss in result.get("answerer_mb", []):
        print(f"answering process: RSS {rss} MB, PSS {pss} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
