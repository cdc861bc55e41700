"""Measure RQ, Dramatiq and Celery on Redis for the choice in docs/scale.md.

    .venv/bin/pip install rq "dramatiq[redis]" "celery[redis]"   # the candidates, to measure
    .venv/bin/python -m tools.measure_queues [--queues rq,dramatiq,celery] [--tasks 20] [--torch]
                                             [--json results.json]

For each queue, on a throwaway redis-server (tools.services) and one worker with one
slot, it measures:
  - memory of the idle worker (all its processes: RSS sum, and PSS, which splits the
    pages a forked child shares with its parent), and after tasks ran;
  - enqueue -> task start latency, median and max over --tasks probes sent one at a time
    to an idle worker;
  - kill -9 of the process running a task mid-task: does the task run again, does the
    worker survive, what does the queue record (observed for --observe seconds);
  - kill -9 of the whole worker (every process) mid-task, then a fresh worker: is the
    task delivered again within --observe seconds;
  - the client side an app server pays: import time and memory of what it needs to
    enqueue one task (the Streamlit server only enqueues).
With --torch the worker imports torch first, as the real worker does (regdemo.training.engine).

Numbers on a shared machine are noisy: re-run on a quiet one. Nothing here is imported
by the app; this file is also the task module the workers import (PYTHONPATH=tools).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
# The workers import this file as the top-level module `measure_queues` (PYTHONPATH=tools and
# the checkout); the driver runs it as tools.measure_queues.
sys.path.insert(0, str(ROOT))

from tools.procmem import pss_mb, rss_mb, tree  # noqa: E402

QUEUE = "mq"
KIND = os.environ.get("MQ_KIND", "")
URL = os.environ.get("MQ_URL", "")

if os.environ.get("MQ_TORCH"):
    import torch  # noqa: F401 -- the real worker's biggest import, for honest memory numbers


def probe(tag: str, sleep_s: float = 0.0) -> str:
    """The task: record start time and pid in Redis, sleep, record the end."""
    import redis

    r = redis.Redis.from_url(URL)
    r.rpush(f"probe:{tag}:starts", json.dumps({"t": time.time(), "pid": os.getpid()}))
    time.sleep(sleep_s)
    r.rpush(f"probe:{tag}:ends", json.dumps({"t": time.time(), "pid": os.getpid()}))
    return tag


# The task module as each worker imports it.
if KIND == "dramatiq":
    import dramatiq
    from dramatiq.brokers.redis import RedisBroker

    broker = RedisBroker(url=URL)
    dramatiq.set_broker(broker)
    dramatiq_probe = dramatiq.actor(probe, actor_name="probe", queue_name=QUEUE, max_retries=3,
                                    min_backoff=100, max_backoff=1000)
elif KIND == "celery":
    from celery import Celery

    app = Celery("measure_queues", broker=URL)
    app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
                    broker_transport_options={"visibility_timeout": 3600}, task_default_queue=QUEUE)
    celery_probe = app.task(name="probe")(probe)


def rq_worker() -> None:
    import redis
    from rq import Queue, Worker

    connection = redis.Redis.from_url(URL)
    Worker([Queue(QUEUE, connection=connection)], connection=connection).work()


# --- the driver ----------------------------------------------------------------------------------

def memory_mb(pid: int) -> dict:
    pids = tree(pid)
    rss, pss = sum(rss_mb(p) for p in pids), sum(pss_mb(p) for p in pids)
    return {"processes": len(pids), "rss_mb": round(rss, 1), "pss_mb": round(pss, 1)}


def worker_command(kind: str) -> list[str]:
    py = sys.executable
    if kind == "rq":
        # rq's default Worker forks a work horse per job. Started from this module (not the
        # `rq worker` command) so that the task module -- and torch, with --torch -- is
        # imported once in the parent and shared by every forked horse, as regdemo's worker
        # does; `rq worker` would import it again in every horse (5 s per job with torch).
        return [py, "-c", "import measure_queues; measure_queues.rq_worker()"]
    if kind == "dramatiq":
        return [py, "-m", "dramatiq", "measure_queues", "--processes", "1", "--threads", "1",
                "--path", str(HERE), "--queues", QUEUE]
    if kind == "celery":
        return [py, "-m", "celery", "-A", "measure_queues", "worker", "--concurrency", "1",
                "--pool", "prefork", "--queues", QUEUE, "--loglevel", "WARNING", "--without-gossip",
                "--without-mingle", "--without-heartbeat"]
    raise ValueError(kind)


def start_worker(kind: str, url: str, use_torch: bool, log) -> subprocess.Popen:
    env = dict(os.environ, MQ_KIND=kind, MQ_URL=url, PYTHONPATH=os.pathsep.join((str(HERE), str(ROOT))))
    if use_torch:
        env["MQ_TORCH"] = "1"
    return subprocess.Popen(worker_command(kind), env=env, cwd=HERE, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def kill_tree(process: subprocess.Popen, sig=signal.SIGKILL) -> None:
    for p in tree(process.pid):
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        pass


class Client:
    """What an app server does to enqueue: one per queue kind."""

    def __init__(self, kind: str, url: str):
        self.kind = kind
        import redis

        self.redis = redis.Redis.from_url(url)
        if kind == "rq":
            from rq import Queue

            self.queue = Queue(QUEUE, connection=self.redis)
        elif kind == "dramatiq":
            self.queue = sys.modules["measure_queues"].dramatiq_probe
        elif kind == "celery":
            self.queue = sys.modules["measure_queues"].app

    def send(self, tag: str, sleep_s: float = 0.0):
        if self.kind == "rq":
            return self.queue.enqueue("measure_queues.probe", tag, sleep_s, job_timeout=600)
        if self.kind == "dramatiq":
            return self.queue.send(tag, sleep_s)
        return self.queue.send_task("probe", args=(tag, sleep_s), queue=QUEUE)

    def starts(self, tag: str) -> list[dict]:
        return [json.loads(x) for x in self.redis.lrange(f"probe:{tag}:starts", 0, -1)]

    def ends(self, tag: str) -> list[dict]:
        return [json.loads(x) for x in self.redis.lrange(f"probe:{tag}:ends", 0, -1)]

    def wait_start(self, tag: str, n: int = 1, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.starts(tag)
            if len(got) >= n:
                return got
            time.sleep(0.002)
        return self.starts(tag)


def queue_state(kind: str, client: Client, job) -> str:
    """What the queue itself says about a task after its worker was killed."""
    try:
        if kind == "rq":
            from rq.registry import FailedJobRegistry, StartedJobRegistry

            job.refresh()
            failed = FailedJobRegistry(QUEUE, connection=client.redis)
            started = StartedJobRegistry(QUEUE, connection=client.redis)
            return (f"job status {job.get_status()}; in failed registry: {job.id in failed.get_job_ids()}; "
                    f"in started registry: {job.id in started.get_job_ids()}")
        if kind == "dramatiq":
            keys = sorted(k.decode() for k in client.redis.keys("dramatiq:*"))
            return "redis keys: " + ", ".join(keys)
        keys = sorted(k.decode() for k in client.redis.keys("*") if not k.startswith(b"probe:"))
        return f"celery state {job.state}; redis keys: " + ", ".join(keys)
    except Exception as err:  # noqa: BLE001 -- a report line, not a check
        return f"(could not read the queue's state: {err})"


def measure_client(kind: str, url: str) -> dict:
    """Import + connect + enqueue one task, in a fresh interpreter: what a Streamlit server pays."""
    code = f"""
