"""PostgreSQL repository of instructor_svc (async SQLAlchemy): instructors, courses, modules, objectives."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from instructor_svc.adapters.models import CourseRow, ModuleRow, ObjectiveRow
from instructor_svc.domain import (
    Course,
    Module,
    ModuleObjectives,
    ModuleSetMismatch,
    NoObjectives,
    Objective,
    TooManyModules,
    VersionMismatch,
)
from lmw_common.citations import Citation
from lmw_common.db import Database


def _module(row: ModuleRow) -> Module:
    return Module(
        id=row.id,
        course_id=row.course_id,
        title=row.title,
        description=row.description,
        position=row.position,
        pass_mark=row.pass_mark,
        objectives_version=row.objectives_version,
        objectives_approved=row.objectives_approved,
        objectives_stale=row.objectives_stale,
    )


def _course(row: CourseRow, modules: Sequence[ModuleRow | Module] = ()) -> Course:
    return Course(
        id=row.id,
        instructor_id=row.instructor_id,
        title=row.title,
        description=row.description,
        published=row.published,
        materials_version=row.materials_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        modules=[
            m if isinstance(m, Module) else _module(m) for m in sorted(modules, key=lambda m: m.position)
        ],
        last_ingest_job_id=row.last_ingest_job_id,
    )


def _citations(stored: list[dict] | None) -> tuple[Citation, ...]:
    return tuple(Citation.from_dict(c) for c in stored or ())


def _objective(row: ObjectiveRow) -> Objective:
    return Objective(row.id, row.text, _citations(row.citations))


# The hot reads are built once (SQLAlchemy then computes their cache keys once, not per call).
_COURSE = select(CourseRow).where(CourseRow.id == bindparam("course_id"))
# A course and its modules in one statement: the course's columns, then the module's, prefixed "m_" (one row
# per module; one row with NULL module columns for a course without modules).
_COURSE_WITH_MODULES = (
    select(CourseRow.__table__, *(c.label(f"m_{c.name}") for c in ModuleRow.__table__.c))
    .outerjoin(ModuleRow, ModuleRow.course_id == CourseRow.id)
    .where(CourseRow.id == bindparam("course_id"))
    .order_by(ModuleRow.position)
)


def _module_objectives_query(one_module: bool):
    """A page of the course's modules (or one module), each with its objectives prefixed "o_" (one row per
    objective; one row with NULL objective columns for a module without objectives)."""
    modules = select(ModuleRow).where(ModuleRow.course_id == bindparam("course_id"))
    if one_module:
        modules = modules.where(ModuleRow.id == bindparam("module_id"))
    page = (
        modules.order_by(ModuleRow.position).offset(bindparam("offset")).limit(bindparam("limit")).subquery()
    )
    return (
        select(page, *(c.label(f"o_{c.name}") for c in ObjectiveRow.__table__.c))
        .outerjoin(ObjectiveRow, ObjectiveRow.module_id == page.c.id)
        .order_by(page.c.position, ObjectiveRow.position)
    )


_MODULE_OBJECTIVES = {one_module: _module_objectives_query(one_module) for one_module in (False, True)}


def _joined_module(row) -> Module | None:
    if row.m_id is None:
        return None
    return Module(
        id=row.m_id,
        course_id=row.m_course_id,
        title=row.m_title,
        description=row.m_description,
        position=row.m_position,
        pass_mark=row.m_pass_mark,
        objectives_version=row.m_objectives_version,
        objectives_approved=row.m_objectives_approved,
        objectives_stale=row.m_objectives_stale,
    )


def _citations_json(objective: Objective) -> list[dict]:
    return [c.as_dict() for c in objective.citations]


class CourseRepository:
    def __init__(self, db: Database) -> None:
        self._sessions = db.sessions
        self._read = db.read

    # courses

    async def course_header(self, course_id: str) -> Course | None:
        """The course without its modules (ownership and publication checks)."""
        rows = await self._read(_COURSE, {"course_id": course_id})
        return _course(rows[0]) if rows else None

    async def get_course(self, course_id: str) -> Course | None:
        rows = await self._read(_COURSE_WITH_MODULES, {"course_id": course_id})
        if not rows:
            return None
        return _course(rows[0], [m for m in map(_joined_module, rows) if m is not None])

    async def _with_modules(self, rows: Sequence[CourseRow]) -> list[Course]:
        """Courses with their modules, in two queries whatever their number."""
        by_course: dict[str, list[ModuleRow]] = defaultdict(list)
        if rows:
            modules = await self._read(select(ModuleRow).where(ModuleRow.course_id.in_([r.id for r in rows])))
            for module in modules:
                by_course[module.course_id].append(module)
        return [_course(r, by_course[r.id]) for r in rows]

    async def add_course(self, course: Course) -> None:
        async with self._sessions.begin() as session:
            session.add(
                CourseRow(
                    id=course.id,
                    instructor_id=course.instructor_id,
                    title=course.title,
                    description=course.description,
                    published=False,
                    materials_version=0,
                    created_at=course.created_at,
                    updated_at=course.updated_at,
                )
            )

    async def update_course(self, course_id: str, values: dict, now: datetime) -> Course | None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(CourseRow).where(CourseRow.id == course_id).values(**values, updated_at=now)
            )
        return await self.get_course(course_id)

    async def set_published(self, course_id: str, published: bool, now: datetime) -> Course | None:
        values = {"published": published, "updated_at": now, "published_at": now if published else None}
        async with self._sessions.begin() as session:
            await session.execute(update(CourseRow).where(CourseRow.id == course_id).values(**values))
        return await self.get_course(course_id)

    async def delete_course(self, course_id: str) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(delete(CourseRow).where(CourseRow.id == course_id))
            return result.rowcount == 1

    async def list_by_instructor(self, instructor_id: str, offset: int, limit: int) -> list[Course]:
        query = (
            select(CourseRow)
            .where(CourseRow.instructor_id == instructor_id)
            .order_by(CourseRow.created_at.desc(), CourseRow.id)
            .offset(offset)
            .limit(limit)
        )
        return await self._with_modules(await self._read(query))

    async def list_published(self, offset: int, limit: int) -> list[Course]:
        query = (
            select(CourseRow)
            .where(CourseRow.published.is_(True))
            .order_by(CourseRow.published_at.desc(), CourseRow.id)
            .offset(offset)
            .limit(limit)
        )
        return await self._with_modules(await self._read(query))

    async def materials_changed(self, course_id: str, now: datetime) -> int:
        """Bump the materials version and mark every module's existing objectives stale."""
        async with self._sessions.begin() as session:
            version = (
                await session.execute(
                    update(CourseRow)
                    .where(CourseRow.id == course_id)
                    .values(materials_version=CourseRow.materials_version + 1, updated_at=now)
                    .returning(CourseRow.materials_version)
                )
            ).scalar_one_or_none()
            await session.execute(
                update(ModuleRow)
                .where(ModuleRow.course_id == course_id, ModuleRow.objectives_version > 0)
                .values(objectives_stale=True)
            )
            return version or 0

    async def set_last_ingest_job(self, course_id: str, job_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(CourseRow).where(CourseRow.id == course_id).values(last_ingest_job_id=job_id)
            )

    # modules

    async def _lock_course(self, session: AsyncSession, course_id: str) -> CourseRow | None:
        return (
            await session.execute(select(CourseRow).where(CourseRow.id == course_id).with_for_update())
        ).scalar_one_or_none()

    async def _course_modules(self, session: AsyncSession, course_id: str) -> list[ModuleRow]:
        rows = await session.execute(
            select(ModuleRow).where(ModuleRow.course_id == course_id).order_by(ModuleRow.position)
        )
        return list(rows.scalars())

    async def add_module(self, module: Module, max_modules: int, now: datetime) -> Module | None:
        """Append a module at the end; None when the course is gone."""
        async with self._sessions.begin() as session:
            course = await self._lock_course(session, module.course_id)
            if course is None:
                return None
            count = (
                await session.execute(
                    select(func.count()).select_from(ModuleRow).where(ModuleRow.course_id == module.course_id)
                )
            ).scalar_one()
            if count >= max_modules:
                raise TooManyModules()
            row = ModuleRow(
                id=module.id,
                course_id=module.course_id,
                position=count,
                title=module.title,
                description=module.description,
                pass_mark=module.pass_mark,
                objectives_version=0,
                objectives_approved=False,
                objectives_stale=False,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            course.updated_at = now
            await session.flush()
            return _module(row)

    async def get_module(self, course_id: str, module_id: str) -> Module | None:
        rows = await self._read(
            select(ModuleRow).where(ModuleRow.id == module_id, ModuleRow.course_id == course_id)
        )
        return _module(rows[0]) if rows else None

    async def update_module(
        self, course_id: str, module_id: str, values: dict, now: datetime
    ) -> Module | None:
        async with self._sessions.begin() as session:
            row = (
                await session.execute(
                    update(ModuleRow)
                    .where(ModuleRow.id == module_id, ModuleRow.course_id == course_id)
                    .values(**values, updated_at=now)
                    .returning(ModuleRow)
                )
            ).scalar_one_or_none()
            if row is None:
                return None
            await session.execute(update(CourseRow).where(CourseRow.id == course_id).values(updated_at=now))
            return _module(row)

    async def delete_module(self, course_id: str, module_id: str, now: datetime) -> bool:
        """Delete and renumber the remaining modules densely (0..n-1)."""
        async with self._sessions.begin() as session:
            course = await self._lock_course(session, course_id)
            if course is None:
                return False
            modules = await self._course_modules(session, course_id)
            target = next((m for m in modules if m.id == module_id), None)
            if target is None:
                return False
            await session.delete(target)
            for position, module in enumerate(m for m in modules if m.id != module_id):
                module.position = position
            course.updated_at = now
            return True

    async def reorder_modules(self, course_id: str, module_ids: list[str], now: datetime) -> bool:
        """False when the course is gone; ModuleSetMismatch unless every module is named exactly once."""
        async with self._sessions.begin() as session:
            course = await self._lock_course(session, course_id)
            if course is None:
                return False
            modules = {m.id: m for m in await self._course_modules(session, course_id)}
            if len(module_ids) != len(set(module_ids)) or set(module_ids) != set(modules):
                raise ModuleSetMismatch([m for m in module_ids if m not in modules])
            for position, module_id in enumerate(module_ids):
                modules[module_id].position = position
            course.updated_at = now
            return True

    # objectives

    async def module_objectives(
        self, course_id: str, module_id: str | None, offset: int, limit: int
    ) -> list[ModuleObjectives]:
        """The objectives of a page of the course's modules (or of one module), in one statement."""
        rows = await self._read(
            _MODULE_OBJECTIVES[bool(module_id)],
            {"course_id": course_id, "module_id": module_id, "offset": offset, "limit": limit},
        )
        pages: dict[str, ModuleObjectives] = {}
        for row in rows:
            page = pages.get(row.id)
            if page is None:
                page = pages[row.id] = ModuleObjectives(
                    row.id, row.objectives_version, row.objectives_approved, row.objectives_stale, []
                )
            if row.o_id is not None:
                page.objectives.append(Objective(row.o_id, row.o_text, _citations(row.o_citations)))
        return list(pages.values())

    async def _objectives_of(
        self, session: AsyncSession, modules: Sequence[ModuleRow]
    ) -> list[ModuleObjectives]:
        by_module: dict[str, list[Objective]] = defaultdict(list)
        if modules:
            rows = await session.execute(
                select(ObjectiveRow)
                .where(ObjectiveRow.module_id.in_([m.id for m in modules]))
                .order_by(ObjectiveRow.module_id, ObjectiveRow.position)
            )
            for row in rows.scalars():
                by_module[row.module_id].append(_objective(row))
        return [
            ModuleObjectives(
                m.id, m.objectives_version, m.objectives_approved, m.objectives_stale, by_module[m.id]
            )
            for m in modules
        ]

    async def _lock_module(self, session: AsyncSession, course_id: str, module_id: str) -> ModuleRow | None:
        return (
            await session.execute(
                select(ModuleRow)
                .where(ModuleRow.id == module_id, ModuleRow.course_id == course_id)
                .with_for_update()
            )
        ).scalar_one_or_none()

    async def _write_objectives(
        self, session: AsyncSession, module_id: str, objectives: list[Objective]
    ) -> None:
        await session.execute(delete(ObjectiveRow).where(ObjectiveRow.module_id == module_id))
        session.add_all(
            ObjectiveRow(id=o.id, module_id=module_id, position=i, text=o.text, citations=_citations_json(o))
            for i, o in enumerate(objectives)
        )
        await session.flush()

    async def replace_objectives(
        self,
        course_id: str,
        module_id: str,
        build: Callable[[ModuleObjectives], list[Objective]],
        expected_version: int,
        now: datetime,
    ) -> ModuleObjectives | None:
        """Replace the list atomically: `build` gets the current state (and may raise to abort).

        Bumps the version and voids the approval. None when the module is not in the course.
        """
        async with self._sessions.begin() as session:
            module = await self._lock_module(session, course_id, module_id)
            if module is None:
                return None
            if expected_version and expected_version != module.objectives_version:
                raise VersionMismatch(module.objectives_version)
            current = (await self._objectives_of(session, [module]))[0]
            objectives = build(current)
            await self._write_objectives(session, module_id, objectives)
            module.objectives_version += 1
            module.objectives_approved = False
            module.updated_at = now
            return ModuleObjectives(
                module_id, module.objectives_version, False, module.objectives_stale, objectives
            )

    async def store_generated(
        self,
        course_id: str,
        module_id: str,
        objectives: list[Objective],
        materials_version: int,
        now: datetime,
    ) -> ModuleObjectives | None:
        """A generated draft: new version, not approved; stale only if materials changed meanwhile."""
        async with self._sessions.begin() as session:
            module = await self._lock_module(session, course_id, module_id)
            if module is None:
                return None
            course = await session.get(CourseRow, course_id)
            stale = course is None or course.materials_version != materials_version
            objectives = [Objective(uuid.uuid4().hex, o.text, o.citations) for o in objectives]
            await self._write_objectives(session, module_id, objectives)
            module.objectives_version += 1
            module.objectives_approved = False
            module.objectives_stale = stale
            module.updated_at = now
            return ModuleObjectives(module_id, module.objectives_version, False, stale, objectives)

    async def approve_objectives(
        self, course_id: str, module_id: str, version: int, now: datetime
    ) -> ModuleObjectives | None:
        """Approve the current version (confirming it against the current materials clears `stale`)."""
        async with self._sessions.begin() as session:
            module = await self._lock_module(session, course_id, module_id)
            if module is None:
                return None
            if version != module.objectives_version:
                raise VersionMismatch(module.objectives_version)
            current = (await self._objectives_of(session, [module]))[0]
            if not current.objectives:
                raise NoObjectives()
            module.objectives_approved = True
            module.objectives_stale = False
            module.updated_at = now
            current.approved, current.stale = True, False
            return current

    async def objective_texts(self, course_id: str) -> dict[str, tuple[str, str]]:
        """objective id -> (text, module id) for every current objective of the course."""
        rows = await self._read(
            select(ObjectiveRow.id, ObjectiveRow.text, ObjectiveRow.module_id)
            .join(ModuleRow, ModuleRow.id == ObjectiveRow.module_id)
            .where(ModuleRow.course_id == course_id)
        )
        return {oid: (text, mid) for oid, text, mid in rows}
