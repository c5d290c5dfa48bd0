"""End to end: the real mesh (PostgreSQL, MongoDB wire server, the four services and the BFF as processes,
started by devkit.launcher in a temp dir on free ports), driven ONLY through GraphQL over HTTP and
websockets, the way a frontend would. The tests run in order and share what they create.

A tiny course (one short Markdown file) keeps the module fast.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from types import SimpleNamespace

import pytest

for package in ("instructor_svc.bootstrap", "orchestrator_svc.bootstrap", "sme_svc.bootstrap"):
    pytest.importorskip(package)

from websockets.asyncio.client import connect  # noqa: E402

from devkit import SAMPLE_COURSE  # noqa: E402
from devkit.databases import scratch_dir  # noqa: E402
from devkit.demo import choose_answer, revealed_answers  # noqa: E402
from devkit.graphql import GraphQLClient, GraphQLFailure  # noqa: E402
from devkit.graphql_checks import SLOW_OPERATIONS, FuzzReport, fuzz_operation  # noqa: E402
from devkit.launcher import Launcher, free_ports  # noqa: E402
from devkit.logs import Printer  # noqa: E402

pytestmark = pytest.mark.slow  # the whole mesh as processes, and a schemathesis run

PASSWORD = "Correct-horse-9"
MAX_UPLOAD = 64 * 1024
# One short Markdown file of the sample course (about 5 KB): small enough to index in a second.
MATERIAL_FILE = SAMPLE_COURSE / "01-describing-data.md"
MODULE = {
    "title": "Describing Data",
    "description": "Types of variables, measures of center and spread, graphs of distributions, skewness and outliers.",
}


@pytest.fixture(scope="module")
def mesh():
    with (
        scratch_dir("lmw-e2e-") as data_dir,
        Launcher(
            data_dir,
            free_ports(),
            env={"BFF_MAX_UPLOAD_BYTES": str(MAX_UPLOAD)},
            printer=Printer(color=False, show_level="WARNING"),
            ready_timeout_s=300,
        ) as running,
    ):
        yield running


@pytest.fixture(scope="module")
def state():
    return SimpleNamespace()


@pytest.fixture
async def anonymous(mesh):
    async with GraphQLClient(mesh.graphql_url) as client:
        yield client


def email(role: str) -> str:
    return f"{role}-{uuid.uuid4().hex[:10]}@example.org"


async def expect_error(code: str, awaitable) -> dict:
    with pytest.raises(GraphQLFailure) as failure:
        await awaitable
    assert failure.value.codes == [code], failure.value.errors
    return failure.value.errors[0]


async def follow_job(client: GraphQLClient, job_id: str) -> list[dict]:
    updates = [
        data["jobProgress"]
        async for data in client.subscribe(
            "subscription($id: ID!) { jobProgress(id: $id) { id kind state progress done message items { name state message } } }",
            {"id": job_id},
        )
    ]
    assert updates, "jobProgress sent nothing"
    progress = [u["progress"] for u in updates]
    assert progress == sorted(progress), progress
    assert updates[-1]["done"] and updates[-1]["state"] == "SUCCEEDED", json.dumps(updates[-1])
    return updates


async def test_sign_up_and_log_in(anonymous, state):
    sign_up = """mutation($r: Role!, $e: String!, $p: String!, $n: String!) {
      signUp(role: $r, email: $e, password: $p, name: $n) { token expiresAt role user { id email displayName } } }"""
    log_in = """mutation($r: Role!, $e: String!, $p: String!) {
      logIn(role: $r, email: $e, password: $p) { token role user { __typename id } } }"""
    for role in ("INSTRUCTOR", "LEARNER"):
        address = email(role.lower())
        created = (await anonymous.execute(sign_up, {"r": role, "e": address, "p": PASSWORD, "n": "Sam"}))[
            "signUp"
        ]
        assert created["role"] == role and created["expiresAt"] and created["user"]["email"] == address
        await expect_error(
            "CONFLICT", anonymous.execute(sign_up, {"r": role, "e": address, "p": PASSWORD, "n": "S"})
        )
        logged = (await anonymous.execute(log_in, {"r": role, "e": address, "p": PASSWORD}))["logIn"]
        assert logged["user"]["id"] == created["user"]["id"]
        client = anonymous.as_user(logged["token"])
        me = (await client.execute("{ me { __typename id role displayName } }"))["me"]
        assert me["__typename"] == role.title() and me["id"] == created["user"]["id"] and me["role"] == role
        setattr(state, role.lower(), logged["token"])
    error = await expect_error(
        "UNAUTHENTICATED", anonymous.execute(log_in, {"r": "LEARNER", "e": address, "p": "Nope-nope-99"})
    )
    assert error["extensions"]["reason"] == "BAD_CREDENTIALS"
    await expect_error(
        "BAD_USER_INPUT", anonymous.execute(sign_up, {"r": "LEARNER", "e": "x", "p": PASSWORD, "n": "X"})
    )
    assert (await anonymous.execute("{ me { id } }"))["me"] is None
    await expect_error("UNAUTHENTICATED", anonymous.as_user("not-a-token").execute("{ me { id } }"))


async def test_instructor_builds_and_publishes_a_course(anonymous, state, tmp_path):
    teacher = anonymous.as_user(state.instructor)
    course = (
        await teacher.execute(
            'mutation { createCourse(title: "Averages", description: "draft") { id published } }'
        )
    )["createCourse"]
    state.course = course["id"]
    updated = (
        await teacher.execute(
            'mutation($c: ID!) { updateCourse(courseId: $c, description: "Mean, median, mode") { title description } }',
            {"c": state.course},
        )
    )["updateCourse"]
    assert updated == {"title": "Averages", "description": "Mean, median, mode"}
    module = (
        await teacher.execute(
            """mutation($c: ID!, $t: String!, $d: String!) {
              createModule(courseId: $c, title: $t, description: $d, passMark: 0.5) { id passMark } }""",
            {"c": state.course, "t": MODULE["title"], "d": MODULE["description"]},
        )
    )["createModule"]
    assert module["passMark"] == 0.5
    state.module = module["id"]
    error = await expect_error(
        "FAILED_PRECONDITION",
        teacher.execute("mutation($c: ID!) { publishCourse(courseId: $c) { id } }", {"c": state.course}),
    )
    assert error["extensions"]["reason"]
    await expect_error(
        "FORBIDDEN",
        anonymous.as_user(state.learner).execute('mutation { createCourse(title: "Mine") { id } }'),
    )

    upload = "mutation($c: ID!, $files: [Upload!]!) { uploadCourseFiles(courseId: $c, files: $files) { duplicate file { id name mediaType sizeBytes } job { id } } }"
    big = tmp_path / "big.md"
    big.write_text("# Big\n" + "x" * (MAX_UPLOAD + 1))
    error = await expect_error("BAD_USER_INPUT", teacher.upload(upload, {"c": state.course}, [big]))
    assert error["extensions"]["reason"] == "FILE_TOO_LARGE"
    material = tmp_path / "averages.md"
    material.write_bytes(MATERIAL_FILE.read_bytes())
    results = (await teacher.upload(upload, {"c": state.course}, [material]))["uploadCourseFiles"]
    assert [(r["file"]["name"], r["file"]["mediaType"], r["duplicate"]) for r in results] == [
        ("averages.md", "text/markdown", False)
    ]
    assert int(results[0]["file"]["sizeBytes"]) == MATERIAL_FILE.stat().st_size
    await follow_job(teacher, results[0]["job"]["id"])

    files = (
        await teacher.execute(
            "query($c: ID!) { courseFiles(courseId: $c, first: 10) { edges { node { name state chunkCount } } pageInfo { hasNextPage } } }",
            {"c": state.course},
        )
    )["courseFiles"]
    assert [e["node"]["name"] for e in files["edges"]] == ["averages.md"] and not files["pageInfo"][
        "hasNextPage"
    ]
    assert files["edges"][0]["node"]["state"] == "INDEXED" and files["edges"][0]["node"]["chunkCount"] > 0
    status = await teacher.execute(
        "query($c: ID!) { indexingStatus(courseId: $c) { state fileCount } }", {"c": state.course}
    )
    assert status["indexingStatus"] == {"state": "READY", "fileCount": 1}

    job = (
        await teacher.execute(
            "mutation($c: ID!) { generateLearningObjectives(courseId: $c, count: 2) { id kind } }",
            {"c": state.course},
        )
    )["generateLearningObjectives"]
    await follow_job(teacher, job["id"])
    assert (await teacher.execute("query($j: ID!) { job(id: $j) { state } }", {"j": job["id"]}))["job"][
        "state"
    ] == "SUCCEEDED"
    listed = (
        await teacher.execute(
            "query($c: ID!, $m: ID!) { learningObjectives(courseId: $c, moduleId: $m) { moduleId version approved objectives { id text citations { fileName } } } }",
            {"c": state.course, "m": state.module},
        )
    )["learningObjectives"]
    assert len(listed) == 1 and listed[0]["objectives"] and not listed[0]["approved"]
    assert listed[0]["objectives"][0]["citations"][0]["fileName"] == "averages.md"
    edited = [{"id": o["id"], "text": o["text"]} for o in listed[0]["objectives"]]
    edited[0]["text"] = "Explain when the median is a better summary than the mean"
    objectives = (
        await teacher.execute(
            """mutation($c: ID!, $m: ID!, $o: [LearningObjectiveInput!]!, $v: Int!) {
              updateLearningObjectives(courseId: $c, moduleId: $m, objectives: $o, expectedVersion: $v) { version approved } }""",
            {"c": state.course, "m": state.module, "o": edited, "v": listed[0]["version"]},
        )
    )["updateLearningObjectives"]
    assert objectives["version"] == listed[0]["version"] + 1
    approved = (
        await teacher.execute(
            "mutation($c: ID!, $m: ID!, $v: Int!) { approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }",
            {"c": state.course, "m": state.module, "v": objectives["version"]},
        )
    )["approveLearningObjectives"]
    assert approved["approved"]
    published = (
        await teacher.execute(
            "mutation($c: ID!) { publishCourse(courseId: $c) { published modules { objectivesApproved } } }",
            {"c": state.course},
        )
    )["publishCourse"]
    assert published == {"published": True, "modules": [{"objectivesApproved": True}]}
    mine = (await teacher.execute("{ instructorCourses { edges { node { id published } } } }"))[
        "instructorCourses"
    ]
    assert {"id": state.course, "published": True} in [e["node"] for e in mine["edges"]]


async def test_learner_reads_takes_the_quiz_and_completes(anonymous, state):
    student = anonymous.as_user(state.learner)
    catalog = (await anonymous.execute("{ catalog(first: 100) { edges { node { id title } } } }"))["catalog"]
    assert state.course in [e["node"]["id"] for e in catalog["edges"]]
    enrollment = await student.execute(
        "mutation($c: ID!) { enroll(courseId: $c) { state courseId } }", {"c": state.course}
    )
    assert enrollment["enroll"] == {"state": "ACTIVE", "courseId": state.course}
    mine = await student.execute(
        "{ myCourses { edges { node { courseId course { title modules { id } } } } } }"
    )
    assert mine["myCourses"]["edges"] == [
        {
            "node": {
                "courseId": state.course,
                "course": {"title": "Averages", "modules": [{"id": state.module}]},
            }
        }
    ]
    prefs = (
        await student.execute(
            """mutation($c: ID!) { setPreferences(courseId: $c, preferences: {detailLevel: BRIEF, explanationStyle: EXAMPLES}) {
              detailLevel explanationStyle language } }""",
            {"c": state.course},
        )
    )["setPreferences"]
    assert prefs == {"detailLevel": "BRIEF", "explanationStyle": "EXAMPLES", "language": "BALANCED"}
    prefs = (
        await student.execute(
            """mutation($c: ID!) { setPreferences(courseId: $c, preferences: {language: TECHNICAL}) {
              detailLevel explanationStyle language } }""",
            {"c": state.course},
        )
    )["setPreferences"]
    assert prefs == {"detailLevel": "BRIEF", "explanationStyle": "EXAMPLES", "language": "TECHNICAL"}
    with pytest.raises(GraphQLFailure) as failure:  # nothing to set
        await student.execute(
            "mutation($c: ID!) { setPreferences(courseId: $c, preferences: {}) { language } }",
            {"c": state.course},
        )
    assert failure.value.codes == ["BAD_USER_INPUT"]

    events = [
        data["moduleContentStream"]
        async for data in student.subscribe(
            """subscription($c: ID!, $m: ID!) { moduleContentStream(courseId: $c, moduleId: $m) {
              markdownDelta content { markdown citations { fileName snippet } preferences { detailLevel } } } }""",
            {"c": state.course, "m": state.module},
        )
    ]
    assert events[-1]["content"] is not None and all(e["content"] is None for e in events[:-1])
    content = events[-1]["content"]
    assert content["markdown"].strip() and content["citations"]
    assert content["citations"][0]["fileName"] == "averages.md"
    assert content["preferences"]["detailLevel"] == "BRIEF"
    cached = (
        await student.execute(
            "query($c: ID!, $m: ID!) { moduleContent(courseId: $c, moduleId: $m) { markdown } }",
            {"c": state.course, "m": state.module},
        )
    )["moduleContent"]
    assert cached["markdown"] == content["markdown"]

    result, quiz = await take_quiz(student, state, retake=False, revealed={})
    if not result["passed"]:  # remediation: study the explanations and the content, then retake
        revealed = revealed_answers(quiz, result, studied=content["markdown"])
        result, _ = await take_quiz(student, state, retake=True, revealed=revealed)
    state.passed = result["passed"]
    if result["passed"]:
        done = (
            await student.execute(
                "mutation($c: ID!, $m: ID!) { completeModule(courseId: $c, moduleId: $m) { nextModuleId courseCompleted } }",
                {"c": state.course, "m": state.module},
            )
        )["completeModule"]
        assert done == {"nextModuleId": None, "courseCompleted": True}

    dashboard = (
        await student.execute(
            """query($c: ID!) { dashboard(courseId: $c) { courseId courseTitle progress completedModuleCount
              course { id title } preferences { detailLevel } modules { moduleId status attemptCount }
              recentQuizResults { score passed } mastery { objectiveId pMastery } nextStep { kind } } }""",
            {"c": state.course},
        )
    )["dashboard"]
    assert dashboard["course"] == {"id": state.course, "title": "Averages"}
    assert dashboard["courseTitle"] == "Averages" and dashboard["preferences"]["detailLevel"] == "BRIEF"
    assert dashboard["recentQuizResults"] and dashboard["mastery"]
    assert (
        dashboard["modules"][0]["moduleId"] == state.module and dashboard["modules"][0]["attemptCount"] >= 1
    )
    if state.passed:
        assert dashboard["progress"] == 1.0 and dashboard["modules"][0]["status"] == "COMPLETED"
        assert dashboard["nextStep"]["kind"] == "COURSE_COMPLETED"


async def take_quiz(student: GraphQLClient, state, retake: bool, revealed: dict) -> tuple[dict, dict]:
    quiz = (
        await student.execute(
            "query($c: ID!, $m: ID!, $r: Boolean!) { quiz(courseId: $c, moduleId: $m, retake: $r) { id passMark questions { id text options } } }",
            {"c": state.course, "m": state.module, "r": retake},
        )
    )["quiz"]
    assert quiz["questions"] and all(len(q["options"]) >= 2 for q in quiz["questions"])
    chosen = [{"questionId": q["id"], "selectedIndex": choose_answer(q, revealed)} for q in quiz["questions"]]
    attempt = str(uuid.uuid4())
    submit = """mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!, $id: ID) {
      submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a, attemptId: $id) {
        attemptId score passed questions { questionId correct correctIndex explanation } } }"""
    variables = {"c": state.course, "m": state.module, "q": quiz["id"], "a": chosen, "id": attempt}
    result = (await student.execute(submit, variables))["submitQuiz"]
    assert result["attemptId"] == attempt and len(result["questions"]) == len(quiz["questions"])
    assert all(q["explanation"] for q in result["questions"] if not q["correct"])
    # The attempt id is an idempotency key: resubmitting returns the first result.
    assert (await student.execute(submit, variables))["submitQuiz"]["score"] == result["score"]
    return result, quiz


async def test_tutor_streams_and_keeps_history(anonymous, state):
    student = anonymous.as_user(state.learner)
    events = [
        data["tutorAnswer"]
        async for data in student.subscribe(
            """subscription($c: ID!, $q: String!) { tutorAnswer(courseId: $c, question: $q) {
              textDelta message { role text grounded citations { fileName } } } }""",
            {"c": state.course, "q": "Why does the median resist outliers?"},
        )
    ]
    final = events[-1]["message"]
    assert final["role"] == "TUTOR" and final["text"] and final["grounded"]
    assert {c["fileName"] for c in final["citations"]} == {"averages.md"}
    answer = (
        await student.execute(
            'mutation($c: ID!, $m: ID) { askTutor(courseId: $c, question: "What is the mode?", moduleId: $m) { text grounded } }',
            {"c": state.course, "m": state.module},
        )
    )["askTutor"]
    assert answer["text"]
    history = (
        await student.execute(
            "query($c: ID!) { tutorHistory(courseId: $c, first: 10) { edges { node { role text } } pageInfo { hasNextPage } } }",
            {"c": state.course},
        )
    )["tutorHistory"]
    assert [e["node"]["role"] for e in history["edges"]] == ["LEARNER", "TUTOR", "LEARNER", "TUTOR"]


async def test_instructor_analytics(anonymous, state):
    teacher = anonymous.as_user(state.instructor)
    analytics = (
        await teacher.execute(
            "query($c: ID!) { courseAnalytics(courseId: $c) { enrollmentCount modules { moduleId attemptCount } } }",
            {"c": state.course},
        )
    )["courseAnalytics"]
    assert analytics["enrollmentCount"] == 1
    assert (
        analytics["modules"][0]["moduleId"] == state.module and analytics["modules"][0]["attemptCount"] >= 1
    )
    await expect_error(
        "FORBIDDEN",
        anonymous.as_user(state.learner).execute(
            "query($c: ID!) { courseAnalytics(courseId: $c) { enrollmentCount } }", {"c": state.course}
        ),
    )


async def test_subscriptions_over_the_legacy_graphql_ws_protocol_and_auth(mesh, anonymous, state):
    """graphql-ws (subscriptions-transport-ws) still works, with the token in connection_init's authToken."""
    job = (
        await anonymous.as_user(state.instructor).execute(
            "query($c: ID!) { indexingStatus(courseId: $c) { lastJob { id } } }", {"c": state.course}
        )
    )["indexingStatus"]["lastJob"]["id"]
    async with connect(mesh.ws_url, subprotocols=["graphql-ws"], open_timeout=60) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authToken": state.instructor}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 60))["type"] == "connection_ack"
        query = "subscription($id: ID!) { jobProgress(id: $id) { state done } }"
        await ws.send(
            json.dumps({"id": "1", "type": "start", "payload": {"query": query, "variables": {"id": job}}})
        )
        messages = []
        while not messages or messages[-1]["type"] != "complete":
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if message["type"] != "ka":
                messages.append(message)
    assert messages[-2]["payload"]["data"]["jobProgress"] == {"state": "SUCCEEDED", "done": True}
    # Without a token the subscription fails UNAUTHENTICATED; a learner may not watch the job.
    with pytest.raises(GraphQLFailure) as failure:
        async for _ in anonymous.subscribe(
            "subscription($id: ID!) { jobProgress(id: $id) { state } }", {"id": job}
        ):
            pass
    assert failure.value.codes == ["UNAUTHENTICATED"]
    with pytest.raises(GraphQLFailure) as failure:
        async for _ in anonymous.as_user(state.learner).subscribe(
            "subscription($id: ID!) { jobProgress(id: $id) { state } }", {"id": job}
        ):
            pass
    assert failure.value.codes == ["FORBIDDEN"]


