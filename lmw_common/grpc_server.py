"""The one grpc.aio server factory and the request-context interceptor every service runs.

The interceptor gives each RPC a request id, verifies the bearer token (no service trusts its caller),
enforces the RPC's declared access level, puts the principal in a contextvar, and maps DomainErrors to
rich gRPC statuses. Unexpected exceptions are logged with the request id and surface as bare INTERNAL.
It also counts and times every RPC by method and status code (lmw_common.metrics); when tracing is on,
OpenTelemetry's server interceptor runs before it (lmw_common.telemetry).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from lmw_common import telemetry
from lmw_common.auth import Access, TokenService, current_principal, permits
from lmw_common.errors import DomainError, PermissionDenied, Unauthenticated, store_unavailable, to_status
from lmw_common.logs import new_request_id, request_id_var
from lmw_common.metrics import Metrics

log = logging.getLogger(__name__)

_PUBLIC_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


@dataclass
class ServiceSpec:
    """A servicer, how to register it, and the access level of each of its RPCs."""

    descriptor: ServiceDescriptor
    servicer: Any
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    access: Mapping[str, Access]

    def __post_init__(self) -> None:
        missing = {m.name for m in self.descriptor.methods} - set(self.access)
        if missing:  # fail closed: an RPC without a declared access level is a bug
            raise ValueError(f"{self.descriptor.full_name}: no access level for {sorted(missing)}")

    def policies(self) -> dict[str, Access]:
        return {f"/{self.descriptor.full_name}/{name}": level for name, level in self.access.items()}


class RequestContextInterceptor(grpc.aio.ServerInterceptor):
    """Wraps each method's handler once (per method, not per call): the wrapper reads the metadata, verifies
    the token and checks the access level when the RPC runs. Building a new handler and closures for every
    call cost more than the check itself."""

    def __init__(self, tokens: TokenService, policies: Mapping[str, Access], metrics: Metrics) -> None:
        self._tokens = tokens
        self._policies = policies
        self._metrics = metrics
        self._wrapped: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        if method.startswith(_PUBLIC_PREFIXES):
            return handler
        enter = self._enter(self._policies.get(method, Access.INTERNAL))
        wrapped = _wrap(handler, enter, _observer(self._metrics, method))
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _enter(self, access: Access) -> Callable[[grpc.aio.ServicerContext], None]:
        verify = self._tokens.verify

        def enter(context: grpc.aio.ServicerContext) -> None:
            authorization, request_id = "", ""
            for key, value in context.invocation_metadata() or ():
                if key == "authorization":
                    authorization = value
                elif key == "x-request-id":
                    request_id = value[:64]
            request_id = request_id or new_request_id()
            request_id_var.set(request_id)
            telemetry.tag_request_id(request_id)
            principal = None
            if authorization:
                scheme, _, token = authorization.partition(" ")
                if scheme.lower() != "bearer" or not token:
                    raise Unauthenticated("authorization must be 'Bearer <token>'", "TOKEN_INVALID")
                principal = verify(token)
            if not permits(access, principal):
                if principal is None:
                    raise Unauthenticated("authentication required", "AUTH_REQUIRED")
                raise PermissionDenied(f"role {principal.role} may not call this", "ROLE_NOT_ALLOWED")
            current_principal.set(principal)

        return enter


Observe = Callable[[str, float], None]


def _observer(metrics: Metrics, method: str) -> Observe:
    """Counts and times one method's calls; the children of the common outcome are bound once."""
    service, _, name = method.lstrip("/").partition("/")
    seconds = metrics.rpc_seconds.labels(service, name)
    handled = metrics.rpc_handled
    ok = handled.labels(service, name, "OK")

    def observe(code: str, started: float) -> None:
        seconds.observe(time.perf_counter() - started)
        (ok if code == "OK" else handled.labels(service, name, code)).inc()

    return observe


def _code(exc: BaseException) -> str:
    """The status code `_abort` answers `exc` with."""
    if store_unavailable(exc) is not None:
        return "UNAVAILABLE"
    return exc.code.name if isinstance(exc, DomainError) else "INTERNAL"


