"""lmw_common.telemetry and lmw_common.metrics without servers: what is set up when, and what a scrape shows."""

from __future__ import annotations

import contextlib

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bff.metrics import MAX_OPERATION_NAMES, GraphQLMetrics, outcome
from lmw_common import telemetry
from lmw_common.breaker import GuardedDependency
from lmw_common.logs import request_id_var
from lmw_common.metrics import Metrics
from lmw_common.ttl_cache import TtlCache


def samples(metrics: Metrics) -> dict[tuple[str, tuple], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_tracing_is_on_only_with_an_otlp_endpoint_and_not_disabled():
    assert not telemetry.otlp_configured({})
    assert telemetry.otlp_configured({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"})
    assert telemetry.otlp_configured(
        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}
    )
    assert not telemetry.otlp_configured(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_SDK_DISABLED": "true"}
    )


def test_with_tracing_off_nothing_is_added_anywhere():
    assert not telemetry.tracing_enabled()
    assert telemetry.server_interceptors() == []
    assert telemetry.client_interceptors() is None
    app = object()
    assert telemetry.traced_asgi(app) is app
    assert isinstance(telemetry.span("sme.retrieve"), contextlib.nullcontext)


def test_spans_carry_the_request_id_of_their_context_while_tracing_is_on():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    token = request_id_var.set("req-123")
    try:
        with telemetry.recording(provider):
            assert telemetry.tracing_enabled() and len(telemetry.server_interceptors()) == 1
            with telemetry.span("outer", **{"lmw.k": 5}), telemetry.span("inner", current=False):
                pass
    finally:
        request_id_var.reset(token)
    assert not telemetry.tracing_enabled()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"outer", "inner"}
    assert spans["inner"].parent.span_id == spans["outer"].context.span_id
    assert {s.attributes[telemetry.REQUEST_ID_ATTRIBUTE] for s in spans.values()} == {"req-123"}
    assert spans["outer"].attributes["lmw.k"] == 5


async def test_a_scrape_reads_cache_counts_and_breaker_states_of_the_watched_objects():
    metrics = Metrics()
    cache: TtlCache[str] = TtlCache(60)

    async def load() -> str:
        return "v"

    await cache.get("a", load)
    await cache.get("a", load)
    metrics.watch_caches({"courses": cache})
    metrics.watch_breakers([GuardedDependency("sme_svc")])
    scraped = samples(metrics)
    assert scraped[("lmw_cache_hits_total", (("cache", "courses"),))] == 1
    assert scraped[("lmw_cache_misses_total", (("cache", "courses"),))] == 1
    assert scraped[("lmw_cache_entries", (("cache", "courses"),))] == 1
    closed = ("lmw_circuit_breaker_state", (("dependency", "sme_svc"), ("state", "closed")))
    opened = ("lmw_circuit_breaker_state", (("dependency", "sme_svc"), ("state", "open")))
    assert (scraped[closed], scraped[opened]) == (1, 0)


def test_each_service_has_a_registry_of_its_own():
    first, second = Metrics(), Metrics()  # the same families twice in one process: no collision
    first.rpc_handled.labels("s", "M", "OK").inc()
    assert (
        samples(first)[
            (
                "lmw_grpc_server_handled_total",
                (("grpc_code", "OK"), ("grpc_method", "M"), ("grpc_service", "s")),
            )
        ]
        == 1
    )
    assert not [key for key in samples(second) if key[0] == "lmw_grpc_server_handled_total"]


def test_operation_names_are_labels_only_when_valid_and_a_bounded_few():
    graphql = GraphQLMetrics()
    assert graphql.operation_label("Dashboard", valid=True) == "Dashboard"
    assert graphql.operation_label(None, valid=True) == "anonymous"
    assert graphql.operation_label("Whatever", valid=False) == "invalid"
    assert graphql.operation_label("bad name!", valid=True) == "other"
    for n in range(MAX_OPERATION_NAMES):
        graphql.operation_label(f"Op{n}", valid=True)
    assert graphql.operation_label("OneTooMany", valid=True) == "other"
    assert graphql.operation_label("Dashboard", valid=True) == "Dashboard"


def test_an_operations_outcome_is_its_first_errors_known_code():
    class Error:
        def __init__(self, code):
            self.extensions = {"code": code} if code else None

    assert outcome(None) == "OK"
    assert outcome([Error("NOT_FOUND"), Error("FORBIDDEN")]) == "NOT_FOUND"
    assert outcome([Error("SOMETHING_ELSE")]) == "INTERNAL"
    assert outcome([Error(None)]) == "INTERNAL"
