"""The BFF in-process over real learner_svc, instructor_svc and sme_svc (also in-process, real databases),
driven through GraphQL over httpx's ASGI transport, with a gRPC client interceptor counting the BFF's calls.

- nested `myCourses { ... course { ... } }` costs one ListEnrollments plus one GetCourse per DISTINCT course,
  run concurrently with bounded parallelism (the DataLoader), however often a course is referenced;
- uploads stream in 256 KiB chunks and stop at BFF_MAX_UPLOAD_BYTES while streaming (nothing is stored);
- cursor pagination maps onto the services' page tokens;
- published courses shown on enrollments and anonymous catalog pages are shared between requests for
  BFF_COURSE_CACHE_TTL_S; drafts and callers with a token always reach instructor_svc.
"""

from __future__ import annotations

import collections
import contextlib
import uuid
from types import SimpleNamespace

import grpc
import httpx
import pytest

pytest.importorskip("instructor_svc.bootstrap")
pytest.importorskip("sme_svc.bootstrap")

from bff.app import create_app  # noqa: E402
from bff.clients import current_token  # noqa: E402
from bff.config import BffSettings  # noqa: E402
from bff.context import BffContext  # noqa: E402
from bff.errors import ApiError  # noqa: E402
from bff.schema.mutations import UPLOAD_CHUNK_BYTES, _upload_one  # noqa: E402
from devkit.databases import free_port  # noqa: E402
from devkit.graphql import GraphQLClient, GraphQLFailure  # noqa: E402
from devkit.graphql_checks import wait_indexed  # noqa: E402
from learner_svc.bootstrap import bootstrap as learner_bootstrap  # noqa: E402
from learner_svc.config import LearnerSettings  # noqa: E402
from lmw_common.runtime import serving  # noqa: E402
from tests.integration.test_instructor_support import databases, instructor_env, sme_env  # noqa: E402

PASSWORD = "Correct-horse-9"
COURSES = 3
LOADER_CONCURRENCY = 2
MATERIAL = b"# Fractions\n\nA fraction names a part of a whole. The numerator counts the parts taken.\n"


