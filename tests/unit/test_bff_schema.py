"""The BFF's schema and plumbing without services: SDL, error mapping, query limits, cursors, body limits."""

from __future__ import annotations

import logging

import grpc
import pytest
from graphql import GraphQLError, parse, validate
from starlette.testclient import TestClient

from bff.app import create_app
from bff.clients import Clients
from bff.config import BffSettings
from bff.context import BffContext, bearer_token
from bff.errors import ApiError, from_grpc_error, to_api_error
from bff.schema import build_schema
from bff.schema.extensions import cost_rule
from bff.schema.pagination import connection, decode_cursor, encode_cursor, page_request
from lmw_common import errors as domain
from lmw_common.errors import to_status

QUERIES = [
    "me",
    "catalog",
    "course",
    "myCourses",
    "dashboard",
    "moduleContent",
    "quiz",
    "quizAttempts",
    "tutorHistory",
    "instructorCourses",
    "courseFiles",
    "learningObjectives",
    "job",
    "courseAnalytics",
    "indexingStatus",
]
MUTATIONS = [
    "signUp",
    "logIn",
    "createCourse",
    "updateCourse",
    "deleteCourse",
    "createModule",
    "updateModule",
    "deleteModule",
    "reorderModules",
    "publishCourse",
    "unpublishCourse",
    "uploadCourseFiles",
    "deleteCourseFile",
    "moveCourseFile",
    "generateLearningObjectives",
    "updateLearningObjectives",
    "approveLearningObjectives",
    "enroll",
    "unenroll",
    "setPreferences",
    "submitQuiz",
    "completeModule",
    "askTutor",
]
SUBSCRIPTIONS = ["jobProgress", "moduleContentStream", "tutorAnswer"]

# Services nobody listens on: these tests never reach a service.
OFFLINE = {
    "learner_target": "127.0.0.1:9",
    "instructor_target": "127.0.0.1:9",
    "orchestrator_target": "127.0.0.1:9",
}


def settings(**overrides) -> BffSettings:
    return BffSettings(**{**OFFLINE, **overrides})


def test_schema_builds_with_every_operation():
    schema = build_schema(settings())
    graphql_schema = schema._schema
    assert sorted(graphql_schema.query_type.fields) == sorted([*QUERIES, "preferences"])
    assert set(MUTATIONS) <= set(graphql_schema.mutation_type.fields)
    assert set(SUBSCRIPTIONS) <= set(graphql_schema.subscription_type.fields)
    sdl = schema.as_str()
    for name in ["interface User", "type Learner implements User", "type Instructor implements User"]:
        assert name in sdl
    for connection_type in [
        "CourseConnection",
        "EnrollmentConnection",
        "CourseFileConnection",
        "TutorMessageConnection",
    ]:
        assert f"type {connection_type} {{\n  edges: [" in sdl
    assert "hasNextPage: Boolean!" in sdl and "endCursor: String" in sdl
    assert "scalar Upload" in sdl
    assert "uploadCourseFiles(courseId: ID!, files: [Upload!]!, moduleId: ID = null)" in sdl


# ------------------------------------------------------------------------------------------ error mapping


class FakeRpcError(grpc.aio.AioRpcError):
    """A failed call as grpc.aio reports it, with the rich status a service sends."""

    def __init__(self, status: grpc.Status | None, code: grpc.StatusCode, details: str) -> None:
        trailing = grpc.aio.Metadata(*(status.trailing_metadata if status else ()))
        super().__init__(code, grpc.aio.Metadata(), trailing, details)


def rpc_error(error: domain.DomainError) -> FakeRpcError:
    return FakeRpcError(to_status(error), error.code, error.message)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (domain.Unauthenticated("token expired", "TOKEN_EXPIRED"), "UNAUTHENTICATED"),
        (domain.PermissionDenied("not your course", "NOT_OWNER"), "FORBIDDEN"),
        (domain.NotFound("no such course", "COURSE_NOT_FOUND"), "NOT_FOUND"),
        (domain.InvalidArgument("email is not valid", "INVALID_EMAIL", field="email"), "BAD_USER_INPUT"),
        (domain.AlreadyExists("e-mail taken", "EMAIL_TAKEN"), "CONFLICT"),
        (
            domain.FailedPrecondition("objectives not approved", "OBJECTIVES_NOT_APPROVED"),
            "FAILED_PRECONDITION",
        ),
        (domain.Unavailable("sme_svc is unavailable", "DEPENDENCY_UNAVAILABLE"), "UNAVAILABLE"),
        (domain.ResourceExhausted("too many jobs", "TOO_MANY_JOBS"), "RESOURCE_EXHAUSTED"),
    ],
)
def test_grpc_errors_map_to_codes_with_their_reason(error, code):
    mapped = from_grpc_error(rpc_error(error))
    assert mapped.extensions["code"] == code
    assert mapped.extensions["reason"] == error.reason
    assert mapped.message == error.message
    if error.metadata:
        assert mapped.extensions["metadata"] == error.metadata


