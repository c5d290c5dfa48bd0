"""Change notices between the replicas of one service, over its own PostgreSQL (LISTEN/NOTIFY).

A replica that changes something other replicas may hold in an in-process cache publishes the key; every
replica (itself included) hears it a few milliseconds after the commit and drops that key. Notices are best
effort: PostgreSQL drops them for a listener that is not connected, so whenever the listening connection is
(re)established everything is dropped (`on_reset`), and the caches' TTLs bound what a lost notice can cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import psycopg
from psycopg import sql
from sqlalchemy import text

from lmw_common.db import Database, libpq_url

log = logging.getLogger(__name__)

_NOTIFY = text("SELECT pg_notify(:channel, :key)")


class ChangeFeed:
    def __init__(self, db: Database, url: str, channel: str, retry_s: float = 1.0) -> None:
        self._db = db
        self._conninfo = libpq_url(url)
        self._channel = channel
        self._retry_s = retry_s
        self._task: asyncio.Task | None = None
        self.listening = asyncio.Event()

    async def publish(self, key: str) -> None:
        """Tell every replica that `key` changed (call it after the change is committed). A notice that
        cannot be sent is logged, not raised: the change itself is stored, and TTLs bound the staleness."""
        try:
            await self._db.read(_NOTIFY, {"channel": self._channel, "key": key})
        except Exception as exc:  # noqa: BLE001
            log.warning("change notice on %s not sent: %s", self._channel, exc)

    def start(self, on_change: Callable[[str], None], on_reset: Callable[[], None]) -> None:
        """Listen in the background: `on_change(key)` for every notice, `on_reset()` whenever notices may
        have been missed."""
        self._task = asyncio.create_task(
            self._listen(on_change, on_reset), name=f"change feed {self._channel}"
        )

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self, on_change: Callable[[str], None], on_reset: Callable[[], None]) -> None:
        while True:
            try:
                connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                async with connection:
                    await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    on_reset()  # whatever changed before LISTEN took effect was not heard
                    self.listening.set()
                    async for notice in connection.notifies():
                        on_change(notice.payload)
            except Exception as exc:  # noqa: BLE001  (the database restarted, or a notice could not be read)
                log.warning("change feed %s interrupted: %s", self._channel, exc)
            finally:
                self.listening.clear()
                on_reset()
            await asyncio.sleep(self._retry_s)
