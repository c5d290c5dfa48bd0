"""Async SQLAlchemy (psycopg 3) engine/session helpers and Alembic migrations per service."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def async_url(url: str) -> str:
    """Accept postgresql:// or postgresql+psycopg:// URLs; always drive them with psycopg 3."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError("only PostgreSQL URLs are supported")
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def create_engine(url: str, pool_size: int = 10) -> AsyncEngine:
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,  # reconnect by itself after a database restart
        pool_recycle=1800,
        hide_parameters=True,  # statement parameters (password hashes, e-mails) never reach logs or tracebacks
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


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
