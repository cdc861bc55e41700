"""Real Redis and PostgreSQL for the tests that need them (regdemo.services).

One redis-server and one PostgreSQL cluster per test session, on free ports on
127.0.0.1 in temp folders, stopped at the end; each test gets an empty database
(postgres_url) and an empty Redis database (redis_url: FLUSHDB before it).
Without the Debian packages these tests skip with the reason; under CI (CI=true),
whose .ci/run installs them, they fail instead: a skipped check there hides a gap.
"""

from __future__ import annotations

import os

import pytest

from regdemo import services


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"this test needs it under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_server():
    reason = services.redis_missing()
    if reason:
        _unavailable(reason)
    server = services.RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    reason = services.postgres_missing()
    if reason:
        _unavailable(reason)
    try:
        import psycopg  # noqa: F401
    except ImportError as err:
        _unavailable(f"psycopg is not installed ({err})")
    server = services.PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server):
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture
def postgres_url(postgres_server):
    return postgres_server.new_database()
