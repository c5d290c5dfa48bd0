"""Quizzes: a learner's current quiz of a module, drawn once (single flight) and kept until submitted; a fresh
draw on retake that favours the objectives they missed; grading on the server, exactly once per attempt, and
the mastery it changes. Correct answers never leave the server before submission.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from lmw_common import validation as v
from lmw_common.auth import Principal, require_role
from lmw_common.errors import AlreadyExists, FailedPrecondition, NotFound
from orchestrator_svc import grading
from orchestrator_svc.app.access import CourseAccess, ModuleContext
from orchestrator_svc.app.content import ObjectiveCatalog, SingleFlight
from orchestrator_svc.domain import (
    AttemptConflict,
    Mastery,
    MasteryRules,
    Module,
    Objective,
    Quiz,
    QuizItem,
    QuizResult,
    approved,
    pass_mark,
    quiz_seed,
    usable_items,
)
from orchestrator_svc.grading import Answer

log = logging.getLogger(__name__)

MAX_ANSWERS = 200
MAX_SEEN_QUESTIONS = 200  # a retake avoids the questions of this many earlier items
# Given the stored mastery of a quiz's objectives (those never answered left out), the new states.
MasteryUpdate = Callable[[dict[str, Mastery]], list[Mastery]]


class QuizStore(Protocol):
    async def latest_quiz(self, learner_id: str, module_id: str) -> Quiz | None: ...

    async def quiz_by_ordinal(self, learner_id: str, module_id: str, ordinal: int) -> Quiz | None: ...

    async def get_quiz(self, quiz_id: str) -> Quiz | None: ...

    async def seen_questions(self, learner_id: str, module_id: str, limit: int) -> list[str]:
        """The questions of the learner's earlier draws of the module, most recent draw first."""
        ...

    async def add_quiz(self, quiz: Quiz, focus_objective_ids: list[str], objectives_version: int) -> Quiz:
        """Store the draw unless (learner, module, ordinal) has one; the stored draw either way."""
        ...

    async def result_for_quiz(self, quiz_id: str) -> QuizResult | None: ...

    async def get_result(self, attempt_id: str) -> QuizResult | None: ...

    async def latest_result(self, learner_id: str, module_id: str) -> QuizResult | None: ...

    async def add_result(
        self, result: QuizResult, update_mastery: MasteryUpdate, now: datetime
    ) -> QuizResult:
        """Store the graded attempt, mark its quiz submitted and apply `update_mastery`, atomically; the result
        as stored (with its mastery). AttemptConflict when the attempt id or the quiz is taken."""
        ...

    async def is_recorded(self, attempt_id: str) -> bool:
        """Whether learner_svc acknowledged the attempt."""
        ...

    async def mark_recorded(self, attempt_id: str) -> None: ...


class QuizWriter(Protocol):
    async def generate_quiz(
        self,
        course_id: str,
        module: Module,
        objectives: Sequence[Objective],
        count: int,
        focus_objective_ids: Sequence[str],
        seed: int,
        seen_questions: Sequence[str],
    ) -> list[QuizItem]:
        """Items from the module's bank; `seen_questions` (most recent first) come back only once the rest of
        the bank is used up."""
        ...


class AttemptLog(Protocol):
    async def record_quiz_attempt(self, result: QuizResult) -> None:
        """Record the attempt in learner_svc (idempotent there)."""
        ...


class StateChanges(Protocol):
    async def changed(self, learner_id: str, course_id: str) -> None: ...


