"""Courses and modules: CRUD, ordering, the published catalog and publishing."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Protocol

from instructor_svc.app.access import CourseAccess, course_not_found, now
from instructor_svc.app.files import Files
from instructor_svc.domain import (
    DEFAULT_PASS_MARK,
    MAX_MODULES,
    Course,
    Module,
    ModuleSetMismatch,
    TooManyModules,
)
from lmw_common import validation as v
from lmw_common.auth import Principal, require_role
from lmw_common.errors import FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted
from lmw_common.pagination import next_offset_token, offset_from, page_size

COURSE_FIELDS = ("title", "description")
MODULE_FIELDS = ("title", "description", "pass_mark")


class CourseRepository(Protocol):
    async def get_course(self, course_id: str) -> Course | None: ...

    async def add_course(self, course: Course) -> None: ...

    async def update_course(self, course_id: str, values: dict, now: datetime) -> Course | None: ...

    async def set_published(self, course_id: str, published: bool, now: datetime) -> Course | None: ...

    async def delete_course(self, course_id: str) -> bool: ...

    async def list_by_instructor(self, instructor_id: str, offset: int, limit: int) -> list[Course]:
        """Newest first."""
        ...

    async def list_published(self, offset: int, limit: int) -> list[Course]:
        """Most recently published first."""
        ...

    async def add_module(self, module: Module, max_modules: int, now: datetime) -> Module | None:
        """Append a module at the end (TooManyModules past `max_modules`); None when the course is gone."""
        ...

    async def update_module(
        self, course_id: str, module_id: str, values: dict, now: datetime
    ) -> Module | None: ...

    async def delete_module(self, course_id: str, module_id: str, now: datetime) -> bool:
        """Delete and renumber the remaining modules densely; False when there is no such module."""
        ...

    async def reorder_modules(self, course_id: str, module_ids: list[str], now: datetime) -> bool:
        """False when the course is gone; ModuleSetMismatch unless every module is named exactly once."""
        ...


def _pass_mark(value: float) -> float:
    if value == 0:
        return DEFAULT_PASS_MARK
    if math.isnan(value) or not 0 < value <= 1:
        raise InvalidArgument("pass_mark must be in (0, 1]", "INVALID_PASS_MARK", field="pass_mark")
    return value


def _module_not_found() -> NotFound:
    return NotFound("module not found", "MODULE_NOT_FOUND")


class Courses:
    def __init__(self, access: CourseAccess, repo: CourseRepository, files: Files) -> None:
        self._access = access
        self._repo = repo
        self._files = files

    async def _full(self, course_id: str) -> Course:
        course = await self._repo.get_course(course_id)
        if course is None:
            raise course_not_found()
        return course

    # courses

    async def create(self, caller: Principal, title: str, description: str) -> Course:
        owner = require_role(caller, "instructor")
        title = v.text(title, "title", v.MAX_TITLE)
        description = v.text(description, "description", v.MAX_DESCRIPTION, required=False)
        moment = now()
        course = Course(uuid.uuid4().hex, owner, title, description, False, 0, moment, moment)
        await self._repo.add_course(course)
        return course

    async def get(self, caller: Principal, course_id: str) -> Course:
        return await self._access.readable(caller, course_id, with_modules=True)

    async def update(
        self, caller: Principal, course_id: str, title: str, description: str, mask: list[str]
    ) -> Course:
        paths = v.field_mask(mask, COURSE_FIELDS)
        values: dict = {}
        if "title" in paths or (not paths and title.strip()):
            values["title"] = v.text(title, "title", v.MAX_TITLE)
        if "description" in paths or (not paths and description.strip()):
            values["description"] = v.text(description, "description", v.MAX_DESCRIPTION, required=False)
        if not values:
            raise InvalidArgument("nothing to update", "NOTHING_TO_UPDATE")
        course = await self._access.owned(caller, course_id)
        return await self._repo.update_course(course.id, values, now()) or await self._full(course.id)

    async def delete(self, caller: Principal, course_id: str) -> None:
        course = await self._access.owned(caller, course_id)
        if course.published:
            raise FailedPrecondition("unpublish the course before deleting it", "COURSE_PUBLISHED")
        await self._files.delete_course_files(course.id, await self._files.course_has_files(course.id))
        await self._repo.delete_course(course.id)

    async def list_mine(self, caller: Principal, size: int, token: str) -> tuple[list[Course], str]:
        owner = require_role(caller, "instructor")
        size, offset = page_size(size), offset_from(token)
        rows = await self._repo.list_by_instructor(owner, offset, size + 1)
        return rows[:size], next_offset_token(offset, size, len(rows))

    async def list_published(self, size: int, token: str) -> tuple[list[Course], str]:
        size, offset = page_size(size), offset_from(token)
        rows = await self._repo.list_published(offset, size + 1)
        return rows[:size], next_offset_token(offset, size, len(rows))

    async def publish(self, caller: Principal, course_id: str) -> Course:
        course = await self._access.owned(caller, course_id, with_modules=True)
        if course.published:
            return course
        missing: list[str] = []
        codes: list[str] = []
        if not course.modules:
            missing.append("the course has no modules")
            codes.append("NO_MODULES")
        for m in course.modules:
            if m.objectives_version == 0:
                missing.append(f"module '{m.title}' has no learning objectives")
                codes.append("OBJECTIVES_MISSING")
            elif not m.objectives_approved:
                missing.append(f"module '{m.title}': learning objectives are not approved")
                codes.append("OBJECTIVES_NOT_APPROVED")
            elif m.objectives_stale:
                missing.append(f"module '{m.title}': learning objectives are stale (materials changed)")
                codes.append("OBJECTIVES_STALE")
        status = await self._files.status_of(course.id)
        if status.file_count == 0:
            missing.append("no course materials uploaded")
            codes.append("NO_MATERIALS")
        elif status.indexed_file_count < status.file_count:
            pending = status.file_count - status.indexed_file_count - status.failed_file_count
            if pending:
                missing.append(f"{pending} file(s) not indexed yet")
                codes.append("INDEX_NOT_READY")
            if status.failed_file_count:
                failed = [f.name for f in await self._files.failed_files(course.id, 5)]
                missing.append(f"{status.failed_file_count} file(s) failed to index ({', '.join(failed)})")
                codes.append("INDEX_FAILED_FILES")
        if missing:
            raise FailedPrecondition(
                "cannot publish: " + "; ".join(missing),
                "PUBLISH_PRECONDITIONS_NOT_MET",
                missing=",".join(sorted(set(codes))),
            )
        return await self._repo.set_published(course.id, True, now()) or course

    async def unpublish(self, caller: Principal, course_id: str) -> Course:
        course = await self._access.owned(caller, course_id)
        return await self._repo.set_published(course.id, False, now()) or await self._full(course.id)

    # modules

    async def create_module(
        self, caller: Principal, course_id: str, title: str, description: str, pass_mark: float
    ) -> Module:
        title = v.text(title, "title", v.MAX_TITLE)
        description = v.text(description, "description", v.MAX_DESCRIPTION, required=False)
        mark = _pass_mark(pass_mark)
        course = await self._access.owned(caller, course_id)
        module = Module(uuid.uuid4().hex, course.id, title, description, 0, mark)
        try:
            created = await self._repo.add_module(module, MAX_MODULES, now())
        except TooManyModules as exc:
            raise ResourceExhausted(
                f"a course has at most {MAX_MODULES} modules", "TOO_MANY_MODULES"
            ) from exc
        if created is None:
            raise course_not_found()
        return created

    async def update_module(
        self,
        caller: Principal,
        course_id: str,
        module_id: str,
        title: str,
        description: str,
        pass_mark: float,
        mask: list[str],
    ) -> Module:
        paths = v.field_mask(mask, MODULE_FIELDS)
        module_id = v.identifier(module_id, "module_id")
        values: dict = {}
        if "title" in paths or (not paths and title.strip()):
            values["title"] = v.text(title, "title", v.MAX_TITLE)
        if "description" in paths or (not paths and description.strip()):
            values["description"] = v.text(description, "description", v.MAX_DESCRIPTION, required=False)
        if "pass_mark" in paths or (not paths and pass_mark):
            values["pass_mark"] = _pass_mark(pass_mark)
        if not values:
            raise InvalidArgument("nothing to update", "NOTHING_TO_UPDATE")
        course = await self._access.owned(caller, course_id)
        module = await self._repo.update_module(course.id, module_id, values, now())
        if module is None:
            raise _module_not_found()
        return module

    async def delete_module(self, caller: Principal, course_id: str, module_id: str) -> None:
        module_id = v.identifier(module_id, "module_id")
        course = await self._access.owned(caller, course_id)
        await self._files.release_module(course.id, module_id)  # its files stay, course-wide
        if not await self._repo.delete_module(course.id, module_id, now()):
            raise _module_not_found()

    async def reorder_modules(self, caller: Principal, course_id: str, module_ids: list[str]) -> Course:
        ids = [v.identifier(m, "module_ids") for m in v.bounded_list(module_ids, "module_ids", MAX_MODULES)]
        course = await self._access.owned(caller, course_id)
        try:
            if not await self._repo.reorder_modules(course.id, ids, now()):
                raise course_not_found()
        except ModuleSetMismatch as exc:
            if exc.unknown:
                raise NotFound(f"unknown module ids {exc.unknown[:5]}", "MODULE_NOT_FOUND") from exc
            raise InvalidArgument(
                "module_ids must list every module of the course exactly once", "MODULE_SET_MISMATCH"
            ) from exc
        return await self._full(course.id)
