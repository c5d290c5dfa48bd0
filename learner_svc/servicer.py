"""Translates LearnerService protos to use-case calls and back; nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from learner_svc.app import LearnerApp
from learner_svc.domain import (
    CourseProgress,
    Enrollment,
    Learner,
    ModuleProgress,
    QuestionResult,
    QuizAttempt,
)
from lmw.learner.v1 import learner_service_pb2 as pb
from lmw.learner.v1 import learner_service_pb2_grpc as pb_grpc
from lmw_common.auth import Access, require_principal
from lmw_common.errors import InvalidArgument
from lmw_common.grpc_server import ServiceSpec
from lmw_common.protoconv import access_token, from_timestamp, timestamp

ACCESS = {
    "SignUp": Access.PUBLIC,
    "LogIn": Access.PUBLIC,
    "GetMe": Access.LEARNER,
    "Enroll": Access.LEARNER,
    "Unenroll": Access.LEARNER,
    "ListEnrollments": Access.LEARNER,
    "RecordModuleEvent": Access.INTERNAL,
    "GetCourseProgress": Access.LEARNER,
    "RecordQuizAttempt": Access.INTERNAL,
    "ListQuizAttempts": Access.LEARNER,
    "BatchGetCourseProgress": Access.INTERNAL,
}


def learner_pb(learner: Learner) -> pb.Learner:
    return pb.Learner(
        id=learner.id,
        email=learner.email,
        display_name=learner.display_name,
        create_time=timestamp(learner.created_at),
    )


def enrollment_pb(e: Enrollment) -> pb.Enrollment:
    state = pb.ENROLLMENT_STATE_ACTIVE if e.active else pb.ENROLLMENT_STATE_UNENROLLED
    return pb.Enrollment(
        learner_id=e.learner_id,
        course_id=e.course_id,
        state=state,
        enroll_time=timestamp(e.enrolled_at),
        unenroll_time=timestamp(e.unenrolled_at),
    )


def module_progress_pb(m: ModuleProgress) -> pb.ModuleProgress:
    if m.completed_at:
        state = pb.MODULE_STATE_COMPLETED
    elif m.started_at:
        state = pb.MODULE_STATE_IN_PROGRESS
    else:
        state = pb.MODULE_STATE_NOT_STARTED
    return pb.ModuleProgress(
        module_id=m.module_id,
        state=state,
        start_time=timestamp(m.started_at),
        complete_time=timestamp(m.completed_at),
        attempt_count=m.attempt_count,
        best_score=m.best_score,
        passed=m.passed,
    )


def progress_pb(p: CourseProgress) -> pb.CourseProgress:
    return pb.CourseProgress(
        learner_id=p.learner_id,
        course_id=p.course_id,
        enrollment=enrollment_pb(p.enrollment),
        modules=[module_progress_pb(m) for m in p.modules],
        completed_module_count=p.completed_module_count,
        last_activity_time=timestamp(p.last_activity),
    )


def attempt_pb(a: QuizAttempt) -> pb.QuizAttempt:
    return pb.QuizAttempt(
        id=a.id,
        learner_id=a.learner_id,
        course_id=a.course_id,
        module_id=a.module_id,
        quiz_id=a.quiz_id,
        score=a.score,
        passed=a.passed,
        submit_time=timestamp(a.submitted_at),
        results=[
            pb.QuestionResult(
                question_id=r.question_id,
                objective_id=r.objective_id,
                selected_index=r.selected_index,
                correct=r.correct,
            )
            for r in a.results
        ],
    )


def attempt_from_pb(a: pb.QuizAttempt) -> QuizAttempt:
    return QuizAttempt(
        id=a.id,
        learner_id=a.learner_id,
        course_id=a.course_id,
        module_id=a.module_id,
        quiz_id=a.quiz_id,
        score=a.score,
        passed=a.passed,
        results=tuple(
            QuestionResult(r.question_id, r.objective_id, r.selected_index, r.correct) for r in a.results
        ),
        submitted_at=from_timestamp(a.submit_time) or datetime.now(UTC),
    )


class LearnerServicer(pb_grpc.LearnerServiceServicer):
    def __init__(self, app: LearnerApp) -> None:
        self._app = app

    async def SignUp(self, request, context):
        learner, token, expires_at = await self._app.accounts.sign_up(
            request.email, request.password, request.display_name
        )
        return pb.SignUpResponse(
            learner=learner_pb(learner), access_token=access_token(token, expires_at, "learner", learner.id)
        )

    async def LogIn(self, request, context):
        learner, token, expires_at = await self._app.accounts.log_in(request.email, request.password)
        return pb.LogInResponse(
            learner=learner_pb(learner), access_token=access_token(token, expires_at, "learner", learner.id)
        )

    async def GetMe(self, request, context):
        return pb.GetMeResponse(learner=learner_pb(await self._app.accounts.me(require_principal())))

    async def Enroll(self, request, context):
        return pb.EnrollResponse(
            enrollment=enrollment_pb(
                await self._app.enrollments.enroll(require_principal(), request.course_id)
            )
        )

    async def Unenroll(self, request, context):
        enrollment = await self._app.enrollments.unenroll(require_principal(), request.course_id)
        return pb.UnenrollResponse(enrollment=enrollment_pb(enrollment))

    async def ListEnrollments(self, request, context):
        rows, token = await self._app.enrollments.list(
            require_principal(),
            request.learner_id,
            request.include_unenrolled,
            request.page_size,
            request.page_token,
        )
        return pb.ListEnrollmentsResponse(enrollments=[enrollment_pb(e) for e in rows], next_page_token=token)

    async def RecordModuleEvent(self, request, context):
        if request.type == pb.MODULE_EVENT_TYPE_UNSPECIFIED:
            raise InvalidArgument("type is required", "REQUIRED", field="type")
        module = await self._app.progress.record_module_event(
            request.learner_id,
            request.course_id,
            request.module_id,
            completed=request.type == pb.MODULE_EVENT_TYPE_COMPLETED,
        )
        return pb.RecordModuleEventResponse(module=module_progress_pb(module))

    async def GetCourseProgress(self, request, context):
        progress = await self._app.progress.of_course(
            require_principal(), request.learner_id, request.course_id
        )
        return pb.GetCourseProgressResponse(progress=progress_pb(progress))

    async def RecordQuizAttempt(self, request, context):
        attempt, existed = await self._app.progress.record_attempt(attempt_from_pb(request.attempt))
        return pb.RecordQuizAttemptResponse(attempt=attempt_pb(attempt), already_recorded=existed)

    async def ListQuizAttempts(self, request, context):
        rows, token = await self._app.progress.list_attempts(
            require_principal(),
            request.learner_id,
            request.course_id,
            request.module_id,
            request.page_size,
            request.page_token,
        )
        return pb.ListQuizAttemptsResponse(attempts=[attempt_pb(a) for a in rows], next_page_token=token)

    async def BatchGetCourseProgress(self, request, context):
        rows, token = await self._app.progress.of_every_learner(
            request.course_id, request.page_size, request.page_token
        )
        return pb.BatchGetCourseProgressResponse(
            progress=[progress_pb(p) for p in rows], next_page_token=token
        )


def service_spec(app: LearnerApp) -> ServiceSpec:
    return ServiceSpec(
        descriptor=pb.DESCRIPTOR.services_by_name["LearnerService"],
        servicer=LearnerServicer(app),
        add_to_server=pb_grpc.add_LearnerServiceServicer_to_server,
        access=ACCESS,
    )
