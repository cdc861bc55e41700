"""The Draw page's question on a cluster: a Redis list to an answering process beside each worker.

On one server the question goes to the local pool's workers over Unix sockets (predict.py).
A cluster's workers are RQ workers on other machines, and each is blocked on the horse it
forked for the run it trains: a question queued as an RQ job would wait behind a 20-s run.
So `python -m regdemo worker` also starts one answering process (`python -m
regdemo.runs.answers`), which waits on its own Redis list and loads the finished runs' weights
from the shared store; whichever answerer is free takes a question.

Why a process of its own and not a thread of the RQ worker: the worker forks a horse per run,
and a horse forked from a process that has run torch's OpenMP thread pool can hang in it. The
answerer is spawned (fork + exec) before any run, and it ends when its worker does.

  question  RPUSH regdemo:predict {"reply": token, "until": epoch seconds, "keys": [...], "pixels": [784]}
  answer    RPUSH regdemo:predict:reply:<token> {"results": {...}} (predict.py's answer; kept 60 s)
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
import time
import uuid

from regdemo import settings
from regdemo.messages import msg
from regdemo.runs.predict import PredictError, request

log = logging.getLogger(__name__)

QUESTIONS = "regdemo:predict"
REPLY_PREFIX = "regdemo:predict:reply:"
REPLY_KEEP_S = 60  # an answer nobody collects (the page gave up) expires
WAIT_S = 1  # each blocking wait, short: under the client's socket timeout, and the parent checked as often


def ask(connection, keys: list[str], pixels, timeout: float = 5.0) -> dict[str, dict]:
    """{key: {"probs": [...]} or {"error": code}} from the first free answerer (the server's
    side: no torch). Raises PredictError when none answers within `timeout` seconds (none
    started yet, or Redis is down)."""
    import redis  # noqa: PLC0415 -- redis is optional: only a cluster installs it

    token = uuid.uuid4().hex
    question = {"reply": token, "until": time.time() + timeout, **request(keys, pixels)}
    deadline = time.monotonic() + timeout
    try:
        connection.rpush(QUESTIONS, json.dumps(question))
        while time.monotonic() < deadline:
            item = connection.blpop(REPLY_PREFIX + token, timeout=WAIT_S)
            if item is not None:
                return json.loads(item[1])["results"]
    except (redis.RedisError, ValueError, KeyError):
        pass
    raise PredictError(msg("draw.no_worker"))


def serve(url: str, parent: int) -> int:
    """Answer questions until the worker process `parent` is gone."""
    import redis  # noqa: PLC0415 -- redis is optional: only a cluster installs it

    from regdemo.runs.inference import Models  # noqa: PLC0415 -- torch lives here, not in the server's import
    from regdemo.storage.stores import open_store  # noqa: PLC0415 -- with the store's driver, only when serving

    connection = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=WAIT_S + 5)
    models = Models(open_store())
    while os.getppid() == parent:
        try:
            item = connection.blpop(QUESTIONS, timeout=WAIT_S)
        except redis.RedisError:  # Redis restarting: try again, as the RQ worker does
            time.sleep(WAIT_S)
            continue
        if item is None:
            continue
        question = None
        try:
            question = json.loads(item[1])
            if question.get("until", math.inf) < time.time():
                continue  # the page stopped waiting for it
            reply = {"results": models.answer(question["keys"], question["pixels"])}
        except Exception as err:  # noqa: BLE001 -- a bad question must not end the answerer
            log.exception("draw: answering failed")
            reply = {"error": f"{type(err).__name__}: {err}"}
        if isinstance(question, dict) and "reply" in question:
            key = REPLY_PREFIX + str(question["reply"])
            connection.rpush(key, json.dumps(reply))
            connection.expire(key, REPLY_KEEP_S)
    return 0


def start(url: str) -> subprocess.Popen:
    """The answering process of the calling worker (the URL travels in its environment, not in
    its command line, where `ps` would show a password)."""
    env = dict(os.environ, REGDEMO_BROKER_URL=url)
    return subprocess.Popen([sys.executable, "-m", "regdemo.runs.answers", str(os.getpid())], env=env,
                            stdin=subprocess.DEVNULL)


if __name__ == "__main__":
    sys.exit(serve(settings.read().broker_url, int(sys.argv[1])))
