"""Faults under load on the whole mesh: sme_svc dying mid-generation, PostgreSQL and the MongoDB-wire server
restarting while learners write. The services are never restarted here: they must reconnect by themselves.

One mesh for the module, on a DEDICATED embedded PostgreSQL and a DEDICATED MongoDB-wire server with on-disk
storage (the session's servers are shared with other tests and are never restarted), with a published tiny
course. (sme_svc dying during ingestion is covered by test_sme_ingestion.py.)

(a) sme_svc is stopped while a content generation is in flight (sme_svc is pointed at a local model server
    that never answers, so the generation is reliably in flight): the waiting requests get UNAVAILABLE, the
    single-flight claim is failed, nothing is cached; once sme_svc is back the next requests generate once.
(b) PostgreSQL restarts (stop, then a new server on the same data directory and socket) while 20 learners
    record quiz attempts with idempotent attempt ids; failed writes are retried as a client would; every
    attempt is recorded exactly once.
(c) The MongoDB-wire server restarts (same port, same storage) while learners set preferences and the
    instructor lists files; every learner's last write is what is stored, once, and the file records survive.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import psycopg
import pytest
from pymongo import MongoClient

pytest.importorskip("instructor_svc.bootstrap")
pytest.importorskip("sme_svc.bootstrap")
pytestmark = pytest.mark.slow  # a fault run

from devkit.databases import MongoWire, Postgres, free_port, scratch_dir  # noqa: E402
from devkit.inprocess import (  # noqa: E402
    drop_pg_urls,
    fresh_pg_urls,
    publish_course,
    running_mesh,
    sign_up_learner,
    tiny_course,
)
from lmw.common.v1 import common_pb2 as cpb  # noqa: E402
from lmw.instructor.v1 import instructor_service_pb2 as ipb  # noqa: E402
from lmw.learner.v1 import learner_service_pb2 as lpb  # noqa: E402
from lmw.orchestrator.v1 import orchestrator_service_pb2 as opb  # noqa: E402
from lmw.sme.v1 import sme_service_pb2 as spb  # noqa: E402
from lmw_common.errors import from_rpc_error  # noqa: E402

LEARNERS = 20
ATTEMPTS_EACH = 5
# What a client retries (idempotent requests only): the service or one of its dependencies is unavailable.
RETRYABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class Databases:
    """The module's own PostgreSQL and MongoDB-wire servers, which the tests restart."""

    def __init__(self, root) -> None:
        self.pg_dir = root / "pg2"
        self.mongo_dir = root / "mongo2"
        self.mongo_dir.mkdir()
        self.mongo_port = free_port()
        self.postgres = Postgres(self.pg_dir)
        self.mongo = MongoWire(storage=str(self.mongo_dir), port=self.mongo_port)

    def restart_postgres(self, down_s: float) -> None:
        """Stop the server (fast shutdown: sessions are cut), wait, start a new one on the same data dir."""
        before = self.postgres.admin_uri
        self.postgres.stop()
        time.sleep(down_s)
        self.postgres = Postgres(self.pg_dir)
        assert self.postgres.admin_uri == before  # same socket: the services' URLs still point at it

    def restart_mongo(self, down_s: float, when_down: Callable[[], object] = lambda: None) -> None:
        self.mongo.stop()
        when_down()
        time.sleep(down_s)
        self.mongo = MongoWire(storage=str(self.mongo_dir), port=self.mongo_port)

    def stop(self) -> None:
        self.mongo.stop()
        self.postgres.stop()


@pytest.fixture(scope="module")
async def world(common_settings):
    with scratch_dir("lmw-faults-") as root:
        dbs = await asyncio.to_thread(Databases, root)
        try:
            urls = await asyncio.to_thread(fresh_pg_urls, dbs.postgres)
            try:
                async with running_mesh(
                    urls,
                    f"{dbs.mongo.uri.rstrip('/')}/faults",
                    root / "mesh",
                    common_settings,
                    orchestrator={"sme_breaker_fail_max": 3, "sme_breaker_reset_timeout_s": 1.0},
                ) as mesh:
                    course = await publish_course(mesh, tiny_course(), objectives_per_module=2)
                    yield mesh, course, dbs
            finally:
                await asyncio.to_thread(drop_pg_urls, dbs.postgres, urls)
        finally:
            await asyncio.to_thread(dbs.stop)


def sql(url: str, statement: str, *params) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


async def sql_async(url: str, statement: str, *params) -> list[tuple]:
    return await asyncio.to_thread(sql, url, statement, *params)


async def enrolled_learner(mesh, course, name: str) -> tuple[str, str]:
    learner_id, token = await sign_up_learner(mesh, name)
    await mesh.learner_stub(token).Enroll(lpb.EnrollRequest(course_id=course.course_id))
    return learner_id, token


