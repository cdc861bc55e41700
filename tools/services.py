"""Throwaway Redis and PostgreSQL servers on 127.0.0.1, for the tests, the load test and
tools/measure_queues.py.

Each starts the Debian binaries (`redis-server`, PostgreSQL's initdb/pg_ctl) in a temp
folder on a free port, bound to 127.0.0.1 only, with no persistence worth keeping
(Redis: --save ''; PostgreSQL: trust auth, fsync off), and stop() removes the folder.
No system service is touched. missing() says why one cannot start (binary not
installed), so a test can skip with that reason.

PostgreSQL refuses to run as root: when we are root, initdb and pg_ctl run as the
`postgres` user (Debian's package creates it) on a folder handed to that user.
"""

from __future__ import annotations

import glob
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, process: subprocess.Popen | None, timeout: float, what: str, log: pathlib.Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not start on 127.0.0.1:{port} within {timeout:.0f} s:\n{text}")


# --- Redis ------------------------------------------------------------------------------------

def redis_missing() -> str:
    if shutil.which("redis-server"):
        return ""
    return "redis-server is not installed (Debian: apt-get install redis-server)"


class RedisServer:
    """`redis-server` on a free port; url is redis://127.0.0.1:PORT/0."""

    def __init__(self):
        reason = redis_missing()
        if reason:
            raise RuntimeError(reason)
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="regdemo-redis-"))
        self.port = free_port()
        self.log_path = self.dir / "redis.log"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--logfile", str(self.log_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            _wait_port(self.port, self.process, START_TIMEOUT_S, "redis-server", self.log_path)
        except BaseException:
            self.stop()
            raise
        self.url = f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# --- PostgreSQL ---------------------------------------------------------------------------------

def pg_bin_dir() -> pathlib.Path | None:
    """The folder with initdb and pg_ctl: $PATH first, else Debian's /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return pathlib.Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                      key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return pathlib.Path(versions[-1]).parent if versions else None


def postgres_missing() -> str:
    if pg_bin_dir() is None:
        return "PostgreSQL's initdb is not installed (Debian: apt-get install postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no `postgres` user to run PostgreSQL as"
    return ""


class PostgresServer:
    """A fresh cluster (initdb) on a free port; url is postgresql://postgres@127.0.0.1:PORT/postgres.
    new_database() hands out empty databases, e.g. one per test."""

    def __init__(self):
        reason = postgres_missing()
        if reason:
            raise RuntimeError(reason)
        bindir = pg_bin_dir()
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="regdemo-pg-"))
        self.data = self.dir / "data"
        self.log_path = self.dir / "postgres.log"
        self.port = free_port()
        self._user = None
        if os.geteuid() == 0:
            # initdb refuses root: the folder goes to `postgres`, the commands run as it.
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            self._user = "postgres"
        self._pg_ctl = str(bindir / "pg_ctl")
        self._run([str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                   "--encoding=UTF8", "--no-locale", "--no-sync"])
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='{self.dir}' "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c shared_buffers=16MB -c max_connections=200")
        try:
            self._run([self._pg_ctl, "-D", str(self.data), "-l", str(self.log_path), "-o", options,
                       "-w", "-t", str(int(START_TIMEOUT_S)), "start"])
        except BaseException:
            self.stop()
            raise
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._databases = 0

    def _run(self, command):
        result = subprocess.run(command, user=self._user, capture_output=True, text=True,
                                timeout=START_TIMEOUT_S * 2, start_new_session=True)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:1])} failed ({result.returncode}):\n"
                               f"{(result.stdout + result.stderr)[-2000:]}")
        return result

    def new_database(self) -> str:
        """An empty database of its own; returns its URL."""
        import psycopg  # noqa: PLC0415 -- psycopg is optional: only a PostgreSQL service needs it

        self._databases += 1
        name = f"regdemo_{os.getpid()}_{self._databases}"
        with psycopg.connect(self.url, autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self._run([self._pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
