"""A small in-process cache of answers read elsewhere, kept for a few seconds or until told they changed."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    """Values kept `ttl_s` seconds after they were loaded, at most `max_entries` of them (least recently
    used out first). Concurrent misses of one key share one load; a failed load is not kept, nor is a load
    that was under way when its key was invalidated (it may have read what changed). A ttl of 0 turns
    caching off (every get loads). `hits` and `misses` count the gets answered from the cache and the gets
    that waited for a load (for lmw_common.metrics)."""

    def __init__(self, ttl_s: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic):
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._loading: dict[Hashable, asyncio.Future[V]] = {}
        self.hits = self.misses = 0

    async def get(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        if self._ttl_s <= 0:
            self.misses += 1
            return await load()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._clock():
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[1]
        self.misses += 1
        loading = self._loading.get(key)
        if loading is None:
            loading = self._loading[key] = asyncio.ensure_future(load())
            # Runs before any waiter resumes; it also retrieves a failure nobody waited for.
            loading.add_done_callback(partial(self._loaded, key))
        # A waiter that is cancelled leaves the shared load running for the others.
        return await asyncio.shield(loading)

    def _loaded(self, key: Hashable, loading: asyncio.Future[V]) -> None:
        failed = loading.cancelled() or loading.exception() is not None
        if self._loading.get(key) is not loading:  # invalidated while it loaded
            return
        del self._loading[key]
        if failed:
            return
        self._store(key, loading.result())

    def _store(self, key: Hashable, value: V) -> None:
        self._entries[key] = (self._clock() + self._ttl_s, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def entry_count(self) -> int:
        return len(self._entries)

    def peek(self, key: Hashable) -> V | None:
        """The value kept for `key`, or None (nothing is loaded)."""
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > self._clock() else None

    def put(self, key: Hashable, value: V) -> None:
        """Keep `value` for `key` (for values that may be shared only when they turn out to be shareable)."""
        if self._ttl_s > 0:
            self._store(key, value)

    def invalidate(self, key: Hashable) -> None:
        """Forget `key`: the next get loads it afresh."""
        self._entries.pop(key, None)
        self._loading.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()
        self._loading.clear()