@pytest.mark.parametrize(
    "status", [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS]
)
def test_internal_errors_are_masked(status):
    mapped = from_grpc_error(FakeRpcError(None, status, "KeyError: 'secret' at handlers.py:42"))
    assert mapped.extensions["code"] == "INTERNAL"
    assert "secret" not in mapped.message
    assert "requestId" in mapped.extensions


def test_transport_failures_say_nothing_about_the_network():
    detail = (
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.1.2.3:50052: Connection refused"
    )
    mapped = from_grpc_error(FakeRpcError(None, grpc.StatusCode.UNAVAILABLE, detail))
    assert mapped.extensions["code"] == "UNAVAILABLE"
    assert "10.1.2.3" not in mapped.message
    deadline = from_grpc_error(FakeRpcError(None, grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))
    assert (deadline.extensions["code"], deadline.extensions["reason"]) == (
        "UNAVAILABLE",
        "DEADLINE_EXCEEDED",
    )


def test_unexpected_exceptions_are_masked_and_mapped_ones_kept():
    unexpected = GraphQLError(
        "boom", path=["course"], original_error=ValueError("database password is hunter2")
    )
    mapped = GraphQLError(
        "x", path=["me"], original_error=rpc_error(domain.NotFound("no course", "COURSE_NOT_FOUND"))
    )
    ours = GraphQLError("bad", path=["quiz"], original_error=ApiError("bad", "BAD_USER_INPUT", "X"))
    validation = GraphQLError("Cannot query field 'nope' on type 'Query'.")
    out = [unexpected, mapped, ours, validation]
    build_schema(settings()).process_errors(out)
    assert out[0].message == "Internal server error" and out[0].extensions["code"] == "INTERNAL"
    assert "hunter2" not in str(out[0].formatted)
    assert out[1].extensions == {"code": "NOT_FOUND", "reason": "COURSE_NOT_FOUND"}
    assert out[2].extensions["code"] == "BAD_USER_INPUT"
    assert out[3].extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert to_api_error(RuntimeError("x")) is None


def test_bearer_token_parsing():
    assert bearer_token("Bearer abc.def") == "abc.def"
    assert bearer_token("bearer   abc") == "abc"
    assert bearer_token(None) is None and bearer_token("") is None and bearer_token("Bearer ") is None


# ---------------------------------------------------------------------------------------------- limits


async def execute(schema, query: str):
    bff_settings = settings()
    context = BffContext(request=None, response=None, clients=Clients(bff_settings), settings=bff_settings)
    return await schema.execute(query, context_value=context)


NESTED = "{ myCourses { edges { node { course { title modules { title } } } } } }"  # depth 6


async def test_depth_limit_rejects_a_deep_query():
    result = await execute(build_schema(settings(max_query_depth=4)), NESTED)
    assert result.errors and "exceeds maximum operation depth" in result.errors[0].message
    assert result.errors[0].extensions["code"] == "GRAPHQL_VALIDATION_FAILED"
    # Within the limit, the operation runs (anonymous `me` is null and calls no service).
    result = await execute(build_schema(settings(max_query_depth=4)), "{ me { ... on Learner { id } } }")
    assert result.errors is None and result.data == {"me": None}
    deep = "{ me { a { b { c { d { e { f { g { h { i { j { k } } } } } } } } } } } }"
    result = await execute(build_schema(settings()), deep)
    assert any("exceeds maximum operation depth of 10" in e.message for e in result.errors)


def test_cost_rule_multiplies_by_first():
    schema = build_schema(settings())._schema
    costly = "{ myCourses(first: 100) { edges { node { course { modules { id title description } } } } } }"
    cheap = "{ myCourses(first: 5) { edges { node { course { modules { id title description } } } } } }"
    variable = "query($n: Int) { myCourses(first: $n) { edges { node { course { modules { id title description } } } } } }"
    rule = cost_rule(500)
    assert len(validate(schema, parse(costly), [rule])) == 1  # 1 + 100 * 9
    assert validate(schema, parse(cheap), [rule]) == []  # 1 + 5 * 9
    assert len(validate(schema, parse(variable), [rule])) == 1  # a variable counts as the maximum
    fragment = "{ ...F } fragment F on Query { catalog(first: 100) { edges { node { id title } } } }"
    assert len(validate(schema, parse(fragment), [cost_rule(300)])) == 1


