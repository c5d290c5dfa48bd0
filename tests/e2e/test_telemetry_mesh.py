"""Traces and metrics across the whole mesh (lmw_common.telemetry, lmw_common.metrics), in process.

The four services and the BFF run here over real PostgreSQL and MongoDB with tracing on into an in-memory
exporter (started before any of them, so their servers, channels and engines are instrumented):

- one GraphQL request that reads module content is one trace: the BFF's server span, the orchestrator's,
  learner's and sme's server spans, and PostgreSQL and MongoDB calls, each carrying the request id;
- every process's /metrics parses with prometheus_client's parser, and its counters move when a request
  that reaches it is made.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from bff.app import create_app
from devkit import PASSWORD
from devkit.graphql import GraphQLClient
from devkit.inprocess import drop_pg_urls, fresh_pg_urls, publish_course, running_mesh, tiny_course
from lmw_common import telemetry

pytest.importorskip("sme_svc.bootstrap")

CONTENT = """query ModuleContent($c: ID!, $m: ID!) {
  moduleContent(courseId: $c, moduleId: $m) { markdown }
}"""
SERVICES = {
    "orchestrator": "lmw.orchestrator.v1.OrchestratorService",
    "learner": "lmw.learner.v1.LearnerService",
    "sme": "lmw.sme.v1.SmeService",
}


@dataclass
class World:
    mesh: object
    course_id: str
    module_ids: tuple[str, ...]
    teacher_token: str
    learner: GraphQLClient
    http: httpx.AsyncClient
    bff_metrics_port: int
    spans: InMemorySpanExporter


@pytest.fixture(scope="module")
async def world(postgres, mongo, tmp_path_factory, common_settings) -> AsyncIterator[World]:
    """The mesh and the BFF, traced; a published two-module course and an enrolled learner."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    urls = await asyncio.to_thread(fresh_pg_urls, postgres)
    try:
        with telemetry.recording(provider):
            async with contextlib.AsyncExitStack() as stack:
                mesh = await stack.enter_async_context(
                    running_mesh(
                        urls,
                        f"{mongo.uri.rstrip('/')}/tel_{uuid.uuid4().hex[:8]}",
                        tmp_path_factory.mktemp("telemetry"),
                        common_settings,
                    )
                )
                course = await publish_course(mesh, tiny_course(), objectives_per_module=2)
                app = create_app(mesh.bff_settings())
                await stack.enter_async_context(app.router.lifespan_context(app))
                http = await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url="http://bff", timeout=300
                    )
                )
                learner = await _enrolled_learner(
                    GraphQLClient("http://bff/graphql", http=http), course.course_id
                )
                yield World(
                    mesh,
                    course.course_id,
                    course.module_ids,
                    course.instructor_token,
                    learner,
                    http,
                    app.state.metrics_port,
                    exporter,
                )
    finally:
        await asyncio.to_thread(drop_pg_urls, postgres, urls)


async def _enrolled_learner(anonymous: GraphQLClient, course_id: str) -> GraphQLClient:
    signed = await anonymous.execute(
        'mutation($e: String!, $p: String!) { signUp(role: LEARNER, email: $e, password: $p, name: "L") { token } }',
        {"e": f"learner-{uuid.uuid4().hex[:8]}@example.org", "p": PASSWORD},
    )
    learner = anonymous.as_user(signed["signUp"]["token"])
    await learner.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": course_id})
    return learner


async def _read_content(world: World, learner: GraphQLClient, request_id: str) -> None:
    """The first module's content, as `learner` (generated the first time)."""
    response = await world.http.post(
        "/graphql",
        json={"query": CONTENT, "variables": {"c": world.course_id, "m": world.module_ids[0]}},
        headers={**learner._headers(), "x-request-id": request_id},
    )
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    assert body["data"]["moduleContent"]["markdown"]


def _server_service(span: ReadableSpan) -> str | None:
    return span.attributes.get("rpc.service") if span.kind is SpanKind.SERVER else None


