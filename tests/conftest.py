"""Fixtures every test folder may use: the CI rule for missing programs, and real Redis and
PostgreSQL (tools.services).

Layout: tests/unit (the library, the CLI and the tools, no page), tests/app (every page through
Streamlit's AppTest; tests/app/conftest.py), tests/browser (the real app in headless Chromium;
tests/browser/conftest.py). What several test modules share that is not a fixture is
tests/support.py; no test module imports another.

Markers (pyproject.toml): `browser`, `slow`, `subprocess` (starts child processes: a
`python -m regdemo` command, worker processes), `services` (starts redis-server or
PostgreSQL; set here on every test that uses those fixtures). `-m "not browser and not services"`
is the quick run.

One redis-server and one PostgreSQL cluster per test session, on free ports on 127.0.0.1 in
temp folders, stopped at the end; each test gets an empty database (postgres_url) and an empty
Redis database (redis_url: FLUSHDB before it).
"""

from __future__ import annotations

import os

import pytest

from tools import services

SERVICE_FIXTURES = {"redis_server", "postgres_server", "redis_url", "postgres_url"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)


def _require(*reasons: str) -> None:
    """Skip the test with the reasons a program it needs is missing ("" = present); under CI
    (CI=true), whose .ci/run installs everything, fail instead: a skipped check there hides a gap."""
    missing = [reason for reason in reasons if reason]
    if not missing:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("needed under CI: " + "; ".join(missing))
    pytest.skip("; ".join(missing))


@pytest.fixture(autouse=True)
def _home(tmp_path, monkeypatch):
    """Every test's REGDEMO_HOME is its own temp folder (a test may set another): nothing a
    test runs -- a page's registry, the CLI -- writes to the user's ~/.local/share/regdemo."""
    monkeypatch.setenv("REGDEMO_HOME", str(tmp_path / "regdemo-home"))


@pytest.fixture(scope="session")
def require():
    """require(chromium_missing(), services.redis_missing(), ...): skip, or fail under CI."""
    return _require


@pytest.fixture
def make_registry():
    """make(**kwargs) -> a Registry (one worker unless told otherwise), shut down after the test."""
    from regdemo.runs.registry import Registry

    made = []

    def make(**kwargs):
        kwargs.setdefault("workers", 1)
        registry = Registry(**kwargs)
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.shutdown()


@pytest.fixture(scope="session")
def redis_server():
    _require(services.redis_missing())
    server = services.RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    _require(services.postgres_missing())
    try:
        import psycopg  # noqa: F401
    except ImportError as err:
        _require(f"psycopg is not installed ({err})")
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