class Quizzes:
    def __init__(
        self,
        access: CourseAccess,
        store: QuizStore,
        writer: QuizWriter,
        objectives: ObjectiveCatalog,
        attempts: AttemptLog,
        learners: StateChanges,
        flight: SingleFlight,
        rules: MasteryRules,
        *,
        default_pass_mark: float,
        question_count: int,
    ) -> None:
        self._access = access
        self._store = store
        self._writer = writer
        self._objectives = objectives
        self._attempts = attempts
        self._learners = learners
        self._flight = flight
        self._rules = rules
        self._default_pass_mark = default_pass_mark
        self._question_count = question_count

    async def quiz(self, caller: Principal, course_id: str, module_id: str, retake: bool) -> Quiz:
        """The current quiz; a fresh draw (favouring missed objectives) when `retake` and it was submitted."""
        learner = require_role(caller, "learner")
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        ctx = await self._access.module(learner, course_id, module_id)
        latest = await self._store.latest_quiz(learner, module_id)
        if latest is not None and (not latest.submitted or not retake):
            # Shown with the pass mark it will be graded against (the module's, which may have changed).
            return dataclasses.replace(latest, pass_mark=self._pass_mark(ctx.module))
        ordinal, focus = 0, []
        if latest is not None:
            ordinal = latest.ordinal + 1
            result = await self._store.result_for_quiz(latest.id)
            if result is not None:
                focus = sorted({q.objective_id for q in result.questions if not q.correct and q.objective_id})
        lookup = partial(self._store.quiz_by_ordinal, learner, module_id, ordinal)
        draw = partial(self._draw, ctx, ordinal, focus)
        return await self._flight.run(f"quiz:{learner}:{module_id}:{ordinal}", lookup, draw)

    async def _draw(self, ctx: ModuleContext, ordinal: int, focus: list[str]) -> Quiz:
        learner, course, module = ctx.learner_id, ctx.course, ctx.module
        own = approved(await self._objectives.objectives(course.id, module.id), module)
        seed = quiz_seed(learner, module.id, ordinal)
        seen = await self._store.seen_questions(learner, module.id, MAX_SEEN_QUESTIONS) if ordinal else []
        items = await self._writer.generate_quiz(
            course.id, module, own.objectives, self._question_count, focus, seed, seen
        )
        items = usable_items(items, {o.id for o in own.objectives})
        if not items:
            raise FailedPrecondition(
                "no quiz could be generated from the course materials", "QUIZ_GENERATION_EMPTY"
            )
        quiz = Quiz(
            id=uuid.uuid4().hex,
            learner_id=learner,
            course_id=course.id,
            module_id=module.id,
            ordinal=ordinal,
            seed=seed,
            items=tuple(items),
            objective_texts={o.id: o.text for o in own.objectives},
            pass_mark=self._pass_mark(module),
            created_at=datetime.now(UTC),
        )
        stored = await self._store.add_quiz(quiz, focus, own.version)
        log.info(
            "drew a quiz",
            extra={
                "fields": {
                    "learner_id": learner,
                    "module_id": module.id,
                    "ordinal": ordinal,
                    "questions": len(items),
                    "focus": len(focus),
                }
            },
        )
        return stored

    async def submit(
        self,
        caller: Principal,
        course_id: str,
        module_id: str,
        quiz_id: str,
        attempt_id: str,
        answers: Sequence[Answer],
    ) -> QuizResult:
        """Grade an attempt at the learner's current quiz. `attempt_id` is the client's idempotency key: a
        resubmission gets the first result, and nothing is graded or recorded twice."""
        learner = require_role(caller, "learner")
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        quiz_id = v.identifier(quiz_id, "quiz_id")
        attempt_id = v.identifier(attempt_id, "attempt_id")
        v.bounded_list(answers, "answers", MAX_ANSWERS)
        ctx = await self._access.module(learner, course_id, module_id, fresh=True)
        existing = await self._store.get_result(attempt_id)
        if existing is not None:
            return await self._replay(existing, learner, quiz_id)
        quiz = await self._store.get_quiz(quiz_id)
        if quiz is None or (quiz.learner_id, quiz.course_id, quiz.module_id) != (
            learner,
            course_id,
            module_id,
        ):
            raise NotFound("quiz not found", "QUIZ_NOT_FOUND")
        if quiz.submitted:
            if quiz.submitted_attempt_id == attempt_id:  # this attempt, stored since the lookup above
                existing = await self._store.get_result(attempt_id)
                if existing is not None:
                    return await self._replay(existing, learner, quiz_id)
            raise _already_submitted()
        result = self._graded(quiz, attempt_id, answers, self._pass_mark(ctx.module))
        try:
            stored = await self._store.add_result(
                result, partial(self._rules.trace, quiz=quiz, questions=result.questions), result.submitted_at
            )
        except AttemptConflict:
            existing = await self._store.get_result(attempt_id)
            if existing is not None:  # the same attempt, submitted concurrently
                return await self._replay(existing, learner, quiz_id)
            raise _already_submitted() from None
        await self.record(stored)
        return stored

    async def record(self, result: QuizResult) -> None:
        """Record the result in learner_svc; until it is acknowledged, a resubmission (or completing the module)
        records it again."""
        try:
            await self._attempts.record_quiz_attempt(result)
            await self._store.mark_recorded(result.attempt_id)
        finally:  # the result changed mastery, the record progress and recent results
            await self._learners.changed(result.learner_id, result.course_id)

    async def passed(self, learner_id: str, module_id: str) -> bool:
        """Whether the learner's latest result in the module passed (recording it if learner_svc missed it)."""
        latest = await self._store.latest_result(learner_id, module_id)
        if latest is None or not latest.passed:
            return False
        if not await self._store.is_recorded(latest.attempt_id):
            await self.record(latest)
        return True

    async def _replay(self, existing: QuizResult, learner: str, quiz_id: str) -> QuizResult:
        if existing.learner_id != learner or existing.quiz_id != quiz_id:
            raise AlreadyExists("attempt_id is already used by another attempt", "ATTEMPT_ID_IN_USE")
        if not await self._store.is_recorded(existing.attempt_id):
            await self.record(existing)  # learner_svc missed it last time
        return existing

    def _graded(self, quiz: Quiz, attempt_id: str, answers: Sequence[Answer], mark: float) -> QuizResult:
        graded = grading.grade(quiz.items, answers, mark)
        return QuizResult(
            attempt_id=attempt_id,
            quiz_id=quiz.id,
            learner_id=quiz.learner_id,
            course_id=quiz.course_id,
            module_id=quiz.module_id,
            score=graded.score,
            passed=graded.passed,
            pass_mark=mark,
            questions=graded.questions,
            mastery=(),
            submitted_at=datetime.now(UTC),
        )

    def _pass_mark(self, module: Module) -> float:
        return pass_mark(module, self._default_pass_mark)


def _already_submitted() -> FailedPrecondition:
    return FailedPrecondition(
        "this quiz was already submitted; ask for a new one with retake", "QUIZ_ALREADY_SUBMITTED"
    )
