"""Runs on a cluster: RQ on Redis (REGDEMO_BROKER_URL) hands runs to worker processes on any
machine; the run store on PostgreSQL (REGDEMO_DATABASE_URL) carries everything else.

Why RQ (measured in docs/scale.md, tools/measure_queues.py): the smallest idle worker
and client of the three candidates, a fork per run (a run's memory goes back to the OS
when it ends; a horse killed mid-run leaves its worker alive), and the app server only
pushes a job onto a Redis list by the function's dotted name, importing none of the
worker's code and starting no threads of its own inside Streamlit.

What travels where (docs: BOUNDARY.md):
  - the queue carries (key, config dict, source) and nothing else; FIFO per queue;
  - single-flight is the store's: create_live() is an INSERT .. ON CONFLICT DO NOTHING,
    so two servers asked for the same config at once enqueue it once;
  - events, status, Stop and heartbeats go through the store (execute.train_run);
  - at least once (runs/requeue.py): a horse killed mid-run -> its worker queues the run
    again, once (RegdemoWorker.handle_work_horse_killed); killed again, it fails. The whole
    machine lost -> the run's heartbeat goes stale and the next server or CLI that looks
    queues it again, once (check_stale), within REGDEMO_STALE_SECONDS (default 20) plus one
    look (every 5 s). A queued run whose job Redis lost (a restart without AOF) is enqueued
    again from its live row by the first server that looks.

    python -m regdemo worker [--concurrency N]    # on each training machine
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

from regdemo import settings
from regdemo.messages import encode, msg
from regdemo.runs import answers, requeue
from regdemo.runs.execute import death_how, train_run
from regdemo.runs.records import RUNNING
from regdemo.runs.registry import Registry
from regdemo.runs.shared import SharedRegistry
from regdemo.settings import SettingError, UrlError, redact_url
from regdemo.storage.sqlite import StoreUnavailable
from regdemo.storage.stores import open_store
from regdemo.training.config import RunConfig
from regdemo.training.events import FINAL_STATUSES

log = logging.getLogger(__name__)

BROKER_VARIABLE = "REGDEMO_BROKER_URL"
QUEUE_NAME = "regdemo"
TASK = "regdemo.runs.cluster.run_task"  # enqueued by name: the app server never imports worker code
RUN_TIMEOUT_S = 6 * 3600  # RQ kills a horse past this; a real run takes minutes
STALE_CHECK_S = 5.0  # how often a server or the CLI looks for stale runs
KEEP_FINISHED_LIVE_S = 600.0  # a final live row stays this long for other servers to read
AVAILABLE_CACHE_S = 2.0  # pages ask on every redraw; Redis is pinged at most this often


def check_broker_url(url: str, variable: str = BROKER_VARIABLE) -> str:
    """A redis://, rediss:// or unix:// URL, else settings.UrlError naming the variable."""
    url = url.strip()
    parsed = urllib.parse.urlsplit(url)
    shown = repr(redact_url(url))
    if parsed.scheme not in ("redis", "rediss", "unix"):
        raise UrlError(msg("url.not_redis", variable=variable, url=shown))
    try:
        parsed.port  # noqa: B018 -- raises ValueError for a port that is not a number
    except ValueError:
        raise UrlError(msg("url.bad_port", variable=variable, url=shown)) from None
    if parsed.scheme != "unix" and not parsed.hostname:
        raise UrlError(msg("url.no_redis_host", variable=variable, url=shown))
    path = parsed.path.strip("/")
    if parsed.scheme != "unix" and path and not path.isdigit():
        raise UrlError(msg("url.redis_db", variable=variable, db=repr(path)))
    return url


def broker_url() -> str:
    """$REGDEMO_BROKER_URL checked ("" when unset: runs train on this machine)."""
    url = settings.read().broker_url
    return check_broker_url(url) if url else ""


