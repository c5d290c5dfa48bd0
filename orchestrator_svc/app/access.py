"""Who reaches what in a course. Every use case acts for one learner, who must be enrolled in the course
(actively, for anything but reading what they have), and a module opens once every module before it is
completed (sequential unlock).

The enrollment is checked before anything else is looked up, so a caller who is not enrolled learns nothing
about the course, not even whether it exists. It is read from learner_svc's answer of at most a few seconds
ago (adapters/learner_cache.py): a cached fact may grant but never deny, so a check that fails on one asks
again afresh, and writes check afresh from the start (`fresh`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol

from lmw_common.errors import FailedPrecondition, NotFound, PermissionDenied
from orchestrator_svc.domain import Course, CourseProgress, Module, is_unlocked


class Enrollments(Protocol):
    async def progress(
        self, learner_id: str, course_id: str, *, fresh: bool = False
    ) -> CourseProgress | None:
        """The learner's progress in the course; None when they never enrolled. `fresh`: no cached answer."""
        ...


class CourseCatalog(Protocol):
    async def course(self, course_id: str) -> Course:
        """The course and its modules in course order (NotFound when it does not exist)."""
        ...


@dataclass(frozen=True, slots=True)
class ModuleContext:
    """An open module: the learner may work on it."""

    learner_id: str
    course: Course
    module: Module
    progress: CourseProgress


class CourseAccess:
    def __init__(self, enrollments: Enrollments, courses: CourseCatalog) -> None:
        self._enrollments = enrollments
        self._courses = courses

    async def enrollment(
        self, learner_id: str, course_id: str, *, active: bool, fresh: bool = False
    ) -> CourseProgress:
        """The learner's progress, for a learner enrolled in the course (actively, with `active`)."""
        progress = await self._enrollments.progress(learner_id, course_id, fresh=fresh)
        if not fresh and not _enrolled(progress, active):
            progress = await self._enrollments.progress(learner_id, course_id, fresh=True)
        if not _enrolled(progress, active):
            raise PermissionDenied("the learner is not enrolled in this course", "NOT_ENROLLED")
        return progress

    async def course(
        self, learner_id: str, course_id: str, *, active: bool, fresh: bool = False
    ) -> tuple[Course, CourseProgress]:
        """The course with the learner's progress in it, read together; the enrollment's refusal wins."""
        progress, course = await gather_in_order(
            self.enrollment(learner_id, course_id, active=active, fresh=fresh),
            self._courses.course(course_id),
        )
        return course, progress

    async def module(
        self, learner_id: str, course_id: str, module_id: str, *, fresh: bool = False
    ) -> ModuleContext:
        """The module, for an actively enrolled learner who unlocked it."""
        course, progress = await self.course(learner_id, course_id, active=True, fresh=fresh)
        module = course.module(module_id)
        if module is None:
            raise NotFound("module not found in this course", "MODULE_NOT_FOUND")
        if not is_unlocked(course, progress, module_id):
            if not fresh:  # the cached progress may be behind: ask again before refusing
                return await self.module(learner_id, course_id, module_id, fresh=True)
            raise FailedPrecondition(
                "complete the previous modules first", "MODULE_LOCKED", module_id=module_id
            )
        return ModuleContext(learner_id, course, module, progress)


async def gather_in_order(*calls: Awaitable) -> list:
    """gather() that lets every call finish and then raises the first error in argument order: with the
    access check first, its refusal is what the caller sees, whatever else failed beside it."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _enrolled(progress: CourseProgress | None, active: bool) -> bool:
    return progress is not None and (progress.active or not active)
