"""Per-operation DataLoaders.

instructor_svc has no batch get, so the course loader dedupes the keys of one batch (and caches them for the
rest of the operation) and runs the GetCourse calls concurrently with bounded parallelism: a page of N
enrollments of K distinct courses costs K concurrent calls, not N sequential ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from bff.clients import Clients, unary
from bff.errors import ApiError
from lmw.instructor.v1 import instructor_service_pb2 as ipb


class Loaders:
    """Made for every operation; each loader only when the operation first uses it."""

    def __init__(self, clients: Clients, concurrency: int) -> None:
        self._clients = clients
        self._concurrency = concurrency

    @functools.cached_property
    def course(self) -> DataLoader[str, ipb.Course]:
        return DataLoader(load_fn=self._load_courses)

    @functools.cached_property
    def _slots(self) -> asyncio.Semaphore:
        # One bound for the whole operation: batches dispatched in different ticks share it.
        return asyncio.Semaphore(self._concurrency)

    async def _load_courses(self, course_ids: list[str]) -> Sequence[ipb.Course | BaseException]:
        async def one(course_id: str) -> ipb.Course | BaseException:
            async with self._slots:
                try:
                    response = await unary(
                        self._clients.instructor.GetCourse(ipb.GetCourseRequest(course_id=course_id))
                    )
                except ApiError as exc:  # one missing course fails its own field, not the batch
                    return exc
                return response.course

        return await asyncio.gather(*(one(course_id) for course_id in course_ids))

    async def enrolled_course(self, course_id: str) -> ipb.Course:
        """A course the caller was just shown to be enrolled in (their enrollments, their dashboard). Published
        courses are public (the catalog shows them to anyone), so they are shared between callers for a few
        seconds; a draft is always asked for with the caller's own token."""
        course = self._clients.published_courses.peek(course_id)
        if course is None:
            course = await self.course.load(course_id)
            if course.published:
                self._clients.published_courses.put(course_id, course)
        return course

    def prime_course(self, course: ipb.Course) -> None:
        """Remember a course read or changed by this operation (replacing what was loaded before)."""
        if course.id:
            self.course.prime(course.id, course, force=True)

    def forget_course(self, course_id: str) -> None:
        with contextlib.suppress(KeyError):
            self.course.clear(course_id)


_current: contextvars.ContextVar[Loaders | None] = contextvars.ContextVar("bff_loaders", default=None)


def set_loaders(loaders: Loaders) -> None:
    _current.set(loaders)


def get_loaders(context: Any) -> Loaders:
    """The loaders of the running operation (each websocket operation gets its own)."""
    loaders = _current.get()
    if loaders is None:  # an operation run outside the request-scope extension (tests)
        loaders = Loaders(context.clients, context.settings.loader_concurrency)
        _current.set(loaders)
    return loaders
