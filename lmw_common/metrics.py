"""The one home of Prometheus metrics: a registry per service process, served on its own port at /metrics.

Each service (and the BFF) owns one `Metrics`: its own `CollectorRegistry`, so several services started in one
process (the in-process test mesh) never collide, and what they measure stays apart. Families follow the
Prometheus conventions (units in names, `_total` counters) and every label is bounded: RPC and operation
names, codes, cache and backend names, states; never ids.

Counters and histograms that move on requests are updated where the work happens (the server interceptor,
the use cases). Facts that already live in objects (cache hit/miss counts, breaker states, connection pools)
are read when Prometheus scrapes, by one collector: `watch_caches`, `watch_breakers`, `watch_pools` register
the objects, and nothing is paid per request for them.

    metrics = Metrics()                                      # one per service
    metrics.watch_caches({"progress": cache})       # anything with hits, misses and entry_count()
    server = await metrics.serve("0.0.0.0", 9464)            # GET /metrics; port 0 picks a free one
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# Seconds: from a cached read (a millisecond) to a generation on CPU (a minute and more).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
BREAKER_STATES = ("closed", "open", "half-open")


class CacheStats(Protocol):
    """What a cache counts for its metrics (TtlCache and the LRUs keep these as plain integers)."""

    hits: int
    misses: int

    def entry_count(self) -> int: ...


class Metrics:
    """One service's registry and the request families every service has."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.rpc_handled = Counter(
            "lmw_grpc_server_handled",
            "RPCs completed, by method and gRPC status code",
            ["grpc_service", "grpc_method", "grpc_code"],
            registry=self.registry,
        )
        self.rpc_seconds = Histogram(
            "lmw_grpc_server_handling_seconds",
            "Time from an RPC's start to its last response message",
            ["grpc_service", "grpc_method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._state = _StateCollector()
        self.registry.register(self._state)

    def histogram(self, name: str, documentation: str, labels: Iterable[str] = ()) -> Histogram:
        """A latency histogram (seconds, the shared buckets) in this registry."""
        return Histogram(name, documentation, list(labels), buckets=LATENCY_BUCKETS, registry=self.registry)

    def counter(self, name: str, documentation: str, labels: Iterable[str] = ()) -> Counter:
        return Counter(name, documentation, list(labels), registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Iterable[str] = ()) -> Gauge:
        return Gauge(name, documentation, list(labels), registry=self.registry)

    def watch_caches(self, caches: Mapping[str, CacheStats]) -> None:
        """Report these caches' hits, misses and entries under their names (bounded: code-given)."""
        self._state.caches.update(caches)

    def watch_breakers(self, breakers: Iterable[Any]) -> None:
        """Report the state of these circuit breakers (lmw_common.breaker.GuardedDependency)."""
        for breaker in breakers:
            self._state.breakers[breaker.name] = breaker

    def watch_pools(self, pools: Mapping[str, Any]) -> None:
        """Report the use of these SQLAlchemy connection pools (name -> `engine.pool`)."""
        self._state.pools.update(pools)

    def serve(self, host: str, port: int) -> MetricsServer:
        """Serve GET /metrics on `host:port` in a thread (port 0 picks a free one)."""
        server, thread = start_http_server(port, host, registry=self.registry)
        return MetricsServer(server, thread)


class MetricsServer:
    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.port: int = server.server_port

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def unregistered() -> Metrics:
    """A Metrics nobody serves: the default of use cases built without one (unit tests, scripts)."""
    return Metrics()


class _StateCollector(Collector):
    """Reads caches, breakers and pools when scraped (a scrape runs in the metrics server's thread: it only
    reads integers and states that the event loop writes)."""

    def __init__(self) -> None:
        self.caches: dict[str, CacheStats] = {}
        self.breakers: dict[str, Any] = {}
        self.pools: dict[str, Any] = {}

    def collect(self) -> Iterator[Any]:
        yield from _caches(self.caches)
        yield from _breakers(self.breakers)
        yield from _pools(self.pools)


def _families(specs: Iterable[tuple[type, str, str, list[str]]]) -> list[Any]:
    return [kind(name, doc, labels=labels) for kind, name, doc, labels in specs]


def _caches(caches: Mapping[str, CacheStats]) -> list[Any]:
    if not caches:
        return []
    hits, misses, entries = _families(
        [
            (CounterMetricFamily, "lmw_cache_hits", "Lookups answered from the cache", ["cache"]),
            (CounterMetricFamily, "lmw_cache_misses", "Lookups that had to load", ["cache"]),
            (GaugeMetricFamily, "lmw_cache_entries", "Entries held now", ["cache"]),
        ]
    )
    for name, cache in sorted(caches.items()):
        hits.add_metric([name], cache.hits)
        misses.add_metric([name], cache.misses)
        entries.add_metric([name], cache.entry_count())
    return [hits, misses, entries]


def _breakers(breakers: Mapping[str, Any]) -> list[Any]:
    if not breakers:
        return []
    (state,) = _families(
        [
            (
                GaugeMetricFamily,
                "lmw_circuit_breaker_state",
                "1 for the state each circuit breaker is in (closed, open, half-open), else 0",
                ["dependency", "state"],
            )
        ]
    )
    for name, breaker in sorted(breakers.items()):
        current = breaker.state
        for candidate in BREAKER_STATES:
            state.add_metric([name, candidate], 1.0 if candidate == current else 0.0)
    return [state]


def _pools(pools: Mapping[str, Any]) -> list[Any]:
    if not pools:
        return []
    size, checked_out, overflow = _families(
        [
            (GaugeMetricFamily, "lmw_db_pool_size", "Connections the pool keeps", ["pool"]),
            (GaugeMetricFamily, "lmw_db_pool_checked_out", "Connections in use now", ["pool"]),
            (GaugeMetricFamily, "lmw_db_pool_overflow", "Connections opened beyond the pool size", ["pool"]),
        ]
    )
    for name, pool in sorted(pools.items()):
        size.add_metric([name], _call(pool, "size"))
        checked_out.add_metric([name], _call(pool, "checkedout"))
        overflow.add_metric([name], max(0, _call(pool, "overflow")))
    return [size, checked_out, overflow]


def _call(pool: Any, method: str) -> float:
    read: Callable[[], int] | None = getattr(pool, method, None)
    return float(read()) if read is not None else 0.0
