"""The load test on a cluster: browser sessions spread over several app servers, runs on
RQ workers, one Redis, one PostgreSQL -- all started here on 127.0.0.1.

    python -m tools.loadtest --cluster                         # 30 sessions, 2 servers, 2 workers
    python -m tools.loadtest --cluster --servers 3 --cluster-workers 4
    python -m tools.loadtest --cluster --sessions 4 --configs 2 --epochs 1   # the test's size

The sessions, clicks, checks and pass conditions are tools.classroom's (session i opens
server (i // --configs) mod --servers, so identical configs meet on different servers and must
still train once); on top of them: each distinct config trained exactly once (the workers'
one line per run), and the memory of every process of the cluster (RSS; PSS too for a
worker, whose forked horse shares pages with it), peak while the queue drains.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field

from tools.appserver import ROOT, chromium, start_server
from tools.classroom import Result, config_params, drive, judge
from tools.procmem import Sampler, tree, tree_memory


@dataclass
class ClusterResult:
    load: Result
    servers: int
    workers: int
    trained_once: bool = False
    runs_trained: int = 0
    peak_mb: dict[str, list[float]] = field(default_factory=dict)  # process -> [RSS, PSS]

    @property
    def passed(self) -> bool:
        return self.load.passed

    def markdown(self) -> str:
        lines = [self.load.markdown(),
                 f"| app servers / worker processes | {self.servers} / {self.workers} |",
                 f"| runs the workers trained (each distinct config once?) | {self.runs_trained} "
                 f"({'yes' if self.trained_once else 'NO'}) |"]
        for name, (rss, pss) in self.peak_mb.items():
            lines.append(f"| peak memory of {name}: RSS / PSS | {rss:.0f} / {pss:.0f} MB |")
        return "\n".join(lines)


def run_cluster_load(sessions: int = 30, configs: int = 10, epochs: int = 2, train_size: int = 100,
                     servers: int = 2, workers: int = 2, timeout: float = 900.0, max_rss_mb: float = 1500.0,
                     log=lambda text: None) -> ClusterResult:
    from regdemo.runs.cpus import available_cpus, threads_per_worker
    from regdemo.storage.postgres import PostgresStore
    from tools.services import PostgresServer, RedisServer

    configs = min(configs, sessions)
    load = Result(sessions=sessions, configs=configs, epochs=epochs, train_size=train_size, workers=workers,
                  cpus=available_cpus(), max_rss_mb=max_rss_mb)
    out = ClusterResult(load=load, servers=servers, workers=workers)
    deadline = time.monotonic() + timeout
    home = tempfile.TemporaryDirectory(prefix="regdemo-cluster-load-")
    redis, postgres = RedisServer(), PostgresServer()
    started_servers, started_workers, logs = [], [], []
    try:
        env = {"REGDEMO_BROKER_URL": redis.url, "REGDEMO_DATABASE_URL": postgres.url,
               "REGDEMO_SESSION_RUNS": "4"}
        worker_env = dict(os.environ, **env, REGDEMO_HOME=home.name, PYTHONUNBUFFERED="1")
        threads = str(threads_per_worker(workers))
        for i in range(workers):
            logs.append(open(os.path.join(home.name, f"worker{i}.log"), "w+"))
            started_workers.append(subprocess.Popen(
                [sys.executable, "-m", "regdemo", "worker", "--threads", threads], cwd=ROOT, env=worker_env,
                stdout=logs[-1], stderr=subprocess.STDOUT, start_new_session=True))
        for i in range(servers):
            started_servers.append(start_server(os.path.join(home.name, f"server{i}"), extra_env=env))
        log(f"{servers} servers, {workers} workers, redis and postgres up")
        pids = {f"app server {i + 1}": s.pid for i, s in enumerate(started_servers)}
        pids.update({f"worker {i + 1} (with its horse)": w.pid for i, w in enumerate(started_workers)})
        pids.update({"redis-server": redis.pid, "postgresql (all backends)": _postmaster(postgres)})
        sampler = Sampler(pids)
        load.rss_start_mb = sum(tree_memory(s.pid)[0] for s in started_servers)
        sampler.start()
        try:
            with chromium() as browser:
                drive(browser, [s.url for s in started_servers], load, deadline, log)
        finally:
            sampler.stop()
        out.peak_mb = {name: [round(v, 1) for v in peak] for name, peak in sampler.peak.items()}
        load.rss_peak_mb = max(v[0] for k, v in sampler.peak.items() if k.startswith("app server"))
        load.rss_end_mb = max(tree_memory(s.pid)[0] for s in started_servers)
        store = PostgresStore(postgres.url)
        runs = store.list(1000)
        store.close()
        load.stored_runs = len(runs)
        load.stored_finished = sum(r.status == "finished" for r in runs)
        seconds = [r.seconds for r in runs if r.seconds is not None]
        if seconds:
            load.run_seconds_mean, load.run_seconds_max = sum(seconds) / len(seconds), max(seconds)
        text = ""
        for f in logs:
            f.flush()
            f.seek(0)
            text += f.read()
        keys = {_key(i, epochs, train_size) for i in range(configs)}
        out.runs_trained = sum(text.count(f"run {key} ") for key in keys)
        out.trained_once = all(text.count(f"run {key} finished") == 1 for key in keys)
        load.server_tracebacks = sum(s.log().count("Traceback") for s in started_servers)
        load.server_tracebacks += text.count("Traceback")
    finally:
        for server in started_servers:
            server.stop()
        for w in started_workers:
            for pid in tree(w.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            w.wait(10)
        for f in logs:
            f.close()
        redis.stop()
        postgres.stop()
        home.cleanup()
    judge(load)
    if not out.trained_once:
        load.problems.append("a distinct config was not trained exactly once by the workers")
    return out


def _key(i: int, epochs: int, train_size: int) -> str:
    from regdemo.training.config import RunConfig

    params = config_params(i, epochs, train_size)
    return RunConfig(dropout=float(params["dropout"]), seed=int(params["seed"]), epochs=epochs,
                     train_size=train_size).key()


def _postmaster(server) -> int:
    try:
        return int((server.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def main_cluster(args) -> int:
    result = run_cluster_load(args.sessions, args.configs, args.epochs, args.train_size, args.servers,
                              args.cluster_workers, args.timeout, args.max_rss_mb,
                              log=lambda text: print(text, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps({**asdict(result), "passed": result.passed}))
    else:
        print(result.markdown())
        print("PASSED" if result.passed else "FAILED: " + "; ".join(result.load.problems))
    return 0 if result.passed else 1
