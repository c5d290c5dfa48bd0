"""learner_svc over real gRPC against real PostgreSQL.

instructor_svc is stood in for by a minimal InstructorService gRPC server that knows a fixed catalog, so
enrollment rules are tested here in isolation; the full mesh tests cover the real pairing.
"""

from __future__ import annotations

import uuid

import grpc
import pytest

from learner_svc.bootstrap import bootstrap
from learner_svc.config import LearnerSettings
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.instructor.v1 import instructor_service_pb2_grpc as ipb_grpc
from lmw.learner.v1 import learner_service_pb2 as pb
from lmw.learner.v1 import learner_service_pb2_grpc as pb_grpc
from lmw_common.errors import from_rpc_error
from lmw_common.runtime import serving

PASSWORD = "Correct-horse-9"
PUBLISHED, DRAFT = "course_pub", "course_draft"


class CatalogServer(ipb_grpc.InstructorServiceServicer):
    """Answers GetCourse for two fixed courses and counts calls."""

    def __init__(self) -> None:
        self.calls = 0

    async def GetCourse(self, request, context):
        self.calls += 1
        if request.course_id not in (PUBLISHED, DRAFT):
            await context.abort(grpc.StatusCode.NOT_FOUND, "course not found")
        return ipb.GetCourseResponse(
            course=ipb.Course(id=request.course_id, published=request.course_id == PUBLISHED)
        )


@pytest.fixture
async def catalog():
    server = grpc.aio.server()
    servicer = CatalogServer()
    ipb_grpc.add_InstructorServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port, servicer
    await server.stop(0)


@pytest.fixture
async def learner(pg_url, common_settings, catalog):
    settings = LearnerSettings(
        database_url=pg_url,
        instructor_target=f"127.0.0.1:{catalog[0]}",
        common=common_settings,
        port=0,
        shutdown_grace_s=0,
    )
    async with serving("learner_svc", settings, bootstrap) as server:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
        yield pb_grpc.LearnerServiceStub(channel)
        await channel.close()


def auth(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


async def sign_up(stub, email: str | None = None) -> pb.SignUpResponse:
    email = email or f"{uuid.uuid4().hex[:8]}@example.org"
    return await stub.SignUp(pb.SignUpRequest(email=email, password=PASSWORD, display_name="Ada"))


async def expect(code: grpc.StatusCode, call) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, err.value.details()
    return from_rpc_error(err.value).reason


async def test_sign_up_log_in_and_me(learner):
    created = await sign_up(learner, "Ada@Example.ORG")
    assert created.learner.email == "ada@example.org"
    assert created.access_token.expire_time.seconds > 0
    logged = await learner.LogIn(pb.LogInRequest(email="Ada@EXAMPLE.org", password=PASSWORD))
    me = await learner.GetMe(pb.GetMeRequest(), metadata=auth(logged.access_token.token))
    assert me.learner.id == created.learner.id


@pytest.mark.parametrize(
    ("email", "password", "name", "reason"),
    [
        ("not-an-email", PASSWORD, "Ada", "INVALID_EMAIL"),
        ("a@example.org", "short1", "Ada", "WEAK_PASSWORD"),
        ("a@example.org", "aaaaaaaaaaaa", "Ada", "WEAK_PASSWORD"),
        ("a@example.org", PASSWORD, "x" * 121, "TOO_LONG"),
        ("a@example.org", PASSWORD, "", "REQUIRED"),
        ("a@example.org", PASSWORD, "bad\x00name", "INVALID_CHARACTERS"),
    ],
)
async def test_sign_up_rejects_bad_input_and_writes_nothing(learner, email, password, name, reason):
    request = pb.SignUpRequest(email=email, password=password, display_name=name)
    assert await expect(grpc.StatusCode.INVALID_ARGUMENT, learner.SignUp(request)) == reason
    # nothing was written: the same e-mail with valid input still signs up
    if "@" in email:
        await learner.SignUp(pb.SignUpRequest(email=email, password=PASSWORD, display_name="Ada"))


async def test_duplicate_email_and_bad_credentials(learner):
    await sign_up(learner, "dup@example.org")
    assert await expect(grpc.StatusCode.ALREADY_EXISTS, sign_up(learner, "DUP@example.org")) != ""
    for email, password in [("dup@example.org", "Wrong-pass-99"), ("nobody@example.org", PASSWORD)]:
        reason = await expect(
            grpc.StatusCode.UNAUTHENTICATED, learner.LogIn(pb.LogInRequest(email=email, password=password))
        )
        assert reason == "BAD_CREDENTIALS"  # same answer whether or not the account exists


async def test_enroll_unenroll_reenroll(learner, catalog):
    token = (await sign_up(learner)).access_token.token
    enrolled = await learner.Enroll(pb.EnrollRequest(course_id=PUBLISHED), metadata=auth(token))
    assert enrolled.enrollment.state == pb.ENROLLMENT_STATE_ACTIVE
    again = await learner.Enroll(pb.EnrollRequest(course_id=PUBLISHED), metadata=auth(token))
    assert again.enrollment.enroll_time == enrolled.enrollment.enroll_time  # idempotent
    left = await learner.Unenroll(pb.UnenrollRequest(course_id=PUBLISHED), metadata=auth(token))
    assert left.enrollment.state == pb.ENROLLMENT_STATE_UNENROLLED
    active = await learner.ListEnrollments(pb.ListEnrollmentsRequest(), metadata=auth(token))
    assert list(active.enrollments) == []
    history = await learner.ListEnrollments(
        pb.ListEnrollmentsRequest(include_unenrolled=True), metadata=auth(token)
    )
    assert [e.state for e in history.enrollments] == [pb.ENROLLMENT_STATE_UNENROLLED]
    back = await learner.Enroll(pb.EnrollRequest(course_id=PUBLISHED), metadata=auth(token))
    assert back.enrollment.state == pb.ENROLLMENT_STATE_ACTIVE


async def test_enroll_checks_the_course(learner):
    token = (await sign_up(learner)).access_token.token
    await expect(
        grpc.StatusCode.NOT_FOUND, learner.Enroll(pb.EnrollRequest(course_id="missing"), metadata=auth(token))
    )
    reason = await expect(
        grpc.StatusCode.FAILED_PRECONDITION,
        learner.Enroll(pb.EnrollRequest(course_id=DRAFT), metadata=auth(token)),
    )
    assert reason == "COURSE_NOT_PUBLISHED"
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        learner.Enroll(pb.EnrollRequest(course_id="x" * 65), metadata=auth(token)),
    )
    listed = await learner.ListEnrollments(
        pb.ListEnrollmentsRequest(include_unenrolled=True), metadata=auth(token)
    )
    assert list(listed.enrollments) == []


