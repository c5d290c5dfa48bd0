"""What the GraphQL end-to-end tests share with the GraphQL fuzzer and the soak (scripts/):

- `response_violations` and `fuzz_operation`: the check every schemathesis run applies to a BFF response (no
  5xx, every error carries an `extensions.code`, none is INTERNAL, no internals in a message), used by
  tests/e2e/test_bff_e2e.py and scripts/fuzz_graphql.py;
- `serve_bff`: the BFF app served in-process by uvicorn on a free loopback port (HTTP and websockets);
- `forge_token` / `tamper`: tokens a client must never get through with (expired, altered, foreign key);
- `sign_up` and `publish_course`: the instructor's and learner's first steps, through GraphQL only.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt

from devkit import PASSWORD, SAMPLE_COURSE
from devkit.graphql import GraphQLClient

# Operations that hash a password (argon2, deliberately slow even for unknown accounts): fewer examples.
SLOW_OPERATIONS = frozenset({"Mutation.logIn", "Mutation.signUp"})
# What a client must never read in an error message: tracebacks, gRPC or driver internals, peer addresses.
_LEAKS = re.compile(
    r"Traceback|File \"|StatusCode\.|AioRpcError|debug_error_string|ipv[46]:|sqlalchemy|psycopg|pymongo|"
    r"grpc_status|/site-packages/",
    re.IGNORECASE,
)


# ------------------------------------------------------------------------------------- response check


def error_codes(payload: Any) -> list[str | None]:
    """`extensions.code` of every error of a GraphQL response body (None where one has none)."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    return [((e.get("extensions") or {}).get("code") if isinstance(e, dict) else None) for e in errors or []]


def response_violations(label: str, status_code: int, payload: Any, request: Any = None) -> list[str]:
    """What is wrong with one BFF answer: a 5xx, a body that is not a GraphQL response, an error without
    `extensions.code`, an INTERNAL error (something unexpected happened: a bug, even when masked), or a
    message that shows internals."""
    where = f"{label}: " if label else ""
    shown = json.dumps(request, default=str)[:300] if request is not None else ""
    if status_code >= 500:
        return [f"{where}HTTP {status_code} for {shown}"]
    if not isinstance(payload, dict) or not ("data" in payload or "errors" in payload):
        return [f"{where}HTTP {status_code}, not a GraphQL response: {str(payload)[:200]} for {shown}"]
    problems = []
    for error in payload.get("errors") or []:
        if not isinstance(error, dict):
            problems.append(f"{where}malformed error {error!r}")
            continue
        code = (error.get("extensions") or {}).get("code")
        message = str(error.get("message"))
        if code in (None, "INTERNAL"):
            problems.append(f"{where}{code} {message[:200]} for {shown}")
        elif _LEAKS.search(message):
            problems.append(f"{where}{code} message shows internals: {message[:200]} for {shown}")
    return problems


