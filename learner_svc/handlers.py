"""learner_svc use cases. They see the caller's Principal, never a gRPC context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from learner_svc.adapters.repository import LearnerRepository
from learner_svc.domain import (
    CourseProgress,
    Enrollment,
    Learner,
    ModuleProgress,
    QuestionResult,
    QuizAttempt,
)
from lmw_common import validation as v
from lmw_common.accounts import Accounts
from lmw_common.auth import Principal
from lmw_common.errors import InvalidArgument, NotFound, PermissionDenied
from lmw_common.pagination import next_offset_token, offset_from, page_size


class CourseCatalog(Protocol):
    async def ensure_enrollable(self, course_id: str) -> None:
        """Raise NotFound if the course does not exist, FailedPrecondition if it is not published."""


def _now() -> datetime:
    return datetime.now(UTC)


class LearnerHandlers:
    def __init__(self, repo: LearnerRepository, courses: CourseCatalog, accounts: Accounts[Learner]):
        self._repo = repo
        self._courses = courses
        self.accounts = accounts  # sign-up, log-in, profile (lmw_common.accounts)

    # enrollments

    async def enroll(self, caller: Principal, course_id: str) -> Enrollment:
        learner_id = _learner_only(caller)
        course_id = v.identifier(course_id, "course_id")
        existing = await self._repo.get_enrollment(learner_id, course_id)
        if existing is None or not existing.active:
            await self._courses.ensure_enrollable(course_id)
        return await self._repo.enroll(learner_id, course_id, _now())

    async def unenroll(self, caller: Principal, course_id: str) -> Enrollment:
        learner_id = _learner_only(caller)
        enrollment = await self._repo.unenroll(learner_id, v.identifier(course_id, "course_id"), _now())
        if enrollment is None:
            raise NotFound("not enrolled in this course", "NOT_ENROLLED")
        return enrollment

    async def list_enrollments(
        self, caller: Principal, learner_id: str, include_inactive: bool, size: int, token: str
    ) -> tuple[list[Enrollment], str]:
        learner_id = _own_or_service(caller, learner_id)
        size, offset = page_size(size), offset_from(token)
        rows = await self._repo.list_enrollments(learner_id, include_inactive, offset, size + 1)
        return rows[:size], next_offset_token(offset, size, len(rows))

    # progress

    async def record_module_event(
        self, learner_id: str, course_id: str, module_id: str, completed: bool
    ) -> ModuleProgress:
        learner_id = v.identifier(learner_id, "learner_id")
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        await self._active_enrollment(learner_id, course_id)
        return await self._repo.record_module_event(learner_id, course_id, module_id, completed, _now())

    async def course_progress(self, caller: Principal, learner_id: str, course_id: str) -> CourseProgress:
        learner_id = _own_or_service(caller, learner_id)
        course_id = v.identifier(course_id, "course_id")
        progress = await self._repo.one_course_progress(learner_id, course_id)
        if progress is None:
            raise NotFound("not enrolled in this course", "NOT_ENROLLED")
        return progress

    async def batch_course_progress(
        self, course_id: str, size: int, token: str
    ) -> tuple[list[CourseProgress], str]:
        course_id = v.identifier(course_id, "course_id")
        size, offset = page_size(size), offset_from(token)
        enrollments = await self._repo.course_enrollments(course_id, offset, size + 1)
        progress = await self._repo.course_progress(course_id, enrollments[:size])
        return progress, next_offset_token(offset, size, len(enrollments))

    # quiz attempts

    async def record_attempt(self, attempt: QuizAttempt) -> tuple[QuizAttempt, bool]:
        _validate_attempt(attempt)
        await self._active_enrollment(attempt.learner_id, attempt.course_id)
        return await self._repo.add_attempt(attempt)

    async def list_attempts(
        self, caller: Principal, learner_id: str, course_id: str, module_id: str, size: int, token: str
    ) -> tuple[list[QuizAttempt], str]:
        if caller.is_service and not learner_id:
            if not course_id:
                raise InvalidArgument("course_id is required to list every learner's attempts", "REQUIRED")
            learner = None
        else:
            learner = _own_or_service(caller, learner_id)
        course = v.identifier(course_id, "course_id") if course_id else None
        module = v.identifier(module_id, "module_id") if module_id else None
        size, offset = page_size(size), offset_from(token)
        rows = await self._repo.list_attempts(learner, course, module, offset, size + 1)
        return rows[:size], next_offset_token(offset, size, len(rows))

    async def _active_enrollment(self, learner_id: str, course_id: str) -> Enrollment:
        enrollment = await self._repo.get_enrollment(learner_id, course_id)
        if enrollment is None or not enrollment.active:
            raise NotFound("learner is not enrolled in this course", "NOT_ENROLLED")
        return enrollment


def _learner_only(caller: Principal) -> str:
    if caller.role != "learner":
        raise PermissionDenied("only learners can do this", "ROLE_NOT_ALLOWED")
    return caller.subject


def _own_or_service(caller: Principal, learner_id: str) -> str:
    """A learner reaches only their own records (checked before anything is looked up)."""
    if caller.is_service:
        return v.identifier(learner_id, "learner_id")
    if caller.role != "learner":
        raise PermissionDenied("only learners can do this", "ROLE_NOT_ALLOWED")
    if learner_id and learner_id != caller.subject:
        raise PermissionDenied("learners can only see their own records", "NOT_OWNER")
    return caller.subject


def _validate_attempt(attempt: QuizAttempt) -> None:
    v.identifier(attempt.id, "attempt.id")
    v.identifier(attempt.learner_id, "attempt.learner_id")
    v.identifier(attempt.course_id, "attempt.course_id")
    v.identifier(attempt.module_id, "attempt.module_id")
    v.identifier(attempt.quiz_id, "attempt.quiz_id")
    if not 0.0 <= attempt.score <= 1.0:
        raise InvalidArgument("score must be between 0 and 1", "INVALID_SCORE")
    v.bounded_list(attempt.results, "attempt.results", 200)
    for result in attempt.results:
        v.identifier(result.question_id, "question_id")
        if result.objective_id:
            v.identifier(result.objective_id, "objective_id")


__all__ = ["LearnerHandlers", "CourseCatalog", "QuestionResult"]
