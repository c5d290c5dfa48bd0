"""The PostgreSQL single-flight helper against a real PostgreSQL: exactly one producer however many callers
(and replicas: each SingleFlight instance below stands for one), failures never cached, expired leases
taken over."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from lmw_common.db import create_engine, session_factory, upgrade_async
from lmw_common.errors import FailedPrecondition, Unavailable
from orchestrator_svc.adapters.single_flight import SingleFlight
from orchestrator_svc.bootstrap import MIGRATIONS


@pytest.fixture
async def sessions(pg_url):
    await upgrade_async(pg_url, MIGRATIONS)
    engine = create_engine(pg_url)
    yield session_factory(engine)
    await engine.dispose()


class Store:
    """Where producers put their results (what the content/quiz tables are for the service)."""

    def __init__(self) -> None:
        self.results: dict[str, str] = {}
        self.produced = 0

    async def lookup(self, key: str) -> str | None:
        return self.results.get(key)

    def producer(
        self,
        key: str,
        value: str,
        delay: float = 0.3,
        error: Exception | None = None,
        gate: asyncio.Event | None = None,
    ):
        """A producer that takes `delay` seconds, or, given a `gate`, until the test sets it."""

        async def produce() -> str:
            self.produced += 1
            if gate is not None:
                await gate.wait()
            else:
                await asyncio.sleep(delay)
            if error is not None:
                raise error
            self.results[key] = value
            return value

        return produce


def flights(sessions, n: int, **kwargs) -> list[SingleFlight]:
    # A lease far longer than a heartbeat can stall on a busy machine; the tests of expiry say otherwise.
    kwargs = {"lease_s": 60.0, "poll_s": 0.05, **kwargs}
    return [SingleFlight(sessions, holder_prefix=f"replica{i}", **kwargs) for i in range(n)]


DEADLINE_S = 60.0


async def claimed(flight: SingleFlight, key: str) -> None:
    """Wait until a generation of `key` holds its claim."""
    deadline = time.monotonic() + DEADLINE_S
    while (claim := await flight.peek(key)) is None or claim.state != "running":
        assert time.monotonic() < deadline, f"{key} was not claimed within {DEADLINE_S} s"
        await asyncio.sleep(0.02)


def sees_it_running(flight: SingleFlight, key: str) -> asyncio.Event:
    """An event set once `flight` has looked at the claim of `key` and found it held (it waits from then on)."""
    seen = asyncio.Event()
    peek = flight.peek

    async def spy(looked_up: str):
        claim = await peek(looked_up)
        if looked_up == key and claim is not None and claim.state == "running":
            seen.set()
        return claim

    flight.peek = spy
    return seen


async def waiting(seen: asyncio.Event) -> None:
    await asyncio.wait_for(seen.wait(), DEADLINE_S)


async def test_fifty_claimers_on_fifty_replicas_run_the_producer_once(sessions):
    store = Store()
    replicas = flights(sessions, 50)
    results = await asyncio.gather(
        *(
            f.run("k1", lambda: store.lookup("k1"), store.producer("k1", f"made by {i}"))
            for i, f in enumerate(replicas)
        )
    )
    assert store.produced == 1
    assert len(set(results)) == 1
    assert sum(f.produced for f in replicas) == 1
    claim = await replicas[0].peek("k1")
    assert claim.state == "done" and claim.attempt == 1


async def test_fifty_callers_in_one_process_share_one_generation(sessions):
    store = Store()
    (flight,) = flights(sessions, 1)
    results = await asyncio.gather(
        *(flight.run("k2", lambda: store.lookup("k2"), store.producer("k2", f"v{i}")) for i in range(50))
    )
    assert store.produced == 1 and len(set(results)) == 1


async def test_a_cached_result_never_touches_the_claims(sessions):
    store = Store()
    store.results["k3"] = "cached"
    (flight,) = flights(sessions, 1)
    assert await flight.run("k3", lambda: store.lookup("k3"), store.producer("k3", "new")) == "cached"
    assert store.produced == 0 and await flight.peek("k3") is None


async def test_a_failure_is_not_cached_waiters_get_it_and_the_next_request_retries(sessions):
    store = Store()
    replicas = flights(sessions, 10)
    boom = Unavailable("sme_svc is unavailable", "DEPENDENCY_UNAVAILABLE")
    outcomes = await asyncio.gather(
        *(f.run("k4", lambda: store.lookup("k4"), store.producer("k4", "x", error=boom)) for f in replicas),
        return_exceptions=True,
    )
    assert store.produced == 1, "waiters must not retry a generation that just failed"
    assert all(isinstance(o, Unavailable) for o in outcomes)
    assert {o.reason for o in outcomes} == {"DEPENDENCY_UNAVAILABLE"}  # rebuilt from the claim row
    claim = await replicas[0].peek("k4")
    assert claim.state == "failed" and claim.error_reason == "DEPENDENCY_UNAVAILABLE"
    assert "k4" not in store.results

    value = await replicas[3].run("k4", lambda: store.lookup("k4"), store.producer("k4", "second try"))
    assert value == "second try" and store.produced == 2
    claim = await replicas[0].peek("k4")
    assert claim.state == "done" and claim.attempt == 2 and claim.error_code is None


async def test_unexpected_errors_become_internal_for_waiters(sessions):
    store = Store()
    a, b = flights(sessions, 2)
    gate = asyncio.Event()
    failing = store.producer("k5", "x", error=RuntimeError("secret"), gate=gate)
    first = asyncio.create_task(a.run("k5", lambda: store.lookup("k5"), failing))
    await claimed(a, "k5")
    seen = sees_it_running(b, "k5")
    second = asyncio.create_task(b.run("k5", lambda: store.lookup("k5"), store.producer("k5", "y")))
    await waiting(seen)
    gate.set()
    with pytest.raises(RuntimeError):
        await first
    with pytest.raises(Exception) as waited:
        await second
    assert waited.value.reason == "GENERATION_FAILED" and "secret" not in waited.value.message
    assert store.produced == 1


async def test_domain_errors_keep_their_code_for_waiters(sessions):
    store = Store()
    a, b = flights(sessions, 2)
    error = FailedPrecondition("objectives are not approved", "OBJECTIVES_NOT_APPROVED")
    gate = asyncio.Event()
    first = asyncio.create_task(
        a.run("k6", lambda: store.lookup("k6"), store.producer("k6", "", error=error, gate=gate))
    )
    await claimed(a, "k6")
    seen = sees_it_running(b, "k6")
    second = asyncio.create_task(b.run("k6", lambda: store.lookup("k6"), store.producer("k6", "y")))
    await waiting(seen)
    gate.set()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(r, FailedPrecondition) for r in results)
    assert results[1].reason == "OBJECTIVES_NOT_APPROVED"


async def test_an_expired_lease_is_taken_over(sessions):
    store = Store()
    dead, alive = flights(sessions, 2, lease_s=60)
    lease = await dead.try_acquire("k7")  # a holder that crashed right after claiming: no heartbeat
    assert lease is not None
    assert await alive.try_acquire("k7") is None  # held
    async with sessions.begin() as session:  # its lease runs out (no waiting for the clock)
        await session.execute(
            text(
                "UPDATE generation_claims SET lease_expires_at = now() - interval '1 second' WHERE key = 'k7'"
            )
        )
    value = await alive.run("k7", lambda: store.lookup("k7"), store.producer("k7", "taken over", delay=0))
    assert value == "taken over" and store.produced == 1
    claim = await alive.peek("k7")
    assert claim.state == "done" and claim.attempt == 2


async def test_a_live_holder_keeps_its_lease_with_heartbeats(sessions):
    store = Store()
    a, b = flights(sessions, 2, lease_s=3.0)  # a heartbeat every second
    gate = asyncio.Event()
    slow = asyncio.create_task(
        a.run("k8", lambda: store.lookup("k8"), store.producer("k8", "slow", gate=gate))
    )
    await claimed(a, "k8")

    async def lease_expiry():
        async with sessions() as session:
            query = text("SELECT lease_expires_at FROM generation_claims WHERE key = 'k8'")
            return (await session.execute(query)).scalar_one()

    renewals, last = 0, await lease_expiry()
    deadline = time.monotonic() + DEADLINE_S
    while renewals < 2:  # the lease is pushed forward while the producer works
        assert time.monotonic() < deadline, "the holder did not renew its lease"
        await asyncio.sleep(0.1)
        if (current := await lease_expiry()) > last:
            renewals, last = renewals + 1, current
    seen = sees_it_running(b, "k8")
    waiter = asyncio.create_task(b.run("k8", lambda: store.lookup("k8"), store.producer("k8", "duplicate")))
    await waiting(seen)
    gate.set()
    assert await waiter == "slow" and await slow == "slow"
    assert store.produced == 1, "a waiter took over a lease its holder was still renewing"


async def test_a_caller_that_goes_away_does_not_cancel_the_generation(sessions):
    store = Store()
    a, b = flights(sessions, 2)
    gate = asyncio.Event()
    impatient = asyncio.create_task(
        a.run("k9", lambda: store.lookup("k9"), store.producer("k9", "v", gate=gate))
    )
    await claimed(a, "k9")
    impatient.cancel()
    seen = sees_it_running(b, "k9")
    patient = asyncio.create_task(
        b.run("k9", lambda: store.lookup("k9"), store.producer("k9", "other", delay=0))
    )
    await waiting(seen)
    gate.set()
    assert await patient == "v" and store.produced == 1


async def test_close_releases_the_claim_for_another_replica(sessions):
    store = Store()
    a, b = flights(sessions, 2, lease_s=30)
    never = asyncio.Event()
    started = asyncio.create_task(
        a.run("k10", lambda: store.lookup("k10"), store.producer("k10", "v", gate=never))
    )
    await claimed(a, "k10")
    await a.close()  # shutdown: the lease is released, not left to expire in 30 s
    with pytest.raises(asyncio.CancelledError):
        await started
    value = await b.run("k10", lambda: store.lookup("k10"), store.producer("k10", "after", delay=0))
    assert value == "after"