async def test_enrollment_pagination(learner, postgres, pg_url):
    token = (await sign_up(learner)).access_token.token
    await learner.Enroll(pb.EnrollRequest(course_id=PUBLISHED), metadata=auth(token))
    page = await learner.ListEnrollments(pb.ListEnrollmentsRequest(page_size=1), metadata=auth(token))
    assert len(page.enrollments) == 1 and page.next_page_token == ""
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        learner.ListEnrollments(
            pb.ListEnrollmentsRequest(page_token="not base64 json"), metadata=auth(token)
        ),
    )
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        learner.ListEnrollments(pb.ListEnrollmentsRequest(page_size=-1), metadata=auth(token)),
    )


def attempt(learner_id: str, attempt_id: str, score: float) -> pb.QuizAttempt:
    return pb.QuizAttempt(
        id=attempt_id,
        learner_id=learner_id,
        course_id=PUBLISHED,
        module_id="m1",
        quiz_id="q1",
        score=score,
        passed=score >= 0.6,
        results=[
            pb.QuestionResult(question_id="qq1", objective_id="o1", selected_index=1, correct=score >= 0.6)
        ],
    )


async def test_progress_and_attempts(learner, service_token):
    ann = await sign_up(learner)
    ann_id, ann_token = ann.learner.id, ann.access_token.token
    await learner.Enroll(pb.EnrollRequest(course_id=PUBLISHED), metadata=auth(ann_token))
    svc = auth(service_token)
    for event in (pb.MODULE_EVENT_TYPE_STARTED, pb.MODULE_EVENT_TYPE_STARTED, pb.MODULE_EVENT_TYPE_COMPLETED):
        await learner.RecordModuleEvent(
            pb.RecordModuleEventRequest(learner_id=ann_id, course_id=PUBLISHED, module_id="m1", type=event),
            metadata=svc,
        )
    first = await learner.RecordQuizAttempt(
        pb.RecordQuizAttemptRequest(attempt=attempt(ann_id, "a1", 0.4)), metadata=svc
    )
    assert not first.already_recorded
    replay = await learner.RecordQuizAttempt(
        pb.RecordQuizAttemptRequest(attempt=attempt(ann_id, "a1", 0.9)), metadata=svc
    )
    assert replay.already_recorded and replay.attempt.score == pytest.approx(0.4)  # first write wins
    await learner.RecordQuizAttempt(
        pb.RecordQuizAttemptRequest(attempt=attempt(ann_id, "a2", 0.8)), metadata=svc
    )

    progress = (
        await learner.GetCourseProgress(
            pb.GetCourseProgressRequest(course_id=PUBLISHED), metadata=auth(ann_token)
        )
    ).progress
    (module,) = progress.modules
    assert module.state == pb.MODULE_STATE_COMPLETED and module.attempt_count == 2 and module.passed
    assert module.best_score == pytest.approx(0.8) and progress.completed_module_count == 1
    attempts = await learner.ListQuizAttempts(
        pb.ListQuizAttemptsRequest(course_id=PUBLISHED), metadata=auth(ann_token)
    )
    assert sorted(a.id for a in attempts.attempts) == ["a1", "a2"]
    batch = await learner.BatchGetCourseProgress(
        pb.BatchGetCourseProgressRequest(course_id=PUBLISHED), metadata=svc
    )
    assert [p.learner_id for p in batch.progress] == [ann_id]


async def test_internal_writes_validate_and_require_enrollment(learner, service_token):
    ann = await sign_up(learner)
    svc = auth(service_token)
    await expect(
        grpc.StatusCode.NOT_FOUND,
        learner.RecordQuizAttempt(
            pb.RecordQuizAttemptRequest(attempt=attempt(ann.learner.id, "a1", 0.5)), metadata=svc
        ),
    )
    await learner.Enroll(pb.EnrollRequest(course_id=PUBLISHED), metadata=auth(ann.access_token.token))
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        learner.RecordQuizAttempt(
            pb.RecordQuizAttemptRequest(attempt=attempt(ann.learner.id, "a1", 1.5)), metadata=svc
        ),
    )
    await expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        learner.RecordModuleEvent(
            pb.RecordModuleEventRequest(learner_id=ann.learner.id, course_id=PUBLISHED, module_id="m1"),
            metadata=svc,
        ),
    )
    listed = await learner.ListQuizAttempts(
        pb.ListQuizAttemptsRequest(learner_id=ann.learner.id), metadata=svc
    )
    assert list(listed.attempts) == []
