"""The load test (tools.loadtest): its pass/fail logic, and a small real run.

The small run is the CI size: 4 browser sessions, 2 distinct configs, one-epoch runs of
100 digits against a real `streamlit run` server on 127.0.0.1. The class size (30 sessions,
10 configs) is `python -m tools.loadtest`; its numbers are in docs/load.md.
"""

from __future__ import annotations

import os

import pytest

from regdemo.training.config import from_query_params
from tools import classroom, loadtest, procmem
from tools.appserver import chromium_missing


def clean_result(**changes) -> classroom.Result:
    result = classroom.Result(sessions=4, configs=2, epochs=1, train_size=100, workers=1, cpus=2,
                             sessions_started=4, sessions_finished=4, stored_runs=2, stored_finished=2,
                             rss_start_mb=60, rss_peak_mb=500, rss_end_mb=480, max_rss_mb=1500)
    for name, value in changes.items():
        setattr(result, name, value)
    classroom.judge(result)
    return result


def test_configs_are_distinct_valid_links():
    links = [classroom.config_params(i, epochs=2, train_size=100) for i in range(10)]
    configs = []
    for params in links:
        config, warnings = from_query_params(params)
        assert warnings == []
        configs.append(config)
    assert len({c.key() for c in configs}) == 10


def test_a_clean_run_passes_and_each_fault_fails_it():
    assert clean_result().passed
    assert "exception" in clean_result(exceptions=1).problems[0]
    assert "traceback" in clean_result(server_tracebacks=2).problems[0]
    assert "saw their run finish" in clean_result(sessions_finished=3).problems[0]
    assert "saw their run start" in clean_result(sessions_started=3).problems[0]
    assert "expected 2" in clean_result(stored_finished=3).problems[0]  # single-flight broken
    assert "memory" in clean_result(rss_peak_mb=2000).problems[0]
    table = clean_result().markdown()
    assert "| browser sessions / distinct configs | 4 / 2 |" in table and "60 / 500 / 480 MB" in table


def test_rss_of_a_live_and_a_gone_process():
    assert procmem.rss_mb(os.getpid()) > 10
    assert procmem.rss_mb(2**22 + 12345) == 0.0


@pytest.mark.browser
@pytest.mark.slow
def test_small_class_on_a_real_server(tmp_path, require):
    require(chromium_missing())
    result = loadtest.run_load(sessions=4, configs=2, epochs=1, train_size=100, workers=1, timeout=600,
                               home=str(tmp_path / "home"))
    assert result.passed, (result.problems, result.markdown())
    assert result.exceptions == 0 and result.sessions_finished == 4 and result.stored_finished == 2
