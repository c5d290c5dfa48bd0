"""orchestrator_svc use cases. They see the caller's Principal, never a gRPC context.

Rights: every RPC acts for one learner. Calls without a `learner_id` act for the calling learner (role
learner only); calls with one (dashboard, analytics) take a learner's own id (or empty) or any id from a
service. Instructors use instructor_svc's course analytics instead. Everything about a course needs an
enrollment (checked before anything else is looked up, against learner_svc's answer of at most a few seconds
ago; a refusal and every write check afresh, see adapters/learner_cache.py); content, quizzes, submissions,
completion and the tutor need an active one, and the module must be unlocked (sequential unlock).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lmw_common import validation as v
from lmw_common.auth import Principal
from lmw_common.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from lmw_common.pagination import decode_token, encode_token, page_size
from orchestrator_svc import bkt, grading
from orchestrator_svc.adapters.clients import InstructorClient, LearnerClient, SmeClient
from orchestrator_svc.adapters.learner_cache import LearnerCache
from orchestrator_svc.adapters.mongo_stores import PreferenceStore, TutorStore
from orchestrator_svc.adapters.repository import AttemptConflict, OrchestratorRepository
from orchestrator_svc.adapters.single_flight import SingleFlight
from orchestrator_svc.config import OrchestratorSettings
from orchestrator_svc.domain import (
    DEFAULT_PREFERENCES,
    DETAIL_LEVELS,
    EXPLANATION_STYLES,
    LANGUAGE_LEVELS,
    ContentInputs,
    Course,
    CourseProgress,
    Dashboard,
    LearnerAnalytics,
    Mastery,
    Module,
    ModuleContent,
    ModuleObjectives,
    ModuleSummary,
    Objective,
    Preferences,
    Quiz,
    QuizItem,
    QuizResult,
    TutorMessage,
    is_unlocked,
    module_status,
    next_step,
)
from orchestrator_svc.grading import Answer

log = logging.getLogger(__name__)

MAX_ANSWERS = 200
# Module contents kept in memory (a few KiB each).
CONTENT_CACHE_ENTRIES = 2048


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ModuleContext:
    learner_id: str
    course: Course
    module: Module
    progress: CourseProgress


class OrchestratorHandlers:
    def __init__(
        self,
        settings: OrchestratorSettings,
        repo: OrchestratorRepository,
        preferences: PreferenceStore,
        tutor: TutorStore,
        learners: LearnerClient,
        instructors: InstructorClient,
        sme: SmeClient,
        flight: SingleFlight,
        learner_cache: LearnerCache,
    ) -> None:
        self._s = settings
        self._repo = repo
        self._prefs = preferences
        self._tutor = tutor
        self._learners = learners
        self._cache = learner_cache
        self._instructors = instructors
        self.sme = sme
        self.flight = flight
        self._bkt = bkt.BktParams(
            settings.bkt_p_init, settings.bkt_p_learn, settings.bkt_p_slip, settings.bkt_p_guess
        )
        self._background: set[asyncio.Task] = set()
        # Content stored for (learner, module, inputs digest): a stored version never changes (new inputs
        # make a new digest), so a hit needs no database read. Bounded LRU.
        self._content_cache: OrderedDict[tuple[str, str, str], ModuleContent] = OrderedDict()

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.flight.close()

    async def wait_background(self) -> None:
        """Wait for background work (content warming) to finish; for tests and orderly shutdowns."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    # preferences

    async def get_preferences(self, caller: Principal, course_id: str) -> tuple[Preferences, bool]:
        learner = _learner_only(caller)
        course_id = v.identifier(course_id, "course_id")
        await self._enrollment(learner, course_id, active=False)
        stored = await self._cache.stored_preferences(learner, course_id)
        return (stored, False) if stored else (DEFAULT_PREFERENCES, True)

    async def set_preferences(
        self, caller: Principal, course_id: str, detail_level: str, explanation_style: str, language: str
    ) -> Preferences:
        learner = _learner_only(caller)
        course_id = v.identifier(course_id, "course_id")
        preferences = Preferences(
            _choice(detail_level, "preferences.detail_level", DETAIL_LEVELS),
            _choice(explanation_style, "preferences.explanation_style", EXPLANATION_STYLES),
            _choice(language, "preferences.language", LANGUAGE_LEVELS),
        )
        await self._enrollment(learner, course_id, active=True, fresh=True)
        await self._prefs.put(learner, course_id, preferences)
        await self._cache.changed(learner, course_id)
        return preferences

    # module content

    async def module_content(self, caller: Principal, course_id: str, module_id: str) -> ModuleContent:
        ctx, preferences = await self._open_module(caller, course_id, module_id)
        return await self._ensure_content(ctx.learner_id, ctx.course, ctx.module, preferences)

    async def stream_module_content(
        self, caller: Principal, course_id: str, module_id: str
    ) -> AsyncIterator[str | ModuleContent]:
        """Markdown deltas as sme_svc produces them (to the caller that generates; waiters and cache hits
        get the whole text in one delta), then the stored content."""
        ctx, preferences = await self._open_module(caller, course_id, module_id)
        deltas: asyncio.Queue[str] = asyncio.Queue()
        work = asyncio.ensure_future(
            self._ensure_content(ctx.learner_id, ctx.course, ctx.module, preferences, deltas.put_nowait)
        )
        streamed = False
        try:
            while not work.done():
                getter = asyncio.ensure_future(deltas.get())
                await asyncio.wait({getter, work}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    streamed = True
                    yield getter.result()
                else:
                    getter.cancel()
            while not deltas.empty():
                streamed = True
                yield deltas.get_nowait()
            content = work.result()
        finally:
            work.cancel()  # only this caller's wait: the generation itself is shielded
        if not streamed:
            yield content.markdown
        yield content

    async def _open_module(self, caller: Principal, course_id: str, module_id: str):
        learner = _learner_only(caller)
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        # The preferences are read beside the checks (one round trip less); the checks' errors come first.
        ctx, preferences = await _all(
            self._module_context(learner, course_id, module_id), self._cache.preferences(learner, course_id)
        )
        if not ctx.progress.of(module_id).started:  # opening a module starts it
            await self._learners.record_module_event(learner, course_id, module_id, completed=False)
            await self._cache.changed(learner, course_id)
        return ctx, preferences

    async def _ensure_content(
        self,
        learner_id: str,
        course: Course,
        module: Module,
        preferences: Preferences,
        emit: Callable[[str], Any] | None = None,
    ) -> ModuleContent:
        inputs = ContentInputs(
            course.id, module.id, preferences, module.objectives_version, course.materials_version
        )
        digest = inputs.digest()
        cache_key = (learner_id, module.id, digest)
        cached = self._content_cache.get(cache_key)
        if cached is not None:
            self._content_cache.move_to_end(cache_key)
            return cached

        async def lookup() -> ModuleContent | None:
            return await self._repo.current_content(learner_id, module.id, digest)

        async def produce() -> ModuleContent:
            started = time.monotonic()
            objectives, mastery = await _all(
                self._instructors.objectives(course.id), self._repo.mastery(learner_id, course.id)
            )
            own = _approved(objectives, module)
            recap = self._recap(course, module, objectives, mastery)
            parts: list[str] = []
            final = None
            async for event in self.sme.generate_content(
                course.id, module, own.objectives, preferences, recap
            ):
                if event.markdown is not None:
                    final = event
                elif event.delta:
                    parts.append(event.delta)
                    if emit is not None:
                        emit(event.delta)
            if final is None:
                raise Unavailable(
                    "content generation ended before it finished; try again", "GENERATION_INCOMPLETE"
                )
            markdown = final.markdown or "".join(parts)
            if not markdown.strip():
                raise FailedPrecondition(
                    "no content could be generated from the course materials", "EMPTY_CONTENT"
                )
            content = ModuleContent(
                learner_id=learner_id,
                course_id=course.id,
                module_id=module.id,
                markdown=markdown,
                citations=final.citations,
                preferences=preferences,
                objectives_version=module.objectives_version,
                materials_version=course.materials_version,
                recap_objective_ids=tuple(o.id for o in recap),
                generated_at=_now(),
            )
            await self._repo.add_content(uuid.uuid4().hex, digest, content)
            log.info(
                "generated module content",
                extra={
                    "fields": {
                        "learner_id": learner_id,
                        "module_id": module.id,
                        "chars": len(markdown),
                        "recap": len(recap),
                        "seconds": round(time.monotonic() - started, 3),
                    }
                },
            )
            return content

        content = await self.flight.run(f"content:{learner_id}:{module.id}:{digest[:32]}", lookup, produce)
        self._content_cache[cache_key] = content
        if len(self._content_cache) > CONTENT_CACHE_ENTRIES:
            self._content_cache.popitem(last=False)
        return content

    def _recap(
        self,
        course: Course,
        module: Module,
        objectives: dict[str, ModuleObjectives],
        mastery: dict[str, Mastery],
    ) -> list[Objective]:
        """Objectives of earlier modules the learner answered on and is still weak at, weakest first."""
        weak = []
        for earlier in course.earlier(module.id):
            for objective in objectives.get(
                earlier.id, ModuleObjectives(earlier.id, 0, False, ())
            ).objectives:
                m = mastery.get(objective.id)
                if m is not None and m.answer_count and m.p_mastery < self._s.weak_threshold:
                    weak.append((m.p_mastery, objective))
        weak.sort(key=lambda pair: pair[0])
        return [objective for _, objective in weak[: self._s.max_recap_objectives]]

    # quizzes

    async def quiz(self, caller: Principal, course_id: str, module_id: str, retake: bool) -> Quiz:
        """The current quiz; a fresh draw (favouring missed objectives) when `retake` and it was submitted."""
        learner = _learner_only(caller)
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        ctx = await self._module_context(learner, course_id, module_id)
        latest = await self._repo.latest_quiz(learner, module_id)
        if latest is not None and (not latest.submitted or not retake):
            # Shown with the pass mark it will be graded against (the module's, which may have changed).
            return dataclasses.replace(latest, pass_mark=self._pass_mark(ctx.module))
        ordinal, focus = 0, []
        if latest is not None:
            ordinal = latest.ordinal + 1
            result = await self._repo.result_for_quiz(latest.id)
            if result is not None:
                focus = sorted({q.objective_id for q in result.questions if not q.correct and q.objective_id})
        return await self._draw_quiz(ctx, ordinal, focus)

    async def _draw_quiz(self, ctx: ModuleContext, ordinal: int, focus: list[str]) -> Quiz:
        learner, course, module = ctx.learner_id, ctx.course, ctx.module

        async def lookup() -> Quiz | None:
            return await self._repo.quiz_by_ordinal(learner, module.id, ordinal)

        async def produce() -> Quiz:
            own = _approved(await self._instructors.objectives(course.id, module.id), module)
            seed = _seed(learner, module.id, ordinal)
            items = await self.sme.generate_quiz(
                course.id, module, own.objectives, self._s.quiz_question_count, focus, seed
            )
            items = _usable_items(items, {o.id for o in own.objectives})
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
                created_at=_now(),
            )
            stored = await self._repo.add_quiz(quiz, focus, own.version)
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

        return await self.flight.run(f"quiz:{learner}:{module.id}:{ordinal}", lookup, produce)

    async def submit_quiz(
        self,
        caller: Principal,
        course_id: str,
        module_id: str,
        quiz_id: str,
        attempt_id: str,
        answers: Sequence[Answer],
    ) -> QuizResult:
        learner = _learner_only(caller)
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        quiz_id = v.identifier(quiz_id, "quiz_id")
        attempt_id = v.identifier(attempt_id, "attempt_id")
        v.bounded_list(answers, "answers", MAX_ANSWERS)
        ctx = await self._module_context(learner, course_id, module_id, fresh=True)
        existing = await self._repo.get_result(attempt_id)
        if existing is not None:
            return await self._replay(existing, learner, quiz_id)
        quiz = await self._repo.get_quiz(quiz_id)
        if quiz is None or (quiz.learner_id, quiz.course_id, quiz.module_id) != (
            learner,
            course_id,
            module_id,
        ):
            raise NotFound("quiz not found", "QUIZ_NOT_FOUND")
        if quiz.submitted:
            if quiz.submitted_attempt_id == attempt_id:  # this attempt, stored since the lookup above
                existing = await self._repo.get_result(attempt_id)
                if existing is not None:
                    return await self._replay(existing, learner, quiz_id)
            raise FailedPrecondition(
                "this quiz was already submitted; ask for a new one with retake", "QUIZ_ALREADY_SUBMITTED"
            )
        pass_mark = self._pass_mark(ctx.module)
        graded = grading.grade(quiz.items, answers, pass_mark)
        now = _now()
        result = QuizResult(
            attempt_id=attempt_id,
            quiz_id=quiz.id,
            learner_id=learner,
            course_id=course_id,
            module_id=module_id,
            score=graded.score,
            passed=graded.passed,
            pass_mark=pass_mark,
            questions=graded.questions,
            mastery=(),
            submitted_at=now,
        )
        try:
            stored = await self._repo.add_result(
                result, lambda current: self._trace(current, quiz, graded.questions), now
            )
        except AttemptConflict:
            existing = await self._repo.get_result(attempt_id)
            if existing is not None:  # the same attempt, submitted concurrently
                return await self._replay(existing, learner, quiz_id)
            raise FailedPrecondition(
                "this quiz was already submitted; ask for a new one with retake", "QUIZ_ALREADY_SUBMITTED"
            ) from None
        await self._record(stored)
        return stored

    async def _replay(self, existing: QuizResult, learner: str, quiz_id: str) -> QuizResult:
        """A resubmitted attempt gets its first result; nothing is graded or recorded twice."""
        if existing.learner_id != learner or existing.quiz_id != quiz_id:
            raise AlreadyExists("attempt_id is already used by another attempt", "ATTEMPT_ID_IN_USE")
        if not await self._repo.is_recorded(existing.attempt_id):
            await self._record(existing)  # learner_svc missed it last time; it is idempotent there
        return existing

    async def _record(self, result: QuizResult) -> None:
        try:
            await self._learners.record_quiz_attempt(result)
            await self._repo.mark_recorded(result.attempt_id)
        finally:  # the result changed mastery, the record progress and recent results
            await self._cache.changed(result.learner_id, result.course_id)

    def _trace(self, current: dict[str, Mastery], quiz: Quiz, questions) -> list[Mastery]:
        """BKT over the answers in question order, starting from the stored state (or p_init)."""
        updated: dict[str, Mastery] = {}
        for q in questions:
            if not q.objective_id:
                continue
            before = updated.get(q.objective_id) or current.get(q.objective_id)
            p = before.p_mastery if before else self._bkt.p_init
            module_id = before.module_id if before else quiz.module_id
            count = before.answer_count if before else 0
            p = bkt.update(p, q.correct, self._bkt)
            updated[q.objective_id] = Mastery(
                q.objective_id,
                module_id,
                p,
                count + 1,
                quiz.objective_texts.get(q.objective_id, ""),
                p >= self._s.mastery_threshold,
            )
        return list(updated.values())

    def _pass_mark(self, module: Module) -> float:
        return module.pass_mark if 0 < module.pass_mark <= 1 else self._s.pass_mark

    # completion

    async def complete_module(self, caller: Principal, course_id: str, module_id: str) -> tuple[str, bool]:
        learner = _learner_only(caller)
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        ctx = await self._module_context(learner, course_id, module_id, fresh=True)
        progress = ctx.progress.of(module_id)
        if not progress.completed:
            if not progress.passed and not await self._passed_but_unrecorded(learner, module_id):
                raise FailedPrecondition("pass the module's quiz before completing it", "QUIZ_NOT_PASSED")
            await self._learners.record_module_event(learner, course_id, module_id, completed=True)
            await self._cache.changed(learner, course_id)
        following = ctx.course.next_after(module_id)
        if following is None:
            return "", True
        self._warm(learner, ctx.course, following)
        return following.id, False

    async def _passed_but_unrecorded(self, learner: str, module_id: str) -> bool:
        latest = await self._repo.latest_result(learner, module_id)
        if latest is None or not latest.passed:
            return False
        if not await self._repo.is_recorded(latest.attempt_id):
            await self._record(latest)
        return True

    def _warm(self, learner: str, course: Course, module: Module) -> None:
        """Generate the next module's content in the background; failures are only logged."""

        async def warm() -> None:
            try:
                preferences = await self._cache.preferences(learner, course.id)
                await self._ensure_content(learner, course, module, preferences)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "warming content failed: %s",
                    exc,
                    extra={"fields": {"learner_id": learner, "module_id": module.id}},
                )

        task = asyncio.create_task(warm(), name=f"warm {learner} {module.id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # dashboard and analytics

    async def dashboard(self, caller: Principal, learner_id: str, course_id: str) -> Dashboard:
        learner = _own_or_service(caller, learner_id)
        course_id = v.identifier(course_id, "course_id")
        progress, course, objectives, attempts, preferences, mastery = await _all(
            self._enrollment(learner, course_id, active=False),
            self._instructors.course(course_id),
            self._instructors.shown_objectives(course_id),
            self._cache.recent_results(learner, course_id),
            self._cache.preferences(learner, course_id),
            self._cache.mastery(learner, course_id),
        )
        modules = tuple(
            ModuleSummary(
                m.id,
                m.title,
                m.position,
                module_status(course, progress, m.id),
                progress.of(m.id).best_score,
                progress.of(m.id).attempt_count,
            )
            for m in course.modules
        )
        completed = sum(1 for m in course.modules if progress.of(m.id).completed)
        return Dashboard(
            learner_id=learner,
            course=course,
            modules=modules,
            completed_module_count=completed,
            progress=completed / len(course.modules) if course.modules else 0.0,
            preferences=preferences,
            recent_results=tuple(attempts),
            mastery=tuple(self._mastery_view(course, objectives, mastery)),
            next_step=next_step(course, progress),
        )

    async def learner_analytics(self, caller: Principal, learner_id: str, course_id: str) -> LearnerAnalytics:
        learner = _own_or_service(caller, learner_id)
        course_id = v.identifier(course_id, "course_id")
        _, course, objectives, stats, mastery, questions = await _all(
            self._enrollment(learner, course_id, active=False),
            self._instructors.course(course_id),
            self._instructors.shown_objectives(course_id),
            self._repo.attempt_stats(learner, course_id),
            self._cache.mastery(learner, course_id),
            self._tutor.question_count(learner, course_id),
        )
        view = self._mastery_view(course, objectives, mastery)
        weak = [m.objective_id for m in view if m.answer_count and m.p_mastery < self._s.weak_threshold]
        return LearnerAnalytics(
            learner_id=learner,
            course_id=course_id,
            attempt_count=stats[0],
            average_score=stats[1],
            mastery=tuple(view),
            weak_objective_ids=tuple(weak),
            tutor_question_count=questions,
        )

    def _mastery_view(
        self, course: Course, objectives: dict[str, ModuleObjectives], mastery: dict[str, Mastery]
    ) -> list[Mastery]:
        """Every objective of the course in course order (p_init when never answered), then any answered
        objective that no longer exists in the course."""
        view, seen = [], set()
        for module in course.modules:
            for objective in objectives.get(module.id, ModuleObjectives(module.id, 0, False, ())).objectives:
                m = mastery.get(objective.id)
                p = m.p_mastery if m else self._bkt.p_init
                view.append(
                    Mastery(
                        objective.id,
                        module.id,
                        p,
                        m.answer_count if m else 0,
                        objective.text,
                        p >= self._s.mastery_threshold,
                    )
                )
                seen.add(objective.id)
        for m in mastery.values():
            if m.objective_id not in seen:
                view.append(
                    Mastery(
                        m.objective_id,
                        m.module_id,
                        m.p_mastery,
                        m.answer_count,
                        "",
                        m.p_mastery >= self._s.mastery_threshold,
                    )
                )
        return view

    # tutor

    async def ask_tutor(
        self, caller: Principal, course_id: str, question: str, module_id: str
    ) -> AsyncIterator[str | TutorMessage]:
        """Text deltas, then the stored tutor message. Both turns are stored once the answer is complete."""
        learner = _learner_only(caller)
        course_id = v.identifier(course_id, "course_id")
        question = v.text(question, "question", self._s.tutor_max_question_chars)
        module_id = v.identifier(module_id, "module_id") if module_id else ""
        course, _ = await self._enrolled_course(learner, course_id, active=True)
        module_title = ""
        if module_id:
            module = course.module(module_id)
            if module is None:
                raise NotFound("module not found in this course", "MODULE_NOT_FOUND")
            module_title = module.title
        history, open_quizzes = await _all(
            self._tutor.recent(learner, course_id, self._s.tutor_history_messages)
            if self._s.tutor_history_messages
            else _const([]),
            self._repo.unsubmitted_quizzes(learner, course_id),
        )
        turns = [(m.role, m.text) for _, m in reversed(history)]
        protected = [item.question for quiz in open_quizzes for item in quiz.items]
        asked_at = _now()
        final = None
        async for event in self.sme.answer(course_id, question, turns, module_title, protected):
            if event.final:
                final = event
            elif event.delta:
                yield event.delta
        if final is None:
            raise Unavailable("the tutor stopped before answering; try again", "GENERATION_INCOMPLETE")
        asked = TutorMessage(uuid.uuid4().hex, "learner", question, (), False, module_id, asked_at)
        answer = TutorMessage(
            uuid.uuid4().hex, "tutor", final.text, final.citations, final.grounded, module_id, _now()
        )
        await self._tutor.add_exchange(learner, course_id, asked, answer)
        yield answer

    async def tutor_history(
        self, caller: Principal, course_id: str, size: int, token: str
    ) -> tuple[list[TutorMessage], str]:
        learner = _learner_only(caller)
        course_id = v.identifier(course_id, "course_id")
        size = page_size(size)
        before = decode_token(token).get("before")
        if before is not None and (not isinstance(before, int) or not 0 < before < 2**63):  # MongoDB: int64
            raise InvalidArgument("page_token is not valid", "INVALID_PAGE_TOKEN")
        await self._enrollment(learner, course_id, active=False)
        rows = await self._tutor.recent(learner, course_id, size + 1, before)
        page = rows[:size]
        next_token = encode_token({"before": page[-1][0]}) if len(rows) > size else ""
        return [m for _, m in reversed(page)], next_token

    # access: cached facts may grant, but a refusal is always checked afresh

    async def _enrollment(
        self, learner: str, course_id: str, *, active: bool, fresh: bool = False
    ) -> CourseProgress:
        """The learner's progress in the course, for a learner enrolled in it (actively, with `active`)."""
        progress = await self._cache.progress(learner, course_id, fresh=fresh)
        if not fresh and not _enrolled(progress, active):
            progress = await self._cache.progress(learner, course_id, fresh=True)
        if not _enrolled(progress, active):
            raise PermissionDenied("the learner is not enrolled in this course", "NOT_ENROLLED")
        return progress

    async def _enrolled_course(
        self, learner: str, course_id: str, *, active: bool, fresh: bool = False
    ) -> tuple[Course, CourseProgress]:
        # Concurrently, but a caller who is not enrolled learns nothing else (not even whether it exists).
        progress, course = await _all(
            self._enrollment(learner, course_id, active=active, fresh=fresh),
            self._instructors.course(course_id),
        )
        return course, progress

    async def _module_context(
        self, learner: str, course_id: str, module_id: str, *, fresh: bool = False
    ) -> ModuleContext:
        course, progress = await self._enrolled_course(learner, course_id, active=True, fresh=fresh)
        module = course.module(module_id)
        if module is None:
            raise NotFound("module not found in this course", "MODULE_NOT_FOUND")
        if not is_unlocked(course, progress, module_id):
            if not fresh:
                return await self._module_context(learner, course_id, module_id, fresh=True)
            raise FailedPrecondition(
                "complete the previous modules first", "MODULE_LOCKED", module_id=module_id
            )
        return ModuleContext(learner, course, module, progress)


def _learner_only(caller: Principal) -> str:
    """The RPCs without a learner_id act for the calling learner."""
    if caller.role != "learner":
        raise PermissionDenied("only a learner can do this, for themself", "ROLE_NOT_ALLOWED")
    return caller.subject


def _own_or_service(caller: Principal, learner_id: str) -> str:
    """A learner reaches only their own records (checked before anything is looked up)."""
    if caller.is_service:
        return v.identifier(learner_id, "learner_id")
    if caller.role != "learner":
        raise PermissionDenied("only the learner or a service can see this", "ROLE_NOT_ALLOWED")
    if learner_id and learner_id != caller.subject:
        raise PermissionDenied("learners can only see their own records", "NOT_OWNER")
    return caller.subject


def _enrolled(progress: CourseProgress | None, active: bool) -> bool:
    return progress is not None and (progress.active or not active)


async def _all(*calls: Awaitable) -> list:
    """gather() that lets every call finish and then raises the first error in argument order."""
    results = await asyncio.gather(*calls, return_exceptions=True)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


async def _const(value):
    return value


def _choice(value: str, field: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise InvalidArgument(
            f"{field} must be one of: {', '.join(allowed)} (UNSPECIFIED is not accepted when setting preferences)",
            "INVALID_PREFERENCE",
            field=field,
        )
    return value


def _approved(objectives: dict[str, ModuleObjectives], module: Module) -> ModuleObjectives:
    own = objectives.get(module.id)
    if own is None or not own.approved or not own.objectives:
        raise FailedPrecondition(
            "the module's learning objectives are not approved yet", "OBJECTIVES_NOT_APPROVED"
        )
    return own


def _seed(learner: str, module_id: str, ordinal: int) -> int:
    digest = hashlib.sha256(f"{learner}:{module_id}:{ordinal}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _usable_items(items: Sequence[QuizItem], objective_ids: set[str]) -> list[QuizItem]:
    """Well-formed questions only, with ids of our own (unique, and valid wherever they travel)."""
    usable = []
    for item in items:
        options = tuple(o for o in item.options)
        if not item.question.strip() or len(options) < 2 or not 0 <= item.correct_index < len(options):
            continue
        usable.append(
            QuizItem(
                id=f"q{len(usable) + 1}",
                objective_id=item.objective_id if item.objective_id in objective_ids else "",
                question=item.question,
                options=options,
                correct_index=item.correct_index,
                explanation=item.explanation,
                citations=item.citations,
            )
        )
    return usable
