"""Runs on a cluster: real redis-server and PostgreSQL (tests/conftest.py), real
`python -m regdemo worker` processes taking runs from RQ, two registries (two app
servers' worth of state) on one broker and one database, and the CLI submitting through
the queue. Tiny runs (200 digits, 1-2 epochs) keep it quick; the browser-level version
with two real `streamlit run` servers is tests/browser/test_cluster_app.py.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from support import make_run

from regdemo.messages import render
from regdemo.runs import cluster, inference, requeue
from regdemo.runs.predict import NO_RUN, PredictError
from regdemo.runs.records import RUNNING, RunLimitError
from regdemo.storage.sqlite import StoreUnavailable
from regdemo.storage.stores import open_store
from regdemo.training.config import RunConfig
from regdemo.training.events import FAILED, FINISHED
from regdemo.training.models import build_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.subprocess  # worker processes and CLI runs
TIMEOUT = 180  # seconds a tiny run may take on a busy 2-core machine (not a timing check)


def long_run(seed: int) -> RunConfig:
    """A run that cannot finish before the test stops or kills it, even on a fast machine
    (200 epochs of 2,000 digits); it never trains to the end, so its length costs nothing."""
    return RunConfig(seed=seed, train_size=2000, epochs=200)


@pytest.fixture
def env(redis_url, postgres_url, tmp_path, monkeypatch):
    """The cluster's variables, in this process and for every process it starts."""
    values = {"REGDEMO_BROKER_URL": redis_url, "REGDEMO_DATABASE_URL": postgres_url,
              "REGDEMO_HOME": str(tmp_path / "home"), "REGDEMO_STALE_SECONDS": "4"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return dict(os.environ)


class Worker:
    """`python -m regdemo worker` with its log in a file."""

    def __init__(self, env: dict, log_path, *args):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.process = subprocess.Popen([sys.executable, "-m", "regdemo", "worker", *args], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while "waiting for runs" not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(0.2)

    def stop(self):
        """kill -9 the worker and the horse it forked (RQ puts the horse in a process group
        of its own, so killing the group would leave it training)."""
        for pid in _descendants(self.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(10)
        self.log.close()


@pytest.fixture
def workers(env, tmp_path):
    started = [Worker(env, tmp_path / f"worker{i}.log") for i in range(2)]
    for w in started:
        w.wait_ready()
    yield started
    for w in started:
        w.stop()


def wait_for(predicate, timeout=TIMEOUT, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_servers_two_workers_every_run_once(env, workers):
    a = cluster.registry_from_environment()
    b = cluster.registry_from_environment()
    try:
        configs = [RunConfig(seed=i, train_size=200, epochs=1) for i in range(3)]
        runs = []
        # Sessions on both servers ask for overlapping configs at once.
        for i, config in enumerate(configs):
            runs.append(a.get_or_start(config, session=f"a{i}"))
            runs.append(b.get_or_start(config, session=f"b{i}"))
        for run in runs:
            assert run.wait(TIMEOUT), run.view()
            assert run.status == FINISHED, run.view().message
        store = open_store()
        for config in configs:
            assert store.get(config.key()).status == FINISHED
        logs = "".join(w.text() for w in workers)
        for config in configs:  # trained exactly once across both workers
            assert logs.count(f"run {config.key()} finished") == 1, logs
        # both workers took part (3 runs, 2 workers, FIFO)
        assert all(" finished in " in w.text() for w in workers), logs
        # a finished config is served from the store by a server that never saw it, without training
        c = cluster.registry_from_environment()
        again = c.get_or_start(configs[0], session="late")
        assert again.status == FINISHED and again.view().source == "app"
        c.shutdown()
    finally:
        a.shutdown()
        b.shutdown()


def test_queue_positions_cap_and_stop_hold_across_servers(env, workers):
    a = cluster.registry_from_environment(session_limit=2)
    b = cluster.registry_from_environment(session_limit=2)
    try:
        long = [long_run(10 + i) for i in range(3)]
        first = a.get_or_start(long[0], session="s")
        second = b.get_or_start(long[1], session="s")  # the same session, through the other server
        with pytest.raises(RunLimitError):
            a.get_or_start(long[2], session="s")  # the cap counts the session's runs on both
        third = b.get_or_start(long[2], session="t")
        # two workers: two train, the third waits at position 1 (seen from either server)
        wait_for(lambda: third.view().queue_position == 1, 30, "a queue position")
        joined = a.get_or_start(long[2], session="u")
        wait_for(lambda: joined.view().queue_position == 1, 30, "the joined run's position")
        wait_for(lambda: first.status == RUNNING and second.status == RUNNING, TIMEOUT, "both running")
        b.stop(first.key, "Stopped from the other server")  # Stop through the other server
        assert first.wait(30) and first.status == "stopped"
        assert first.view().message == "Stopped from the other server"
        wait_for(lambda: third.status == RUNNING, TIMEOUT, "the queued run to start")
        a.stop(second.key)
        b.stop(third.key)
        assert second.wait(30) and third.wait(30)
    finally:
        a.shutdown()
        b.shutdown()


def _horse(reg, key: str, other_than: str | None = None) -> tuple[str, int]:
    """(worker, pid) of the horse training `key` (its live row says host:pid:thread)."""
    def taken():
        row = reg.live.live(key)
        return row if row is not None and row.status == RUNNING and row.worker != other_than else None

    row = wait_for(taken, TIMEOUT, "a worker to train the run")
    return row.worker, int(row.worker.split(":")[1])


def test_a_run_that_kills_its_worker_is_queued_again_once_then_fails(env, workers):
    reg = cluster.registry_from_environment()
    try:
        run = reg.get_or_start(long_run(20), session="s")
        wait_for(lambda: run.status == RUNNING and run.view().progress, TIMEOUT, "the run to train")
        first, pid = _horse(reg, run.key)
        os.kill(pid, signal.SIGKILL)
        second, pid = _horse(reg, run.key, other_than=first)  # queued again, taken by a worker
        assert reg.live.live(run.key).attempts == 1 and "queued again" in render(reg.live.live(run.key).message)
        os.kill(pid, signal.SIGKILL)
        assert run.wait(60), "the run stayed running after its worker was killed twice"
        message = render(run.view().message)
        assert run.status == FAILED and "may need more memory than a worker has" in message, message
        assert "SIGKILL" in message and "更多的内存" in render(run.view().message, "zh")
        # the workers live on and train the next run
        nxt = reg.get_or_start(RunConfig(seed=21, train_size=200, epochs=1), session="s")
        assert nxt.wait(TIMEOUT) and nxt.status == FINISHED
        # pressing Train again retries the failed run
        retry = reg.get_or_start(run.config, session="s")
        wait_for(lambda: retry.status == RUNNING, TIMEOUT, "the retried run")
        reg.stop(retry.key)
        retry.wait(30)
    finally:
        reg.shutdown()


def test_a_lost_worker_machine_queues_its_run_again_once(env, workers):
    """kill -9 of the whole worker (main process and the horse): nobody is left to say the
    run died; its heartbeat goes stale (REGDEMO_STALE_SECONDS=4) and a server queues it again,
    once. The other worker takes it; lost too, the run fails and says it was retried."""
    reg = cluster.registry_from_environment()
    try:
        run = reg.get_or_start(long_run(30), session="s")
        wait_for(lambda: run.status == RUNNING and run.view().progress, TIMEOUT, "the run to train")
        first, horse = _horse(reg, run.key)
        owner = next(w for w in workers if horse in _descendants(w.process.pid))
        owner.stop()
        second, horse = _horse(reg, run.key, other_than=first)
        assert reg.live.live(run.key).attempts == 1
        wait_for(lambda: run.status == RUNNING and run.view().started is not None, TIMEOUT, "the second attempt")
        other = next(w for w in workers if horse in _descendants(w.process.pid))
        assert other is not owner
        other.stop()
        assert run.wait(60), "the run stayed running after its second worker was lost"
        assert run.status == FAILED and run.view().message == requeue.LOST_AGAIN
        assert "retried once" in render(run.view().message)
    finally:
        reg.shutdown()


def test_a_queued_run_lost_from_redis_is_enqueued_again(env, redis_url, tmp_path):
    """Redis restarted without its data: the run's live row is still queued, its job is gone.
    The server enqueues it again from the row, and a worker started afterwards trains it."""
    import redis

    reg = cluster.registry_from_environment()
    worker = None
    try:
        run = reg.get_or_start(RunConfig(seed=40, train_size=200, epochs=1), session="s")
        assert run.key in cluster.keys_in_broker(reg.pool.queue)
        redis.Redis.from_url(redis_url).flushall()
        assert run.key not in cluster.keys_in_broker(reg.pool.queue)
        wait_for(lambda: run.key in cluster.keys_in_broker(reg.pool.queue), 60, "the job enqueued again")
        assert len(reg.pool.queue.get_job_ids()) == 1  # once
        worker = Worker(env, tmp_path / "worker.log")
        assert run.wait(TIMEOUT) and run.status == FINISHED, run.view().message
    finally:
        reg.shutdown()
        if worker is not None:
            worker.stop()


def test_sigterm_lets_the_worker_finish_its_run_then_exit(env, tmp_path):
    worker = Worker(env, tmp_path / "worker.log", "--concurrency", "1")
    try:
        worker.wait_ready()
        reg = cluster.registry_from_environment()
        try:
            run = reg.get_or_start(RunConfig(seed=60, train_size=200, epochs=3), session="s")
            wait_for(lambda: run.status == RUNNING, TIMEOUT, "the run to start")
            worker.process.send_signal(signal.SIGTERM)
            assert run.wait(TIMEOUT) and run.status == FINISHED, run.view().message
            assert worker.process.wait(60) == 0
            assert f"run {run.key} finished" in worker.text()
        finally:
            reg.shutdown()
    finally:
        worker.stop()


def _descendants(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        p, pp = (int(x) for x in line.split())
        children.setdefault(pp, []).append(p)
    seen, todo = set(), [pid]
    while todo:
        p = todo.pop()
        seen.add(p)
        todo.extend(children.get(p, []))
    return seen


def test_the_cli_trains_through_the_queue(env, workers):
    config = RunConfig(seed=40, train_size=200, epochs=2)
    out = subprocess.run([sys.executable, "-m", "regdemo", "train", "--train-size", "200", "--epochs", "2",
                          "--seed", "40"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert "on the workers" in lines[0] and any(line.lstrip().startswith("epoch") for line in lines)
    assert sum(1 for line in lines if line.split()[:1] in (["1"], ["2"])) == 2  # two epoch rows
    assert lines[-2] == "finished" and "postgresql://" in lines[-1]
    stored = open_store().get(config.key())
    assert stored.status == FINISHED and stored.source == "cli"
    logs = "".join(w.text() for w in workers)
    assert logs.count(f"run {config.key()} finished") == 1
    # --json: the same JSON lines as a local run; --local trains here even with the variables set
    out = subprocess.run([sys.executable, "-m", "regdemo", "train", "--train-size", "200", "--epochs", "1",
                          "--seed", "41", "--json", "--local"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert "run " + RunConfig(seed=41, train_size=200, epochs=1).key() not in "".join(w.text() for w in workers)


def test_redis_down_means_training_unavailable_but_stored_runs_are_served(env, postgres_url, monkeypatch):
    from tools.services import free_port

    stored = make_run()
    open_store().save(stored.view())
    monkeypatch.setenv("REGDEMO_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")
    reg = cluster.registry_from_environment()
    try:
        assert reg.get(stored.key).status == FINISHED  # stored runs still show
        with pytest.raises(RunLimitError) as info:
            reg.get_or_start(RunConfig(seed=50, train_size=200, epochs=1), session="s")
        assert "Training is unavailable" in str(info.value)
        assert reg.live.live(RunConfig(seed=50, train_size=200, epochs=1).key()) is None  # nothing half-made
    finally:
        reg.shutdown()


@pytest.mark.parametrize("variable, value, words", [
    ("REGDEMO_BROKER_URL", "http://queue:6379", "REGDEMO_BROKER_URL must be a Redis URL"),
    ("REGDEMO_BROKER_URL", "redis://:6379/0", "REGDEMO_BROKER_URL names no host"),
    ("REGDEMO_DATABASE_URL", "sqlite:///x", "REGDEMO_DATABASE_URL must be a PostgreSQL URL"),
])
def test_malformed_urls_are_one_clear_error(tmp_path, monkeypatch, variable, value, words):
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))
    monkeypatch.setenv(variable, value)
    with pytest.raises(StoreUnavailable) as info:
        cluster.registry_from_environment()
    assert words in str(info.value)
    if variable == "REGDEMO_DATABASE_URL":  # the worker checks the broker's variable first
        monkeypatch.setenv("REGDEMO_BROKER_URL", "redis://127.0.0.1:1/0")
    out = subprocess.run([sys.executable, "-m", "regdemo", "worker"], cwd=ROOT, env=dict(os.environ),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and words.split()[0] in out.stderr and "Traceback" not in out.stderr


def test_a_run_watched_on_another_server_is_not_reaped(env, workers):
    """Reaping across servers: server a's sessions left, but a session on server b still
    watches, so the run goes on; once nobody anywhere watches, it is stopped."""
    from regdemo.runs.registry import NOBODY_WATCHING

    a = cluster.registry_from_environment(grace_seconds=3)
    b = cluster.registry_from_environment(grace_seconds=3)
    try:
        config = long_run(70)
        run_a = a.get_or_start(config, session="left")
        a.touch(config.key(), "left")  # a page watched it once (the rule applies), then left
        run_b = b.get_or_start(config, session="stays")
        watching = threading.Event()
        watching.set()

        def watch_on_b():  # the session on b redraws every 0.2 s
            while watching.is_set():
                b.touch(config.key(), "stays")
                time.sleep(0.2)

        watcher = threading.Thread(target=watch_on_b, daemon=True)
        watcher.start()
        wait_for(lambda: run_a.status == RUNNING and run_a.view().progress, TIMEOUT, "the run to train")
        time.sleep(8)  # longer than the grace period since a's session left
        assert run_a.status == RUNNING and run_b.status == RUNNING, run_a.view().message
        watching.clear()
        watcher.join(5)
        # b's session leaves too: within the grace period and a few checks, the run is stopped
        assert run_a.wait(60) and run_a.status == "stopped"
        assert run_a.view().message == NOBODY_WATCHING
    finally:
        a.shutdown()
        b.shutdown()


@pytest.mark.parametrize("lang, words", [("en", "cannot reach its run store"), ("zh", "无法连接训练记录库")])
def test_the_page_says_the_store_cannot_be_used_instead_of_a_traceback(tmp_path, monkeypatch, lang, words):
    """A malformed REGDEMO_DATABASE_URL (or a database that does not answer): the page shows
    one message naming the variable; no exception box. Stored-runs pages say the same."""
    from streamlit.testing.v1 import AppTest

    from webapp import state

    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path))
    monkeypatch.setenv("REGDEMO_DATABASE_URL", "mysql://u@h/db")
    state.registry.clear()
    try:
        at = AppTest.from_file(os.path.join(ROOT, "app_pages", "history.py"), default_timeout=30)
        at.session_state["lang"] = lang
        at.run()
        assert not at.exception, at.exception
        text = " ".join(e.value for e in at.error)
        assert words in text and "REGDEMO_DATABASE_URL" in text, text
    finally:
        state.registry.clear()


# -- the Draw page on a cluster -----------------------------------------------------------------------

def _seven() -> list[list[int]]:
    digit = [[0] * 28 for _ in range(28)]
    for col in range(6, 22):
        digit[5][col] = 255  # the bar
    for row in range(6, 24):
        digit[row][21 - (row - 6) // 2] = 255  # the stem
    return digit


def test_the_draw_page_is_answered_beside_the_runs_on_a_cluster(env, workers):
    """Both workers busy training, a drawn digit still gets both nets' probabilities, from the
    answering process beside a worker (runs/answers.py), which loads the weights from the
    shared PostgreSQL store; an unknown run gets its error code, not an exception."""
    store = open_store()
    pair = [RunConfig(seed=70, train_size=100, epochs=1), RunConfig(seed=70, train_size=100, epochs=1, dropout=0.5)]
    for config in pair:
        assert store.save(make_run(config, epochs=(0.8,)).view())
        model = build_model(config.model, config.dropout, config.batchnorm)
        assert store.save_weights(config.key(), inference.weights_bytes(model))
    reg = cluster.registry_from_environment()
    busy = []
    try:
        busy = [reg.get_or_start(long_run(seed), session=f"s{seed}") for seed in (71, 72)]
        wait_for(lambda: all(run.status == RUNNING for run in busy), TIMEOUT, "both workers to train")
        keys = [config.key() for config in pair]
        answers = reg.predict([*keys, "no-such-run"], _seven(), timeout=60)
        for key in keys:
            probs = answers[key]["probs"]
            assert len(probs) == 10 and abs(sum(probs) - 1) < 1e-3, answers
        assert answers["no-such-run"] == {"error": NO_RUN}
        assert all(run.status == RUNNING for run in busy)  # answered beside the runs, not after them
    finally:
        for run in busy:
            reg.stop(run.key)
        reg.shutdown()


def test_n_supervised_workers_share_one_answering_process(env, tmp_path):
    """`worker --concurrency 2`: two RQ workers and one answerer (it holds torch), which
    answers, and goes by itself when the supervising process is gone (killed: nothing of
    ours runs to stop it)."""
    supervisor = Worker(env, tmp_path / "supervisor.log", "--concurrency", "2")
    try:
        deadline = time.monotonic() + 120
        while supervisor.text().count("waiting for runs") < 2:
            assert supervisor.process.poll() is None and time.monotonic() < deadline, supervisor.text()
            time.sleep(0.2)

        def answerers() -> list[int]:
            found = []
            for pid in _descendants(supervisor.process.pid):
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        if b"regdemo.runs.answers" in f.read():
                            found.append(pid)
                except OSError:
                    pass
            return found

        assert len(answerers()) == 1
        dispatcher = cluster.RQDispatcher(env["REGDEMO_BROKER_URL"])
        try:
            assert dispatcher.predict(["no-such-run"], _seven(), timeout=60) == {"no-such-run": {"error": NO_RUN}}
        finally:
            dispatcher.close()
        (answerer,) = answerers()
        family = _descendants(supervisor.process.pid) - {supervisor.process.pid, answerer}
        supervisor.process.kill()
        supervisor.process.wait(10)
        for pid in family:  # its RQ workers, orphaned now: ours to end
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not os.path.exists(f"/proc/{answerer}") or _zombie(answerer), 30,
                 "the answering process to exit")
    finally:
        supervisor.stop()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_no_answerer_on_a_cluster_is_one_clear_message(env):
    """No worker started: the question times out into the page's message, in its language."""
    dispatcher = cluster.RQDispatcher(env["REGDEMO_BROKER_URL"])
    try:
        started = time.monotonic()
        with pytest.raises(PredictError) as raised:
            dispatcher.predict(["some-run"], _seven(), timeout=1.5)
        assert time.monotonic() - started < 10
        assert "No worker answered" in render(raised.value.message, "en")
        assert "。" in render(raised.value.message, "zh")
    finally:
        dispatcher.close()