async def test_cost_and_alias_limits():
    costly = "{ myCourses(first: 100) { edges { node { course { modules { id title description } } } } } }"
    result = await execute(build_schema(settings(max_query_cost=500)), costly)
    assert result.errors and "too complex" in result.errors[0].message
    assert result.errors[0].extensions["reason"] == "QUERY_TOO_COMPLEX"
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    result = await execute(build_schema(settings()), aliases)
    assert result.errors and "aliases" in result.errors[0].message


async def test_token_limit():
    huge = "{ " + " ".join("__typename" for _ in range(3000)) + " }"
    result = await execute(build_schema(settings()), huge)
    assert result.errors and "token" in result.errors[0].message.lower()
    assert result.errors[0].extensions["code"] == "GRAPHQL_PARSE_FAILED"


# --------------------------------------------------------------------------------------------- cursors


def test_cursors_follow_the_service_page_tokens():
    request = page_request(2, None)
    assert (request.token, request.skip, request.page_size) == ("", 0, 2)
    page = connection(request, ["a", "b"], "svc-token-2", str.upper)
    assert [e.node for e in page.edges] == ["A", "B"]
    assert page.page_info.has_next_page
    # The last edge's cursor is the service's next page token: the next page costs one call.
    assert decode_cursor(page.page_info.end_cursor) == ("svc-token-2", 0)
    # A cursor in the middle re-reads that page and skips what came before it.
    middle = page_request(2, page.edges[0].cursor)
    assert (middle.token, middle.skip, middle.page_size) == ("", 1, 3)
    last = connection(middle, ["a", "b", "c"], "", str)
    assert [e.node for e in last.edges] == ["b", "c"] and not last.page_info.has_next_page
    assert decode_cursor(encode_cursor("t", 5)) == ("t", 5)


