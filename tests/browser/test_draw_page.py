"""The Draw page in Chromium: a stroke drawn with the mouse on the canvas gets both nets'
probabilities back from the worker process, in English and Chinese, on one server and on a
cluster (Redis, PostgreSQL, a `regdemo worker`)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import pytest
import redis
from support import make_run

from regdemo.i18n import translate
from regdemo.runs import inference
from regdemo.storage.postgres import PostgresStore
from regdemo.storage.sqlite import RunStore
from regdemo.teaching.lessons.catalog import LESSONS
from regdemo.training.models import build_model
from tools import procmem
from tools.appserver import (
    ROOT,
    charts_fingerprint,
    draw_on_canvas,
    open_app,
    shown_errors,
    start_server,
    wait_charts_change,
    wait_rendered,
)

PAIR = LESSONS["dropout"]  # the page's first lesson


def _store_pair(store) -> None:
    """The dropout pair, finished, with weights (untrained nets: what they answer does not
    matter here, that both answer does)."""
    for config in (PAIR.baseline, PAIR.treated):
        run = make_run(config, epochs=(0.8,) * config.epochs)
        assert store.save(run.view())
        model = build_model(config.model, config.dropout, config.batchnorm)
        assert store.save_weights(run.key, inference.weights_bytes(model))


@pytest.fixture(scope="module", params=["one server", "cluster"])
def app(request, browser, tmp_path_factory):
    """A server whose run store already holds the dropout pair: on one server (its SQLite store,
    its own worker processes) or on a cluster (PostgreSQL, a `python -m regdemo worker` with its
    answering process on a real redis-server; the server only asks through Redis)."""
    home = tmp_path_factory.mktemp("regdemo-home")
    extra, worker = {}, None
    if request.param == "cluster":
        broker, database = request.getfixturevalue("redis_server"), request.getfixturevalue("postgres_server")
        extra = {"REGDEMO_BROKER_URL": broker.url, "REGDEMO_DATABASE_URL": database.new_database()}
        client = redis.Redis.from_url(broker.url)
        client.flushdb()  # the session's redis-server: no other test's jobs or questions left in it
        client.close()
        store = PostgresStore(extra["REGDEMO_DATABASE_URL"])
        _store_pair(store)
        store.close()
        log = home / "worker.log"
        worker = subprocess.Popen([sys.executable, "-m", "regdemo", "worker"], cwd=ROOT, stdin=subprocess.DEVNULL,
                                  env=dict(os.environ, REGDEMO_HOME=str(home), **extra),
                                  stdout=open(log, "w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while "waiting for runs" not in log.read_text():
            assert worker.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    else:
        _store_pair(RunStore(home / "runs.sqlite3"))
    server = start_server(home, workers=1, extra_env=extra)
    yield server
    server.stop()
    if worker is not None:
        for pid in procmem.tree(worker.pid)[::-1]:  # the worker and its answering process
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.wait(10)
    assert "Traceback" not in server.log(), server.log()[-4000:]


def chart_titles(page) -> list[str]:
    return page.locator('[data-testid="stVegaLiteChart"]').evaluate_all(
        "els => els.map(el => (el.querySelector('svg .role-title-text') || {}).textContent || '')")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_drawn_stroke_gets_both_nets_probabilities(page, app, expect, lang):
    open_app(page, f"{app.url}/draw?lang={lang}")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(translate("msg.draw.empty", lang))).to_be_visible()
    draw_on_canvas(page)
    charts = main.locator('[data-testid="stVegaLiteChart"] svg')
    expect(charts).to_have_count(2)
    without = translate("pair.baseline", lang)
    with_it = translate("pair.treated", lang, what=translate("pair.what.dropout", lang))
    separator = "：" if lang == "zh" else ": "
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] svg .role-title-text')"
                           ".length == 2")
    titles = chart_titles(page)
    assert titles[0].startswith(without + separator) and titles[1].startswith(with_it + separator), titles
    answered = re.compile(re.escape(translate("draw.answered", lang, ms="X")).replace("X", r"(\d+)"))
    expect(main.get_by_text(answered)).to_be_visible()  # the first answer waited for the worker to start
    expect(main.get_by_text(translate("draw.prepared", lang))).to_be_visible()
    # With the worker up: a move button redraws both answers for the moved digit.
    before = charts_fingerprint(page)
    main.get_by_role("button", name=translate("draw.right", lang), exact=True).click()
    clicked = time.perf_counter()
    wait_charts_change(page, before)
    seconds = time.perf_counter() - clicked
    expect(main.get_by_text(translate("draw.moved", lang, right=2, down=0, degrees=0))).to_be_visible()
    wait_rendered(page)  # the caption under the charts is drawn after them
    worker_ms = int(answered.search(main.get_by_text(answered).inner_text()).group(1))
    print(f"{lang}: click to both charts redrawn {1000 * seconds:.0f} ms; the worker answered in {worker_ms} ms")
    assert worker_ms < 1000  # generous on a shared machine; tools/measure_draw.py measures it
    expect(charts).to_have_count(2)
    assert shown_errors(page) == []