async def test_one_graphql_request_is_one_trace_across_the_mesh_and_its_databases(world):
    world.spans.clear()
    request_id = "trace-" + uuid.uuid4().hex[:12]
    await _read_content(world, world.learner, request_id)

    spans = world.spans.get_finished_spans()
    (root,) = [s for s in spans if s.kind is SpanKind.SERVER and s.parent is None]
    assert root.name == "POST /graphql"
    trace = [s for s in spans if s.context.trace_id == root.context.trace_id]
    served = {_server_service(s) for s in trace}
    assert set(SERVICES.values()) <= served, sorted(filter(None, served))
    databases = {s.attributes.get("db.system") or s.attributes.get("db.system.name") for s in trace}
    assert {"postgresql", "mongodb"} <= databases, databases
    names = {s.name for s in trace}
    assert {"orchestrator.module_content", "sme.retrieve", "sme.generate"} <= names, names
    assert root.attributes.get("graphql.operation.name") == "ModuleContent"
    # Nothing of this request went into another trace, and every span of it carries its request id.
    strays = [s.name for s in spans if s.attributes.get(telemetry.REQUEST_ID_ATTRIBUTE) == request_id]
    assert len(strays) == len(trace)
    assert {s.attributes.get(telemetry.REQUEST_ID_ATTRIBUTE) for s in trace} == {request_id}


async def _scrape(port: int) -> dict[tuple[str, tuple], float]:
    """Every sample of a /metrics page by (name, sorted labels); parsing fails on a malformed page."""
    async with httpx.AsyncClient() as http:
        response = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _rpc(method: str, code: str = "OK") -> tuple[str, tuple]:
    service, name = method.rsplit("/", 1)
    labels = {"grpc_service": service, "grpc_method": name, "grpc_code": code}
    return "lmw_grpc_server_handled_total", tuple(sorted(labels.items()))


async def test_every_process_serves_metrics_whose_counters_move_with_its_requests(world):
    ports = {**world.mesh.metrics_ports, "bff": world.bff_metrics_port}
    assert set(ports) == {"learner", "instructor", "orchestrator", "sme", "bff"} and all(ports.values())
    before = {name: await _scrape(port) for name, port in ports.items()}

    another = await _enrolled_learner(world.learner.as_user(None), world.course_id)
    await _read_content(world, another, "metrics-" + uuid.uuid4().hex[:8])
    from lmw.instructor.v1 import instructor_service_pb2 as ipb
    from lmw.learner.v1 import learner_service_pb2 as lpb

    await world.mesh.instructor_stub(world.teacher_token).GetCourse(
        ipb.GetCourseRequest(course_id=world.course_id)
    )
    with pytest.raises(grpc.aio.AioRpcError):  # no token: refused, and counted by its code
        await world.mesh.learner_stub().GetMe(lpb.GetMeRequest())
    after = {name: await _scrape(port) for name, port in ports.items()}

    def moved(process: str, key: tuple[str, tuple]) -> float:
        return after[process].get(key, 0.0) - before[process].get(key, 0.0)

    operation = (
        "lmw_graphql_operations_total",
        (("code", "OK"), ("operation", "ModuleContent"), ("type", "query")),
    )
    assert moved("bff", operation) == 1
    assert moved("orchestrator", _rpc("lmw.orchestrator.v1.OrchestratorService/GetModuleContent")) == 1
    assert moved("learner", _rpc("lmw.learner.v1.LearnerService/RecordModuleEvent")) >= 1
    assert moved("sme", _rpc("lmw.sme.v1.SmeService/GenerateModuleContent")) == 1
    assert moved("instructor", _rpc("lmw.instructor.v1.InstructorService/GetCourse")) >= 1
    assert moved("learner", _rpc("lmw.learner.v1.LearnerService/GetMe", "UNAUTHENTICATED")) == 1
    generated = ("lmw_generation_duration_seconds_count", (("backend", "extractive"), ("kind", "content")))
    assert moved("sme", generated) == 1
    assert moved("sme", ("lmw_retrieval_duration_seconds_count", (("method", "hybrid"),))) >= 1
    assert moved("orchestrator", ("lmw_cache_misses_total", (("cache", "module_content"),))) == 1
    # State read at scrape time: the breaker is closed, the pools exist, ingestion jobs finished.
    assert (
        after["orchestrator"][("lmw_circuit_breaker_state", (("dependency", "sme_svc"), ("state", "closed")))]
        == 1
    )
    assert ("lmw_db_pool_size", (("pool", "sessions"),)) in after["learner"]
    assert after["sme"][("lmw_ingestion_jobs_total", (("state", "succeeded"),))] >= 1
    timed = (("grpc_method", "GetModuleContent"), ("grpc_service", SERVICES["orchestrator"]))
    assert moved("orchestrator", ("lmw_grpc_server_handling_seconds_count", timed)) == 1
