"""Single-flight generation across concurrent requests and replicas, coordinated through PostgreSQL.

`SingleFlight.run(key, lookup, produce)` returns what `lookup` finds, or makes sure that exactly one caller,
whichever replica it runs on, calls `produce` while the others wait for its result:

1. `lookup()`: a stored result wins at once (the cache hit path never touches the claims table).
2. Claim: `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE <the row is not held>` in one statement. It
   inserts a fresh claim, or takes over one that failed, finished without a visible result, or whose
   lease expired (its holder died). PostgreSQL serializes conflicting upserts on the row, so exactly one
   caller gets `RETURNING` back. Times come from the database clock, never from a replica's.
3. The holder looks up once more (a result may have landed between its lookup and its claim), then runs
   `produce` — which stores the result — while a heartbeat extends the lease, and marks the claim `done`.
   If `produce` raises, the claim is marked `failed` with the error (code, reason, message), nothing is
   stored, and the next request takes the claim over and retries.
4. Everyone else polls (`poll_s`): a result → return it; the claim failed → raise the holder's error (so a
   burst of waiters does not turn into a burst of retries); the lease expired → take over.

Within one process, callers of the same key share one task (no need to poll the database from each), and
that task is shielded: a caller that goes away does not cancel a generation others are waiting for.

Metrics (lmw_common.metrics): the waits for a generation run by another caller of this process or by
another replica, and how long the former waited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lmw_common.errors import DomainError, Internal, Unavailable, error_for
from lmw_common.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")

_ACQUIRE = text(
    """
    INSERT INTO generation_claims AS c (key, holder, state, attempt, lease_expires_at, created_at, updated_at)
    VALUES (:key, :holder, 'running', 1, now() + make_interval(secs => :lease_s), now(), now())
    ON CONFLICT (key) DO UPDATE
       SET holder = EXCLUDED.holder, state = 'running', attempt = c.attempt + 1,
           lease_expires_at = EXCLUDED.lease_expires_at, error_code = NULL, error_reason = NULL,
           error_message = NULL, updated_at = now()
     WHERE c.state <> 'running' OR c.lease_expires_at < now()
    RETURNING attempt
    """
)
_HEARTBEAT = text(
    """
    UPDATE generation_claims SET lease_expires_at = now() + make_interval(secs => :lease_s), updated_at = now()
     WHERE key = :key AND holder = :holder AND attempt = :attempt AND state = 'running'
    """
)
_FINISH = text(
    """
    UPDATE generation_claims SET state = 'done', updated_at = now()
     WHERE key = :key AND holder = :holder AND attempt = :attempt
    """
)
_FAIL = text(
    """
    UPDATE generation_claims
       SET state = 'failed', error_code = :code, error_reason = :reason, error_message = :message,
           lease_expires_at = now(), updated_at = now()
     WHERE key = :key AND holder = :holder AND attempt = :attempt
    """
)
# Cancelled (e.g. shutdown): leave the claim running with an expired lease, so a waiter takes over at once.
_RELEASE = text(
    """
    UPDATE generation_claims SET lease_expires_at = now(), updated_at = now()
     WHERE key = :key AND holder = :holder AND attempt = :attempt AND state = 'running'
    """
)
_PEEK = text(
    """
    SELECT state, attempt, lease_expires_at < now() AS expired, error_code, error_reason, error_message
      FROM generation_claims WHERE key = :key
    """
)


@dataclass(frozen=True, slots=True)
class Lease:
    key: str
    holder: str
    attempt: int


@dataclass(frozen=True, slots=True)
class ClaimState:
    state: str
    attempt: int
    expired: bool
    error_code: str | None
    error_reason: str | None
    error_message: str | None

    def error(self) -> DomainError:
        return error_for(
            self.error_code or "INTERNAL",
            self.error_message or "generation failed",
            self.error_reason or "GENERATION_FAILED",
        )


class SingleFlight(Generic[T]):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        lease_s: float = 60.0,
        poll_s: float = 0.15,
        wait_timeout_s: float = 300.0,
        holder_prefix: str = "",
        metrics: Metrics | None = None,
    ) -> None:
        metrics = metrics or Metrics()
        self._waits = metrics.counter(
            "lmw_single_flight_waits",
            "Requests that waited for a generation another caller runs (in this process or another replica)",
            ["holder"],
        )
        self._wait_seconds = metrics.histogram(
            "lmw_single_flight_wait_duration_seconds", "Time a request of this process waited for another's"
        )
        self._sessions = sessions
        self._lease_s = lease_s
        self._poll_s = poll_s
        self._wait_timeout_s = wait_timeout_s
        self.holder = f"{holder_prefix or socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._inflight: dict[str, asyncio.Task] = {}
        self.produced = 0  # how many times this instance ran a producer (observability, tests)

    async def run(
        self,
        key: str,
        lookup: Callable[[], Awaitable[T | None]],
        produce: Callable[[], Awaitable[T]],
    ) -> T:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._run(key, lookup, produce), name=f"single-flight {key}")
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._forget(key, t))
            return await asyncio.shield(task)
        self._waits.labels("process").inc()
        with self._wait_seconds.time():
            return await asyncio.shield(task)

    def _forget(self, key: str, task: asyncio.Task) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: every caller may have gone away

    async def close(self) -> None:
        """Cancel local generations (their claims are released for another replica to take over)."""
        tasks = list(self._inflight.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task

    async def _run(
        self, key: str, lookup: Callable[[], Awaitable[T | None]], produce: Callable[[], Awaitable[T]]
    ) -> T:
        deadline = time.monotonic() + self._wait_timeout_s
        may_claim = True
        while True:
            found = await lookup()
            if found is not None:
                return found
            if may_claim:
                lease = await self.try_acquire(key)
                if lease is not None:
                    return await self._produce(lease, lookup, produce)
            claim = await self.peek(key)
            if claim is not None and claim.state == "failed":
                raise claim.error()  # the generation we waited for failed; the next request retries
            if claim is None or claim.state == "done" or claim.expired:
                # Gone, finished (its result shows up in the next lookup) or its holder died: claim it.
                may_claim = True
                if claim is not None and claim.state == "running":
                    log.warning("generation lease expired, taking over", extra={"fields": {"key": key}})
            else:
                if may_claim:  # once per wait
                    self._waits.labels("replica").inc()
                may_claim = False
            if time.monotonic() > deadline:
                raise Unavailable("timed out waiting for a generation in progress", "GENERATION_TIMEOUT")
            await asyncio.sleep(self._poll_s)

    async def _produce(
        self, lease: Lease, lookup: Callable[[], Awaitable[T | None]], produce: Callable[[], Awaitable[T]]
    ) -> T:
        heartbeat = asyncio.create_task(self._heartbeat(lease))
        try:
            found = await lookup()  # a result may have been stored between our lookup and our claim
            if found is None:
                self.produced += 1
                found = await produce()
        except asyncio.CancelledError:
            heartbeat.cancel()
            with contextlib.suppress(Exception):  # at worst the lease runs out by itself
                await asyncio.shield(self._write(_RELEASE, lease))
            raise
        except Exception as exc:
            heartbeat.cancel()
            error = (
                exc if isinstance(exc, DomainError) else Internal("generation failed", "GENERATION_FAILED")
            )
            if not isinstance(exc, DomainError):
                log.exception("generation failed", extra={"fields": {"key": lease.key}})
            await self._write(
                _FAIL,
                lease,
                code=error.code.name,
                reason=error.reason[:64],
                message=error.message[:2000],
            )
            raise
        heartbeat.cancel()
        await self._write(_FINISH, lease)
        return found

    async def _heartbeat(self, lease: Lease) -> None:
        interval = max(self._lease_s / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                if not await self._write(_HEARTBEAT, lease, lease_s=self._lease_s):
                    log.warning("generation lease lost", extra={"fields": {"key": lease.key}})
                    return
            except Exception:  # a missed beat is retried; the lease is long enough for a few
                log.warning("generation heartbeat failed", exc_info=True)

    # the claims table

    async def try_acquire(self, key: str) -> Lease | None:
        async with self._sessions.begin() as session:
            row = (
                await session.execute(_ACQUIRE, {"key": key, "holder": self.holder, "lease_s": self._lease_s})
            ).first()
        return Lease(key, self.holder, row[0]) if row else None

    async def peek(self, key: str) -> ClaimState | None:
        async with self._sessions() as session:
            row = (await session.execute(_PEEK, {"key": key})).first()
        return ClaimState(*row) if row else None

    async def _write(self, statement, lease: Lease, **params) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                statement, {"key": lease.key, "holder": lease.holder, "attempt": lease.attempt, **params}
            )
        return result.rowcount == 1