async def with_retries(
    call: Callable[[], Awaitable], codes: Counter, *, budget_s: float = 90.0, backoff_s: float = 0.1
):
    """Call until it succeeds, retrying what a client retries with capped exponential backoff; every
    status seen is counted in `codes`. Anything not retryable fails the test at once."""
    deadline = time.monotonic() + budget_s
    delay = backoff_s
    while True:
        try:
            result = await call()
        except grpc.aio.AioRpcError as err:
            codes[err.code().name] += 1
            if err.code() not in RETRYABLE:
                raise AssertionError(
                    f"{err.code().name} ({from_rpc_error(err).reason}): {err.details()}"
                ) from err
            if time.monotonic() > deadline:
                raise AssertionError(f"still {err.code().name} after {budget_s} s: {err.details()}") from err
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
            continue
        codes["OK"] += 1
        return result


# --------------------------------------------------------------------------- (a) sme_svc dies mid-generation


class SilentModelServer:
    """An OpenAI-compatible chat endpoint that accepts requests and never answers until released (then 503):
    a model server busy with a long generation. It stands in for the external model server, not for sme_svc."""

    def __init__(self) -> None:
        self.requests = 0
        self.arrived = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.requests += 1
                outer.arrived.set()
                outer.release.wait(120)
                body = json.dumps({"error": {"message": "released"}}).encode()
                try:
                    self.send_response(503)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


async def restart_sme(mesh, **overrides) -> None:
    await mesh.stop_sme()
    if overrides:
        mesh.settings["sme"] = mesh.settings["sme"].model_copy(update=overrides)
    await mesh.start_sme()


async def content_requests(mesh, course, token: str, waiters: int = 3) -> list:
    """One streaming request (it generates and streams) and `waiters` unary ones, all at once; each
    returns the final Markdown or the AioRpcError it ended with."""
    o = mesh.orchestrator_stub(token)
    c, m = course.course_id, course.module_ids[0]

    async def streamed():
        events = [
            e async for e in o.StreamModuleContent(opb.StreamModuleContentRequest(course_id=c, module_id=m))
        ]
        return events[-1].content.markdown

    async def unary():
        return (
            await o.GetModuleContent(opb.GetModuleContentRequest(course_id=c, module_id=m))
        ).content.markdown

    async def outcome(coro):
        try:
            return await asyncio.wait_for(coro, 60)
        except grpc.aio.AioRpcError as err:
            return err

    return [asyncio.create_task(outcome(streamed()))] + [
        asyncio.create_task(outcome(unary())) for _ in range(waiters)
    ]


async def test_sme_dies_during_generation_then_the_next_request_generates_once(world, service_token):
    mesh, course, _ = world
    learner_id, token = await enrolled_learner(mesh, course, "Interrupted")
    pg = mesh.settings["orchestrator"].database_url
    original = mesh.settings["sme"]
    model = SilentModelServer()
    try:
        await restart_sme(
            mesh, generator_backend="openai", openai_base_url=model.base_url, openai_model="silent"
        )
        tasks = await content_requests(mesh, course, token)
        assert await asyncio.to_thread(model.arrived.wait, 60), "the generation never reached the model"
        claims = f"content:{learner_id}:%"
        held = await sql_async(pg, "SELECT state FROM generation_claims WHERE key LIKE %s", claims)
        assert held == [("running",)]  # one claim, held by the generating request

        await mesh.stop_sme()  # sme_svc dies with the generation in flight
        outcomes = await asyncio.gather(*tasks)
        for outcome in outcomes:
            assert isinstance(outcome, grpc.aio.AioRpcError), outcome
            assert outcome.code() == grpc.StatusCode.UNAVAILABLE, (outcome.code(), outcome.details())
        # nothing cached, the claim released as failed (the next request may take it over at once)
        assert await sql_async(
            pg, "SELECT count(*) FROM module_content WHERE learner_id = %s", learner_id
        ) == [(0,)]
        states = await sql_async(
            pg, "SELECT state, lease_expires_at > now() FROM generation_claims WHERE key LIKE %s", claims
        )
        assert [s for s, _ in states] == ["failed"], states
    finally:
        model.close()
        mesh.settings["sme"] = original
        await mesh.start_sme()

    await asyncio.sleep(1.2)  # the orchestrator's breaker (reset after 1 s) lets a trial call through
    outcomes = await asyncio.gather(*await content_requests(mesh, course, token))
    assert all(isinstance(o, str) and o.strip() for o in outcomes), outcomes
    assert len(set(outcomes)) == 1
    info = await mesh.sme_stub(service_token).GetModelInfo(spb.GetModelInfoRequest())
    assert info.request_counts.get("GenerateModuleContent", 0) == 1  # exactly one generation
    assert await sql_async(pg, "SELECT count(*) FROM module_content WHERE learner_id = %s", learner_id) == [
        (1,)
    ]
    assert await sql_async(
        pg, "SELECT state, attempt FROM generation_claims WHERE key LIKE %s", f"content:{learner_id}:%"
    ) == [("done", 2)]


