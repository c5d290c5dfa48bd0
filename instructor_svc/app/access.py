"""Who may reach a course. Role checks come first, so a caller without the role learns nothing; then the
course is looked up: NOT_FOUND when it does not exist, PERMISSION_DENIED when another instructor owns it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from instructor_svc.domain import Course
from lmw_common import validation as v
from lmw_common.auth import Principal, require_owner, require_role
from lmw_common.errors import NotFound


def now() -> datetime:
    return datetime.now(UTC)


def course_not_found() -> NotFound:
    return NotFound("course not found", "COURSE_NOT_FOUND")


class CourseLookup(Protocol):
    async def course_header(self, course_id: str) -> Course | None:
        """The course without its modules (ownership and publication checks)."""
        ...

    async def get_course(self, course_id: str) -> Course | None:
        """The course with its modules in course order."""
        ...


class CourseAccess:
    def __init__(self, courses: CourseLookup) -> None:
        self._courses = courses

    async def _load(self, course_id: str, with_modules: bool) -> Course:
        course_id = v.identifier(course_id, "course_id")
        load = self._courses.get_course if with_modules else self._courses.course_header
        course = await load(course_id)
        if course is None:
            raise course_not_found()
        return course

    async def owned(self, caller: Principal, course_id: str, *, with_modules: bool = False) -> Course:
        """The course, for its owner only."""
        require_role(caller, "instructor")
        course = await self._load(course_id, with_modules)
        require_owner(caller, course.instructor_id, "this course")
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