def stale_seconds() -> float:
    return settings.read().stale_seconds  # REGDEMO_STALE_SECONDS


def enqueue(queue, key: str, config: dict, source: str) -> None:
    """Run `key` onto the RQ queue (FIFO); redis.RedisError when Redis refuses."""
    queue.enqueue(TASK, key, config, source,
                  job_id=f"{key}-{uuid.uuid4().hex[:8]}",  # a retried run is a new job
                  job_timeout=RUN_TIMEOUT_S, result_ttl=0, failure_ttl=24 * 3600, description=f"regdemo run {key}")


def keys_in_broker(queue) -> set[str]:
    """The run keys of the jobs waiting in `queue` and of those a worker has started."""
    from rq.registry import StartedJobRegistry  # noqa: PLC0415 -- rq is optional: only a cluster installs it

    ids = queue.get_job_ids() + StartedJobRegistry(queue=queue).get_job_ids()
    return {job_id.rpartition("-")[0] for job_id in ids}


def clean_finished(store, seconds: float = KEEP_FINISHED_LIVE_S) -> None:
    """Drop live rows (and events) of runs final for `seconds`: every server had time to
    read their end, and the run store holds them. A server that missed one reads the
    stored run instead (SharedRegistry._row_gone)."""
    now = store.now() if hasattr(store, "now") else time.time()
    for row in store.live_keys(FINAL_STATUSES):
        if now - (row.heartbeat_at or row.started_at or row.created_at) > seconds:
            store.delete_live(row.key, finished_only=True)


# -- the app server's side ------------------------------------------------------------------------

class RQDispatcher:
    """Hands runs to RQ workers: a backend.Backend, like worker.LocalPool."""

    def __init__(self, url: str, store=None, source: str = "app"):
        import redis  # noqa: PLC0415 -- redis and rq are optional: only a cluster installs them
        from rq import Queue  # noqa: PLC0415 -- redis and rq are optional: only a cluster installs them

        self.url = check_broker_url(url)
        self.store = store  # for the stale-heartbeat checks
        self.source = source
        # Short timeouts: a page must learn "Redis is down" in a second or two, not hang.
        self.redis = redis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5,
                                          health_check_interval=30)
        self.queue = Queue(QUEUE_NAME, connection=self.redis)
        self._lock = threading.Lock()
        self._checked_at = -1e9
        self._reason = ""
        self._stale_at = 0.0
        self._closed = False

    def submit(self, key: str, config: RunConfig) -> None:
        """Enqueue the run (FIFO). Raises RuntimeError with a readable message if Redis refuses."""
        import redis  # noqa: PLC0415 -- redis and rq are optional: only a cluster installs them

        if self._closed:
            raise RuntimeError("the dispatcher is closed")
        try:
            enqueue(self.queue, key, config.to_dict(), self.source)
        except redis.RedisError as err:
            with self._lock:
                self._checked_at, self._reason = time.monotonic(), self._unavailable(err)
            raise RuntimeError(self._reason) from None

    def stop(self, key: str, reason: str = "") -> None:
        """The request goes through the shared store, which the run's worker polls."""
        self.store.request_stop(key, reason)

    def capacity(self) -> str:
        """"" when Redis answers, else why training is unavailable (cached for a moment)."""
        import redis  # noqa: PLC0415 -- redis and rq are optional: only a cluster installs them

        with self._lock:
            if self._closed:
                return encode(msg("queue.closed"))
            if time.monotonic() - self._checked_at < AVAILABLE_CACHE_S:
                return self._reason
            try:
                self.redis.ping()
                self._reason = ""
            except redis.RedisError as err:
                self._reason = self._unavailable(err)
            self._checked_at = time.monotonic()
            return self._reason

    def _unavailable(self, err) -> str:
        return encode(msg("queue.unavailable", url=redact_url(self.url), error=type(err).__name__))

    def check_stale(self) -> list[str]:
        """Queue again (once) or fail the runs whose worker was lost, enqueue again the queued
        runs Redis lost, and drop finished live rows nobody needs any more; at most every
        STALE_CHECK_S (call it freely). Returns the keys failed."""
        if self.store is None or time.monotonic() - self._stale_at < STALE_CHECK_S:
            return []
        self._stale_at = time.monotonic()
        try:
            clean_finished(self.store)
            again, failed = requeue.lost_workers(self.store, stale_seconds())
            for row in again + requeue.lost_jobs(self.store, keys_in_broker(self.queue), stale_seconds()):
                log.warning("run %s: queued again (%s)", row.key, "worker lost" if row.status == RUNNING else
                            "its job was lost from Redis")
                enqueue(self.queue, row.key, row.config.to_dict(), self.source)
            return failed
        except Exception:  # noqa: BLE001 -- a store or Redis hiccup must not stop the caller
            log.exception("checking for lost workers failed")
            return []

    def predict(self, keys: list[str], pixels, timeout: float = 5.0) -> dict[str, dict]:
        """The Draw page's question, taken by the answering process beside a free worker
        (answers.py), not queued behind the runs."""
        return answers.ask(self.redis, keys, pixels, timeout)

    def queued_jobs(self) -> int:
        return self.queue.count

    def close(self, timeout: float = 5.0) -> None:
        """No process or thread of ours to stop: only the connection pool."""
        self._closed = True
        self.redis.close()


