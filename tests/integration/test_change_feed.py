"""lmw_common.change_feed against a real PostgreSQL: notices reach every listener, and a listener that
loses its connection says so (its owner drops its cache) and listens again."""

from __future__ import annotations

import asyncio

import psycopg

from lmw_common.change_feed import ChangeFeed
from lmw_common.db import Database


class Listener:
    def __init__(self) -> None:
        self.heard: list[str] = []
        self.resets = 0
        self.news = asyncio.Event()

    def on_change(self, key: str) -> None:
        self.heard.append(key)
        self.news.set()

    def on_reset(self) -> None:
        self.resets += 1

    async def wait_for(self, key: str, timeout_s: float = 60.0) -> None:
        async with asyncio.timeout(timeout_s):
            while key not in self.heard:
                self.news.clear()
                await self.news.wait()


async def test_every_replica_hears_a_notice_and_listens_again_after_losing_its_connection(pg_url):
    db = Database(pg_url)
    replicas = [ChangeFeed(db, pg_url, "test_feed", retry_s=0.1) for _ in range(2)]
    listeners = [Listener(), Listener()]
    try:
        for feed, listener in zip(replicas, listeners, strict=True):
            feed.start(listener.on_change, listener.on_reset)
        for feed in replicas:
            await asyncio.wait_for(feed.listening.wait(), 60)

        await replicas[0].publish("learner-1/course-1")
        for listener in listeners:
            await listener.wait_for("learner-1/course-1")

        # The second replica's listening connection is cut (a database restart, a network blip).
        resets_before = listeners[1].resets
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query ILIKE 'LISTEN%%' AND pid <> pg_backend_pid() AND datname = current_database()"
            )
        async with asyncio.timeout(60):
            while listeners[1].resets < resets_before + 2 or not replicas[1].listening.is_set():
                await asyncio.sleep(0.05)  # one reset when the connection drops, one when LISTEN is back

        await replicas[0].publish("learner-2/course-1")
        await listeners[1].wait_for("learner-2/course-1")
    finally:
        for feed in replicas:
            await feed.close()
        await db.dispose()


async def test_a_notice_that_cannot_be_sent_is_logged_not_raised(pg_url, caplog):
    """The change it tells of is already stored; other replicas see it when their cache entries expire."""
    name = pg_url.rsplit("/", 1)[1].split("?")[0]
    missing = pg_url.replace(f"/{name}", "/no_such_database", 1)
    db = Database(missing)
    try:
        await ChangeFeed(db, missing, "test_feed").publish("learner-1/course-1")
    finally:
        await db.dispose()
    assert any("change notice on test_feed not sent" in r.getMessage() for r in caplog.records)