@dataclass
class FuzzReport:
    """What a schemathesis run tried and what it saw."""

    examples: collections.Counter = field(default_factory=collections.Counter)  # per operation label
    requests: int = 0
    codes: collections.Counter = field(default_factory=collections.Counter)  # extensions.code -> count
    statuses: collections.Counter = field(default_factory=collections.Counter)  # HTTP status -> count
    server_errors: int = 0  # HTTP 5xx
    internal: int = 0  # errors without a code or with INTERNAL
    leaks: int = 0  # messages showing internals
    transport_errors: int = 0  # the request itself failed (connection reset, timeout)
    timeouts: int = 0  # subscriptions still running after their time (cancelled; not a violation)
    failures: list[str] = field(default_factory=list)

    @property
    def violations(self) -> int:
        return self.server_errors + self.internal + self.leaks + self.transport_errors

    def merge(self, other: FuzzReport) -> None:
        for name in ("requests", "server_errors", "internal", "leaks", "transport_errors", "timeouts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.examples.update(other.examples)
        self.codes.update(other.codes)
        self.statuses.update(other.statuses)
        self.failures.extend(other.failures)

    def record(
        self, label: str, status_code: int, payload: Any, request: Any, *, new_request: bool = True
    ) -> None:
        if new_request:
            self.requests += 1
            self.statuses[status_code] += 1
        for code in error_codes(payload):
            self.codes[code or "(none)"] += 1
        problems = response_violations(label, status_code, payload, request)
        for problem in problems:
            if "HTTP 5" in problem:
                self.server_errors += 1
            elif "shows internals" in problem:
                self.leaks += 1
            else:
                self.internal += 1
        self.failures.extend(problems)


def fuzz_operation(
    operation: Any,
    headers: dict[str, str],
    examples: int,
    report: FuzzReport,
    *,
    deadline: float | None = None,
    timeout_s: float = 60.0,
    seed: int | None = None,
    negative: bool = False,
) -> None:
    """Call one schemathesis GraphQL operation with up to `examples` generated documents (fewer once
    `deadline`, a time.monotonic() value, has passed) and record every answer in `report`. Violations are
    recorded, never raised, so hypothesis does not shrink them into hundreds of repeated calls. With
    `negative`, about half the documents break the schema on purpose (wrong argument types, missing
    required arguments): they must be refused with a code, never fail inside."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st
    from schemathesis.generation import GenerationMode

    label = operation.label
    strategy = operation.as_strategy()
    if negative:
        strategy = st.one_of(strategy, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=strategy)
    def fuzz(case: Any) -> None:
        if deadline is not None and time.monotonic() > deadline:
            return
        report.examples[label] += 1
        try:
            response = case.call(headers=headers, timeout=timeout_s)
        except Exception as error:  # noqa: BLE001 - a reset connection or a timeout is a finding too
            report.requests += 1
            report.transport_errors += 1
            report.failures.append(f"{label}: transport {type(error).__name__}: {error} for {case.body}")
            return
        try:
            payload = response.json()
        except ValueError:
            payload = response.text[:200]
        report.record(label, response.status_code, payload, case.body)

    if seed is not None:
        fuzz = hypothesis_seed(seed)(fuzz)
    fuzz()


def subscriptions_as_queries(graphql_url: str) -> Any:
    """The BFF's Subscription fields as the Query type of a schema of their own (from introspection):
    hypothesis-graphql generates queries and mutations only, and a subscription document is a query
    document with another keyword. None when the schema has no subscriptions."""
    import graphql
    import httpx

    response = httpx.post(graphql_url, json={"query": graphql.get_introspection_query()}, timeout=30)
    response.raise_for_status()
    subscription = graphql.build_client_schema(response.json()["data"]).subscription_type
    if subscription is None:
        return None
    return graphql.GraphQLSchema(query=graphql.GraphQLObjectType("Query", subscription.fields))


def fuzz_subscription(
    graphql_url: str,
    schema: Any,
    field_name: str,
    token: str | None,
    examples: int,
    report: FuzzReport,
    *,
    deadline: float | None = None,
    timeout_s: float = 30.0,
    seed: int | None = None,
    negative: bool = False,
) -> None:
    """Like `fuzz_operation`, for one subscription field (schema: `subscriptions_as_queries`): generated
    documents are subscribed to over graphql-transport-ws (one connection per caller, reopened when the
    server closes it), and every `next` and `error` message gets the same check. A server that closes the
    connection with anything but a normal or protocol-violation code (4400-4499) is a violation."""
    import hypothesis_graphql
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    label = f"Subscription.{field_name}"
    ws_url = "ws" + graphql_url.removeprefix("http")
    socket: dict[str, Any] = {}
    strategy = hypothesis_graphql.from_schema(schema, fields=[field_name])
    if negative:
        strategy = st.one_of(
            strategy,
            hypothesis_graphql.from_schema(
                schema, fields=[field_name], mode=hypothesis_graphql.Mode.NEGATIVE
            ),
        )

    def connection():
        if "ws" not in socket:
            ws = connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=60, max_size=None)
            payload = {"Authorization": f"Bearer {token}"} if token else {}
            ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            ack = json.loads(ws.recv(timeout=60))
            if ack.get("type") != "connection_ack":
                raise RuntimeError(f"no connection_ack: {ack}")
            socket["ws"] = ws
        return socket["ws"]

    def subscribe(document: str) -> None:
        ws = connection()
        operation = uuid.uuid4().hex
        ws.send(json.dumps({"id": operation, "type": "subscribe", "payload": {"query": document}}))
        first = True
        end = time.monotonic() + timeout_s
        while True:
            left = end - time.monotonic()
            if left <= 0:
                ws.send(json.dumps({"id": operation, "type": "complete"}))
                report.timeouts += 1
                return
            message = json.loads(ws.recv(timeout=left))
            kind = message.get("type")
            if kind == "ping":
                ws.send(json.dumps({"type": "pong"}))
                continue
            if message.get("id") != operation:
                continue  # a late message of an operation given up on
            if kind == "next":
                report.record(label, 200, message.get("payload"), document, new_request=first)
                first = False
            elif kind == "error":
                errors = message.get("payload")
                report.record(label, 200, {"errors": errors, "data": None}, document, new_request=first)
                return
            elif kind == "complete":
                if first:
                    report.record(label, 200, {"data": None}, document)
                return

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(document=strategy)
    def fuzz(document: str) -> None:
        if deadline is not None and time.monotonic() > deadline:
            return
        report.examples[label] += 1
        document = "subscription " + document
        try:
            subscribe(document)
        except ConnectionClosed as closed:
            socket.pop("ws", None)
            code = closed.rcvd.code if closed.rcvd is not None else None
            report.requests += 1
            if code is None or not (code == 1000 or 4400 <= code < 4500):
                report.transport_errors += 1
                report.failures.append(f"{label}: the server closed the socket ({code}) for {document[:300]}")
            else:
                report.codes[f"close {code}"] += 1
        except (OSError, TimeoutError, RuntimeError) as error:
            socket.pop("ws", None)
            report.requests += 1
            report.transport_errors += 1
            report.failures.append(f"{label}: transport {type(error).__name__}: {error} for {document[:300]}")

    if seed is not None:
        fuzz = hypothesis_seed(seed)(fuzz)
    try:
        fuzz()
    finally:
        if "ws" in socket:
            socket["ws"].close()


# -------------------------------------------------------------------------------------- tokens


def forge_token(
    secret: str | None, sub: str, role: str, *, ttl_s: int = 3600, algorithm: str = "HS256", **claims: Any
) -> str:
    """A token with the claims the services issue, signed with `secret` (the mesh's, or another; HS256, or
    `algorithm="none"` with no secret: unsigned)."""
    now = int(time.time())
    body = {
        "sub": sub,
        "role": role,
        "iat": now,
        "exp": now + ttl_s,
        "iss": "learning-middleware",
        "aud": "learning-middleware",
        "jti": uuid.uuid4().hex,
        **claims,
    }
    return jwt.encode(body, secret, algorithm=algorithm)


def tamper(token: str, **changes: Any) -> str:
    """The token with its payload changed and its signature kept (no longer valid for that payload)."""
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


def token_subject(token: str) -> str:
    return jwt.decode(token, options={"verify_signature": False})["sub"]


# ------------------------------------------------------------------------------------- in-process BFF


@contextlib.asynccontextmanager
async def serve_bff(settings: Any) -> AsyncIterator[str]:
    """Serve the BFF app (bff.app.create_app) with uvicorn in this event loop on a free loopback port;
    yields its base URL (http://127.0.0.1:PORT). Signals stay with the caller (pytest, a script)."""
    import uvicorn

    from bff.app import create_app
    from devkit.databases import free_port

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # type: ignore[override]
            yield

    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        ws_max_size=1024 * 1024,
        timeout_graceful_shutdown=2,
    )
    server = Server(config)
    task = asyncio.create_task(server.serve(), name="bff")
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
            raise RuntimeError("the BFF stopped before it started")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 15)


