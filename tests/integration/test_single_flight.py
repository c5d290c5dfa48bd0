"""The PostgreSQL single-flight helper against a real PostgreSQL: exactly one producer however many callers
(and replicas: each SingleFlight instance below stands for one), failures never cached, expired leases
taken over."""

from __future__ import annotations

import asyncio

import pytest

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

    def producer(self, key: str, value: str, delay: float = 0.3, error: Exception | None = None):
        async def produce() -> str:
            self.produced += 1
            await asyncio.sleep(delay)
            if error is not None:
                raise error
            self.results[key] = value
            return value

        return produce


def flights(sessions, n: int, **kwargs) -> list[SingleFlight]:
    kwargs = {"lease_s": 5.0, "poll_s": 0.05, **kwargs}
    return [SingleFlight(sessions, holder_prefix=f"replica{i}", **kwargs) for i in range(n)]


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
    first = asyncio.create_task(
        a.run("k5", lambda: store.lookup("k5"), store.producer("k5", "x", error=RuntimeError("secret")))
    )
    await asyncio.sleep(0.05)
    second = asyncio.create_task(b.run("k5", lambda: store.lookup("k5"), store.producer("k5", "y")))
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
    first = asyncio.create_task(
        a.run("k6", lambda: store.lookup("k6"), store.producer("k6", "", error=error))
    )
    await asyncio.sleep(0.05)
    second = asyncio.create_task(b.run("k6", lambda: store.lookup("k6"), store.producer("k6", "y")))
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert all(isinstance(r, FailedPrecondition) for r in results)
    assert results[1].reason == "OBJECTIVES_NOT_APPROVED"


async def test_an_expired_lease_is_taken_over(sessions):
    store = Store()
    dead, alive = flights(sessions, 2, lease_s=0.5)
    lease = await dead.try_acquire("k7")  # a holder that crashed right after claiming: no heartbeat
    assert lease is not None
    assert await alive.try_acquire("k7") is None  # held
    value = await alive.run("k7", lambda: store.lookup("k7"), store.producer("k7", "taken over", delay=0))
    assert value == "taken over" and store.produced == 1
    claim = await alive.peek("k7")
    assert claim.state == "done" and claim.attempt == 2


async def test_a_live_holder_keeps_its_lease_with_heartbeats(sessions):
    store = Store()
    a, b = flights(sessions, 2, lease_s=0.3)
    slow = asyncio.create_task(
        a.run("k8", lambda: store.lookup("k8"), store.producer("k8", "slow", delay=1.2))
    )
    await asyncio.sleep(0.1)
    waiter = await b.run("k8", lambda: store.lookup("k8"), store.producer("k8", "duplicate", delay=0))
    assert waiter == "slow" and await slow == "slow"
    assert store.produced == 1, "a waiter took over a lease its holder was still renewing"


async def test_a_caller_that_goes_away_does_not_cancel_the_generation(sessions):
    store = Store()
    a, b = flights(sessions, 2)
    impatient = asyncio.create_task(a.run("k9", lambda: store.lookup("k9"), store.producer("k9", "v", 0.5)))
    await asyncio.sleep(0.1)
    impatient.cancel()
    value = await b.run("k9", lambda: store.lookup("k9"), store.producer("k9", "other", delay=0))
    assert value == "v" and store.produced == 1


async def test_close_releases_the_claim_for_another_replica(sessions):
    store = Store()
    a, b = flights(sessions, 2, lease_s=30)
    started = asyncio.create_task(a.run("k10", lambda: store.lookup("k10"), store.producer("k10", "v", 30)))
    await asyncio.sleep(0.2)
    await a.close()  # shutdown: the lease is released, not left to expire in 30 s
    with pytest.raises(asyncio.CancelledError):
        await started
    value = await b.run("k10", lambda: store.lookup("k10"), store.producer("k10", "after", delay=0))
    assert value == "after"
