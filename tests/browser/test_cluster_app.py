"""Two real app servers (`streamlit run`) and two `python -m regdemo worker` processes on
one redis-server and one PostgreSQL: browser sessions on both servers press Train on
overlapping configs; every page sees its run finish, each distinct config is trained
exactly once, and no page shows an exception (tools.loadtest --cluster at a tiny size).

Needs Chromium, redis-server and PostgreSQL: skips with the reason without them, fails
under CI (CI=true), whose .ci/run installs all three.
"""

from __future__ import annotations

import pytest

from tools import services
from tools.appserver import chromium_missing

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.subprocess]


def test_two_servers_two_workers_overlapping_sessions(require):
    require(chromium_missing(), services.redis_missing(), services.postgres_missing())
    from tools.loadtest_cluster import run_cluster_load

    # 4 sessions, 2 configs: sessions 0 and 1 (configs 0, 1) open server 1, sessions 2 and 3
    # (configs 0, 1 again) server 2: each config is asked for on both servers.
    result = run_cluster_load(sessions=4, configs=2, epochs=1, train_size=100, servers=2, workers=2, timeout=600)
    assert result.passed, result.load.problems
    assert result.trained_once and result.runs_trained == 2
    assert result.load.sessions_finished == 4 and result.load.stored_finished == 2
