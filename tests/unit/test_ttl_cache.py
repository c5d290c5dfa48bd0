"""lmw_common.ttl_cache: what is kept, for how long, and what is shared."""

from __future__ import annotations

import asyncio

import pytest

from lmw_common.ttl_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Loader:
    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.calls = 0
        self.gate = gate
        self.fail = False

    async def __call__(self) -> str:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise RuntimeError("instructor_svc is down")
        return f"value {self.calls}"


async def test_a_value_is_reused_until_its_ttl_passes():
    clock, load = Clock(), Loader()
    cache = TtlCache(5.0, clock=clock)
    assert await cache.get("c1", load) == "value 1"
    clock.now += 4.9
    assert await cache.get("c1", load) == "value 1"
    clock.now += 0.2
    assert await cache.get("c1", load) == "value 2"
    assert load.calls == 2


async def test_keys_are_cached_apart():
    load = Loader()
    cache = TtlCache(5.0)
    assert await cache.get("c1", load) == "value 1"
    assert await cache.get("c2", load) == "value 2"
    assert await cache.get("c1", load) == "value 1"


async def test_concurrent_misses_share_one_load():
    gate = asyncio.Event()
    load = Loader(gate)
    cache = TtlCache(5.0)
    waiters = [asyncio.ensure_future(cache.get("c1", load)) for _ in range(20)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiters) == ["value 1"] * 20
    assert load.calls == 1


async def test_a_failure_reaches_every_waiter_and_is_not_kept():
    gate = asyncio.Event()
    load = Loader(gate)
    load.fail = True
    cache = TtlCache(5.0)
    waiters = [asyncio.ensure_future(cache.get("c1", load)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    load.fail = False
    assert await cache.get("c1", load) == "value 2"


async def test_a_cancelled_waiter_leaves_the_load_to_the_others():
    gate = asyncio.Event()
    load = Loader(gate)
    cache = TtlCache(5.0)
    first = asyncio.ensure_future(cache.get("c1", load))
    second = asyncio.ensure_future(cache.get("c1", load))
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert await second == "value 1"
    with pytest.raises(asyncio.CancelledError):
        await first
    assert load.calls == 1


async def test_ttl_zero_loads_every_time():
    load = Loader()
    cache = TtlCache(0)
    assert [await cache.get("c1", load) for _ in range(3)] == ["value 1", "value 2", "value 3"]


async def test_the_least_recently_used_entries_leave_first():
    load = Loader()
    cache = TtlCache(5.0, max_entries=2)
    await cache.get("a", load)  # value 1
    await cache.get("b", load)  # value 2
    await cache.get("a", load)  # hit: "a" is now the most recent
    await cache.get("c", load)  # value 3; "b" leaves
    assert await cache.get("a", load) == "value 1"
    assert await cache.get("b", load) == "value 4"


async def test_an_invalidated_key_loads_afresh():
    load = Loader()
    cache = TtlCache(60.0)
    assert await cache.get("a", load) == "value 1"
    assert await cache.get("b", load) == "value 2"
    cache.invalidate("a")
    assert await cache.get("a", load) == "value 3"
    assert await cache.get("b", load) == "value 2"  # other keys stay
    cache.clear()
    assert await cache.get("b", load) == "value 4"


async def test_a_load_under_way_when_its_key_is_invalidated_is_not_kept():
    """It may have read the state from before the change: its waiters get it, later callers do not."""
    gate = asyncio.Event()
    calls = 0

    async def load() -> str:
        nonlocal calls
        calls += 1
        seen = f"value {calls}"  # what the database said when the load started
        await gate.wait()
        return seen

    cache = TtlCache(60.0)
    before = asyncio.ensure_future(cache.get("a", load))
    await asyncio.sleep(0)
    cache.invalidate("a")
    after = asyncio.ensure_future(cache.get("a", load))  # a load of its own, not the stale one
    await asyncio.sleep(0)
    gate.set()
    assert await before == "value 1"
    assert await after == "value 2"
    assert await cache.get("a", load) == "value 2"
    assert calls == 2


async def test_hits_and_misses_count_the_gets_answered_from_the_cache_and_those_that_loaded():
    clock, load = Clock(), Loader()
    cache = TtlCache(5.0, clock=clock)
    await cache.get("c1", load)
    await cache.get("c1", load)
    await cache.get("c2", load)
    clock.now += 6
    await cache.get("c1", load)
    assert (cache.hits, cache.misses, cache.entry_count()) == (1, 3, 2)
