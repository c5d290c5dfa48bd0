"""In-memory fakes of the Protocols orchestrator_svc's use cases need, and `Orchestrator`, which wires the
real use cases (orchestrator_svc.app) to them as bootstrap.compose wires them to the real stores and clients.
No I/O: for the fast unit tests of the orchestrator's rules."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime

from lmw_common.citations import Citation
from lmw_common.errors import NotFound
from lmw_common.preferences import DEFAULT_PREFERENCES, Preferences
from orchestrator_svc.app import OrchestratorApp
from orchestrator_svc.app.access import CourseAccess
from orchestrator_svc.app.analytics import Standing
from orchestrator_svc.app.content import ModuleContents
from orchestrator_svc.app.preferences import PreferenceSettings
from orchestrator_svc.app.progress import ModuleCompletion
from orchestrator_svc.app.quizzes import Quizzes
from orchestrator_svc.app.tutor import Tutor
from orchestrator_svc.bkt import BktParams
from orchestrator_svc.domain import (
    AnswerEvent,
    AttemptConflict,
    AttemptSummary,
    ContentEvent,
    Course,
    CourseProgress,
    Mastery,
    MasteryRules,
    Module,
    ModuleContent,
    ModuleObjectives,
    ModuleProgress,
    Objective,
    Quiz,
    QuizItem,
    QuizResult,
    TutorMessage,
)

DEFAULT_PASS_MARK = 0.6
RULES = MasteryRules(BktParams(), mastery_threshold=0.95, weak_threshold=0.5, max_recap_objectives=5)


def course(
    course_id: str = "c1", modules: int = 2, *, materials_version: int = 1, pass_mark: float = 0.0
) -> Course:
    """A published course of `modules` modules m1, m2, ... whose objectives (version 1) are approved."""
    return Course(
        course_id,
        f"Course {course_id}",
        "About it.",
        True,
        materials_version,
        tuple(
            Module(f"m{i}", f"Module {i}", f"What module {i} is about.", i - 1, 1, True, pass_mark)
            for i in range(1, modules + 1)
        ),
    )


def objectives_of(c: Course, per_module: int = 2, *, approved: bool = True) -> dict[str, ModuleObjectives]:
    """Objectives m1-o1, m1-o2, ... of every module."""
    return {
        m.id: ModuleObjectives(
            m.id,
            m.objectives_version,
            approved,
            tuple(
                Objective(f"{m.id}-o{k}", f"Explain idea {k} of {m.title}", m.id)
                for k in range(1, per_module + 1)
            ),
        )
        for m in c.modules
    }


class FakeInstructors:
    """instructor_svc: courses and their objectives."""

    def __init__(self) -> None:
        self.courses: dict[str, Course] = {}
        self.objectives_of: dict[str, dict[str, ModuleObjectives]] = {}

    def add(self, c: Course, *, approved: bool = True) -> Course:
        self.courses[c.id] = c
        self.objectives_of[c.id] = objectives_of(c, approved=approved)
        return c

    async def course(self, course_id: str) -> Course:
        if course_id not in self.courses:
            raise NotFound("course not found", "COURSE_NOT_FOUND")
        return self.courses[course_id]

    async def objectives(self, course_id: str, module_id: str = "") -> dict[str, ModuleObjectives]:
        found = self.objectives_of.get(course_id, {})
        return {k: v for k, v in found.items() if not module_id or k == module_id}

    async def shown_objectives(self, course_id: str) -> dict[str, ModuleObjectives]:
        return await self.objectives(course_id)


class FakeLearners:
    """learner_svc as orchestrator_svc reads it through its cache (progress, attempts), with the learner's
    preferences and mastery: one object per learner's state, as adapters/learner_cache.py is.

    `stale` holds what a cached read would still answer (None: never enrolled) until a fresh read."""

    def __init__(self, quizzes: FakeQuizStore) -> None:
        self._quizzes = quizzes
        self.enrollments: dict[tuple[str, str], CourseProgress] = {}
        self.stale: dict[tuple[str, str], CourseProgress | None] = {}
        self.preferences_set: dict[tuple[str, str], Preferences] = {}
        self.events: list[tuple[str, str, str, bool]] = []
        self.recorded: list[QuizResult] = []
        self.changes: list[tuple[str, str]] = []
        self.recording_fails = False

    def enroll(
        self, learner_id: str, course_id: str, *, active: bool = True, completed: Sequence[str] = ()
    ) -> None:
        modules = {
            m: ModuleProgress(m, started=True, completed=True, passed=True, attempt_count=1)
            for m in completed
        }
        self.enrollments[(learner_id, course_id)] = CourseProgress(learner_id, course_id, active, modules)

    # Enrollments, ModuleEvents, AttemptLog

    async def progress(
        self, learner_id: str, course_id: str, *, fresh: bool = False
    ) -> CourseProgress | None:
        key = (learner_id, course_id)
        if not fresh and key in self.stale:
            return self.stale[key]
        self.stale.pop(key, None)
        progress = self.enrollments.get(key)
        return dataclasses.replace(progress, modules=dict(progress.modules)) if progress else None

    async def record_module_event(
        self, learner_id: str, course_id: str, module_id: str, completed: bool
    ) -> None:
        self.events.append((learner_id, course_id, module_id, completed))
        progress = self.enrollments[(learner_id, course_id)]
        before = progress.of(module_id)
        progress.modules[module_id] = dataclasses.replace(
            before, started=True, completed=before.completed or completed
        )

    async def record_quiz_attempt(self, result: QuizResult) -> None:
        if self.recording_fails:
            raise ConnectionError("learner_svc is down")
        self.recorded.append(result)
        progress = self.enrollments[(result.learner_id, result.course_id)]
        before = progress.of(result.module_id)
        progress.modules[result.module_id] = dataclasses.replace(
            before,
            attempt_count=before.attempt_count + 1,
            best_score=max(before.best_score, result.score),
            passed=before.passed or result.passed,
        )

    # the cache's reads and its invalidation

    async def stored_preferences(self, learner_id: str, course_id: str) -> Preferences | None:
        return self.preferences_set.get((learner_id, course_id))

    async def preferences(self, learner_id: str, course_id: str) -> Preferences:
        return self.preferences_set.get((learner_id, course_id), DEFAULT_PREFERENCES)

    async def recent_results(self, learner_id: str, course_id: str) -> list[AttemptSummary]:
        mine = [r for r in self.recorded if (r.learner_id, r.course_id) == (learner_id, course_id)]
        return [
            AttemptSummary(r.attempt_id, r.module_id, r.score, r.passed, r.submitted_at)
            for r in reversed(mine)
        ]

    async def mastery(self, learner_id: str, course_id: str) -> dict[str, Mastery]:
        return await self._quizzes.mastery(learner_id, course_id)

    async def changed(self, learner_id: str, course_id: str) -> None:
        self.changes.append((learner_id, course_id))


class FakePreferenceStore:
    def __init__(self, learners: FakeLearners) -> None:
        self._learners = learners

    async def update(self, learner_id: str, course_id: str, changes: dict[str, str]) -> Preferences:
        key = (learner_id, course_id)
        stored = self._learners.preferences_set.get(key, DEFAULT_PREFERENCES).replace(changes)
        self._learners.preferences_set[key] = stored
        return stored


class FakeContentStore:
    def __init__(self) -> None:
        self.contents: dict[tuple[str, str, str], ModuleContent] = {}
        self.lookups = 0

    async def current_content(
        self, learner_id: str, module_id: str, inputs_hash: str
    ) -> ModuleContent | None:
        self.lookups += 1
        return self.contents.get((learner_id, module_id, inputs_hash))

    async def add_content(self, content_id: str, inputs_hash: str, content: ModuleContent) -> None:
        self.contents[(content.learner_id, content.module_id, inputs_hash)] = content


class FakeQuizStore:
    """Quizzes, graded attempts and mastery (orchestrator_svc's PostgreSQL tables)."""

    def __init__(self) -> None:
        self.quizzes: dict[str, Quiz] = {}
        self.results: dict[str, QuizResult] = {}
        self.recorded: set[str] = set()
        self.mastery_of: dict[tuple[str, str], Mastery] = {}  # (learner, objective)
        self.courses_of: dict[tuple[str, str], str] = {}  # (learner, objective) -> course

    async def latest_quiz(self, learner_id: str, module_id: str) -> Quiz | None:
        mine = [q for q in self.quizzes.values() if (q.learner_id, q.module_id) == (learner_id, module_id)]
        return max(mine, key=lambda q: q.ordinal, default=None)

    async def quiz_by_ordinal(self, learner_id: str, module_id: str, ordinal: int) -> Quiz | None:
        return next(
            (
                q
                for q in self.quizzes.values()
                if (q.learner_id, q.module_id, q.ordinal) == (learner_id, module_id, ordinal)
            ),
            None,
        )

    async def get_quiz(self, quiz_id: str) -> Quiz | None:
        return self.quizzes.get(quiz_id)

    async def seen_questions(self, learner_id: str, module_id: str, limit: int) -> list[str]:
        mine = [q for q in self.quizzes.values() if (q.learner_id, q.module_id) == (learner_id, module_id)]
        questions = [i.question for q in sorted(mine, key=lambda q: -q.ordinal) for i in q.items]
        return list(dict.fromkeys(questions))[:limit]

    async def add_quiz(self, quiz: Quiz, focus_objective_ids: list[str], objectives_version: int) -> Quiz:
        existing = await self.quiz_by_ordinal(quiz.learner_id, quiz.module_id, quiz.ordinal)
        if existing is None:
            self.quizzes[quiz.id] = quiz
        return existing or quiz

    async def unsubmitted_quizzes(self, learner_id: str, course_id: str) -> list[Quiz]:
        return [
            q
            for q in self.quizzes.values()
            if (q.learner_id, q.course_id) == (learner_id, course_id) and not q.submitted
        ]

    async def result_for_quiz(self, quiz_id: str) -> QuizResult | None:
        return next((r for r in self.results.values() if r.quiz_id == quiz_id), None)

    async def get_result(self, attempt_id: str) -> QuizResult | None:
        return self.results.get(attempt_id)

    async def latest_result(self, learner_id: str, module_id: str) -> QuizResult | None:
        mine = [r for r in self.results.values() if (r.learner_id, r.module_id) == (learner_id, module_id)]
        return max(mine, key=lambda r: r.submitted_at, default=None)

    async def add_result(
        self, result: QuizResult, update_mastery: Callable[[dict[str, Mastery]], list[Mastery]], now: datetime
    ) -> QuizResult:
        quiz = self.quizzes[result.quiz_id]
        if result.attempt_id in self.results or quiz.submitted:
            raise AttemptConflict()
        self.quizzes[quiz.id] = dataclasses.replace(quiz, submitted_attempt_id=result.attempt_id)
        ids = {q.objective_id for q in result.questions if q.objective_id}
        current = {
            o: self.mastery_of[(result.learner_id, o)]
            for o in ids
            if (result.learner_id, o) in self.mastery_of
        }
        updated = update_mastery(current)
        for m in updated:
            self.mastery_of[(result.learner_id, m.objective_id)] = Mastery(
                m.objective_id, m.module_id, m.p_mastery, m.answer_count
            )
            self.courses_of[(result.learner_id, m.objective_id)] = result.course_id
        stored = dataclasses.replace(result, mastery=tuple(updated))
        self.results[result.attempt_id] = stored
        return stored

    async def is_recorded(self, attempt_id: str) -> bool:
        return attempt_id in self.recorded

    async def mark_recorded(self, attempt_id: str) -> None:
        self.recorded.add(attempt_id)

    async def attempt_stats(self, learner_id: str, course_id: str) -> tuple[int, float]:
        scores = [
            r.score for r in self.results.values() if (r.learner_id, r.course_id) == (learner_id, course_id)
        ]
        return len(scores), sum(scores) / len(scores) if scores else 0.0

    async def mastery(self, learner_id: str, course_id: str) -> dict[str, Mastery]:
        return {
            objective: m
            for (learner, objective), m in self.mastery_of.items()
            if learner == learner_id and self.courses_of[(learner, objective)] == course_id
        }


class FakeSme:
    """sme_svc: writes content in three deltas, draws quizzes whose right answer is always the first option
    (the one named "right"), and answers the tutor's questions. Counts what it was asked."""

    def __init__(self) -> None:
        self.content_requests: list[dict] = []
        self.quiz_requests: list[dict] = []
        self.answer_requests: list[dict] = []
        self.gate: asyncio.Event | None = None  # when set up, content generation waits for it
        self.cut_short = False  # the content stream ends without its final event
        self.quiz_items: list[QuizItem] | None = None  # what a quiz draw returns instead of the usual items

    async def generate_content(
        self,
        course_id: str,
        module: Module,
        objectives: Sequence[Objective],
        preferences: Preferences,
        recap: Sequence[Objective],
    ) -> AsyncIterator[ContentEvent]:
        self.content_requests.append(
            {
                "course_id": course_id,
                "module": module.id,
                "preferences": preferences,
                "recap": [o.id for o in recap],
            }
        )
        if self.gate is not None:
            await self.gate.wait()
        parts = [f"# {module.title}\n", f"Written {preferences.detail_level}.\n", "The end.\n"]
        for part in parts:
            yield ContentEvent(delta=part)
        if not self.cut_short:
            yield ContentEvent(
                markdown="".join(parts), citations=(Citation(chunk_id="k1", file_name="notes.md"),)
            )

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
        self.quiz_requests.append(
            {
                "module": module.id,
                "count": count,
                "focus": list(focus_objective_ids),
                "seed": seed,
                "seen": list(seen_questions),
            }
        )
        if self.quiz_items is not None:
            return self.quiz_items
        return [
            QuizItem(f"g{i}", o.id, f"What is {o.text}?", ("right", "wrong", "also wrong"), 0, "Because.")
            for i, o in enumerate(objectives)
        ]

    async def answer(
        self,
        course_id: str,
        question: str,
        history: Sequence[tuple[str, str]],
        protected_questions: Sequence[str],
        module_id: str,
    ) -> AsyncIterator[AnswerEvent]:
        self.answer_requests.append(
            {
                "question": question,
                "history": list(history),
                "protected": list(protected_questions),
                "module": module_id,
            }
        )
        yield AnswerEvent(delta="An answer.")
        yield AnswerEvent(final=True, text="An answer.", citations=(Citation(chunk_id="k1"),), grounded=True)


class FakeTutorLog:
    def __init__(self) -> None:
        self.messages: list[tuple[int, str, str, TutorMessage]] = []  # (seq, learner, course, message)

    async def recent(
        self, learner_id: str, course_id: str, limit: int, before_seq: int | None = None
    ) -> list[tuple[int, TutorMessage]]:
        mine = [
            (seq, m)
            for seq, learner, course_id_, m in self.messages
            if (learner, course_id_) == (learner_id, course_id) and (before_seq is None or seq < before_seq)
        ]
        return sorted(mine, key=lambda pair: -pair[0])[:limit]

    async def add_exchange(
        self, learner_id: str, course_id: str, question: TutorMessage, answer: TutorMessage
    ) -> None:
        for message in (question, answer):
            self.messages.append((len(self.messages) + 1, learner_id, course_id, message))

    async def question_count(self, learner_id: str, course_id: str) -> int:
        asked = await self.recent(learner_id, course_id, len(self.messages))
        return sum(1 for _, m in asked if m.role == "learner")


class LocalFlight:
    """Single flight within this process: callers of one key share one producer."""

    def __init__(self) -> None:
        self.produced = 0
        self._running: dict[str, asyncio.Task] = {}

    async def run(self, key: str, lookup: Callable[[], Awaitable], produce: Callable[[], Awaitable]):
        if key not in self._running:
            self._running[key] = asyncio.ensure_future(self._once(lookup, produce))
            self._running[key].add_done_callback(lambda _: self._running.pop(key, None))
        return await asyncio.shield(self._running[key])

    async def _once(self, lookup, produce):
        found = await lookup()
        if found is not None:
            return found
        self.produced += 1
        return await produce()


class Orchestrator:
    """orchestrator_svc's use cases over the fakes above, wired as bootstrap.compose wires the real ones."""

    def __init__(self, *, question_count: int = 5, history_messages: int = 6) -> None:
        self.instructors = FakeInstructors()
        self.quiz_store = FakeQuizStore()
        self.learners = FakeLearners(self.quiz_store)
        self.content_store = FakeContentStore()
        self.sme = FakeSme()
        self.tutor_log = FakeTutorLog()
        self.flight = LocalFlight()
        access = CourseAccess(self.learners, self.instructors)
        contents = ModuleContents(
            access,
            self.learners,
            self.learners,
            self.content_store,
            self.sme,
            self.instructors,
            self.quiz_store,
            self.flight,
            RULES,
        )
        quizzes = Quizzes(
            access,
            self.quiz_store,
            self.sme,
            self.instructors,
            self.learners,
            self.learners,
            self.flight,
            RULES,
            default_pass_mark=DEFAULT_PASS_MARK,
            question_count=question_count,
        )
        self.app = OrchestratorApp(
            preferences=PreferenceSettings(access, FakePreferenceStore(self.learners), self.learners),
            contents=contents,
            quizzes=quizzes,
            completion=ModuleCompletion(access, quizzes, contents, self.learners, self.learners),
            tutor=Tutor(
                access,
                self.tutor_log,
                self.sme,
                self.quiz_store,
                max_question_chars=2000,
                history_messages=history_messages,
            ),
            standing=Standing(
                access,
                self.instructors,
                self.instructors,
                self.learners,
                self.quiz_store,
                self.tutor_log,
                RULES,
            ),
        )

    def enrolled(self, learner_id: str = "ada", c: Course | None = None, **enrollment) -> Course:
        """A learner enrolled in a course (a new two-module one unless given)."""
        c = self.instructors.add(c or course())
        self.learners.enroll(learner_id, c.id, **enrollment)
        return c
