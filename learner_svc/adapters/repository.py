"""PostgreSQL repository of learner_svc (async SQLAlchemy)."""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from learner_svc.adapters.models import EnrollmentRow, ModuleProgressRow, QuizAttemptRow
from learner_svc.domain import (
    CourseProgress,
    Enrollment,
    ModuleProgress,
    QuestionResult,
    QuizAttempt,
)
from lmw_common.db import Database

# One learner's progress in one course in one round trip: the enrollment, then one row per module that has
# progress or attempts (a single row with a NULL module when there is none); no row when not enrolled.
_ONE_COURSE_PROGRESS = text(
    """
    WITH p AS (
        SELECT module_id, started_at, completed_at FROM module_progress
         WHERE learner_id = :learner_id AND course_id = :course_id
    ), a AS (
        SELECT module_id, count(*) AS attempts, max(score) AS best, bool_or(passed) AS passed
          FROM quiz_attempts WHERE learner_id = :learner_id AND course_id = :course_id
         GROUP BY module_id
    ), m AS (SELECT module_id FROM p UNION SELECT module_id FROM a)
    SELECT e.active, e.enrolled_at, e.unenrolled_at, m.module_id, p.started_at, p.completed_at,
           a.attempts, a.best, a.passed
      FROM enrollments e
      LEFT JOIN m ON true
      LEFT JOIN p ON p.module_id = m.module_id
      LEFT JOIN a ON a.module_id = m.module_id
     WHERE e.learner_id = :learner_id AND e.course_id = :course_id
    """
)


