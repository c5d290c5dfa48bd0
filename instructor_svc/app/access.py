"""Who may reach a course. Role checks come first, so a caller without the role learns nothing; then the
course is looked up: NOT_FOUND when it does not exist, PERMISSION_DENIED when another instructor owns it."""

from __future__ import annotations

from datetime import UTC, datetime

from instructor_svc.adapters.repository import CourseRepository
from instructor_svc.domain import Course
from lmw_common import validation as v
from lmw_common.auth import Principal
from lmw_common.errors import NotFound, PermissionDenied


def now() -> datetime:
    return datetime.now(UTC)


def instructor_only(caller: Principal) -> str:
    if caller.role != "instructor":
        raise PermissionDenied("only instructors can do this", "ROLE_NOT_ALLOWED")
    return caller.subject


def course_not_found() -> NotFound:
    return NotFound("course not found", "COURSE_NOT_FOUND")


class CourseAccess:
    def __init__(self, repo: CourseRepository) -> None:
        self._repo = repo

    async def _load(self, course_id: str, with_modules: bool) -> Course:
        course_id = v.identifier(course_id, "course_id")
        load = self._repo.get_course if with_modules else self._repo.course_header
        course = await load(course_id)
        if course is None:
            raise course_not_found()
        return course

    async def owned(self, caller: Principal, course_id: str, *, with_modules: bool = False) -> Course:
        """The course, for its owner only."""
        owner = instructor_only(caller)
        course = await self._load(course_id, with_modules)
        if course.instructor_id != owner:
            raise PermissionDenied("this course belongs to another instructor", "NOT_OWNER")
        return course

    async def owned_or_service(
        self, caller: Principal, course_id: str, *, with_modules: bool = False
    ) -> Course:
        if caller.is_service:
            return await self._load(course_id, with_modules)
        return await self.owned(caller, course_id, with_modules=with_modules)

    async def readable(self, caller: Principal, course_id: str, *, with_modules: bool = False) -> Course:
        """Owner and services: any course; learners: published courses (others look absent)."""
        if caller.role == "learner":
            course = await self._load(course_id, with_modules)
            if not course.published:
                raise course_not_found()
            return course
        return await self.owned_or_service(caller, course_id, with_modules=with_modules)