import json, os, resource, sys, time
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) / 1024
before = rss(); t0 = time.perf_counter()
sys.path[:0] = [{str(HERE)!r}, {str(ROOT)!r}]
os.environ.update(MQ_KIND={kind!r}, MQ_URL={url!r})
import measure_queues as m
c = m.Client({kind!r}, {url!r})
t1 = time.perf_counter()
c.send('client-probe')
t2 = time.perf_counter()
print(json.dumps({{"import_s": round(t1 - t0, 3), "first_enqueue_s": round(t2 - t1, 4),
                  "rss_added_mb": round(rss() - before, 1)}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        return {"error": out.stderr[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(kind: str, tasks: int, observe: float, use_torch: bool, log_dir: pathlib.Path) -> dict:
    from tools.services import RedisServer

    os.environ["MQ_KIND"], result = kind, {"queue": kind}
    with RedisServer() as server:
        os.environ["MQ_URL"] = server.url
        # The task module's broker/app objects are built at import from MQ_KIND/MQ_URL:
        # import it afresh under its module name, as the workers do.
        sys.modules.pop("measure_queues", None)
        sys.path.insert(0, str(HERE))
        import importlib

        client = importlib.import_module("measure_queues").Client(kind, server.url)
        log = open(log_dir / f"{kind}-worker.log", "w")
        worker = start_worker(kind, server.url, use_torch, log)
        try:
            client.send("warm")
            if not client.wait_start("warm", timeout=120):
                raise RuntimeError(f"{kind}: the worker never ran a task; see {log.name}")
            time.sleep(1.0)
            result["idle_worker"] = memory_mb(worker.pid)
            latencies = []
            for i in range(tasks):
                t0 = time.time()
                client.send(f"lat{i}")
                started = client.wait_start(f"lat{i}")
                latencies.append(started[0]["t"] - t0)
                time.sleep(0.05)
            result["latency_ms"] = {"median": round(1000 * statistics.median(latencies), 1),
                                    "max": round(1000 * max(latencies), 1), "n": tasks}
            time.sleep(0.5)
            result["after_tasks"] = memory_mb(worker.pid)

            # kill -9 the process that runs the task
            job = client.send("killed", 5.0)
            first = client.wait_start("killed")[0]
            result["task_process_is_worker_main"] = first["pid"] == worker.pid
            os.kill(first["pid"], signal.SIGKILL)
            t_kill = time.time()
            deadline = time.monotonic() + observe
            while time.monotonic() < deadline and len(client.starts("killed")) < 2:
                time.sleep(0.05)
            starts = client.starts("killed")
            result["kill_task_process"] = {
                "rerun_after_s": round(starts[1]["t"] - t_kill, 2) if len(starts) > 1 else None,
                "worker_alive": worker.poll() is None,
                "queue_says": queue_state(kind, client, job),
            }
            client.wait_start("killed", 2, timeout=0)  # let a rerun finish before the next test
            time.sleep(6 if len(starts) > 1 else 0)

            # kill -9 every process of the worker mid-task, then start a fresh one
            if worker.poll() is None:
                job = client.send("lost", 5.0)
                client.wait_start("lost")
                kill_tree(worker)
            else:
                job = client.send("lost", 5.0)
            t_kill = time.time()
            worker = start_worker(kind, server.url, use_torch, log)
            deadline = time.monotonic() + observe
            while time.monotonic() < deadline and len(client.starts("lost")) < 2:
                time.sleep(0.05)
            starts = client.starts("lost")
            result["kill_whole_worker"] = {
                "redelivered_after_s": round(starts[-1]["t"] - t_kill, 2) if len(starts) > 1 else None,
                "observed_s": observe,
                "queue_says": queue_state(kind, client, job),
            }
        finally:
            kill_tree(worker, signal.SIGTERM)
            kill_tree(worker)
            log.close()
        result["client"] = measure_client(kind, server.url)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queues", default="rq,dramatiq,celery")
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--observe", type=float, default=30.0, help="seconds to watch for a redelivery")
    parser.add_argument("--torch", action="store_true", help="workers import torch first (as regdemo's do)")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--logs", default="/tmp/measure_queues", help="worker logs go here")
    args = parser.parse_args(argv)
    log_dir = pathlib.Path(args.logs)
    log_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for kind in args.queues.split(","):
        print(f"--- {kind}", flush=True)
        try:
            res = measure(kind, args.tasks, args.observe, args.torch, log_dir)
        except Exception as err:  # noqa: BLE001 -- report and go on with the next queue
            res = {"queue": kind, "error": f"{type(err).__name__}: {err}"}
        print(json.dumps(res, indent=1), flush=True)
        results.append(res)
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
