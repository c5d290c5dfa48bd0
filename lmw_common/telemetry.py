"""The one home of tracing: OpenTelemetry spans from every process, exported over OTLP only when configured.

Each process calls `configure_tracing(name)` once at start. It reads the standard variables: tracing is on
only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set and
`OTEL_SDK_DISABLED` is not true; the sampler comes from `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`
(parent-based, so one sampling decision holds for a whole trace across the mesh), the protocol from
`OTEL_EXPORTER_OTLP_PROTOCOL` (grpc, or http/protobuf). Otherwise nothing is set up at all: no provider, no
interceptors, no instrumentation, and `span()` is a shared no-op context.

What is traced once on: gRPC servers and clients (the maintained aio interceptors; the W3C trace context
travels in the calls' metadata), SQLAlchemy engines (`trace_engine`) and pymongo commands, the BFF's ASGI app,
and the manual spans of the use cases (`span(...)`). Every span carries the request id (`lmw.request_id`).
Tests install a provider of their own with `start_tracing(provider)` (an in-memory exporter) and remove it
with `stop_tracing()`; servers, channels and engines decide when they are created.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

from lmw_common.logs import request_id_var

REQUEST_ID_ATTRIBUTE = "lmw.request_id"

_provider: Any = None  # the SDK TracerProvider while tracing is on; None: off
_tracer: Any = None
_NOTHING = contextlib.nullcontext()


def tracing_enabled() -> bool:
    return _provider is not None


def otlp_configured(environ: os._Environ[str] | dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def configure_tracing(service_name: str) -> bool:
    """Turn tracing on for this process when an OTLP endpoint is configured; True when it did."""
    if tracing_enabled() or not otlp_configured():
        return tracing_enabled()
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over these defaults; the
    # provider reads the sampler from OTEL_TRACES_SAMPLER(_ARG).
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(_otlp_exporter()))
    trace.set_tracer_provider(provider)
    start_tracing(provider)
    return True


def _otlp_exporter() -> Any:
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"
    )
    if protocol.strip().lower().startswith("http"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    return OTLPSpanExporter()


def start_tracing(provider: Any) -> None:
    """Trace with `provider` (an SDK TracerProvider) from now on: instrument pymongo and let servers,
    channels, engines and apps created from now on add their instrumentation."""
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

    global _provider, _tracer
    stop_tracing()
    provider.add_span_processor(RequestIdSpanProcessor())
    PymongoInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    _provider, _tracer = provider, provider.get_tracer("lmw")


def stop_tracing() -> None:
    """Stop tracing what is created from now on (tests); what was instrumented meanwhile stays so."""
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

    global _provider, _tracer
    if _provider is None:
        return
    PymongoInstrumentor().uninstrument()
    _provider = _tracer = None


class RequestIdSpanProcessor:
    """Puts the request id of the context a span starts in on the span (the interceptor and the BFF's
    middleware set it; `tag_request_id` covers spans that started before it was known)."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        request_id = request_id_var.get()
        if request_id != "-":
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)

    def _on_ending(self, span: Any) -> None:
        pass

    def on_end(self, span: Any) -> None:
        pass

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def tag_request_id(request_id: str) -> None:
    """Put the request id on the current span (a server span starts before the interceptor reads it)."""
    set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


def set_attribute(key: str, value: Any) -> None:
    """Set an attribute on the current span (a bounded fact learnt after it started)."""
    if _provider is not None:
        from opentelemetry import trace

        trace.get_current_span().set_attribute(key, value)


def span(name: str, *, current: bool = True, **attributes: Any) -> contextlib.AbstractContextManager[Any]:
    """A manual span around a use case's slow step (retrieval, generation, embedding, waiting); a no-op
    while tracing is off. Attribute values must be bounded facts (a backend, a count), never content.
    `current=False` leaves it out of the context (for a block that yields to its caller: a stream)."""
    if _tracer is None:
        return _NOTHING
    if current:
        return _tracer.start_as_current_span(name, attributes=attributes or None)
    return _tracer.start_span(name, attributes=attributes or None)  # an SDK span ends when its block does


def trace_engine(engine: Any) -> None:
    """Trace the statements of an async SQLAlchemy engine (lmw_common.db creates every engine through here).

    The instrumentation's engine tracer, attached to this engine alone: its global `instrument()` wraps
    `create_async_engine` at module level (which our import does not see) and cannot be undone cleanly
    (removing its listeners raises on SQLAlchemy 2.1), and the engine's pool metrics are ours."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import __version__
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import NoOpMeterProvider

    tracer = _provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", __version__)
    unused = NoOpMeterProvider().get_meter("lmw").create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer, engine.sync_engine, unused)


def server_interceptors() -> list[Any]:
    """The gRPC server's tracing interceptor (first, so its span is current for the others), or none."""
    if _provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor

    return [aio_server_interceptor(tracer_provider=_provider)]


def client_interceptors() -> list[Any] | None:
    """The gRPC client interceptors that start client spans and send the trace context, or None."""
    if _provider is None:
        return None
    from opentelemetry.instrumentation.grpc import aio_client_interceptors

    return aio_client_interceptors(tracer_provider=_provider)


def traced_asgi(app: Any) -> Any:
    """The ASGI app wrapped in a server span per HTTP request or websocket (unchanged while tracing is
    off). Spans for each body message sent or received are left out: they add cost and tell nothing."""
    if _provider is None:
        return app
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return OpenTelemetryMiddleware(app, tracer_provider=_provider, exclude_spans=["receive", "send"])


@contextlib.contextmanager
def recording(provider: Any) -> Iterator[None]:
    """Trace with `provider` inside the block (tests and benchmarks)."""
    start_tracing(provider)
    try:
        yield
    finally:
        stop_tracing()