class CallCounter(grpc.aio.UnaryUnaryClientInterceptor):
    """Counts unary calls per method and the peak number in flight at once."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.peak: collections.Counter[str] = collections.Counter()
        self._in_flight: collections.Counter[str] = collections.Counter()
        self.metadata: list[dict[str, str]] = []

    def reset(self) -> None:
        self.calls.clear()
        self.peak.clear()
        self.metadata.clear()

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        method = client_call_details.method
        name = (method.decode() if isinstance(method, bytes) else method).rsplit("/", 1)[-1]
        self.calls[name] += 1
        self.metadata.append(dict(client_call_details.metadata or ()))
        self._in_flight[name] += 1
        self.peak[name] = max(self.peak[name], self._in_flight[name])
        try:
            call = await continuation(client_call_details, request)
            await call
            return call
        finally:
            self._in_flight[name] -= 1


@contextlib.asynccontextmanager
async def counted_bff(settings: BffSettings):
    """The BFF app with a CallCounter on its channels, served in process through httpx."""
    app = create_app(settings)
    counter = CallCounter()
    # create_channel builds its channel with grpc.aio.insecure_channel: add the counter after its own
    # interceptors, so it sees the metadata they add.
    real = grpc.aio.insecure_channel

    def counted(target, options=None, compression=None, interceptors=None):
        return real(target, options, compression, [*(interceptors or []), counter])

    grpc.aio.insecure_channel = counted
    try:
        app.state.clients.open()
    finally:
        grpc.aio.insecure_channel = real
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bff", timeout=120) as http,
    ):
        yield SimpleNamespace(
            client=GraphQLClient("http://bff/graphql", http=http), counter=counter, app=app, settings=settings
        )


@pytest.fixture(scope="module")
async def stack(postgres, mongo, common_settings, tmp_path_factory):
    """learner, instructor and sme in-process on free ports, and the BFF app with counted channels."""
    async with contextlib.AsyncExitStack() as stack:
        learner_pg, _ = await stack.enter_async_context(databases(postgres, mongo))
        instructor_pg, instructor_mongo = await stack.enter_async_context(databases(postgres, mongo))
        _, sme_mongo = await stack.enter_async_context(databases(postgres, mongo))
        ports = {name: free_port() for name in ("learner", "instructor", "sme")}
        learner = LearnerSettings(
            port=ports["learner"],
            database_url=learner_pg,
            instructor_target=f"127.0.0.1:{ports['instructor']}",
            shutdown_grace_s=0,
            common=common_settings,
        )
        await stack.enter_async_context(serving("learner_svc", learner, learner_bootstrap))
        await stack.enter_async_context(
            instructor_env(
                instructor_pg,
                instructor_mongo,
                tmp_path_factory.mktemp("blobs"),
                common_settings,
                port=ports["instructor"],
                sme_target=f"127.0.0.1:{ports['sme']}",
                learner_target=f"127.0.0.1:{ports['learner']}",
            )
        )
        await stack.enter_async_context(
            sme_env(
                sme_mongo,
                ports["instructor"],
                tmp_path_factory.mktemp("index"),
                common_settings,
                port=ports["sme"],
            )
        )
        settings = BffSettings(
            learner_target=f"127.0.0.1:{ports['learner']}",
            instructor_target=f"127.0.0.1:{ports['instructor']}",
            orchestrator_target=f"127.0.0.1:{free_port()}",
            loader_concurrency=LOADER_CONCURRENCY,
            max_upload_bytes=600 * 1024,
            course_cache_ttl_s=0,  # every operation reaches instructor_svc: the DataLoader is what is tested
        )
        yield await stack.enter_async_context(counted_bff(settings))


async def sign_up(client: GraphQLClient, role: str) -> GraphQLClient:
    data = await client.execute(
        'mutation($r: Role!, $e: String!, $p: String!) { signUp(role: $r, email: $e, password: $p, name: "T") { token } }',
        {"r": role, "e": f"{role.lower()}-{uuid.uuid4().hex[:8]}@example.org", "p": PASSWORD},
    )
    return client.as_user(data["signUp"]["token"])


async def published_course(teacher: GraphQLClient, tmp_path, title: str) -> str:
    """A course with one module, one indexed file and approved (hand-written) objectives, published."""
    course = (
        await teacher.execute("mutation($t: String!) { createCourse(title: $t) { id } }", {"t": title})
    )["createCourse"]["id"]
    module = (
        await teacher.execute(
            'mutation($c: ID!) { createModule(courseId: $c, title: "Basics") { id } }', {"c": course}
        )
    )["createModule"]["id"]
    material = tmp_path / f"{uuid.uuid4().hex[:6]}.md"
    material.write_bytes(MATERIAL + title.encode())
    await teacher.upload(
        "mutation($c: ID!, $files: [Upload!]!) { uploadCourseFiles(courseId: $c, files: $files) { file { id } } }",
        {"c": course},
        [material],
    )
    await wait_indexed(teacher, course)
    objectives = (
        await teacher.execute(
            """mutation($c: ID!, $m: ID!) { updateLearningObjectives(courseId: $c, moduleId: $m,
              objectives: [{text: "Explain what a fraction is"}]) { version } }""",
            {"c": course, "m": module},
        )
    )["updateLearningObjectives"]
    await teacher.execute(
        "mutation($c: ID!, $m: ID!, $v: Int!) { approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }",
        {"c": course, "m": module, "v": objectives["version"]},
    )
    await teacher.execute("mutation($c: ID!) { publishCourse(courseId: $c) { published } }", {"c": course})
    return course


@pytest.fixture(scope="module")
async def enrolled(stack, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("materials")
    teacher = await sign_up(stack.client, "INSTRUCTOR")
    courses = [await published_course(teacher, tmp_path, f"Fractions {i}") for i in range(COURSES)]
    student = await sign_up(stack.client, "LEARNER")
    for course in courses:
        await student.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": course})
    return SimpleNamespace(teacher=teacher, student=student, courses=courses)


async def test_nested_courses_cost_one_call_per_distinct_course(stack, enrolled):
    query = """query($c: ID!) {
      myCourses(first: 10) { edges { node { courseId course { id title modules { title } } } } }
      again: myCourses(first: 10) { edges { node { course { id published } } } }
      one: course(id: $c) { title }
    }"""
    stack.counter.reset()
    data = await enrolled.student.execute(query, {"c": enrolled.courses[0]})
    titles = sorted(edge["node"]["course"]["title"] for edge in data["myCourses"]["edges"])
    assert titles == [f"Fractions {i}" for i in range(COURSES)]
    assert all(
        edge["node"]["course"]["modules"] == [{"title": "Basics"}] for edge in data["myCourses"]["edges"]
    )
    assert data["one"]["title"] == "Fractions 0"
    # Seven references to three courses: three GetCourse calls (a naive resolver would make seven).
    assert stack.counter.calls["GetCourse"] == COURSES
    assert stack.counter.calls["ListEnrollments"] == 2
    # ... run concurrently, never more at once than the loader's bound.
    assert stack.counter.peak["GetCourse"] == LOADER_CONCURRENCY


async def test_token_and_request_id_are_forwarded(stack, enrolled):
    stack.counter.reset()
    response = await stack.client.http.post(
        "/graphql",
        json={"query": "{ myCourses { edges { node { course { id } } } } }"},
        headers={"Authorization": f"Bearer {enrolled.student.token}", "x-request-id": "req-0123456789"},
    )
    assert response.headers["x-request-id"] == "req-0123456789" and "errors" not in response.json()
    assert len(stack.counter.metadata) == 1 + COURSES
    for metadata in stack.counter.metadata:
        assert metadata["authorization"] == f"Bearer {enrolled.student.token}"
        assert metadata["x-request-id"] == "req-0123456789"


async def test_enrollments_paginate_with_cursors(stack, enrolled):
    query = """query($after: String) { myCourses(first: 2, after: $after) {
      edges { cursor node { courseId } } pageInfo { hasNextPage endCursor } } }"""
    first = (await enrolled.student.execute(query))["myCourses"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"]
    stack.counter.reset()
    second = (await enrolled.student.execute(query, {"after": first["pageInfo"]["endCursor"]}))["myCourses"]
    assert stack.counter.calls["ListEnrollments"] == 1
    assert len(second["edges"]) == COURSES - 2 and not second["pageInfo"]["hasNextPage"]
    seen = [e["node"]["courseId"] for e in first["edges"] + second["edges"]]
    assert sorted(seen) == sorted(enrolled.courses)
    # A cursor in the middle of a page continues right after that edge.
    middle = (await enrolled.student.execute(query, {"after": first["edges"][0]["cursor"]}))["myCourses"]
    assert [e["node"]["courseId"] for e in middle["edges"]] == seen[1:3]


async def test_dashboard_course_and_errors_are_mapped(stack, enrolled):
    # orchestrator_svc is down in this stack: the dashboard fails UNAVAILABLE, but its course loaded in parallel.
    with pytest.raises(GraphQLFailure) as failure:
        await enrolled.student.execute(
            "query($c: ID!) { dashboard(courseId: $c) { course { title } } }", {"c": enrolled.courses[0]}
        )
    assert failure.value.codes == ["UNAVAILABLE"]
    with pytest.raises(GraphQLFailure) as failure:
        await enrolled.student.execute('mutation { createCourse(title: "Mine") { id } }')
    assert failure.value.codes == ["FORBIDDEN"]
    with pytest.raises(GraphQLFailure) as failure:
        await enrolled.teacher.execute('{ course(id: "nope") { id } }')
    assert failure.value.codes == ["NOT_FOUND"]
    with pytest.raises(GraphQLFailure) as failure:
        await stack.client.execute(
            'mutation { logIn(role: LEARNER, email: "nobody@example.org", password: "Wrong-pass-99") { token } }'
        )
    assert failure.value.codes == ["UNAUTHENTICATED"]
    me = await enrolled.teacher.execute("{ me { __typename role ... on Instructor { email } } }")
    assert me["me"]["__typename"] == "Instructor" and me["me"]["role"] == "INSTRUCTOR"


async def test_published_courses_and_anonymous_catalog_pages_are_shared_for_a_while(stack, enrolled):
    async with counted_bff(stack.settings.model_copy(update={"course_cache_ttl_s": 60})) as bff:
        student = bff.client.as_user(enrolled.student.token)
        mine = "{ myCourses(first: 10) { edges { node { course { id title } } } } }"
        first = await student.execute(mine)
        assert bff.counter.calls["GetCourse"] == COURSES
        bff.counter.reset()
        assert await student.execute(mine) == first  # the published courses, shared for the TTL
        assert bff.counter.calls["GetCourse"] == 0 and bff.counter.calls["ListEnrollments"] == 1

        # course(id) is asked for with the caller's token every time: instructor_svc decides who sees what.
        bff.counter.reset()
        for _ in range(2):
            await bff.client.as_user(enrolled.teacher.token).execute(
                "query($c: ID!) { course(id: $c) { id } }", {"c": enrolled.courses[0]}
            )
        assert bff.counter.calls["GetCourse"] == 2

        # Anonymous catalog pages are shared; a caller with a token is asked for with it every time.
        catalog = "{ catalog(first: 10) { edges { node { id } } } }"
        bff.counter.reset()
        pages = [await bff.client.execute(catalog) for _ in range(3)]
        assert pages[0] == pages[2] and {e["node"]["id"] for e in pages[0]["catalog"]["edges"]} >= set(
            enrolled.courses
        )
        assert bff.counter.calls["ListPublishedCourses"] == 1
        for _ in range(2):
            await student.execute(catalog)
        assert bff.counter.calls["ListPublishedCourses"] == 3
        with pytest.raises(GraphQLFailure) as failure:
            await bff.client.as_user("not-a-token").execute(catalog)
        assert failure.value.codes == ["UNAUTHENTICATED"]


class EndlessUpload:
    """An upload whose size is unknown up front (no `size`), yielding zeros for ever."""

    filename = "endless.md"

    def __init__(self) -> None:
        self.read_bytes = 0

    async def read(self, n: int) -> bytes:
        self.read_bytes += n
        return b"#" * n


async def test_upload_limit_is_enforced_while_streaming(stack, enrolled):
    course = (await enrolled.teacher.execute('mutation { createCourse(title: "Big files") { id } }'))[
        "createCourse"
    ]
    upload = EndlessUpload()
    context = BffContext(
        request=None, response=None, clients=stack.app.state.clients, settings=stack.settings
    )
    current_token.set(enrolled.teacher.token)
    with pytest.raises(ApiError) as error:
        await _upload_one(SimpleNamespace(context=context), course["id"], upload, module_id="")
    assert error.value.extensions["reason"] == "FILE_TOO_LARGE"
    # It stopped one chunk past the limit: it never read the whole (endless) stream.
    assert upload.read_bytes <= stack.settings.max_upload_bytes + UPLOAD_CHUNK_BYTES
    files = await enrolled.teacher.execute(
        "query($c: ID!) { courseFiles(courseId: $c) { edges { node { id } } } }", {"c": course["id"]}
    )
    assert files["courseFiles"]["edges"] == []