# ------------------------------------------------------------------------------- GraphQL scenario steps


def unique_email(role: str) -> str:
    return f"{role.lower()}-{uuid.uuid4().hex[:12]}@example.org"


async def sign_up(anonymous: GraphQLClient, role: str, name: str = "T") -> tuple[GraphQLClient, str, str]:
    """A new account: (its client, its user id, its e-mail)."""
    email = unique_email(role)
    data = await anonymous.execute(
        """mutation($r: Role!, $e: String!, $p: String!, $n: String!) {
          signUp(role: $r, email: $e, password: $p, name: $n) { token user { id } } }""",
        {"r": role, "e": email, "p": PASSWORD, "n": name},
    )
    return anonymous.as_user(data["signUp"]["token"]), data["signUp"]["user"]["id"], email


@dataclass(frozen=True)
class ModuleMaterial:
    title: str
    file: Path  # Markdown
    objectives: tuple[str, ...]


def sample_modules(count: int = 1) -> list[ModuleMaterial]:
    """Small Markdown modules from the demo course (about 5 KB each), with hand-written objectives."""
    modules = [
        ModuleMaterial(
            "Describing Data",
            SAMPLE_COURSE / "01-describing-data.md",
            (
                "Tell categorical variables from numerical variables",
                "Choose between the mean and the median as a measure of center",
            ),
        ),
        ModuleMaterial(
            "Probability Basics",
            SAMPLE_COURSE / "02-probability.md",
            (
                "Combine probabilities with the addition and multiplication rules",
                "Explain conditional probability and independence",
            ),
        ),
    ]
    return modules[:count]


