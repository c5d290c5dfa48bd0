"""A client that vanishes mid-subscription: the websocket dropped without a close frame (TCP abort) or the
client task killed, while `moduleContentStream` generates uncached content or `jobProgress` follows a job.

Afterwards: the BFF is healthy and has dropped the subscription (no operation task left), the generation was
neither duplicated nor left claimed (the next request gets the content generated exactly once: one stored
row, one GenerateModuleContent call on sme_svc, the claim `done`), the job still finished (nothing stuck
RUNNING), and a new subscription works.

One mesh per session (tests.integration.mesh, in-process on real databases) and the BFF app served
in-process by uvicorn on a free port, so the test can also look at the BFF's own asyncio tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import psycopg
import pytest

pytest.importorskip("instructor_svc.bootstrap")
pytest.importorskip("sme_svc.bootstrap")
pytestmark = pytest.mark.slow  # a fault run

from websockets.asyncio.client import ClientConnection, connect  # noqa: E402

from devkit.graphql import GraphQLClient  # noqa: E402
from devkit.graphql_checks import (  # noqa: E402
    ModuleMaterial,
    create_course,
    sample_modules,
    serve_bff,
    sign_up,
)
from lmw.sme.v1 import sme_service_pb2 as spb  # noqa: E402
from orchestrator_svc.adapters.clients import SmeClient  # noqa: E402

pytest_plugins = ("tests.integration.mesh",)

CONTENT_STREAM = """subscription($c: ID!, $m: ID!) { moduleContentStream(courseId: $c, moduleId: $m) {
  markdownDelta content { markdown } } }"""
JOB_PROGRESS = "subscription($j: ID!) { jobProgress(id: $j) { state progress done } }"
TERMINAL = ("SUCCEEDED", "FAILED")


@pytest.fixture(scope="module")
async def stage(lmw_mesh, service_token, tmp_path_factory):
    settings = lmw_mesh.bff_settings()
    scratch = tmp_path_factory.mktemp("faults")
    async with serve_bff(settings) as url, GraphQLClient(f"{url}/graphql") as anonymous:
        owner, _, _ = await sign_up(anonymous, "INSTRUCTOR", "Owner")
        course = await create_course(owner, "Subscriptions under fire", sample_modules(1), scratch)
        yield SimpleNamespace(
            url=url,
            anonymous=anonymous,
            owner=owner,
            course=course,
            module=course.module_ids[0],
            mesh=lmw_mesh,
            service_token=service_token,
            scratch=scratch,
        )


@pytest.fixture
async def paused_generation(stage, monkeypatch):
    """sme_svc's content stream, as orchestrator_svc reads it (its SmeClient), holds after its first delta
    until the test sets the event this fixture yields: the client surely has data while the generation is
    still running when it goes away, however slow the machine (the real sme_svc still generates the whole
    content, once). Set at the end of the test in any case."""
    release = asyncio.Event()
    real = SmeClient.generate_content

    def paused(self, *args, **kwargs):
        async def events():
            first = True
            async for event in real(self, *args, **kwargs):
                yield event
                if first:
                    first = False
                    await release.wait()

        return events()

    monkeypatch.setattr(SmeClient, "generate_content", paused)
    yield release
    release.set()


# ------------------------------------------------------------------------------------------ helpers


async def start_subscription(stage, token: str, query: str, variables: dict[str, Any]) -> ClientConnection:
    """A graphql-transport-ws connection, acknowledged, with one subscription sent."""
    ws = await connect(
        stage.url.replace("http", "ws", 1) + "/graphql",
        subprotocols=["graphql-transport-ws"],
        open_timeout=60,
        max_size=None,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 60))["type"] == "connection_ack"
    await ws.send(
        json.dumps(
            {"id": uuid.uuid4().hex, "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
    )
    return ws


async def first_next(ws: ClientConnection) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 120))
        if message["type"] == "next":
            assert not message["payload"].get("errors"), message
            return message["payload"]["data"]
        assert message["type"] in ("ping", "pong"), message


async def open_subscription(
    stage, token: str, query: str, variables: dict[str, Any]
) -> tuple[ClientConnection, dict]:
    """A subscription and its first `next` payload."""
    ws = await start_subscription(stage, token, query, variables)
    return ws, await first_next(ws)


def abort(ws: ClientConnection) -> None:
    """Drop the connection the hard way: no close frame, the TCP connection is reset."""
    ws.transport.abort()


def bff_operations() -> list[asyncio.Task]:
    """The BFF's subscription operations still running (Strawberry runs each in a task of its own)."""
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done() and getattr(task.get_coro(), "__qualname__", "").endswith(".run_operation")
    ]


