"""Clients of learner_svc, instructor_svc and sme_svc. Every call carries orchestrator_svc's service token
(the channel adds it) and a deadline (the channel's default, or the generation timeout for sme_svc); every
call to sme_svc goes through the circuit breaker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import grpc

from lmw.common.v1 import common_pb2 as cpb
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.instructor.v1 import instructor_service_pb2_grpc as ipb_grpc
from lmw.learner.v1 import learner_service_pb2 as lpb
from lmw.learner.v1 import learner_service_pb2_grpc as lpb_grpc
from lmw.sme.v1 import sme_service_pb2 as spb
from lmw.sme.v1 import sme_service_pb2_grpc as spb_grpc
from lmw_common.breaker import GuardedDependency
from lmw_common.citations import citation_from_pb
from lmw_common.errors import DomainError, NotFound, Unavailable, from_rpc_error
from lmw_common.preferences import Preferences, preferences_pb
from lmw_common.protoconv import from_timestamp, timestamp
from lmw_common.ttl_cache import TtlCache
from orchestrator_svc.domain import (
    AnswerEvent,
    AttemptSummary,
    ContentEvent,
    Course,
    CourseProgress,
    Module,
    ModuleObjectives,
    ModuleProgress,
    Objective,
    QuizItem,
    QuizResult,
)


def _objective_pb(o: Objective) -> cpb.LearningObjective:
    return cpb.LearningObjective(id=o.id, text=o.text)


async def _unary(call):
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        raise from_rpc_error(exc) from exc


class LearnerClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = lpb_grpc.LearnerServiceStub(channel)

    async def course_progress(self, learner_id: str, course_id: str) -> CourseProgress | None:
        """None when the learner never enrolled in the course."""
        try:
            response = await _unary(
                self._stub.GetCourseProgress(
                    lpb.GetCourseProgressRequest(learner_id=learner_id, course_id=course_id)
                )
            )
        except NotFound:
            return None
        p = response.progress
        modules = {
            m.module_id: ModuleProgress(
                module_id=m.module_id,
                started=m.state in (lpb.MODULE_STATE_IN_PROGRESS, lpb.MODULE_STATE_COMPLETED),
                completed=m.state == lpb.MODULE_STATE_COMPLETED,
                attempt_count=m.attempt_count,
                best_score=m.best_score,
                passed=m.passed,
            )
            for m in p.modules
        }
        active = p.enrollment.state == lpb.ENROLLMENT_STATE_ACTIVE
        return CourseProgress(learner_id, course_id, active, modules)

    async def record_module_event(
        self, learner_id: str, course_id: str, module_id: str, completed: bool
    ) -> None:
        kind = lpb.MODULE_EVENT_TYPE_COMPLETED if completed else lpb.MODULE_EVENT_TYPE_STARTED
        await _unary(
            self._stub.RecordModuleEvent(
                lpb.RecordModuleEventRequest(
                    learner_id=learner_id, course_id=course_id, module_id=module_id, type=kind
                )
            )
        )

    async def record_quiz_attempt(self, result: QuizResult) -> None:
        attempt = lpb.QuizAttempt(
            id=result.attempt_id,
            learner_id=result.learner_id,
            course_id=result.course_id,
            module_id=result.module_id,
            quiz_id=result.quiz_id,
            score=result.score,
            passed=result.passed,
            submit_time=timestamp(result.submitted_at),
            results=[
                lpb.QuestionResult(
                    question_id=q.question_id,
                    objective_id=q.objective_id,
                    selected_index=q.selected_index,
                    correct=q.correct,
                )
                for q in result.questions
            ],
        )
        await _unary(self._stub.RecordQuizAttempt(lpb.RecordQuizAttemptRequest(attempt=attempt)))

    async def recent_attempts(self, learner_id: str, course_id: str, limit: int) -> list[AttemptSummary]:
        response = await _unary(
            self._stub.ListQuizAttempts(
                lpb.ListQuizAttemptsRequest(learner_id=learner_id, course_id=course_id, page_size=limit)
            )
        )
        return [
            AttemptSummary(a.id, a.module_id, a.score, a.passed, from_timestamp(a.submit_time))
            for a in response.attempts
        ]


class InstructorClient:
    def __init__(self, channel: grpc.aio.Channel, course_ttl_s: float = 0.0) -> None:
        self._stub = ipb_grpc.InstructorServiceStub(channel)
        # Every learner request needs its course's structure; many learners share a course.
        self._courses: TtlCache[Course] = TtlCache(course_ttl_s)
        self._shown_objectives: TtlCache[dict[str, ModuleObjectives]] = TtlCache(course_ttl_s)

    def caches(self) -> dict[str, TtlCache]:
        """Its caches by name (for lmw_common.metrics)."""
        return {"courses": self._courses, "shown_objectives": self._shown_objectives}

    async def course(self, course_id: str) -> Course:
        """The course and its modules, as instructor_svc said at most `course_ttl_s` seconds ago."""
        return await self._courses.get(course_id, lambda: self._fetch_course(course_id))

    async def _fetch_course(self, course_id: str) -> Course:
        response = await _unary(self._stub.GetCourse(ipb.GetCourseRequest(course_id=course_id)))
        c = response.course
        modules = tuple(
            Module(
                id=m.id,
                title=m.title,
                description=m.description,
                position=m.position,
                objectives_version=m.objectives_version,
                objectives_approved=m.objectives_approved,
                pass_mark=m.pass_mark,
            )
            for m in sorted(c.modules, key=lambda m: m.position)
        )
        return Course(c.id, c.title, c.description, c.published, c.materials_version, modules)

    async def objectives(self, course_id: str, module_id: str = "") -> dict[str, ModuleObjectives]:
        """The objectives of one module, or of every module of the course, by module id (what generation
        works from: always asked afresh)."""
        found: dict[str, ModuleObjectives] = {}
        token = ""
        for _ in range(100):  # pages; a course has far fewer modules than 100 pages of them
            response = await _unary(
                self._stub.ListLearningObjectives(
                    ipb.ListLearningObjectivesRequest(
                        course_id=course_id, module_id=module_id, page_size=100, page_token=token
                    )
                )
            )
            for m in response.modules:
                found[m.module_id] = ModuleObjectives(
                    m.module_id,
                    m.version,
                    m.approved,
                    tuple(Objective(o.id, o.text, m.module_id) for o in m.objectives),
                )
            token = response.next_page_token
            if not token:
                break
        return found

    async def shown_objectives(self, course_id: str) -> dict[str, ModuleObjectives]:
        """Every module's objectives as shown to learners (dashboard, analytics), as instructor_svc said at
        most `course_ttl_s` seconds ago. Shared between callers: read it, never change it."""
        return await self._shown_objectives.get(course_id, lambda: self.objectives(course_id))


class SmeClient:
    """sme_svc behind a circuit breaker: when it is down, calls fail fast with UNAVAILABLE."""

    def __init__(self, channel: grpc.aio.Channel, guard: GuardedDependency, timeout_s: float) -> None:
        self._stub = spb_grpc.SmeServiceStub(channel)
        self._guard = guard
        self._timeout_s = timeout_s

    async def generate_content(
        self,
        course_id: str,
        module: Module,
        objectives: Sequence[Objective],
        preferences: Preferences,
        recap: Sequence[Objective],
    ) -> AsyncIterator[ContentEvent]:
        request = spb.GenerateModuleContentRequest(
            course_id=course_id,
            module_title=module.title,
            module_description=module.description,
            objectives=[_objective_pb(o) for o in objectives],
            preferences=preferences_pb(preferences),
            recap_objectives=[_objective_pb(o) for o in recap],
            module_id=module.id,
        )
        stream = self._guard.stream(
            lambda: self._stub.GenerateModuleContent(request, timeout=self._timeout_s)
        )
        async for event in _clear_errors(stream, "content generation"):
            if event.HasField("content"):
                yield ContentEvent(
                    markdown=event.content.markdown,
                    citations=tuple(citation_from_pb(c) for c in event.content.citations),
                )
            elif event.markdown_delta:
                yield ContentEvent(delta=event.markdown_delta)

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
        request = spb.GenerateQuizRequest(
            course_id=course_id,
            module_title=module.title,
            objectives=[_objective_pb(o) for o in objectives],
            question_count=count,
            focus_objective_ids=list(focus_objective_ids),
            seed=seed,
            module_id=module.id,
            seen_questions=list(seen_questions),
        )
        try:
            response = await self._guard.call(
                lambda: self._stub.GenerateQuiz(request, timeout=self._timeout_s)
            )
        except DomainError as exc:
            raise _clear(exc, "quiz generation") from exc
        return [
            QuizItem(
                id=i.id,
                objective_id=i.objective_id,
                question=i.question,
                options=tuple(i.options),
                correct_index=i.correct_index,
                explanation=i.explanation,
                citations=tuple(citation_from_pb(c) for c in i.citations),
                option_notes=tuple(i.option_notes),
            )
            for i in response.items
        ]

    async def answer(
        self,
        course_id: str,
        question: str,
        history: Sequence[tuple[str, str]],
        protected_questions: Sequence[str],
        module_id: str,
    ) -> AsyncIterator[AnswerEvent]:
        roles = {"learner": spb.TURN_ROLE_LEARNER, "tutor": spb.TURN_ROLE_TUTOR}
        request = spb.AnswerRequest(
            course_id=course_id,
            question=question,
            history=[spb.ConversationTurn(role=roles[role], text=text) for role, text in history],
            protected_questions=list(protected_questions),
            module_id=module_id,
        )
        stream = self._guard.stream(lambda: self._stub.Answer(request, timeout=self._timeout_s))
        async for event in _clear_errors(stream, "the tutor"):
            if event.HasField("answer"):
                yield AnswerEvent(
                    final=True,
                    text=event.answer.text,
                    citations=tuple(citation_from_pb(c) for c in event.answer.citations),
                    grounded=event.answer.grounded,
                )
            elif event.text_delta:
                yield AnswerEvent(delta=event.text_delta)


def _clear(exc: DomainError, what: str) -> DomainError:
    """sme_svc being down reads as such to the learner, whatever the transport said."""
    if isinstance(exc, Unavailable) and exc.reason != "DEPENDENCY_UNAVAILABLE":
        return Unavailable(
            f"{what} is unavailable right now (sme_svc cannot be reached); try again shortly",
            "DEPENDENCY_UNAVAILABLE",
            dependency="sme_svc",
        )
    return exc


async def _clear_errors(stream: AsyncIterator, what: str) -> AsyncIterator:
    try:
        async for item in stream:
            yield item
    except DomainError as exc:
        raise _clear(exc, what) from exc
