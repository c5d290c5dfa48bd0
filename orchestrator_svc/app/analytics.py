"""Where a learner stands in a course: the dashboard (modules with their status, progress, preferences, recent
results, mastery and the next step) and the learner's analytics. A learner sees their own; a service any
learner's."""

from __future__ import annotations

from typing import Protocol

from lmw_common import validation as v
from lmw_common.auth import Principal, own_or_service
from lmw_common.preferences import Preferences
from orchestrator_svc.app.access import CourseAccess, CourseCatalog, gather_in_order
from orchestrator_svc.domain import (
    AttemptSummary,
    Dashboard,
    LearnerAnalytics,
    Mastery,
    MasteryRules,
    ModuleObjectives,
    ModuleSummary,
    module_status,
    next_step,
)


class LearnerRecords(Protocol):
    async def recent_results(self, learner_id: str, course_id: str) -> list[AttemptSummary]: ...

    async def preferences(self, learner_id: str, course_id: str) -> Preferences: ...

    async def mastery(self, learner_id: str, course_id: str) -> dict[str, Mastery]: ...


class ShownObjectives(Protocol):
    async def shown_objectives(self, course_id: str) -> dict[str, ModuleObjectives]:
        """Every module's objectives as shown to learners (may be a few seconds old)."""
        ...


class AttemptStats(Protocol):
    async def attempt_stats(self, learner_id: str, course_id: str) -> tuple[int, float]:
        """How many attempts the learner made in the course, and their average score."""
        ...


class TutorQuestions(Protocol):
    async def question_count(self, learner_id: str, course_id: str) -> int: ...


class Standing:
    def __init__(
        self,
        access: CourseAccess,
        courses: CourseCatalog,
        objectives: ShownObjectives,
        learners: LearnerRecords,
        attempts: AttemptStats,
        tutor: TutorQuestions,
        rules: MasteryRules,
    ) -> None:
        self._access = access
        self._courses = courses
        self._objectives = objectives
        self._learners = learners
        self._attempts = attempts
        self._tutor = tutor
        self._rules = rules

    async def dashboard(self, caller: Principal, learner_id: str, course_id: str) -> Dashboard:
        learner = own_or_service(caller, learner_id)
        course_id = v.identifier(course_id, "course_id")
        progress, course, objectives, results, preferences, mastery = await gather_in_order(
            self._access.enrollment(learner, course_id, active=False),
            self._courses.course(course_id),
            self._objectives.shown_objectives(course_id),
            self._learners.recent_results(learner, course_id),
            self._learners.preferences(learner, course_id),
            self._learners.mastery(learner, course_id),
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
            recent_results=tuple(results),
            mastery=tuple(self._rules.view(course, objectives, mastery)),
            next_step=next_step(course, progress),
        )

    async def analytics(self, caller: Principal, learner_id: str, course_id: str) -> LearnerAnalytics:
        learner = own_or_service(caller, learner_id)
        course_id = v.identifier(course_id, "course_id")
        _, course, objectives, (attempts, average), mastery, questions = await gather_in_order(
            self._access.enrollment(learner, course_id, active=False),
            self._courses.course(course_id),
            self._objectives.shown_objectives(course_id),
            self._attempts.attempt_stats(learner, course_id),
            self._learners.mastery(learner, course_id),
            self._tutor.question_count(learner, course_id),
        )
        view = self._rules.view(course, objectives, mastery)
        return LearnerAnalytics(
            learner_id=learner,
            course_id=course_id,
            attempt_count=attempts,
            average_score=average,
            mastery=tuple(view),
            weak_objective_ids=tuple(m.objective_id for m in view if self._rules.is_weak(m)),
            tutor_question_count=questions,
        )
