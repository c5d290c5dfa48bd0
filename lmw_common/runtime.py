"""What every service process shares: the command line (`serve` | `migrate`), logging, tracing, tokens,
metrics, serving."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager

import uvloop

from lmw_common.auth import ServiceTokenProvider, TokenService
from lmw_common.config import ConfigurationError, LmwSettings, ServiceSettings
from lmw_common.grpc_server import RunningServer, ServiceSpec, start_server
from lmw_common.logs import configure_logging
from lmw_common.metrics import Metrics, MetricsServer
from lmw_common.telemetry import configure_tracing

log = logging.getLogger(__name__)


class Runtime:
    """A service's auth plumbing built from the shared `LMW_` settings, and its metrics registry (the
    composition root registers its caches, breakers and pools there)."""

    def __init__(self, name: str, common: LmwSettings) -> None:
        self.name = name
        self.common = common
        self.tokens = TokenService(common.signing_secret(), common.jwt_issuer, common.jwt_audience)
        self.service_token = ServiceTokenProvider(self.tokens, name, common.service_token_ttl_s)
        self.metrics = Metrics()
        self.metrics.watch_caches({"verified_tokens": self.tokens})


# A composition root: given settings and runtime, yields the service specs while its resources are open.
Bootstrap = Callable[[ServiceSettings, Runtime], AbstractAsyncContextManager[list[ServiceSpec]]]


@contextmanager
def metrics_served(
    metrics: Metrics, host: str, common: LmwSettings, *, shared_port: bool = False
) -> Iterator[MetricsServer | None]:
    """/metrics on LMW_METRICS_PORT while the block runs (None when LMW_METRICS_ENABLED is false). A port
    that cannot be bound stops the process, unless `shared_port` (sibling worker processes of one server
    try the same port: the first one serves)."""
    if not common.metrics_enabled:
        yield None
        return
    try:
        server = metrics.serve(host, common.metrics_port)
    except OSError as exc:
        if shared_port:
            log.warning(
                "metrics port %d taken (by a sibling worker?): not serving metrics", common.metrics_port
            )
            yield None
            return
        raise ConfigurationError(f"cannot serve metrics on {host}:{common.metrics_port}: {exc}") from exc
    log.info("metrics on http://%s:%d/metrics", host, server.port)
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def serving(name: str, settings: ServiceSettings, bootstrap: Bootstrap) -> AsyncIterator[RunningServer]:
    """Build the service and serve it until the block exits (tests use this with port 0). The server's
    `metrics_port` is where its /metrics is served (None when off)."""
    runtime = Runtime(name, settings.common)
    async with bootstrap(settings, runtime) as specs:
        running = await start_server(specs, runtime.tokens, settings.host, settings.port, runtime.metrics)
        try:
            with metrics_served(runtime.metrics, settings.host, settings.common) as metrics_server:
                running.metrics_port = metrics_server.port if metrics_server else None
                yield running
        finally:
            await running.stop(settings.shutdown_grace_s)


def freeze_startup_objects() -> None:
    """Leave what start-up built (modules, schemas, channels, models) out of every later garbage collection:
    a full collection otherwise walks all of it, a pause of 100 ms and more on a small machine, which every
    request in flight at that moment waits out."""
    gc.collect()
    gc.freeze()


async def serve(name: str, settings: ServiceSettings, bootstrap: Bootstrap) -> None:
    async with serving(name, settings, bootstrap) as running:
        freeze_startup_objects()
        where = f", metrics on port {running.metrics_port}" if running.metrics_port else ""
        print(f"{name} listening on {settings.host}:{running.port}{where}", flush=True)
        await running.wait_for_signal()


def main(
    name: str,
    settings_factory: Callable[[], ServiceSettings],
    bootstrap: Bootstrap,
    migrate: Callable[[ServiceSettings], Awaitable[None]] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {name}")
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "migrate"] if migrate else ["serve"]
    )
    args = parser.parse_args()
    settings = settings_factory()
    configure_logging(name, settings.common.log_level)
    if args.command == "migrate":
        asyncio.run(migrate(settings))
        log.info("migrations applied")
        return
    configure_tracing(name)
    try:
        # uvloop: grpc.aio, psycopg and pymongo run on it; a gRPC call costs about a tenth less CPU.
        uvloop.run(serve(name, settings, bootstrap))
    except ConfigurationError as exc:
        sys.exit(f"{name}: {exc}")
