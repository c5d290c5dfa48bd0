"""Authorization matrix of OrchestratorService: every RPC × every kind of caller, on the real mesh.

Callers: anonymous, learner A on their own data, learner A on someone else's data (learner B's id, B's quiz,
or a course A is not enrolled in: the RPCs without a learner_id always act for the caller, so enrollment is
what guards them), the course's instructor, a service, an expired token and a tampered token.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import grpc
import psycopg
import pytest

pytest.importorskip("instructor_svc.bootstrap")
pytest.importorskip("sme_svc.bootstrap")

from devkit.inprocess import sign_up_learner  # noqa: E402
from lmw.common.v1 import common_pb2 as cpb  # noqa: E402
from lmw.learner.v1 import learner_service_pb2 as lpb  # noqa: E402
from lmw.orchestrator.v1 import orchestrator_service_pb2 as opb  # noqa: E402
from lmw_common.errors import from_rpc_error  # noqa: E402
from orchestrator_svc.servicer import ACCESS  # noqa: E402

pytest_plugins = ("tests.integration.mesh",)

OK = "OK"
STREAMING = {"StreamModuleContent", "AskTutor"}
PREFS = cpb.Preferences(
    detail_level=cpb.DETAIL_LEVEL_BRIEF,
    explanation_style=cpb.EXPLANATION_STYLE_EXAMPLES,
    language=cpb.LANGUAGE_LEVEL_BALANCED,
)


@dataclass
class World:
    mesh: object
    course_id: str
    m1: str
    a_id: str
    a_token: str
    b_id: str
    b_token: str
    b_quiz_id: str
    outsider_token: str  # a learner enrolled in nothing
    tokens: dict[str, str | None]

    def sql(self, statement: str, *params):
        with psycopg.connect(self.mesh.settings["orchestrator"].database_url, autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()


@pytest.fixture(scope="module")
async def world(lmw_mesh, lmw_course, tokens, service_token):
    mesh, course = lmw_mesh, lmw_course
    a_id, a_token = await sign_up_learner(mesh, "Alice")
    b_id, b_token = await sign_up_learner(mesh, "Bob")
    _, outsider = await sign_up_learner(mesh, "Olga")
    for token in (a_token, b_token):
        await mesh.learner_stub(token).Enroll(lpb.EnrollRequest(course_id=course.course_id))
    m1 = course.module_ids[0]
    b_quiz = await mesh.orchestrator_stub(b_token).GetQuiz(
        opb.GetQuizRequest(course_id=course.course_id, module_id=m1)
    )
    header, payload, signature = a_token.split(".")
    return World(
        mesh,
        course.course_id,
        m1,
        a_id,
        a_token,
        b_id,
        b_token,
        b_quiz.quiz.id,
        outsider,
        {
            "anonymous": None,
            "learner": a_token,
            "other": a_token,
            "outsider": outsider,
            "instructor": course.instructor_token,
            "service": service_token,
            "expired": tokens.issue(a_id, "learner", -60)[0],
            "tampered": f"{header}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}",
        },
    )


async def _passing_answers(world: World, quiz_id: str) -> list[opb.QuizAnswer]:
    rows = await asyncio.to_thread(world.sql, "SELECT items FROM quizzes WHERE id = %s", quiz_id)
    return [opb.QuizAnswer(question_id=i["id"], selected_index=i["correct_index"]) for i in rows[0][0]]


async def _own_submit(world: World, stub) -> opb.SubmitQuizRequest:
    quiz = (
        await stub.GetQuiz(opb.GetQuizRequest(course_id=world.course_id, module_id=world.m1, retake=True))
    ).quiz
    return opb.SubmitQuizRequest(
        course_id=world.course_id,
        module_id=world.m1,
        quiz_id=quiz.id,
        attempt_id=uuid.uuid4().hex,
        answers=await _passing_answers(world, quiz.id),
    )


def _requests(world: World, who: str):
    """The request each caller sends. Learner A's `own` requests are meaningful and must succeed; the
    others only need to be well-formed."""
    c, m1 = world.course_id, world.m1
    learner_id = {"other": world.b_id, "service": world.a_id}.get(who, "")
    quiz_id = world.b_quiz_id if who == "other" else "q" + uuid.uuid4().hex[:8]
    submit = opb.SubmitQuizRequest(course_id=c, module_id=m1, quiz_id=quiz_id, attempt_id=uuid.uuid4().hex)
    return {
        "GetPreferences": opb.GetPreferencesRequest(course_id=c),
        "SetPreferences": opb.SetPreferencesRequest(course_id=c, preferences=PREFS),
        "GetModuleContent": opb.GetModuleContentRequest(course_id=c, module_id=m1),
        "StreamModuleContent": opb.StreamModuleContentRequest(course_id=c, module_id=m1),
        "GetQuiz": opb.GetQuizRequest(course_id=c, module_id=m1),
        "SubmitQuiz": submit,
        "CompleteModule": opb.CompleteModuleRequest(course_id=c, module_id=m1),
        "GetDashboard": opb.GetDashboardRequest(course_id=c, learner_id=learner_id),
        "AskTutor": opb.AskTutorRequest(course_id=c, question="What is a median?"),
        "GetTutorHistory": opb.GetTutorHistoryRequest(course_id=c),
        "GetLearnerAnalytics": opb.GetLearnerAnalyticsRequest(course_id=c, learner_id=learner_id),
    }


UNAUTHENTICATED = ("UNAUTHENTICATED", None)
DENIED = ("PERMISSION_DENIED", "ROLE_NOT_ALLOWED")
NOT_ENROLLED = ("PERMISSION_DENIED", "NOT_ENROLLED")
LEARNER_ID_RPCS = {"GetDashboard", "GetLearnerAnalytics"}

# The order matters for learner A: CompleteModule needs the passed SubmitQuiz before it.
RPCS = [
    "GetPreferences",
    "SetPreferences",
    "GetModuleContent",
    "StreamModuleContent",
    "GetQuiz",
    "SubmitQuiz",
    "CompleteModule",
    "GetDashboard",
    "AskTutor",
    "GetTutorHistory",
    "GetLearnerAnalytics",
]
CALLERS = ["anonymous", "learner", "other", "outsider", "instructor", "service", "expired", "tampered"]


def expected(rpc: str, who: str) -> tuple[str, str | None]:
    if who == "anonymous":
        return "UNAUTHENTICATED", "AUTH_REQUIRED"
    if who == "expired":
        return "UNAUTHENTICATED", "TOKEN_EXPIRED"
    if who == "tampered":
        return "UNAUTHENTICATED", "TOKEN_INVALID"
    if who == "instructor":
        return DENIED
    if who == "service":
        return (OK, None) if rpc in LEARNER_ID_RPCS else DENIED
    if who == "outsider":
        return NOT_ENROLLED
    if who == "other":
        if rpc in LEARNER_ID_RPCS:
            return "PERMISSION_DENIED", "NOT_OWNER"
        if rpc == "SubmitQuiz":
            return "NOT_FOUND", "QUIZ_NOT_FOUND"  # B's quiz does not exist for A (no existence leak)
        return None  # no way to address B's data: the request acts for A
    return OK, None


# Every RPC with every caller, RPC by RPC; "other" only where a request can name another learner's data.
CELLS = [(rpc, who) for rpc in RPCS for who in CALLERS if expected(rpc, who) is not None]


def test_every_rpc_is_in_the_matrix():
    assert (
        set(RPCS)
        == set(ACCESS)
        == set(opb.DESCRIPTOR.services_by_name["OrchestratorService"].methods_by_name)
    )
    assert {rpc for rpc, _ in CELLS} == set(RPCS)


@pytest.mark.parametrize(("rpc", "who"), CELLS)
async def test_authorization(world, rpc, who):
    want = expected(rpc, who)
    stub = world.mesh.orchestrator_stub(world.tokens[who])
    request = _requests(world, who)[rpc]
    if who == "learner" and rpc == "SubmitQuiz":
        request = await _own_submit(world, stub)
    call = getattr(stub, rpc)
    try:
        if rpc in STREAMING:
            response = [event async for event in call(request)]
        else:
            response = await call(request)
    except grpc.aio.AioRpcError as err:
        got = (err.code().name, from_rpc_error(err).reason)
        assert got[0] == want[0] and (want[1] is None or got[1] == want[1]), (
            f"{who} {rpc}: {err.code().name} {got[1]} {err.details()}"
        )
        return
    assert want[0] == OK, f"{who} {rpc} succeeded, expected {want}"
    _check_own_response(world, who, rpc, response)


def _check_own_response(world: World, who: str, rpc: str, response) -> None:
    if rpc == "GetDashboard":
        assert response.dashboard.learner_id == world.a_id
    elif rpc == "GetLearnerAnalytics":
        assert response.learner_id == world.a_id
    elif rpc == "CompleteModule":
        assert response.next_module_id or response.course_completed
    elif rpc == "SubmitQuiz":
        assert response.result.passed
    elif rpc == "GetTutorHistory":
        assert all(m.text != "nobody else's question" for m in response.messages)


async def test_a_service_must_name_the_learner(world):
    stub = world.mesh.orchestrator_stub(world.tokens["service"])
    for call, request in (
        (stub.GetDashboard, opb.GetDashboardRequest(course_id=world.course_id)),
        (stub.GetLearnerAnalytics, opb.GetLearnerAnalyticsRequest(course_id=world.course_id)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(request)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_learner_never_sees_another_learners_tutor_history(world, lmw_course):
    _, token = await sign_up_learner(world.mesh, "Chatty")
    await world.mesh.learner_stub(token).Enroll(lpb.EnrollRequest(course_id=world.course_id))
    chatty = world.mesh.orchestrator_stub(token)
    events = [
        e
        async for e in chatty.AskTutor(opb.AskTutorRequest(course_id=world.course_id, question="Mine only?"))
    ]
    assert events[-1].WhichOneof("event") == "message"
    mine = world.mesh.orchestrator_stub(world.a_token)
    history = await mine.GetTutorHistory(opb.GetTutorHistoryRequest(course_id=world.course_id))
    assert all(m.text != "Mine only?" for m in history.messages)


async def test_a_learner_cannot_replay_someone_elses_attempt_id(world):
    """Attempt ids are client-chosen: reusing another learner's never returns their result."""
    attempt_id = "bob-" + uuid.uuid4().hex[:8]
    bob = world.mesh.orchestrator_stub(world.b_token)
    submitted = await bob.SubmitQuiz(
        opb.SubmitQuizRequest(
            course_id=world.course_id, module_id=world.m1, quiz_id=world.b_quiz_id, attempt_id=attempt_id
        )
    )
    assert submitted.result.attempt_id == attempt_id
    _, token = await sign_up_learner(world.mesh, "Mallory")
    await world.mesh.learner_stub(token).Enroll(lpb.EnrollRequest(course_id=world.course_id))
    mallory = world.mesh.orchestrator_stub(token)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await mallory.SubmitQuiz(
            opb.SubmitQuizRequest(
                course_id=world.course_id, module_id=world.m1, quiz_id=world.b_quiz_id, attempt_id=attempt_id
            )
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert from_rpc_error(err.value).reason == "ATTEMPT_ID_IN_USE"
    assert not err.value.details().count(str(submitted.result.score))
