"""Async SQLAlchemy (psycopg 3) engine/session helpers and Alembic migrations per service."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Executable, Row
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from lmw_common import telemetry


def async_url(url: str) -> str:
    """Accept postgresql:// or postgresql+psycopg:// URLs; always drive them with psycopg 3."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("only PostgreSQL URLs are supported")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same database as a plain libpq URL (for a psycopg connection of its own)."""
    return make_url(async_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(url: str, pool_size: int = 10, **options: Any) -> AsyncEngine:
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        hide_parameters=True,  # statement parameters (password hashes, e-mails) never reach logs or tracebacks
        **{"pool_pre_ping": True, **options},  # reconnect by itself after a database restart
    )
    telemetry.trace_engine(engine)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """One service's PostgreSQL, two ways in:

    - `sessions`: units of work (transactions). Connections are pinged on checkout, so a restarted
      database costs no request.
    - `read()`: one statement, on its own pool of autocommit connections. A single statement sees one
      snapshot by itself, so it needs neither BEGIN/ROLLBACK nor the ping: three round trips less than a
      session, a third of the CPU. A statement that finds its connection dropped (the database restarted)
      is run once more on a fresh one (reads are idempotent).
    """

    def __init__(self, url: str, pool_size: int = 10) -> None:
        self.engine = create_engine(url, pool_size)
        self.sessions = session_factory(self.engine)
        self._reads = create_engine(url, pool_size, pool_pre_ping=False, isolation_level="AUTOCOMMIT")

    async def read(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Sequence[Row]:
        try:
            return await self._read_once(statement, params)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            return await self._read_once(statement, params)  # the pool dropped every stale connection

    async def _read_once(self, statement: Executable, params: Mapping[str, Any] | None) -> Sequence[Row]:
        async with self._reads.connect() as connection:
            return (await connection.execute(statement, params)).all()

    def pools(self) -> dict[str, Any]:
        """Its two connection pools by name (for lmw_common.metrics)."""
        return {"sessions": self.engine.pool, "reads": self._reads.pool}

    async def dispose(self) -> None:
        await self.engine.dispose()
        await self._reads.dispose()


def upgrade(url: str, migrations_dir: Path) -> None:
    """Run the service's Alembic migrations to head (blocking; call via asyncio.to_thread)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    command.upgrade(config, "head")


async def upgrade_async(url: str, migrations_dir: Path) -> None:
    await asyncio.to_thread(upgrade, url, migrations_dir)