@dataclass(frozen=True)
class Course:
    id: str
    module_ids: tuple[str, ...]
    file_ids: tuple[str, ...]
    job_ids: tuple[str, ...]  # the ingestion jobs of the files


async def wait_indexed(teacher: GraphQLClient, course_id: str, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        status = (
            await teacher.execute(
                "query($c: ID!) { indexingStatus(courseId: $c) { state failedFileCount } }", {"c": course_id}
            )
        )["indexingStatus"]
        if status["failedFileCount"]:
            raise AssertionError(f"indexing failed: {status}")
        if status["state"] == "READY":
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"course {course_id} was not indexed within {timeout_s} s: {status}")
        await asyncio.sleep(0.1)


async def create_course(
    teacher: GraphQLClient,
    title: str,
    modules: list[ModuleMaterial],
    scratch: Path,
    *,
    publish: bool = True,
    upload: bool = True,
) -> Course:
    """Create a course with one module per material, upload the files (unless `upload` is false), write
    and approve the objectives by hand (no generation: fast) and publish it (unless `publish` is false)."""
    course_id = (
        await teacher.execute(
            "mutation($t: String!) { createCourse(title: $t, description: $t) { id } }", {"t": title}
        )
    )["createCourse"]["id"]
    module_ids, file_ids, job_ids = [], [], []
    for module in modules:
        module_ids.append(
            (
                await teacher.execute(
                    "mutation($c: ID!, $t: String!) { createModule(courseId: $c, title: $t, passMark: 0.5) { id } }",
                    {"c": course_id, "t": module.title},
                )
            )["createModule"]["id"]
        )
    if upload and modules:
        scratch.mkdir(parents=True, exist_ok=True)
        files = []
        for module in modules:
            copy = scratch / f"{uuid.uuid4().hex[:8]}-{module.file.name}"
            copy.write_bytes(module.file.read_bytes())
            files.append(copy)
        uploaded = (
            await teacher.upload(
                """mutation($c: ID!, $files: [Upload!]!) {
                  uploadCourseFiles(courseId: $c, files: $files) { file { id } job { id } } }""",
                {"c": course_id},
                files,
            )
        )["uploadCourseFiles"]
        file_ids = [u["file"]["id"] for u in uploaded]
        job_ids = [u["job"]["id"] for u in uploaded if u["job"]]
        await wait_indexed(teacher, course_id)
    for module, module_id in zip(modules, module_ids, strict=True):
        version = (
            await teacher.execute(
                """mutation($c: ID!, $m: ID!, $o: [LearningObjectiveInput!]!) {
                  updateLearningObjectives(courseId: $c, moduleId: $m, objectives: $o) { version } }""",
                {"c": course_id, "m": module_id, "o": [{"text": text} for text in module.objectives]},
            )
        )["updateLearningObjectives"]["version"]
        await teacher.execute(
            """mutation($c: ID!, $m: ID!, $v: Int!) {
              approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }""",
            {"c": course_id, "m": module_id, "v": version},
        )
    if publish:
        await teacher.execute(
            "mutation($c: ID!) { publishCourse(courseId: $c) { published } }", {"c": course_id}
        )
    return Course(course_id, tuple(module_ids), tuple(file_ids), tuple(job_ids))
