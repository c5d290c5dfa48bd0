"""Enrolling in a published course, unenrolling, and a learner's enrollments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from learner_svc.domain import Enrollment
from lmw_common import validation as v
from lmw_common.auth import Principal, own_or_service, require_role
from lmw_common.errors import NotFound
from lmw_common.pagination import next_offset_token, offset_from, page_size


class CourseCatalog(Protocol):
    async def ensure_enrollable(self, course_id: str) -> None:
        """Raise NotFound if the course does not exist, FailedPrecondition if it is not published."""


class EnrollmentStore(Protocol):
    async def get_enrollment(self, learner_id: str, course_id: str) -> Enrollment | None: ...

    async def enroll(self, learner_id: str, course_id: str, now: datetime) -> Enrollment:
        """Create or reactivate; an already active enrollment keeps its original time."""
        ...

    async def unenroll(self, learner_id: str, course_id: str, now: datetime) -> Enrollment | None:
        """Deactivate; None when the learner never enrolled."""
        ...

    async def list_enrollments(
        self, learner_id: str, include_inactive: bool, offset: int, limit: int
    ) -> list[Enrollment]: ...


class Enrollments:
    def __init__(self, store: EnrollmentStore, courses: CourseCatalog) -> None:
        self._store = store
        self._courses = courses

    async def enroll(self, caller: Principal, course_id: str) -> Enrollment:
        learner_id = require_role(caller, "learner")
        course_id = v.identifier(course_id, "course_id")
        existing = await self._store.get_enrollment(learner_id, course_id)
        if existing is None or not existing.active:
            await self._courses.ensure_enrollable(course_id)
        return await self._store.enroll(learner_id, course_id, datetime.now(UTC))

    async def unenroll(self, caller: Principal, course_id: str) -> Enrollment:
        learner_id = require_role(caller, "learner")
        enrollment = await self._store.unenroll(
            learner_id, v.identifier(course_id, "course_id"), datetime.now(UTC)
        )
        if enrollment is None:
            raise NotFound("not enrolled in this course", "NOT_ENROLLED")
        return enrollment

    async def list(
        self, caller: Principal, learner_id: str, include_inactive: bool, size: int, token: str
    ) -> tuple[list[Enrollment], str]:
        learner_id = own_or_service(caller, learner_id)
        size, offset = page_size(size), offset_from(token)
        rows = await self._store.list_enrollments(learner_id, include_inactive, offset, size + 1)
        return rows[:size], next_offset_token(offset, size, len(rows))