def _aborted_code(context: grpc.aio.ServicerContext) -> str:
    code = context.code()
    return code.name if isinstance(code, grpc.StatusCode) else "UNKNOWN"


async def _abort(context: grpc.aio.ServicerContext, exc: BaseException) -> None:
    unavailable = store_unavailable(exc)
    if unavailable is not None:  # a database outage is transient: UNAVAILABLE, which clients retry
        log.warning("database unavailable (%s): %s", type(exc).__name__, getattr(exc, "orig", None) or exc)
        exc = unavailable
    if isinstance(exc, DomainError):
        if exc.code is grpc.StatusCode.INTERNAL:
            log.error("internal error: %s", exc.message)
        await context.abort_with_status(to_status(exc))
    log.exception("unexpected error", exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, f"internal error (request id {request_id_var.get()})")


def _wrap(
    handler: grpc.RpcMethodHandler, enter: Callable[[grpc.aio.ServicerContext], None], observe: Observe
) -> grpc.RpcMethodHandler:
    if handler.unary_unary or handler.stream_unary:
        inner = handler.unary_unary or handler.stream_unary

        async def unary_response(request, context):
            started, code = time.perf_counter(), "OK"
            try:
                enter(context)
                return await inner(request, context)
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except grpc.aio.AbortError:
                code = _aborted_code(context)
                raise
            except Exception as exc:
                code = _code(exc)
                await _abort(context, exc)
            finally:
                observe(code, started)

        factory = (
            grpc.unary_unary_rpc_method_handler
            if handler.unary_unary
            else grpc.stream_unary_rpc_method_handler
        )
        return factory(unary_response, handler.request_deserializer, handler.response_serializer)

    inner = handler.unary_stream or handler.stream_stream

    async def stream_response(request, context):
        started, code = time.perf_counter(), "OK"
        try:
            enter(context)
            async for item in inner(request, context):
                yield item
        except (asyncio.CancelledError, GeneratorExit):
            code = "CANCELLED"
            raise
        except grpc.aio.AbortError:
            code = _aborted_code(context)
            raise
        except Exception as exc:
            code = _code(exc)
            await _abort(context, exc)
        finally:
            observe(code, started)

    factory = (
        grpc.unary_stream_rpc_method_handler
        if handler.unary_stream
        else grpc.stream_stream_rpc_method_handler
    )
    return factory(stream_response, handler.request_deserializer, handler.response_serializer)


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    services: list[str] = field(default_factory=list)
    metrics: Metrics | None = None  # the service's registry, and where it is served (runtime.serving)
    metrics_port: int | None = None

    async def stop(self, grace: float | None = 5.0) -> None:
        for name in ["", *self.services]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)

    async def wait_for_signal(self) -> None:
        """Block until SIGTERM/SIGINT; the caller then stops gracefully."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("shutting down")


async def start_server(
    specs: list[ServiceSpec],
    tokens: TokenService,
    host: str = "127.0.0.1",
    port: int = 0,
    metrics: Metrics | None = None,
) -> RunningServer:
    """Start a grpc.aio server with the services, health, reflection and the request-context interceptor
    (and tracing's, when on). RPCs are counted in `metrics` (by default a registry nobody serves)."""
    metrics = metrics or Metrics()
    policies: dict[str, Access] = {}
    for spec in specs:
        policies.update(spec.policies())
    server = grpc.aio.server(
        interceptors=[
            *telemetry.server_interceptors(),
            RequestContextInterceptor(tokens, policies, metrics),
        ],
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    for spec in specs:
        spec.add_to_server(spec.servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [spec.descriptor.full_name for spec in specs]
    reflection.enable_server_reflection([*names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise RuntimeError(f"could not bind {host}:{port}")
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving %s on %s:%d", ", ".join(names), host, bound)
    return RunningServer(server, bound, health_servicer, names, metrics)