async def eventually(probe, what: str, timeout_s: float = 60.0, interval_s: float = 0.1):
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s} s (last: {result!r})")
        await asyncio.sleep(interval_s)


async def bff_is_healthy(stage) -> None:
    async with httpx.AsyncClient(base_url=stage.url, timeout=60) as http:
        assert (await http.get("/healthz")).json() == {"status": "ok"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text

    async def drained():
        return not bff_operations()

    await eventually(drained, "the BFF dropped the abandoned subscriptions")


async def generated_count(stage) -> int:
    info = await stage.mesh.sme_stub(stage.service_token).GetModelInfo(spb.GetModelInfoRequest())
    return info.request_counts.get("GenerateModuleContent", 0)


def orchestrator_sql(stage, statement: str, *params) -> list[tuple]:
    with psycopg.connect(stage.mesh.settings["orchestrator"].database_url, autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()


async def claims(stage, learner_id: str) -> list[str]:
    rows = await asyncio.to_thread(
        orchestrator_sql,
        stage,
        "SELECT state FROM generation_claims WHERE key LIKE %s",
        f"content:{learner_id}:{stage.module}:%",
    )
    return [state for (state,) in rows]


async def content_rows(stage, learner_id: str) -> list[str]:
    rows = await asyncio.to_thread(
        orchestrator_sql,
        stage,
        "SELECT markdown FROM module_content WHERE learner_id = %s AND module_id = %s",
        learner_id,
        stage.module,
    )
    return [markdown for (markdown,) in rows]


async def enrolled_learner(stage) -> tuple[GraphQLClient, str]:
    learner, learner_id, _ = await sign_up(stage.anonymous, "LEARNER", "Leaver")
    await learner.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": stage.course.id})
    return learner, learner_id


async def content_generated_exactly_once(stage, learner: GraphQLClient, learner_id: str, before: int) -> None:
    """The abandoned generation ran to the end once: its claim is done, the next request reads its stored
    result (no second generation), and a new subscription gets the same content."""

    async def settled():
        states = await claims(stage, learner_id)
        return states if states and "running" not in states else None

    assert await eventually(settled, "the generation claim was released") == ["done"]
    variables = {"c": stage.course.id, "m": stage.module}
    markdown = (
        await learner.execute(
            "query($c: ID!, $m: ID!) { moduleContent(courseId: $c, moduleId: $m) { markdown } }", variables
        )
    )["moduleContent"]["markdown"]
    assert markdown.strip()
    assert await content_rows(stage, learner_id) == [markdown]
    assert await generated_count(stage) - before == 1
    events = [data["moduleContentStream"] async for data in learner.subscribe(CONTENT_STREAM, variables)]
    assert events[-1]["content"]["markdown"] == markdown
    assert await generated_count(stage) - before == 1


# -------------------------------------------------------------------------------------------- tests


async def test_socket_dropped_while_content_generates(stage, paused_generation):
    learner, learner_id = await enrolled_learner(stage)
    before = await generated_count(stage)
    ws, first = await open_subscription(
        stage, learner.token, CONTENT_STREAM, {"c": stage.course.id, "m": stage.module}
    )
    assert first["moduleContentStream"]["markdownDelta"]
    # Mid-stream: the generation this subscription started is still running when the socket goes.
    assert await claims(stage, learner_id) == ["running"]
    assert len(bff_operations()) == 1
    abort(ws)
    paused_generation.set()
    await bff_is_healthy(stage)
    await content_generated_exactly_once(stage, learner, learner_id, before)


async def test_client_task_killed_while_content_generates(stage, paused_generation):
    learner, learner_id = await enrolled_learner(stage)
    before = await generated_count(stage)
    got_first = asyncio.Event()

    async def reader():
        async for _ in learner.subscribe(CONTENT_STREAM, {"c": stage.course.id, "m": stage.module}):
            got_first.set()
            await asyncio.sleep(3600)  # a client stuck in its own code until it is killed

    task = asyncio.create_task(reader())
    await asyncio.wait_for(got_first.wait(), 120)
    assert await claims(stage, learner_id) == ["running"]
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    paused_generation.set()
    await bff_is_healthy(stage)
    await content_generated_exactly_once(stage, learner, learner_id, before)


async def test_many_sockets_dropped_at_once_share_one_generation(stage, paused_generation):
    """Six subscriptions of one learner to one uncached module, all dropped as soon as the first one has
    data (the others are still waiting on the single flight): one generation, finished and stored."""
    learner, learner_id = await enrolled_learner(stage)
    before = await generated_count(stage)
    variables = {"c": stage.course.id, "m": stage.module}
    # One of them generates (it gets the first delta); the other five wait on the single flight (no data
    # until the generation ends, and it is held until the sockets are gone).
    sockets = [await start_subscription(stage, learner.token, CONTENT_STREAM, variables) for _ in range(6)]
    readers = [asyncio.create_task(first_next(ws)) for ws in sockets]
    done, waiting = await asyncio.wait(readers, timeout=120, return_when=asyncio.FIRST_COMPLETED)
    for reader in waiting:
        reader.cancel()
    assert len(done) == 1, "none or several of the six got data while the generation was held"
    assert done.pop().result()["moduleContentStream"]["markdownDelta"]

    async def all_six_running():
        return len(bff_operations()) == 6

    await eventually(all_six_running, "six subscriptions running in the BFF")
    assert await claims(stage, learner_id) == ["running"]  # held until released below
    for ws in sockets:
        abort(ws)
    paused_generation.set()
    await bff_is_healthy(stage)
    await content_generated_exactly_once(stage, learner, learner_id, before)


def big_material(path: Path) -> Path:
    """About 70 KB of Markdown (the sample modules, sections renamed), so indexing takes a while."""
    parts = []
    for copy in range(6):
        for module in sample_modules(2):
            parts.append(module.file.read_text().replace("## ", f"## Part {copy}: "))
    path.write_text("\n\n".join(parts))
    return path


async def watch_until_terminal(client: GraphQLClient, job_id: str) -> list[dict]:
    return [data["jobProgress"] async for data in client.subscribe(JOB_PROGRESS, {"j": job_id})]


async def job_finishes(stage, job_id: str) -> None:
    async def terminal():
        state = (await stage.owner.execute("query($j: ID!) { job(id: $j) { state } }", {"j": job_id}))["job"][
            "state"
        ]
        return state if state in TERMINAL else None

    assert await eventually(terminal, f"job {job_id} finished", timeout_s=180, interval_s=0.25) == "SUCCEEDED"
    updates = await watch_until_terminal(stage.owner, job_id)  # a new subscription works
    assert updates and updates[-1]["state"] == "SUCCEEDED" and updates[-1]["done"]


async def test_jobs_finish_when_their_watchers_vanish(stage):
    # An ingestion job (relayed from sme_svc): the socket is dropped mid-stream.
    course = await create_course(
        stage.owner,
        "Big materials",
        [ModuleMaterial("Everything", big_material(stage.scratch / "big.md"), ("Summarize data",))],
        stage.scratch / "big",
        publish=False,
        upload=False,
    )
    uploaded = (
        await stage.owner.upload(
            """mutation($c: ID!, $files: [Upload!]!) {
              uploadCourseFiles(courseId: $c, files: $files) { job { id } } }""",
            {"c": course.id},
            [stage.scratch / "big.md"],
        )
    )["uploadCourseFiles"]
    ingest = uploaded[0]["job"]["id"]
    ws, first = await open_subscription(stage, stage.owner.token, JOB_PROGRESS, {"j": ingest})
    assert first["jobProgress"]["state"] not in TERMINAL, first  # mid-stream
    abort(ws)
    await bff_is_healthy(stage)
    await job_finishes(stage, ingest)

    # An objectives job (instructor_svc's own): the client task is killed mid-stream.
    job = (
        await stage.owner.execute(
            "mutation($c: ID!) { generateLearningObjectives(courseId: $c, count: 2) { id } }",
            {"c": course.id},
        )
    )["generateLearningObjectives"]["id"]
    got_first = asyncio.Event()
    states: list[str] = []

    async def reader():
        async for data in stage.owner.subscribe(JOB_PROGRESS, {"j": job}):
            states.append(data["jobProgress"]["state"])
            got_first.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(reader())
    await asyncio.wait_for(got_first.wait(), 60)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert states and states[0] not in TERMINAL, states
    await bff_is_healthy(stage)
    await job_finishes(stage, job)
    objectives = (
        await stage.owner.execute(
            "query($c: ID!) { learningObjectives(courseId: $c) { objectives { text } } }", {"c": course.id}
        )
    )["learningObjectives"]
    assert objectives and objectives[0]["objectives"]