# ------------------------------------------------------------------------ (b) PostgreSQL restarts under load


def attempt(learner_id: str, course, k: int) -> lpb.QuizAttempt:
    return lpb.QuizAttempt(
        id=f"{learner_id[:20]}-a{k}",
        learner_id=learner_id,
        course_id=course.course_id,
        module_id=course.module_ids[0],
        quiz_id=f"q{k}-{learner_id[:12]}",
        score=(k % 5) / 4,
        passed=k % 5 >= 3,
    )


async def test_postgres_restart_under_load_loses_and_duplicates_nothing(world, service_token):
    mesh, course, dbs = world
    learners = await asyncio.gather(*(enrolled_learner(mesh, course, f"Load{i}") for i in range(LEARNERS)))
    internal = mesh.learner_stub(service_token)
    codes: Counter = Counter()
    submitted: list[str] = []
    progress = asyncio.Event()
    done = 0

    async def learner_loop(learner_id: str) -> None:
        nonlocal done
        for k in range(ATTEMPTS_EACH):
            request = lpb.RecordQuizAttemptRequest(attempt=attempt(learner_id, course, k))
            await with_retries(lambda r=request: internal.RecordQuizAttempt(r, timeout=10), codes)
            submitted.append(request.attempt.id)
            done += 1
            if done >= LEARNERS * ATTEMPTS_EACH // 4:
                progress.set()
            await asyncio.sleep(0.05)

    async def restart_in_the_middle() -> None:
        await progress.wait()  # a quarter of the attempts are in
        await asyncio.to_thread(dbs.restart_postgres, 1.0)

    started = time.monotonic()
    restart = asyncio.create_task(restart_in_the_middle())
    try:
        await asyncio.gather(*(learner_loop(learner_id) for learner_id, _ in learners))
    finally:
        progress.set()
        await restart  # never leave the server half-restarted for the next test
    took = time.monotonic() - started

    ids = [
        a.id
        for learner_id, _ in learners
        for a in (attempt(learner_id, course, k) for k in range(ATTEMPTS_EACH))
    ]
    rows = await sql_async(
        mesh.settings["learner"].database_url,
        "SELECT id, count(*) FROM quiz_attempts WHERE id = ANY(%s) GROUP BY id",
        ids,
    )
    recorded = dict(rows)
    lost = sorted(set(ids) - set(recorded))
    duplicated = sorted(i for i, n in recorded.items() if n != 1)
    print(
        f"\nPostgreSQL restart: {len(ids)} attempts by {LEARNERS} learners in {took:.1f} s, "
        f"codes {dict(codes)}, recorded {len(recorded)}, lost {len(lost)}, duplicated {len(duplicated)}"
    )
    assert sorted(submitted) == sorted(ids)
    assert not lost and not duplicated
    assert codes["OK"] == len(ids)
    # the services reconnected by themselves: every PostgreSQL owner answers at once
    learner_id, token = learners[0]
    progress_now = await mesh.learner_stub(token).GetCourseProgress(
        lpb.GetCourseProgressRequest(course_id=course.course_id)
    )
    assert progress_now.progress.modules[0].attempt_count == ATTEMPTS_EACH
    await mesh.instructor_stub(course.instructor_token).GetCourse(
        ipb.GetCourseRequest(course_id=course.course_id)
    )
    board = await mesh.orchestrator_stub(token).GetDashboard(
        opb.GetDashboardRequest(course_id=course.course_id)
    )
    assert board.dashboard.recent_quiz_results and board.dashboard.course_title
    # a retried write answers "already recorded" instead of recording twice
    again = await internal.RecordQuizAttempt(
        lpb.RecordQuizAttemptRequest(attempt=attempt(learner_id, course, 0))
    )
    assert again.already_recorded


# ------------------------------------------------------------------- (c) the MongoDB server restarts under load

