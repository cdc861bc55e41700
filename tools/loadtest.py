"""A class opens the app at once: many browser sessions against one real server.

    python -m tools.loadtest                      # 30 sessions, 10 distinct configs
    python -m tools.loadtest --sessions 4 --configs 2 --epochs 1 --json   # the CI size

Starts `streamlit run streamlit_app.py` on a free 127.0.0.1 port (its own
REGDEMO_HOME in a temp folder) with tools.appserver.start_server, opens
`--sessions` headless Chromium contexts (each a separate Streamlit session),
each on a link carrying its config in the query string
(`?dropout=0.2&seed=1&epochs=2&train_size=100`), and clicks Train in all of
them. Session i gets config i mod --configs, so identical configs must share
one run and the others must queue. Then it watches every page until each shows
its run finished.

Measured, and the pass conditions:
  exceptions   boxes Streamlit draws for an exception (data-testid="stException"),
               over all pages and all polls, plus tracebacks in the server log: 0
  runs         every session saw its run queued, training or finished after Train,
               and finished in the end; the store holds exactly --configs runs
  memory       resident memory of the server and its worker processes (VmRSS
               summed), sampled twice a second: peak under --max-rss-mb
  drain        seconds from the first Train click until every page shows finished
  revisit      a fresh session on an already-trained link shows "finished" at once
               (the run comes from the store / registry, no training)

Everything stays on loopback; every wait is bounded in time and in count.
Never imports streamlit: the app runs in its own process, as in class.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict

from tools.appserver import chromium, chromium_missing, start_server
from tools.classroom import Result, drive, judge
from tools.procmem import Sampler, tree_memory


def run_load(sessions: int = 30, configs: int = 10, epochs: int = 2, train_size: int = 100, workers: int = 1,
             timeout: float = 900.0, max_rss_mb: float = 1500.0, home: str | None = None,
             log=lambda text: None) -> Result:
    """Run the load test; returns the measurements (Result.passed says whether it held)."""
    configs = min(configs, sessions)
    from regdemo.runs.cpus import available_cpus

    result = Result(sessions=sessions, configs=configs, epochs=epochs, train_size=train_size, workers=workers,
                    cpus=available_cpus(), max_rss_mb=max_rss_mb)
    owned_home = None
    if home is None:
        owned_home = tempfile.TemporaryDirectory(prefix="regdemo-load-")
        home = owned_home.name
    deadline = time.monotonic() + timeout
    server = start_server(home, workers=workers, extra_env={"REGDEMO_SESSION_RUNS": "4"})
    sampler = Sampler({"server": server.pid})
    try:
        result.rss_start_mb = tree_memory(server.pid)[0]
        sampler.start()
        with chromium() as browser:
            drive(browser, server.url, result, deadline, log, server.pid)
        result.rss_end_mb = tree_memory(server.pid)[0]
    finally:
        peak = sampler.stop()["server"][0]
        server.stop()
        result.rss_peak_mb = max(peak, result.rss_start_mb, result.rss_end_mb)
        text = server.log()
        result.server_tracebacks = text.count("Traceback")
        _count_store(home, result)
        if owned_home is not None:
            owned_home.cleanup()
    judge(result)
    return result


def _count_store(home: str, result: Result) -> None:
    from regdemo.storage.sqlite import RunStore

    runs = RunStore(os.path.join(home, "runs.sqlite3")).list(1000)
    result.stored_runs = len(runs)
    result.stored_finished = sum(r.status == "finished" for r in runs)
    seconds = [r.seconds for r in runs if r.seconds is not None]
    if seconds:
        result.run_seconds_mean = sum(seconds) / len(seconds)
        result.run_seconds_max = max(seconds)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.loadtest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--configs", type=int, default=10, help="distinct configs among the sessions")
    parser.add_argument("--epochs", type=int, default=2)
    # Tiny runs: what is under test is thirty sessions on one server, not training speed.
    parser.add_argument("--train-size", type=int, default=100, help="digits per run (a slider choice)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes of the server")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds for the whole test")
    parser.add_argument("--max-rss-mb", type=float, default=1500.0, help="pass limit on the server's memory")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument("--cluster", action="store_true",
                        help="a cluster instead: own redis-server and PostgreSQL, --servers app servers and "
                             "--workers `python -m regdemo worker` processes (tools/loadtest_cluster.py)")
    parser.add_argument("--servers", type=int, default=2, help="app servers with --cluster (default 2)")
    parser.add_argument("--cluster-workers", type=int, default=2,
                        help="`python -m regdemo worker` processes with --cluster (default 2)")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 200 or not 1 <= args.configs:
        parser.error("--sessions must be 1..200 and --configs at least 1")
    reason = chromium_missing()
    if reason:
        print(f"error: {reason}", file=sys.stderr)
        return 2
    if args.cluster:
        from tools.loadtest_cluster import main_cluster

        return main_cluster(args)
    result = run_load(args.sessions, args.configs, args.epochs, args.train_size, args.workers, args.timeout,
                      args.max_rss_mb, log=lambda text: print(text, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps({**asdict(result), "passed": result.passed}))
    else:
        print(result.markdown())
        print("PASSED" if result.passed else "FAILED: " + "; ".join(result.problems))
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