# -- the worker's side ----------------------------------------------------------------------------

def run_task(key: str, config: dict, source: str = "app") -> str:
    """The RQ job: runs in a horse forked from `python -m regdemo worker`."""
    import torch  # noqa: PLC0415 -- imported by work() before the fork: no cost here

    threads = settings.read().torch_threads
    if threads > 0:
        torch.set_num_threads(threads)
    store = open_store()
    start = time.monotonic()
    label = RunConfig.from_dict(config).label()
    try:
        status = train_run(key, config, store, source=source)
    finally:
        if hasattr(store, "close"):
            store.close()
    # The one line per run the worker's log promises (RQ's own lines are turned down).
    print(f"{time.strftime('%H:%M:%S')} run {key} {status or 'skipped (stopped or taken)'} "
          f"in {time.monotonic() - start:.1f} s: {label}", flush=True)
    return status


def _worker_class():
    from rq import Worker  # noqa: PLC0415 -- redis and rq are optional: only a cluster installs them

    class RegdemoWorker(Worker):
        """RQ's forking worker; a horse that dies fails its run at once, with a message."""

        def handle_work_horse_killed(self, job, retpid, ret_val, rusage):
            super().handle_work_horse_killed(job, retpid, ret_val, rusage)
            try:
                key, config, source = job.args[0], job.args[1], job.args[2] if len(job.args) > 2 else "app"
                code = -os.WTERMSIG(ret_val) if ret_val and os.WIFSIGNALED(ret_val) else (ret_val or 1) >> 8
                store = open_store()
                again = requeue.after_death(store, key, death_how(code))
                if again:
                    enqueue(self.queues[0], key, config, source)
                print(f"{time.strftime('%H:%M:%S')} run {key} {'queued again' if again else 'failed'}: "
                      f"worker process died ({code})", flush=True)
                if hasattr(store, "close"):
                    store.close()
            except Exception:  # noqa: BLE001 -- the worker goes on with the next run
                log.exception("marking a killed run failed")

    return RegdemoWorker


