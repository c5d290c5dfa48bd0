"""One long-lived gRPC channel per service, shared by every request; the caller's token rides in a contextvar.

`create_channel` asks the token provider for a token on every call, so the provider reads `current_token`,
which the schema sets per GraphQL operation (HTTP request or websocket operation). The request id travels
the same way (`lmw_common.logs.request_id_var`, forwarded as `x-request-id`).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bff.config import BffSettings
from bff.errors import from_grpc_error
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.instructor.v1 import instructor_service_pb2_grpc as instructor_grpc
from lmw.learner.v1 import learner_service_pb2_grpc as learner_grpc
from lmw.orchestrator.v1 import orchestrator_service_pb2_grpc as orchestrator_grpc
from lmw_common.grpc_client import create_channel
from lmw_common.ttl_cache import TtlCache

T = TypeVar("T")

# The bearer token of the GraphQL caller (None when anonymous).
current_token: contextvars.ContextVar[str | None] = contextvars.ContextVar("bff_token", default=None)


def token_provider() -> str | None:
    return current_token.get()


class Clients:
    """Channels and stubs of learner_svc, instructor_svc and orchestrator_svc.

    Channels are created on first use inside the running event loop (grpc.aio binds a channel to its loop)
    and closed by the app's lifespan.
    """

    SERVICES = ("learner", "instructor", "orchestrator")

    def __init__(self, settings: BffSettings) -> None:
        self.settings = settings
        self._targets = {
            "learner": settings.learner_target,
            "instructor": settings.instructor_target,
            "orchestrator": settings.orchestrator_target,
        }
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._stubs: dict[str, Any] = {}
        # Public data, shared by every caller of this process for `course_cache_ttl_s`.
        self.published_courses: TtlCache[ipb.Course] = TtlCache(settings.course_cache_ttl_s)
        self.anonymous_catalog: TtlCache[ipb.ListPublishedCoursesResponse] = TtlCache(
            settings.course_cache_ttl_s, max_entries=64
        )

    def channel(self, name: str) -> grpc.aio.Channel:
        channel = self._channels.get(name)
        if channel is None:
            channel = create_channel(
                self._targets[name],
                token_provider,
                timeout_s=self.settings.call_timeout_s,
                max_in_flight=self.settings.max_in_flight_per_channel,
            )
            self._channels[name] = channel
        return channel

    def _stub(self, name: str, factory: Callable[[grpc.aio.Channel], Any]) -> Any:
        stub = self._stubs.get(name)
        if stub is None:
            stub = self._stubs[name] = factory(self.channel(name))
        return stub

    @property
    def learner(self) -> learner_grpc.LearnerServiceStub:
        return self._stub("learner", learner_grpc.LearnerServiceStub)

    @property
    def instructor(self) -> instructor_grpc.InstructorServiceStub:
        return self._stub("instructor", instructor_grpc.InstructorServiceStub)

    @property
    def orchestrator(self) -> orchestrator_grpc.OrchestratorServiceStub:
        return self._stub("orchestrator", orchestrator_grpc.OrchestratorServiceStub)

    def open(self) -> None:
        for name in self.SERVICES:
            self.channel(name)

    async def close(self) -> None:
        channels, self._channels, self._stubs = list(self._channels.values()), {}, {}
        for channel in channels:
            await channel.close(grace=1.0)

    async def readiness(self, timeout_s: float = 1.0) -> dict[str, str]:
        """grpc.health.v1 status of each service ("SERVING", "NOT_SERVING", "UNAVAILABLE", ...)."""

        async def check(name: str) -> str:
            stub = health_pb2_grpc.HealthStub(self.channel(name))
            try:
                response = await stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
            except grpc.aio.AioRpcError as exc:
                return exc.code().name
            return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

        statuses = await asyncio.gather(*(check(name) for name in self.SERVICES))
        return dict(zip(self.SERVICES, statuses, strict=True))


async def unary(call: Awaitable[T]) -> T:
    """Await a unary call; a failed call becomes the client-facing ApiError."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        raise from_grpc_error(exc) from None


async def server_stream(call: Any) -> AsyncIterator[Any]:
    """Iterate a server stream, mapping a failure to ApiError and cancelling the call when abandoned."""
    try:
        async for message in call:
            yield message
    except grpc.aio.AioRpcError as exc:
        raise from_grpc_error(exc) from None
    finally:
        call.cancel()