@pytest.mark.parametrize("cursor", ["not-base64!", encode_cursor("t", -1), "e30", "x" * 5000])
def test_bad_cursors_are_bad_user_input(cursor):
    with pytest.raises(ApiError) as caught:
        page_request(10, cursor)
    assert caught.value.extensions["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("first", [0, -1, 101])
def test_first_is_bounded(first):
    with pytest.raises(ApiError):
        page_request(first, None)


# ---------------------------------------------------------------------------------------------- the app


def test_health_graphiql_and_body_limits():
    app = create_app(settings(max_json_bytes=2048, max_request_bytes=4096))
    with TestClient(app) as client:
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        assert health.headers["x-request-id"]
        assert (
            client.get("/healthz", headers={"x-request-id": "abc-123"}).headers["x-request-id"] == "abc-123"
        )
        assert "graphiql" in client.get("/graphql", headers={"accept": "text/html"}).text.lower()
        ok = client.post("/graphql", json={"query": "{ __typename }"})
        assert ok.json() == {"data": {"__typename": "Query"}}
        anonymous_me = client.post("/graphql", json={"query": "{ me { id } }"})
        assert anonymous_me.json() == {"data": {"me": None}}
        big = client.post("/graphql", json={"query": "{ __typename }", "variables": {"x": "y" * 4000}})
        assert big.status_code == 413
        assert big.json()["errors"][0]["extensions"]["reason"] == "REQUEST_TOO_LARGE"
        operations = '{"query": "mutation($f: [Upload!]!) { uploadCourseFiles(courseId: \\"c\\", files: $f) { duplicate } }", "variables": {"f": [null]}}'
        upload = client.post(
            "/graphql",
            data={"operations": operations, "map": '{"0": ["variables.f.0"]}'},
            files={"0": ("big.md", b"# x\n" * 2000, "text/markdown")},
        )
        assert upload.status_code == 413
        ready = client.get("/readyz")
        assert ready.status_code == 503 and set(ready.json()["services"]) == {
            "learner",
            "instructor",
            "orchestrator",
        }


def test_service_unavailable_is_a_mapped_error():
    app = create_app(settings(call_timeout_s=2))
    with TestClient(app) as client:
        body = client.post(
            "/graphql",
            json={"query": '{ course(id: "c1") { title } }'},
            headers={"authorization": "Bearer x"},
        ).json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert "127.0.0.1" not in body["errors"][0]["message"]


def test_cors_for_configured_origins_only():
    preflight = {
        "origin": "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    with TestClient(create_app(settings(allowed_origins=["https://app.example.com"]))) as client:
        response = client.options("/graphql", headers=preflight)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    with TestClient(create_app(settings())) as client:
        assert "access-control-allow-origin" not in client.options("/graphql", headers=preflight).headers


def test_an_unexpected_exception_reaches_the_client_masked(monkeypatch, caplog):
    def broken(token: str) -> str:
        raise RuntimeError("connection string postgresql://admin:hunter2@db")

    monkeypatch.setattr("bff.schema.queries.token_role", broken)
    with TestClient(create_app(settings())) as client:
        response = client.post(
            "/graphql",
            json={"query": "{ me { id } }"},
            headers={"authorization": "Bearer t", "x-request-id": "rq-1"},
        )
    error = response.json()["errors"][0]
    assert error["message"] == "Internal server error" and "hunter2" not in response.text
    assert error["extensions"] == {"code": "INTERNAL", "reason": "INTERNAL", "requestId": "rq-1"}
    assert "hunter2" in caplog.text  # the details go to the log only


JSON_POSTS = [
    {"query": "{ __typename }"},
    {"query": "query Q($c: ID!) { course(id: $c) { title } }", "variables": {"c": "c1"}},
    {"query": "query A { __typename } query B { me { id } }", "operationName": "B"},
    {"query": "query A { __typename } query B { me { id } }"},  # which one? (HTTP 400)
    {"query": "query A { __typename }", "operationName": "Nope"},
    {"query": "{ nope }"},  # validation error
    {"query": "{ __typename"},  # syntax error
    {"query": "query($x: Int!) { __typename }", "variables": {"x": "no"}},  # bad variable
    {"query": 'mutation { logIn(role: LEARNER, email: "a@example.org", password: "x") { token } }'},
    {"query": 'subscription { jobProgress(jobId: "j") { state } }'},  # only streamed (HTTP 400 here)
    {"query": "{ __typename }", "variables": ["not", "an", "object"]},
    {"query": "{ __typename }", "operationName": 7},
    {"query": "{ __typename }", "extensions": "no"},
    {"query": 42},
    {"variables": {}},
    [{"query": "{ __typename }"}],  # a batch
]


@pytest.mark.parametrize("body", JSON_POSTS, ids=lambda b: str(b)[:50])
def test_json_posts_are_answered_as_strawberrys_view_would(body):
    """The BFF executes a JSON POST straight through the schema; the answer, errors included, is the one
    Strawberry's own view gives (the app's view class is swapped for its base class to get that one)."""
    import strawberry.asgi

    from bff import app as bff_app

    def answer(view_class) -> tuple[int, str, object]:
        original = bff_app.BffGraphQL.__call__
        if view_class is not None:
            bff_app.BffGraphQL.__call__ = view_class.__call__
        try:
            with TestClient(create_app(settings(call_timeout_s=1))) as client:
                response = client.post("/graphql", json=body, headers={"authorization": "Bearer x"})
        finally:
            bff_app.BffGraphQL.__call__ = original
        kind = response.headers["content-type"].split(";")[0]
        return response.status_code, kind, response.json() if kind == "application/json" else response.text

    assert answer(None) == answer(strawberry.asgi.GraphQL)


@pytest.mark.parametrize("body", [b"{not json", b'"a string"', b"42", b"null"])
def test_a_body_that_is_not_a_json_object_is_a_bad_request(body):
    with TestClient(create_app(settings())) as client:
        response = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.text


def test_a_plain_json_post_does_not_go_through_the_view(monkeypatch):
    import strawberry.asgi

    async def refuse(self, request, *args, **kwargs):
        raise AssertionError("the view ran")

    monkeypatch.setattr(strawberry.asgi.GraphQL, "run", refuse)
    with TestClient(create_app(settings())) as client:
        plain = client.post(
            "/graphql",
            json={"query": "query($n: Boolean!) { __typename @include(if: $n) }", "variables": {"n": True}},
        )
        assert plain.json() == {"data": {"__typename": "Query"}}
        with pytest.raises(AssertionError, match="the view ran"):
            client.post("/graphql", json=[{"query": "{ __typename }"}])  # a batch is the view's


def test_failed_and_slow_requests_are_logged_and_others_only_with_the_access_log(caplog):
    caplog.set_level(logging.INFO, logger="bff")

    def lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "bff"]

    with TestClient(create_app(settings(max_json_bytes=2048))) as client:
        caplog.clear()
        client.post("/graphql", json={"query": "{ __typename }"})
        assert lines() == []
        client.post("/graphql", json={"query": "{ __typename }", "variables": {"x": "y" * 4000}})
        assert lines() == ["POST /graphql 413"]
    with TestClient(create_app(settings(slow_request_ms=0.001))) as client:
        caplog.clear()
        client.post("/graphql", json={"query": "{ __typename }"})
        assert lines() == ["POST /graphql 200"]
        assert caplog.records[-1].levelname == "WARNING" and caplog.records[-1].fields["ms"] >= 0
    with TestClient(create_app(settings(access_log=True))) as client:
        caplog.clear()
        client.post("/graphql", json={"query": "{ __typename }"})
        client.get("/healthz")  # probes are never logged when they pass
        assert lines() == ["POST /graphql 200"] and caplog.records[-1].levelname == "INFO"