def work(url: str, threads: int, answerer: bool = True) -> int:
    """One RQ worker in this process (the horse it forks per run trains); `answerer`: and the
    Draw page's answering process beside it (answers.py)."""
    import redis  # noqa: PLC0415 -- redis and rq are optional: only a cluster installs them
    from rq import Queue  # noqa: PLC0415 -- redis and rq are optional: only a cluster installs them

    os.environ["REGDEMO_TORCH_THREADS"] = str(threads)
    # torch and the engine now, before the first fork: every horse forked from this process
    # shares them (copy-on-write) instead of importing them per run (seconds each). Not at the
    # top of this module: the Streamlit server imports it for its registry and stays torch-free.
    import regdemo.training.engine  # noqa: F401, PLC0415
    connection = redis.Redis.from_url(url)
    worker = _worker_class()([Queue(QUEUE_NAME, connection=connection)], connection=connection,
                             name=f"regdemo-{socket.gethostname()}-{os.getpid()}")
    worker.log_job_description = False
    helper = answers.start(url) if answerer else None
    print(f"{time.strftime('%H:%M:%S')} worker {worker.name} waiting for runs on {redact_url(url)} "
          f"(queue {QUEUE_NAME}, {threads} torch threads"
          + (f"; Draw page answered by process {helper.pid})" if helper else ")"), flush=True)
    try:
        # SIGTERM: RQ's warm shutdown finishes the current run, then exits; a second one stops it.
        worker.work(logging_level="WARNING", with_scheduler=False)
    finally:
        if helper is not None:
            helper.terminate()  # it would also go by itself within a second, seeing its parent gone
            helper.wait(10)
    return 0


def supervise(n: int, threads: int, answerer: bool = True) -> int:
    """N single workers as child processes; SIGTERM/SIGINT is passed on, and we wait for them.
    One answering process serves the N (it holds torch and two nets: ~200 MB PSS, measured by
    tools/measure_draw.py --cluster), not one each."""
    command = [sys.executable, "-m", "regdemo", "worker", "--concurrency", "1", "--threads", str(threads),
               "--no-answerer"]
    helper = answers.start(broker_url()) if answerer else None
    children = [subprocess.Popen(command) for _ in range(n)]
    started = [time.monotonic()] * n
    stopping = False

    def forward(signum, frame):
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    helper_started = time.monotonic()
    while True:
        if helper is not None and helper.poll() is not None and not stopping \
                and time.monotonic() - helper_started > 10:  # it died: start another, not in a loop
            print(f"{time.strftime('%H:%M:%S')} answering process {helper.pid} exited ({helper.returncode}); "
                  "starting another", file=sys.stderr, flush=True)
            helper, helper_started = answers.start(broker_url()), time.monotonic()
        for i, child in enumerate(children):
            code = child.poll()
            if code is not None and not stopping:
                if time.monotonic() - started[i] < 10:  # it cannot start (it said why): do not spin
                    forward(signal.SIGTERM, None)
                    continue
                print(f"{time.strftime('%H:%M:%S')} worker process {child.pid} exited ({code}); starting another",
                      file=sys.stderr, flush=True)
                children[i], started[i] = subprocess.Popen(command), time.monotonic()
        if stopping and all(child.poll() is not None for child in children):
            if helper is not None:
                helper.terminate()
                helper.wait(10)
            return 0
        time.sleep(0.5)


# -- the app server's registry, as the environment asks -------------------------------------------

def registry_from_environment(**kwargs):
    """The Registry for this server: the store open_store() picks (PostgreSQL with
    REGDEMO_DATABASE_URL) and, with REGDEMO_BROKER_URL, runs handed to the task queue's
    workers; else the local worker pool. Raises store.StoreUnavailable with one readable
    line (naming the variable) for a malformed URL or a database that does not answer."""
    try:
        url = broker_url()
    except (SettingError, UrlError) as err:  # both coded: a zh page says them in Chinese
        raise StoreUnavailable(err.message) from None
    store = open_store()
    if not url:
        return Registry(store=store, **kwargs)
    if not settings.read().database_url:
        log.warning("%s is set but REGDEMO_DATABASE_URL is not: workers on other machines cannot "
                    "reach this server's SQLite file", BROKER_VARIABLE)
    return SharedRegistry(RQDispatcher(url, store), store=store, **kwargs)