PREFERENCE_CYCLE = [
    cpb.Preferences(
        detail_level=cpb.DETAIL_LEVEL_BRIEF,
        explanation_style=cpb.EXPLANATION_STYLE_EXAMPLES,
        language=cpb.LANGUAGE_LEVEL_SIMPLE,
    ),
    cpb.Preferences(
        detail_level=cpb.DETAIL_LEVEL_DETAILED,
        explanation_style=cpb.EXPLANATION_STYLE_PRACTICAL,
        language=cpb.LANGUAGE_LEVEL_TECHNICAL,
    ),
    cpb.Preferences(
        detail_level=cpb.DETAIL_LEVEL_MODERATE,
        explanation_style=cpb.EXPLANATION_STYLE_VISUAL,
        language=cpb.LANGUAGE_LEVEL_BALANCED,
    ),
]
WRITES_EACH = 6
MONGO_DOWN_S = 6.0


async def test_mongo_restart_under_load_keeps_every_last_write(world):
    mesh, course, dbs = world
    c = course.course_id
    learners = await asyncio.gather(*(enrolled_learner(mesh, course, f"Prefs{i}") for i in range(LEARNERS)))
    owner = mesh.instructor_stub(course.instructor_token)
    files_before = sorted(
        f.id for f in (await owner.ListCourseFiles(ipb.ListCourseFilesRequest(course_id=c))).files
    )
    codes: Counter = Counter()
    progress = asyncio.Event()
    outage = asyncio.Event()  # the server is down: the writes left are made during the outage
    done = 0

    async def learner_loop(token: str, i: int) -> cpb.Preferences:
        nonlocal done
        o = mesh.orchestrator_stub(token)
        last = None
        for k in range(WRITES_EACH):
            if progress.is_set():
                await outage.wait()
            last = PREFERENCE_CYCLE[(i + k) % len(PREFERENCE_CYCLE)]
            request = opb.SetPreferencesRequest(course_id=c, preferences=last)
            await with_retries(lambda r=request: o.SetPreferences(r, timeout=10), codes)
            done += 1
            if done >= LEARNERS * WRITES_EACH // 4:
                progress.set()
            await asyncio.sleep(0.05)
        return last

    async def instructor_loop() -> None:
        for _ in range(10):
            await with_retries(
                lambda: owner.ListCourseFiles(ipb.ListCourseFilesRequest(course_id=c), timeout=10), codes
            )
            await asyncio.sleep(0.2)

    async def restart_in_the_middle() -> None:
        await progress.wait()
        loop = asyncio.get_running_loop()
        try:
            # down longer than the services' server-selection timeout (5 s), so the calls meanwhile fail
            await asyncio.to_thread(
                dbs.restart_mongo, MONGO_DOWN_S, lambda: loop.call_soon_threadsafe(outage.set)
            )
        finally:
            outage.set()

    started = time.monotonic()
    restart = asyncio.create_task(restart_in_the_middle())
    try:
        results = await asyncio.gather(
            instructor_loop(), *(learner_loop(token, i) for i, (_, token) in enumerate(learners))
        )
    finally:
        progress.set()
        await restart
    took = time.monotonic() - started
    last_written = results[1:]

    # every learner reads back their last write, and there is exactly one document per (learner, course)
    stored = []
    for (learner_id, token), expected in zip(learners, last_written, strict=True):
        got = await mesh.orchestrator_stub(token).GetPreferences(opb.GetPreferencesRequest(course_id=c))
        assert not got.is_default and got.preferences == expected, learner_id
        stored.append(learner_id)
    mongo_url = mesh.settings["orchestrator"].mongo_url
    with MongoClient(dbs.mongo.uri) as client:
        database = client[mongo_url.rsplit("/", 1)[1]]
        counts = Counter(
            d["learner_id"]
            for d in database["preferences"].find({"course_id": c, "learner_id": {"$in": stored}})
        )
    assert counts == Counter({learner_id: 1 for learner_id in stored})
    assert codes["UNAVAILABLE"] > 0  # the outage was felt, and answered as one (never INTERNAL)
    print(
        f"\nMongoDB restart: {LEARNERS * WRITES_EACH} preference writes by {LEARNERS} learners and 10 file "
        f"listings in {took:.1f} s, codes {dict(codes)}, documents checked {len(stored)}, lost 0"
    )
    # the file records written before the restart survived it, and instructor_svc reconnected by itself
    after = await owner.ListCourseFiles(ipb.ListCourseFilesRequest(course_id=c))
    assert sorted(f.id for f in after.files) == files_before
    status = await owner.GetIndexingStatus(ipb.GetIndexingStatusRequest(course_id=c))
    assert status.state == ipb.INDEX_STATE_READY
    # and sme_svc (chunks in MongoDB) still answers from the course's index
    learner_token = learners[0][1]
    answer = [
        e
        async for e in mesh.orchestrator_stub(learner_token).AskTutor(
            opb.AskTutorRequest(course_id=c, module_id=course.module_ids[0], question="What does break do?")
        )
    ]
    assert answer[-1].message.text
