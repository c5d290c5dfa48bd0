"""A learner's progress in a course: module events and quiz attempts (recorded by orchestrator_svc), read by the
learner, by orchestrator_svc and, for every learner of a course, by instructor_svc's analytics."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from learner_svc.domain import CourseProgress, Enrollment, ModuleProgress, QuizAttempt
from lmw_common import validation as v
from lmw_common.auth import Principal, own_or_service
from lmw_common.errors import InvalidArgument, NotFound
from lmw_common.pagination import next_offset_token, offset_from, page_size

MAX_RESULTS = 200


class ProgressStore(Protocol):
    async def get_enrollment(self, learner_id: str, course_id: str) -> Enrollment | None: ...

    async def record_module_event(
        self, learner_id: str, course_id: str, module_id: str, completed: bool, now: datetime
    ) -> ModuleProgress: ...

    async def one_course_progress(self, learner_id: str, course_id: str) -> CourseProgress | None: ...

    async def course_enrollments(self, course_id: str, offset: int, limit: int) -> list[Enrollment]: ...

    async def course_progress(
        self, course_id: str, enrollments: list[Enrollment]
    ) -> list[CourseProgress]: ...

    async def add_attempt(self, attempt: QuizAttempt) -> tuple[QuizAttempt, bool]:
        """The attempt as stored, and whether it was stored before (an idempotent retry)."""
        ...

    async def list_attempts(
        self, learner_id: str | None, course_id: str | None, module_id: str | None, offset: int, limit: int
    ) -> list[QuizAttempt]: ...


class Progress:
    def __init__(self, store: ProgressStore) -> None:
        self._store = store

    async def record_module_event(
        self, learner_id: str, course_id: str, module_id: str, completed: bool
    ) -> ModuleProgress:
        learner_id = v.identifier(learner_id, "learner_id")
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        await self._active_enrollment(learner_id, course_id)
        return await self._store.record_module_event(
            learner_id, course_id, module_id, completed, datetime.now(UTC)
        )

    async def of_course(self, caller: Principal, learner_id: str, course_id: str) -> CourseProgress:
        learner_id = own_or_service(caller, learner_id)
        course_id = v.identifier(course_id, "course_id")
        progress = await self._store.one_course_progress(learner_id, course_id)
        if progress is None:
            raise NotFound("not enrolled in this course", "NOT_ENROLLED")
        return progress

    async def of_every_learner(
        self, course_id: str, size: int, token: str
    ) -> tuple[list[CourseProgress], str]:
        course_id = v.identifier(course_id, "course_id")
        size, offset = page_size(size), offset_from(token)
        enrollments = await self._store.course_enrollments(course_id, offset, size + 1)
        progress = await self._store.course_progress(course_id, enrollments[:size])
        return progress, next_offset_token(offset, size, len(enrollments))

    async def record_attempt(self, attempt: QuizAttempt) -> tuple[QuizAttempt, bool]:
        _validate_attempt(attempt)
        await self._active_enrollment(attempt.learner_id, attempt.course_id)
        return await self._store.add_attempt(attempt)

    async def list_attempts(
        self, caller: Principal, learner_id: str, course_id: str, module_id: str, size: int, token: str
    ) -> tuple[list[QuizAttempt], str]:
        if caller.is_service and not learner_id:
            if not course_id:
                raise InvalidArgument("course_id is required to list every learner's attempts", "REQUIRED")
            learner = None
        else:
            learner = own_or_service(caller, learner_id)
        course = v.identifier(course_id, "course_id") if course_id else None
        module = v.identifier(module_id, "module_id") if module_id else None
        size, offset = page_size(size), offset_from(token)
        rows = await self._store.list_attempts(learner, course, module, offset, size + 1)
        return rows[:size], next_offset_token(offset, size, len(rows))

    async def _active_enrollment(self, learner_id: str, course_id: str) -> Enrollment:
        enrollment = await self._store.get_enrollment(learner_id, course_id)
        if enrollment is None or not enrollment.active:
            raise NotFound("learner is not enrolled in this course", "NOT_ENROLLED")
        return enrollment


def _validate_attempt(attempt: QuizAttempt) -> None:
    v.identifier(attempt.id, "attempt.id")
    v.identifier(attempt.learner_id, "attempt.learner_id")
    v.identifier(attempt.course_id, "attempt.course_id")
    v.identifier(attempt.module_id, "attempt.module_id")
    v.identifier(attempt.quiz_id, "attempt.quiz_id")
    if not 0.0 <= attempt.score <= 1.0:
        raise InvalidArgument("score must be between 0 and 1", "INVALID_SCORE")
    v.bounded_list(attempt.results, "attempt.results", MAX_RESULTS)
    for result in attempt.results:
        v.identifier(result.question_id, "question_id")
        if result.objective_id:
            v.identifier(result.objective_id, "objective_id")