@functools.cache
def _attempts_query(filters: tuple[str, ...]):
    """Newest attempts first, filtered on the given columns; one statement per filter combination, built once
    (ListQuizAttempts backs every dashboard)."""
    query = select(QuizAttemptRow)
    for name in filters:
        query = query.where(getattr(QuizAttemptRow, name) == bindparam(name))
    return (
        query.order_by(QuizAttemptRow.submitted_at.desc(), QuizAttemptRow.id)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


def _enrollment(row: EnrollmentRow) -> Enrollment:
    return Enrollment(row.learner_id, row.course_id, row.active, row.enrolled_at, row.unenrolled_at)


def _attempt(row: QuizAttemptRow) -> QuizAttempt:
    results = tuple(QuestionResult(**r) for r in row.results)
    return QuizAttempt(
        row.id,
        row.learner_id,
        row.course_id,
        row.module_id,
        row.quiz_id,
        row.score,
        row.passed,
        results,
        row.submitted_at,
    )


class LearnerRepository:
    def __init__(self, db: Database) -> None:
        self._sessions = db.sessions
        self._read = db.read

    async def get_enrollment(self, learner_id: str, course_id: str) -> Enrollment | None:
        rows = await self._read(
            select(EnrollmentRow).where(
                EnrollmentRow.learner_id == learner_id, EnrollmentRow.course_id == course_id
            )
        )
        return _enrollment(rows[0]) if rows else None

    async def enroll(self, learner_id: str, course_id: str, now: datetime) -> Enrollment:
        """Create or reactivate; an already active enrollment keeps its original time."""
        async with self._sessions.begin() as session:
            stmt = insert(EnrollmentRow).values(
                learner_id=learner_id, course_id=course_id, active=True, enrolled_at=now, unenrolled_at=None
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["learner_id", "course_id"],
                set_={"active": True, "unenrolled_at": None, "enrolled_at": now},
                where=EnrollmentRow.active.is_(False),
            )
            await session.execute(stmt)
            row = await session.get(EnrollmentRow, (learner_id, course_id), populate_existing=True)
            return _enrollment(row)

    async def unenroll(self, learner_id: str, course_id: str, now: datetime) -> Enrollment | None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(EnrollmentRow)
                .where(
                    EnrollmentRow.learner_id == learner_id,
                    EnrollmentRow.course_id == course_id,
                    EnrollmentRow.active.is_(True),
                )
                .values(active=False, unenrolled_at=now)
            )
            row = await session.get(EnrollmentRow, (learner_id, course_id), populate_existing=True)
            return _enrollment(row) if row else None

    async def list_enrollments(
        self, learner_id: str, include_inactive: bool, offset: int, limit: int
    ) -> list[Enrollment]:
        query = select(EnrollmentRow).where(EnrollmentRow.learner_id == learner_id)
        if not include_inactive:
            query = query.where(EnrollmentRow.active.is_(True))
        query = (
            query.order_by(EnrollmentRow.enrolled_at.desc(), EnrollmentRow.course_id)
            .offset(offset)
            .limit(limit)
        )
        return [_enrollment(r) for r in await self._read(query)]

    async def record_module_event(
        self, learner_id: str, course_id: str, module_id: str, completed: bool, now: datetime
    ) -> ModuleProgress:
        """Idempotent: the first start and the first completion times are kept."""
        async with self._sessions.begin() as session:
            values = {"started_at": now, "completed_at": now if completed else None}
            stmt = insert(ModuleProgressRow).values(
                learner_id=learner_id, course_id=course_id, module_id=module_id, **values
            )
            set_ = {"started_at": func.coalesce(ModuleProgressRow.started_at, stmt.excluded.started_at)}
            if completed:
                set_["completed_at"] = func.coalesce(
                    ModuleProgressRow.completed_at, stmt.excluded.completed_at
                )
            await session.execute(
                stmt.on_conflict_do_update(index_elements=["learner_id", "course_id", "module_id"], set_=set_)
            )
            row = await session.get(
                ModuleProgressRow, (learner_id, course_id, module_id), populate_existing=True
            )
            return ModuleProgress(row.module_id, row.started_at, row.completed_at)

    async def add_attempt(self, attempt: QuizAttempt) -> tuple[QuizAttempt, bool]:
        """Insert unless the id exists; returns the stored attempt and whether it already existed."""
        async with self._sessions.begin() as session:
            stmt = (
                insert(QuizAttemptRow)
                .values(
                    id=attempt.id,
                    learner_id=attempt.learner_id,
                    course_id=attempt.course_id,
                    module_id=attempt.module_id,
                    quiz_id=attempt.quiz_id,
                    score=attempt.score,
                    passed=attempt.passed,
                    results=[_result_dict(r) for r in attempt.results],
                    submitted_at=attempt.submitted_at,
                )
                .on_conflict_do_nothing(index_elements=["id"])
                .returning(QuizAttemptRow.id)
            )
            inserted = (await session.execute(stmt)).first() is not None
            row = await session.get(QuizAttemptRow, attempt.id, populate_existing=True)
            return _attempt(row), not inserted

    async def list_attempts(
        self, learner_id: str | None, course_id: str | None, module_id: str | None, offset: int, limit: int
    ) -> list[QuizAttempt]:
        filters = {"learner_id": learner_id, "course_id": course_id, "module_id": module_id}
        given = tuple(name for name, value in filters.items() if value)
        params = {name: filters[name] for name in given}
        rows = await self._read(_attempts_query(given), {**params, "offset": offset, "limit": limit})
        return [_attempt(r) for r in rows]

    async def course_progress(self, course_id: str, enrollments: list[Enrollment]) -> list[CourseProgress]:
        """Progress of several learners in one course with two queries, whatever their number."""
        learner_ids = [e.learner_id for e in enrollments]
        by_learner: dict[str, dict[str, ModuleProgress]] = defaultdict(dict)
        async with self._sessions() as session:
            rows = await session.execute(
                select(ModuleProgressRow).where(
                    ModuleProgressRow.course_id == course_id, ModuleProgressRow.learner_id.in_(learner_ids)
                )
            )
            for row in rows.scalars():
                by_learner[row.learner_id][row.module_id] = ModuleProgress(
                    row.module_id, row.started_at, row.completed_at
                )
            stats = await session.execute(
                select(
                    QuizAttemptRow.learner_id,
                    QuizAttemptRow.module_id,
                    func.count(),
                    func.max(QuizAttemptRow.score),
                    func.bool_or(QuizAttemptRow.passed),
                )
                .where(QuizAttemptRow.course_id == course_id, QuizAttemptRow.learner_id.in_(learner_ids))
                .group_by(QuizAttemptRow.learner_id, QuizAttemptRow.module_id)
            )
            for learner_id, module_id, count, best, passed in stats:
                module = by_learner[learner_id].setdefault(module_id, ModuleProgress(module_id))
                module.attempt_count, module.best_score, module.passed = count, best, passed
        return [
            CourseProgress(
                e.learner_id,
                course_id,
                e,
                sorted(by_learner[e.learner_id].values(), key=lambda m: m.module_id),
            )
            for e in enrollments
        ]

    async def one_course_progress(self, learner_id: str, course_id: str) -> CourseProgress | None:
        """`course_progress` of one learner (None when never enrolled), in one statement: the hot path of
        GetCourseProgress, which every orchestrator request makes."""
        rows = await self._read(_ONE_COURSE_PROGRESS, {"learner_id": learner_id, "course_id": course_id})
        if not rows:
            return None
        active, enrolled_at, unenrolled_at = rows[0][:3]
        enrollment = Enrollment(learner_id, course_id, active, enrolled_at, unenrolled_at)
        modules = [
            ModuleProgress(
                module_id,
                started_at,
                completed_at,
                attempts or 0,
                best if best is not None else 0.0,
                bool(passed),
            )
            for _, _, _, module_id, started_at, completed_at, attempts, best, passed in rows
            if module_id is not None
        ]
        modules.sort(key=lambda m: m.module_id)
        return CourseProgress(learner_id, course_id, enrollment, modules)

    async def course_enrollments(self, course_id: str, offset: int, limit: int) -> list[Enrollment]:
        query = (
            select(EnrollmentRow)
            .where(EnrollmentRow.course_id == course_id)
            .order_by(EnrollmentRow.learner_id)
            .offset(offset)
            .limit(limit)
        )
        return [_enrollment(r) for r in await self._read(query)]


def _result_dict(result: QuestionResult) -> dict:
    return {
        "question_id": result.question_id,
        "objective_id": result.objective_id,
        "selected_index": result.selected_index,
        "correct": result.correct,
    }
