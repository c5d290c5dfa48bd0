"""Authorization matrix end to end, through the BFF: EVERY GraphQL operation (each query, mutation and
subscription field of the schema; the table must cover them all) × every kind of caller.

Callers: anonymous, learner A (enrolled in course C, content read, a quiz submitted), learner B (enrolled in
nothing), the instructor who owns the courses, another instructor, and three tokens that must never get
through: the owner's token expired (signed with the mesh's secret), learner A's token altered to claim the
owner's identity (signature kept), and the owner's claims signed with another key; and, for good measure, the owner's claims unsigned (`alg: none`).

Outcomes: OK (no error), ALLOW (no UNAUTHENTICATED / FORBIDDEN / NOT_FOUND: the caller got past the
authorization checks, and a domain answer such as FAILED_PRECONDITION is fine), or the exact deny code:
UNAUTHENTICATED, FORBIDDEN, or NOT_FOUND where the data must not even be shown to exist (a draft course to a
learner). Every answer, allowed or denied, must be free of INTERNAL errors.

One mesh per session (tests.integration.mesh: the four services in-process on real PostgreSQL and MongoDB)
and the BFF app served in-process by uvicorn on a free port (HTTP and websockets), everything through
GraphQL. Rows run in table order, each row's callers in CALLERS order (the owner last, so a destructive
operation of the owner never hides what the others would have got).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("instructor_svc.bootstrap")
pytest.importorskip("sme_svc.bootstrap")

from bff.schema import build_schema  # noqa: E402
from devkit.graphql import GraphQLClient, GraphQLFailure  # noqa: E402
from devkit.graphql_checks import (  # noqa: E402
    PASSWORD,
    Course,
    ModuleMaterial,
    create_course,
    forge_token,
    sample_modules,
    serve_bff,
    sign_up,
    tamper,
    token_subject,
)

pytest_plugins = ("tests.integration.mesh",)

OK = "OK"
ALLOW = "ALLOW"
UNAUTH = "UNAUTHENTICATED"
FORBID = "FORBIDDEN"
HIDDEN = "NOT_FOUND"
DENY_CODES = {UNAUTH, FORBID, HIDDEN}

# The order every row runs its callers in; the three forged tokens are denied everywhere.
CALLERS = (
    "anonymous",
    "expired",
    "tampered",
    "other key",
    "unsigned",
    "other instructor",
    "learner B",
    "learner A",
    "owner",
)
FORGED = ("expired", "tampered", "other key", "unsigned")
# Expectation columns of the table: (anonymous, learner A, learner B, owner, other instructor).
COLUMNS = ("anonymous", "learner A", "learner B", "owner", "other instructor")

# Common columns.
PUBLIC = (OK, OK, OK, OK, OK)
ANY_LEARNER = (UNAUTH, OK, OK, FORBID, FORBID)  # a learner, on their own data
ENROLLED = (UNAUTH, OK, FORBID, FORBID, FORBID)  # the learner enrolled in course C only
ANY_INSTRUCTOR = (UNAUTH, FORBID, FORBID, OK, OK)
OWNER = (UNAUTH, FORBID, FORBID, OK, FORBID)  # the course's instructor only


@dataclass
class World:
    """What the rows refer to. C: published, A enrolled (content read, quiz submitted). D: a draft with two
    modules and two files (module and file operations). E: published (enroll/unenroll). U: published
    (unpublish). X: an empty draft (delete)."""

    c: Course
    d: Course
    e: Course
    u: Course
    x: Course
    a_id: str
    a_email: str
    a_quiz: str
    a_attempt: str
    a_answers: list[dict]
    owner: GraphQLClient
    clients: dict[str, GraphQLClient]
    material: Path


Variables = Callable[[World], dict[str, Any] | Awaitable[dict[str, Any]]]


@dataclass
class Row:
    label: str  # "Query.course" or "Query.course (a draft)"
    document: str
    variables: Variables
    expect: tuple[str, str, str, str, str]  # COLUMNS
    kind: str = "http"  # http | upload | subscription
    per_caller: dict[str, Any] = field(default_factory=dict)

    @property
    def field(self) -> str:
        return self.label.split(" ")[0]

    def expected(self, caller: str) -> str:
        if caller in FORGED:
            return UNAUTH
        return self.expect[COLUMNS.index(caller)]


async def current_modules(w: World, course: Course) -> list[str]:
    data = await w.owner.execute("query($c: ID!) { course(id: $c) { modules { id } } }", {"c": course.id})
    return [m["id"] for m in data["course"]["modules"]]


async def reorder_vars(w: World) -> dict[str, Any]:
    return {"c": w.d.id, "m": list(reversed(await current_modules(w, w.d)))}


async def approve_vars(w: World) -> dict[str, Any]:
    data = await w.owner.execute(
        "query($c: ID!, $m: ID!) { learningObjectives(courseId: $c, moduleId: $m) { version } }",
        {"c": w.d.id, "m": w.d.module_ids[0]},
    )
    return {"c": w.d.id, "m": w.d.module_ids[0], "v": data["learningObjectives"][0]["version"]}


def new_account(role: str) -> Variables:
    return lambda w: {"r": role, "e": f"new-{uuid.uuid4().hex[:10]}@example.org", "p": PASSWORD}


CM = lambda w: {"c": w.c.id, "m": w.c.module_ids[0]}  # noqa: E731 - course C and its module

ROWS: list[Row] = [
    # ---------------------------------------------------------------------------------------- queries
    Row("Query.me", "{ me { id role } }", lambda w: {}, PUBLIC),
    Row("Query.catalog", "{ catalog(first: 5) { edges { node { id } } } }", lambda w: {}, PUBLIC),
    Row(
        "Query.course",
        "query($c: ID!) { course(id: $c) { id modules { id } } }",
        lambda w: {"c": w.c.id},
        (UNAUTH, OK, OK, OK, FORBID),
    ),
    Row(
        "Query.course (a draft)",
        "query($c: ID!) { course(id: $c) { id } }",
        lambda w: {"c": w.d.id},
        (UNAUTH, HIDDEN, HIDDEN, OK, FORBID),
    ),
    Row(
        "Query.myCourses",
        "{ myCourses { edges { node { courseId course { title } } } } }",
        lambda w: {},
        ANY_LEARNER,
    ),
    Row(
        "Query.dashboard",
        "query($c: ID!) { dashboard(courseId: $c) { progress modules { moduleId } } }",
        lambda w: {"c": w.c.id},
        ENROLLED,
    ),
    Row(
        "Query.dashboard (learner A's, by id)",
        "query($l: ID!, $c: ID!) { dashboard(learnerId: $l, courseId: $c) { progress } }",
        lambda w: {"l": w.a_id, "c": w.c.id},
        ENROLLED,
    ),
    Row(
        "Query.moduleContent",
        "query($c: ID!, $m: ID!) { moduleContent(courseId: $c, moduleId: $m) { markdown } }",
        CM,
        ENROLLED,
    ),
    Row(
        "Query.quiz",
        "query($c: ID!, $m: ID!) { quiz(courseId: $c, moduleId: $m) { id questions { id } } }",
        CM,
        ENROLLED,
    ),
    Row(
        "Query.quizAttempts",
        "query($c: ID!, $m: ID!) { quizAttempts(courseId: $c, moduleId: $m) { edges { node { score } } } }",
        CM,
        ANY_LEARNER,  # a learner's own attempts (none where not enrolled)
    ),
    Row(
        "Query.preferences",
        "query($c: ID!) { preferences(courseId: $c) { detailLevel } }",
        lambda w: {"c": w.c.id},
        ENROLLED,
    ),
    Row(
        "Query.tutorHistory",
        "query($c: ID!) { tutorHistory(courseId: $c) { edges { node { text } } } }",
        lambda w: {"c": w.c.id},
        ENROLLED,
    ),
    Row(
        "Query.instructorCourses",
        "{ instructorCourses { edges { node { id } } } }",
        lambda w: {},
        ANY_INSTRUCTOR,
    ),
    Row(
        "Query.courseFiles",
        "query($c: ID!) { courseFiles(courseId: $c) { edges { node { id } } } }",
        lambda w: {"c": w.c.id},
        OWNER,
    ),
    Row(
        "Query.learningObjectives",
        "query($c: ID!) { learningObjectives(courseId: $c) { moduleId objectives { text } } }",
        lambda w: {"c": w.c.id},
        (UNAUTH, OK, OK, OK, FORBID),
    ),
    Row(
        "Query.learningObjectives (a draft)",
        "query($c: ID!) { learningObjectives(courseId: $c) { moduleId } }",
        lambda w: {"c": w.d.id},
        (UNAUTH, HIDDEN, HIDDEN, OK, FORBID),
    ),
    Row("Query.job", "query($j: ID!) { job(id: $j) { state } }", lambda w: {"j": w.c.job_ids[0]}, OWNER),
    Row(
        "Query.courseAnalytics",
        "query($c: ID!) { courseAnalytics(courseId: $c) { enrollmentCount } }",
        lambda w: {"c": w.c.id},
        OWNER,
    ),
    Row(
        "Query.indexingStatus",
        "query($c: ID!) { indexingStatus(courseId: $c) { state } }",
        lambda w: {"c": w.c.id},
        OWNER,
    ),
    # -------------------------------------------------------------------------------------- mutations
    Row(
        "Mutation.signUp",
        'mutation($r: Role!, $e: String!, $p: String!) { signUp(role: $r, email: $e, password: $p, name: "N") { token } }',
        new_account("LEARNER"),
        PUBLIC,
    ),
    Row(
        "Mutation.logIn",
        "mutation($e: String!, $p: String!) { logIn(role: LEARNER, email: $e, password: $p) { token } }",
        lambda w: {"e": w.a_email, "p": PASSWORD},
        PUBLIC,
    ),
    Row(
        "Mutation.createCourse",
        'mutation { createCourse(title: "Scratch") { id } }',
        lambda w: {},
        ANY_INSTRUCTOR,
    ),
    Row(
        "Mutation.updateCourse",
        'mutation($c: ID!) { updateCourse(courseId: $c, description: "Edited") { id } }',
        lambda w: {"c": w.d.id},
        OWNER,
    ),
    Row(
        "Mutation.createModule",
        'mutation($c: ID!) { createModule(courseId: $c, title: "Extra") { id } }',
        lambda w: {"c": w.d.id},
        OWNER,
    ),
    Row(
        "Mutation.updateModule",
        'mutation($c: ID!, $m: ID!) { updateModule(courseId: $c, moduleId: $m, title: "Renamed") { id } }',
        lambda w: {"c": w.d.id, "m": w.d.module_ids[0]},
        OWNER,
    ),
    Row(
        "Mutation.reorderModules",
        "mutation($c: ID!, $m: [ID!]!) { reorderModules(courseId: $c, moduleIds: $m) { id } }",
        reorder_vars,
        OWNER,
    ),
    Row(
        "Mutation.deleteModule",
        "mutation($c: ID!, $m: ID!) { deleteModule(courseId: $c, moduleId: $m) }",
        lambda w: {"c": w.d.id, "m": w.d.module_ids[1]},
        OWNER,
    ),
    Row(
        "Mutation.uploadCourseFiles",
        "mutation($c: ID!, $files: [Upload!]!) { uploadCourseFiles(courseId: $c, files: $files) { file { id } } }",
        lambda w: {"c": w.d.id},
        OWNER,
        kind="upload",
    ),
    Row(
        "Mutation.moveCourseFile",
        "mutation($c: ID!, $f: ID!, $m: ID) { moveCourseFile(courseId: $c, fileId: $f, moduleId: $m) { id } }",
        lambda w: {"c": w.d.id, "f": w.d.file_ids[0], "m": w.d.module_ids[0]},
        OWNER,
    ),
    Row(
        "Mutation.deleteCourseFile",
        "mutation($c: ID!, $f: ID!) { deleteCourseFile(courseId: $c, fileId: $f) }",
        lambda w: {"c": w.d.id, "f": w.d.file_ids[1]},
        OWNER,
    ),
    Row(
        "Mutation.updateLearningObjectives",
        """mutation($c: ID!, $m: ID!) { updateLearningObjectives(courseId: $c, moduleId: $m,
          objectives: [{text: "Read a histogram"}]) { version } }""",
        lambda w: {"c": w.d.id, "m": w.d.module_ids[0]},
        OWNER,
    ),
    Row(
        "Mutation.approveLearningObjectives",
        "mutation($c: ID!, $m: ID!, $v: Int!) { approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }",
        approve_vars,
        OWNER,
    ),
    Row(
        "Mutation.generateLearningObjectives",
        "mutation($c: ID!, $m: [ID!]) { generateLearningObjectives(courseId: $c, moduleIds: $m, count: 1) { id } }",
        lambda w: {"c": w.d.id, "m": [w.d.module_ids[0]]},
        OWNER,
    ),
    Row(
        "Mutation.publishCourse",
        "mutation($c: ID!) { publishCourse(courseId: $c) { published } }",
        lambda w: {"c": w.c.id},  # already published: the owner gets it back unchanged
        OWNER,
    ),
    Row(
        "Mutation.unpublishCourse",
        "mutation($c: ID!) { unpublishCourse(courseId: $c) { published } }",
        lambda w: {"c": w.u.id},
        OWNER,
    ),
    Row(
        "Mutation.deleteCourse",
        "mutation($c: ID!) { deleteCourse(courseId: $c) }",
        lambda w: {"c": w.x.id},
        OWNER,
    ),
    Row(
        "Mutation.enroll",
        "mutation($c: ID!) { enroll(courseId: $c) { state } }",
        lambda w: {"c": w.e.id},
        ANY_LEARNER,
    ),
    Row(
        "Mutation.unenroll",
        "mutation($c: ID!) { unenroll(courseId: $c) { state } }",
        lambda w: {"c": w.e.id},  # both learners enrolled in E on the row above
        ANY_LEARNER,
    ),
    Row(
        "Mutation.setPreferences",
        "mutation($c: ID!) { setPreferences(courseId: $c, preferences: {detailLevel: BRIEF}) { detailLevel } }",
        lambda w: {"c": w.c.id},
        ENROLLED,
    ),
    Row(
        "Mutation.submitQuiz",
        """mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!, $id: ID) {
          submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a, attemptId: $id) { attemptId score } }""",
        lambda w: {**CM(w), "q": w.a_quiz, "a": w.a_answers, "id": w.a_attempt},  # A's own: a replay
        ENROLLED,
    ),
    Row(
        "Mutation.completeModule",
        "mutation($c: ID!, $m: ID!) { completeModule(courseId: $c, moduleId: $m) { courseCompleted } }",
        CM,
        (UNAUTH, ALLOW, FORBID, FORBID, FORBID),  # A: done, or FAILED_PRECONDITION if A did not pass
    ),
    Row(
        "Mutation.askTutor",
        'mutation($c: ID!) { askTutor(courseId: $c, question: "What is the median?") { text } }',
        lambda w: {"c": w.c.id},
        ENROLLED,
    ),
    # ---------------------------------------------------------------------------------- subscriptions
    Row(
        "Subscription.jobProgress",
        "subscription($j: ID!) { jobProgress(id: $j) { state } }",
        lambda w: {"j": w.c.job_ids[0]},
        OWNER,
        kind="subscription",
    ),
    Row(
        "Subscription.moduleContentStream",
        "subscription($c: ID!, $m: ID!) { moduleContentStream(courseId: $c, moduleId: $m) { markdownDelta content { markdown } } }",
        CM,
        ENROLLED,
        kind="subscription",
    ),
    Row(
        "Subscription.tutorAnswer",
        'subscription($c: ID!) { tutorAnswer(courseId: $c, question: "Define the mode") { textDelta message { text } } }',
        lambda w: {"c": w.c.id},
        ENROLLED,
        kind="subscription",
    ),
]


def schema_operations() -> set[str]:
    schema = build_schema()._schema
    return {
        f"{root.name}.{name}"
        for root in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if root is not None
        for name in root.fields
    }


def test_the_table_covers_every_operation_of_the_schema():
    covered = {row.field for row in ROWS}
    assert covered == schema_operations(), {
        "missing": sorted(schema_operations() - covered),
        "unknown": sorted(covered - schema_operations()),
    }
    assert len({row.label for row in ROWS}) == len(ROWS)


@pytest.fixture(scope="module")
async def bff(lmw_mesh):
    settings = lmw_mesh.bff_settings()
    async with serve_bff(settings) as url, GraphQLClient(f"{url}/graphql") as anonymous:
        yield anonymous


@pytest.fixture(scope="module")
async def world(bff, common_settings, tmp_path_factory) -> World:
    import asyncio

    scratch = tmp_path_factory.mktemp("authz")
    owner, owner_id, _ = await sign_up(bff, "INSTRUCTOR", "Owner")
    other, _, _ = await sign_up(bff, "INSTRUCTOR", "Other")
    a, a_id, a_email = await sign_up(bff, "LEARNER", "Alice")
    b, _, _ = await sign_up(bff, "LEARNER", "Bob")
    tiny = scratch / "tiny.md"
    tiny.write_text("# Ratios\n\nA ratio compares two quantities by division. Ratios are written a:b.\n")
    second = scratch / "second.md"
    second.write_text("# Rates\n\nA rate is a ratio of quantities measured in different units.\n")
    short = [ModuleMaterial("Ratios", tiny, ("Explain what a ratio compares",))]
    c, d, e, u, x = await asyncio.gather(
        create_course(owner, "Course C", sample_modules(1), scratch / "c"),
        create_course(
            owner,
            "Draft D",
            [*short, ModuleMaterial("Rates", second, ("Explain what a rate is",))],
            scratch / "d",
            publish=False,
        ),
        create_course(owner, "Course E", short, scratch / "e"),
        create_course(owner, "Course U", short, scratch / "u"),
        create_course(owner, "Empty X", [], scratch / "x", publish=False, upload=False),
    )
    assert len(d.file_ids) == 2

    # Learner A: enrolled in C, content read, a quiz submitted. B: enrolled in nothing.
    await a.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": c.id})
    variables = {"c": c.id, "m": c.module_ids[0]}
    content = await a.execute(
        "query($c: ID!, $m: ID!) { moduleContent(courseId: $c, moduleId: $m) { markdown } }", variables
    )
    assert content["moduleContent"]["markdown"]
    quiz = (
        await a.execute(
            "query($c: ID!, $m: ID!) { quiz(courseId: $c, moduleId: $m) { id questions { id } } }", variables
        )
    )["quiz"]
    answers = [{"questionId": q["id"], "selectedIndex": 0} for q in quiz["questions"]]
    attempt = uuid.uuid4().hex
    await a.execute(
        """mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!, $id: ID) {
          submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a, attemptId: $id) { attemptId } }""",
        {**variables, "q": quiz["id"], "a": answers, "id": attempt},
    )

    secret = common_settings.signing_secret()
    clients = {
        "anonymous": bff,
        "learner A": a,
        "learner B": b,
        "owner": owner,
        "other instructor": other,
        "expired": bff.as_user(forge_token(secret, owner_id, "instructor", ttl_s=-120)),
        "tampered": bff.as_user(tamper(a.token, sub=owner_id, role="instructor")),
        "other key": bff.as_user(forge_token("another-key-" + "x" * 40, owner_id, "instructor")),
        "unsigned": bff.as_user(forge_token(None, owner_id, "instructor", algorithm="none")),
    }
    assert token_subject(clients["tampered"].token) == owner_id
    return World(c, d, e, u, x, a_id, a_email, quiz["id"], attempt, answers, owner, clients, second)


async def outcome(
    row: Row, client: GraphQLClient, variables: dict[str, Any], world: World
) -> tuple[str, list]:
    """OK, or the code of the first error; with every error (for the INTERNAL check)."""
    try:
        if row.kind == "upload":
            await client.upload(row.document, variables, [world.material])
        elif row.kind == "subscription":
            async for _ in client.subscribe(row.document, variables):
                pass
        else:
            await client.execute(row.document, variables)
    except GraphQLFailure as failure:
        return (failure.codes[0] if failure.codes else "NO_CODE"), failure.errors
    return OK, []


def matches(expected: str, got: str) -> bool:
    if expected == ALLOW:
        return got not in DENY_CODES and got not in ("INTERNAL", "NO_CODE", "")
    return got == expected


async def test_every_operation_allows_and_denies_exactly_as_the_table_says(world):
    mismatches: list[str] = []
    internal: list[str] = []
    counts = {"allowed": 0, "denied": 0}
    for row in ROWS:
        for caller in CALLERS:
            variables = row.variables(world)
            if hasattr(variables, "__await__"):
                variables = await variables
            got, errors = await outcome(row, world.clients[caller], variables, world)
            expected = row.expected(caller)
            counts["denied" if expected in DENY_CODES else "allowed"] += 1
            if not matches(expected, got):
                mismatches.append(
                    f"{row.label:<45} {caller:<17} expected {expected:<16} got {got}: {errors[:1]}"
                )
            for error in errors:
                if (error.get("extensions") or {}).get("code") in (None, "INTERNAL"):
                    internal.append(f"{row.label} {caller}: {error}")
    assert not mismatches, "\n" + "\n".join(mismatches)
    assert not internal, "\n".join(internal)
    assert counts["allowed"] > 50 and counts["denied"] > 200, counts