async def test_each_modules_objectives_content_and_quiz_cite_only_its_own_file(anonymous, state, tmp_path):
    teacher = anonymous.as_user(state.instructor)
    course = (await teacher.execute('mutation { createCourse(title: "Statistics in two parts") { id } }'))[
        "createCourse"
    ]["id"]
    create = "mutation($c: ID!, $t: String!) { createModule(courseId: $c, title: $t, passMark: 0.2) { id } }"
    first, second = [
        (await teacher.execute(create, {"c": course, "t": title}))["createModule"]["id"]
        for title in ("Describing Data", "Probability Basics")
    ]
    upload = """mutation($c: ID!, $m: ID, $files: [Upload!]!) {
      uploadCourseFiles(courseId: $c, moduleId: $m, files: $files) { file { id name moduleId } job { id } } }"""
    files = {}
    for module, source, name in (
        (first, "01-describing-data.md", "data.md"),
        (second, "02-probability.md", "chance.md"),
    ):
        path = tmp_path / name
        path.write_bytes((SAMPLE_COURSE / source).read_bytes())
        [result] = (await teacher.upload(upload, {"c": course, "m": module}, [path]))["uploadCourseFiles"]
        assert result["file"]["moduleId"] == module
        await follow_job(teacher, result["job"]["id"])
        files[module] = result["file"]["id"]
    error = await expect_error(
        "NOT_FOUND", teacher.upload(upload, {"c": course, "m": "no-such-module"}, [tmp_path / "data.md"])
    )
    assert error["extensions"]["reason"] == "MODULE_NOT_FOUND"
    move = "mutation($c: ID!, $f: ID!, $m: ID) { moveCourseFile(courseId: $c, fileId: $f, moduleId: $m) { moduleId } }"
    shared = (await teacher.execute(move, {"c": course, "f": files[second], "m": None}))["moveCourseFile"]
    assert shared == {"moduleId": None}  # course-wide
    back = (await teacher.execute(move, {"c": course, "f": files[second], "m": second}))["moveCourseFile"]
    assert back == {"moduleId": second}
    listed = (
        await teacher.execute(
            "query($c: ID!) { courseFiles(courseId: $c, first: 10) { edges { node { name moduleId } } } }",
            {"c": course},
        )
    )["courseFiles"]["edges"]
    assert {e["node"]["name"]: e["node"]["moduleId"] for e in listed} == {
        "data.md": first,
        "chance.md": second,
    }

    job = (
        await teacher.execute(
            "mutation($c: ID!) { generateLearningObjectives(courseId: $c, count: 3) { id } }", {"c": course}
        )
    )["generateLearningObjectives"]
    await follow_job(teacher, job["id"])
    for module, name in ((first, "data.md"), (second, "chance.md")):
        [drafted] = (
            await teacher.execute(
                "query($c: ID!, $m: ID!) { learningObjectives(courseId: $c, moduleId: $m) { version objectives { citations { fileName } } } }",
                {"c": course, "m": module},
            )
        )["learningObjectives"]
        assert {c["fileName"] for o in drafted["objectives"] for c in o["citations"]} == {name}
        await teacher.execute(
            "mutation($c: ID!, $m: ID!, $v: Int!) { approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }",
            {"c": course, "m": module, "v": drafted["version"]},
        )
    await teacher.execute("mutation($c: ID!) { publishCourse(courseId: $c) { published } }", {"c": course})

    student = anonymous.as_user(state.learner)
    await student.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": course})
    content = (
        await student.execute(
            "query($c: ID!, $m: ID!) { moduleContent(courseId: $c, moduleId: $m) { citations { fileName } } }",
            {"c": course, "m": first},
        )
    )["moduleContent"]
    assert content["citations"] and {c["fileName"] for c in content["citations"]} == {"data.md"}
    quiz = (
        await student.execute(
            "query($c: ID!, $m: ID!) { quiz(courseId: $c, moduleId: $m, retake: false) { id questions { id } } }",
            {"c": course, "m": first},
        )
    )["quiz"]
    answers = [{"questionId": q["id"], "selectedIndex": 0} for q in quiz["questions"]]
    graded = (
        await student.execute(
            """mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!) {
              submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a) { questions { citations { fileName } } } }""",
            {"c": course, "m": first, "q": quiz["id"], "a": answers},
        )
    )["submitQuiz"]
    cited = [{c["fileName"] for c in q["citations"]} for q in graded["questions"]]
    assert cited and all(names == {"data.md"} for names in cited)


def test_schemathesis_finds_no_server_errors(mesh, state):
    """Fuzz every query and mutation (anonymous, learner and instructor callers): no 5xx, no unmasked error,
    every error carries an extensions.code and none is INTERNAL (the check of devkit/graphql_checks.py,
    which scripts/fuzz_graphql.py runs for longer)."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import strategies as st
    from schemathesis.graphql import nodes

    schemathesis.graphql.scalar("Upload", st.just(nodes.Null))
    schema = schemathesis.graphql.from_url(mesh.graphql_url)
    tokens = [None, state.learner, state.instructor]
    report = FuzzReport()
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 35

    for index, operation in enumerate(operations):
        token = tokens[index % len(tokens)]
        # Log-in hashes a password even for unknown accounts (argon2, deliberately slow): fewer examples.
        examples = 8 if operation.label in SLOW_OPERATIONS else 30
        fuzz_operation(operation, {"Authorization": f"Bearer {token}"} if token else {}, examples, report)
    assert report.requests > len(operations)
    assert not report.failures, "\n".join(report.failures[:20])
