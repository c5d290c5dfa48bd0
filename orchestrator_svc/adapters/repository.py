"""PostgreSQL repository of orchestrator_svc (async SQLAlchemy): content cache, quizzes, results, mastery."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert

from lmw_common.citations import Citation
from lmw_common.db import Database
from lmw_common.preferences import Preferences
from orchestrator_svc.adapters.models import MasteryRow, ModuleContentRow, QuizResultRow, QuizRow
from orchestrator_svc.domain import (
    AttemptConflict,
    GradedQuestion,
    Mastery,
    ModuleContent,
    Quiz,
    QuizItem,
    QuizResult,
)


def _citations(data: list) -> tuple[Citation, ...]:
    return tuple(Citation.from_dict(c) for c in data or ())


def _content(row: ModuleContentRow) -> ModuleContent:
    return ModuleContent(
        learner_id=row.learner_id,
        course_id=row.course_id,
        module_id=row.module_id,
        markdown=row.markdown,
        citations=_citations(row.citations),
        preferences=Preferences.from_dict(row.preferences),
        objectives_version=row.objectives_version,
        materials_version=row.materials_version,
        recap_objective_ids=tuple(row.recap_objective_ids),
        generated_at=row.created_at,
    )


def _item_dict(item: QuizItem) -> dict:
    return {
        "id": item.id,
        "objective_id": item.objective_id,
        "question": item.question,
        "options": list(item.options),
        "correct_index": item.correct_index,
        "explanation": item.explanation,
        "citations": [c.as_dict() for c in item.citations],
        "option_notes": list(item.option_notes),
    }


def _item(data: dict) -> QuizItem:
    return QuizItem(
        id=data["id"],
        objective_id=data["objective_id"],
        question=data["question"],
        options=tuple(data["options"]),
        correct_index=data["correct_index"],
        explanation=data["explanation"],
        citations=_citations(data.get("citations")),
        option_notes=tuple(data.get("option_notes", ())),  # absent in quizzes stored before notes existed
    )


def _quiz(row: QuizRow) -> Quiz:
    return Quiz(
        id=row.id,
        learner_id=row.learner_id,
        course_id=row.course_id,
        module_id=row.module_id,
        ordinal=row.ordinal,
        seed=row.seed,
        items=tuple(_item(i) for i in row.items),
        objective_texts=dict(row.objective_texts),
        pass_mark=row.pass_mark,
        created_at=row.created_at,
        submitted_attempt_id=row.submitted_attempt_id or "",
    )


def _graded_dict(q: GradedQuestion) -> dict:
    return {
        "question_id": q.question_id,
        "objective_id": q.objective_id,
        "selected_index": q.selected_index,
        "correct_index": q.correct_index,
        "correct": q.correct,
        "explanation": q.explanation,
        "citations": [c.as_dict() for c in q.citations],
    }


def _mastery_dict(m: Mastery) -> dict:
    return {
        "objective_id": m.objective_id,
        "module_id": m.module_id,
        "p_mastery": m.p_mastery,
        "answer_count": m.answer_count,
        "text": m.text,
        "mastered": m.mastered,
    }


def _result(row: QuizResultRow) -> QuizResult:
    return QuizResult(
        attempt_id=row.attempt_id,
        quiz_id=row.quiz_id,
        learner_id=row.learner_id,
        course_id=row.course_id,
        module_id=row.module_id,
        score=row.score,
        passed=row.passed,
        pass_mark=row.pass_mark,
        questions=tuple(
            GradedQuestion(**{**q, "citations": _citations(q.get("citations"))}) for q in row.questions
        ),
        mastery=tuple(Mastery(**m) for m in row.mastery),
        submitted_at=row.submitted_at,
    )


def _mastery(row: MasteryRow) -> Mastery:
    return Mastery(row.objective_id, row.module_id, row.p_mastery, row.answer_count)


# Read by every dashboard (built once: SQLAlchemy computes its cache key once, not per call).
_MASTERY = select(MasteryRow).where(
    MasteryRow.learner_id == bindparam("learner_id"), MasteryRow.course_id == bindparam("course_id")
)


class OrchestratorRepository:
    def __init__(self, db: Database) -> None:
        self._sessions = db.sessions
        self._read = db.read

    # content

    async def current_content(
        self, learner_id: str, module_id: str, inputs_hash: str
    ) -> ModuleContent | None:
        query = (
            select(ModuleContentRow)
            .where(
                ModuleContentRow.learner_id == learner_id,
                ModuleContentRow.module_id == module_id,
                ModuleContentRow.inputs_hash == inputs_hash,
            )
            .order_by(ModuleContentRow.created_at.desc())
            .limit(1)
        )
        rows = await self._read(query)
        return _content(rows[0]) if rows else None

    async def add_content(self, content_id: str, inputs_hash: str, content: ModuleContent) -> None:
        async with self._sessions.begin() as session:
            session.add(
                ModuleContentRow(
                    id=content_id,
                    learner_id=content.learner_id,
                    course_id=content.course_id,
                    module_id=content.module_id,
                    inputs_hash=inputs_hash,
                    preferences=content.preferences.as_dict(),
                    objectives_version=content.objectives_version,
                    materials_version=content.materials_version,
                    recap_objective_ids=list(content.recap_objective_ids),
                    markdown=content.markdown,
                    citations=[c.as_dict() for c in content.citations],
                    created_at=content.generated_at,
                )
            )

    async def content_versions(self, learner_id: str, module_id: str) -> int:
        rows = await self._read(
            select(func.count()).where(
                ModuleContentRow.learner_id == learner_id, ModuleContentRow.module_id == module_id
            )
        )
        return rows[0][0]

    # quizzes

    async def latest_quiz(self, learner_id: str, module_id: str) -> Quiz | None:
        query = (
            select(QuizRow)
            .where(QuizRow.learner_id == learner_id, QuizRow.module_id == module_id)
            .order_by(QuizRow.ordinal.desc())
            .limit(1)
        )
        rows = await self._read(query)
        return _quiz(rows[0]) if rows else None

    async def quiz_by_ordinal(self, learner_id: str, module_id: str, ordinal: int) -> Quiz | None:
        query = select(QuizRow).where(
            QuizRow.learner_id == learner_id, QuizRow.module_id == module_id, QuizRow.ordinal == ordinal
        )
        rows = await self._read(query)
        return _quiz(rows[0]) if rows else None

    async def seen_questions(self, learner_id: str, module_id: str, limit: int) -> list[str]:
        query = (
            select(QuizRow.items)
            .where(QuizRow.learner_id == learner_id, QuizRow.module_id == module_id)
            .order_by(QuizRow.ordinal.desc())
        )
        questions = [item["question"] for row in await self._read(query) for item in row[0]]
        return list(dict.fromkeys(questions))[:limit]

    async def get_quiz(self, quiz_id: str) -> Quiz | None:
        rows = await self._read(select(QuizRow).where(QuizRow.id == quiz_id))
        return _quiz(rows[0]) if rows else None

    async def add_quiz(self, quiz: Quiz, focus_objective_ids: list[str], objectives_version: int) -> Quiz:
        """Insert the draw unless (learner, module, ordinal) exists; returns the stored one either way."""
        stmt = (
            insert(QuizRow)
            .values(
                id=quiz.id,
                learner_id=quiz.learner_id,
                course_id=quiz.course_id,
                module_id=quiz.module_id,
                ordinal=quiz.ordinal,
                seed=quiz.seed,
                items=[_item_dict(i) for i in quiz.items],
                objective_texts=quiz.objective_texts,
                focus_objective_ids=focus_objective_ids,
                pass_mark=quiz.pass_mark,
                objectives_version=objectives_version,
                created_at=quiz.created_at,
                submitted_attempt_id=None,
            )
            .on_conflict_do_nothing(constraint="uq_quizzes_draw")
        )
        async with self._sessions.begin() as session:
            await session.execute(stmt)
        stored = await self.quiz_by_ordinal(quiz.learner_id, quiz.module_id, quiz.ordinal)
        assert stored is not None
        return stored

    async def unsubmitted_quizzes(self, learner_id: str, course_id: str) -> list[Quiz]:
        query = select(QuizRow).where(
            QuizRow.learner_id == learner_id,
            QuizRow.course_id == course_id,
            QuizRow.submitted_attempt_id.is_(None),
        )
        return [_quiz(r) for r in await self._read(query)]

    # results and mastery

    async def get_result(self, attempt_id: str) -> QuizResult | None:
        rows = await self._read(select(QuizResultRow).where(QuizResultRow.attempt_id == attempt_id))
        return _result(rows[0]) if rows else None

    async def result_for_quiz(self, quiz_id: str) -> QuizResult | None:
        rows = await self._read(select(QuizResultRow).where(QuizResultRow.quiz_id == quiz_id))
        return _result(rows[0]) if rows else None

    async def add_result(
        self,
        result: QuizResult,
        update_mastery: Callable[[dict[str, Mastery]], list[Mastery]],
        now: datetime,
    ) -> QuizResult:
        """Store the graded attempt, mark its quiz submitted and apply its mastery update, atomically.

        Returns the result as stored (with the mastery it computed). Raises AttemptConflict when the attempt
        id or the quiz is already taken; a concurrent duplicate of the same attempt sees the stored result.
        """
        async with self._sessions.begin() as session:
            # One learner's submissions apply to their mastery one at a time.
            await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(result.learner_id))))
            inserted = (
                await session.execute(
                    insert(QuizResultRow)
                    .values(
                        attempt_id=result.attempt_id,
                        quiz_id=result.quiz_id,
                        learner_id=result.learner_id,
                        course_id=result.course_id,
                        module_id=result.module_id,
                        score=result.score,
                        passed=result.passed,
                        pass_mark=result.pass_mark,
                        questions=[_graded_dict(q) for q in result.questions],
                        mastery=[],
                        submitted_at=result.submitted_at,
                        recorded=False,
                    )
                    .on_conflict_do_nothing()
                    .returning(QuizResultRow.attempt_id)
                )
            ).first() is not None
            if not inserted:
                raise AttemptConflict()
            marked = (
                await session.execute(
                    update(QuizRow)
                    .where(QuizRow.id == result.quiz_id, QuizRow.submitted_attempt_id.is_(None))
                    .values(submitted_attempt_id=result.attempt_id)
                    .returning(QuizRow.id)
                )
            ).first() is not None
            if not marked:  # another attempt got this quiz first; roll the insert back
                raise AttemptConflict()
            objective_ids = sorted({q.objective_id for q in result.questions if q.objective_id})
            rows = (
                await session.execute(
                    select(MasteryRow)
                    .where(
                        MasteryRow.learner_id == result.learner_id, MasteryRow.objective_id.in_(objective_ids)
                    )
                    .with_for_update()
                )
            ).scalars()
            current = {r.objective_id: _mastery(r) for r in rows}
            updated = update_mastery(current)
            correct = _correct_counts(result.questions)
            for m in updated:
                stmt = insert(MasteryRow).values(
                    learner_id=result.learner_id,
                    objective_id=m.objective_id,
                    course_id=result.course_id,
                    module_id=m.module_id,
                    p_mastery=m.p_mastery,
                    answer_count=m.answer_count,
                    correct_count=correct.get(m.objective_id, 0),
                    updated_at=now,
                )
                await session.execute(
                    stmt.on_conflict_do_update(
                        index_elements=["learner_id", "objective_id"],
                        set_={
                            "p_mastery": stmt.excluded.p_mastery,
                            "answer_count": stmt.excluded.answer_count,
                            "correct_count": MasteryRow.correct_count + stmt.excluded.correct_count,
                            "updated_at": stmt.excluded.updated_at,
                        },
                    )
                )
            await session.execute(
                update(QuizResultRow)
                .where(QuizResultRow.attempt_id == result.attempt_id)
                .values(mastery=[_mastery_dict(m) for m in updated])
            )
        stored = await self.get_result(result.attempt_id)
        assert stored is not None
        return stored

    async def is_recorded(self, attempt_id: str) -> bool:
        rows = await self._read(select(QuizResultRow.recorded).where(QuizResultRow.attempt_id == attempt_id))
        return bool(rows and rows[0].recorded)

    async def mark_recorded(self, attempt_id: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(QuizResultRow).where(QuizResultRow.attempt_id == attempt_id).values(recorded=True)
            )

    async def latest_result(self, learner_id: str, module_id: str) -> QuizResult | None:
        query = (
            select(QuizResultRow)
            .where(QuizResultRow.learner_id == learner_id, QuizResultRow.module_id == module_id)
            .order_by(QuizResultRow.submitted_at.desc())
            .limit(1)
        )
        rows = await self._read(query)
        return _result(rows[0]) if rows else None

    async def attempt_stats(self, learner_id: str, course_id: str) -> tuple[int, float]:
        query = select(func.count(), func.coalesce(func.avg(QuizResultRow.score), 0.0)).where(
            QuizResultRow.learner_id == learner_id, QuizResultRow.course_id == course_id
        )
        count, average = (await self._read(query))[0]
        return int(count), float(average)

    async def mastery(self, learner_id: str, course_id: str) -> dict[str, Mastery]:
        rows = await self._read(_MASTERY, {"learner_id": learner_id, "course_id": course_id})
        return {r.objective_id: _mastery(r) for r in rows}


def _correct_counts(questions: Iterable[GradedQuestion]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for q in questions:
        if q.objective_id:
            counts[q.objective_id] = counts.get(q.objective_id, 0) + int(q.correct)
    return counts
