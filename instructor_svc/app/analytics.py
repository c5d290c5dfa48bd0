"""Course analytics for its instructor, computed from learner_svc's facts (every page of them)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Protocol

from instructor_svc.app.access import CourseAccess, course_not_found, now
from instructor_svc.domain import (
    AttemptFact,
    Course,
    CourseAnalytics,
    LearnerFact,
    ModuleAnalytics,
    ObjectiveAnalytics,
    ScoreBucket,
    StuckLearner,
)
from lmw_common.auth import Principal

BUCKETS = 10
MAX_WEAKEST = 20
STUCK_FAILED_ATTEMPTS = 2
INACTIVE_AFTER = timedelta(days=7)


class CourseFacts(Protocol):
    async def get_course(self, course_id: str) -> Course | None: ...

    async def objective_texts(self, course_id: str) -> dict[str, tuple[str, str]]:
        """objective id -> (text, module id) for every current objective of the course."""
        ...


class LearnerFacts(Protocol):
    """learner_svc, which records progress and attempts."""

    def course_progress(self, course_id: str) -> AsyncIterator[LearnerFact]:
        """Every learner's progress in the course (every page of it)."""
        ...

    def quiz_attempts(self, course_id: str) -> AsyncIterator[AttemptFact]:
        """Every attempt of every learner in the course."""
        ...


def _bucket(score: float) -> int:
    return min(max(math.floor(score * BUCKETS + 1e-9), 0), BUCKETS - 1)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


class Analytics:
    def __init__(self, access: CourseAccess, repo: CourseFacts, learners: LearnerFacts) -> None:
        self._access = access
        self._repo = repo
        self._learners = learners

    async def course(self, caller: Principal, course_id: str) -> CourseAnalytics:
        header = await self._access.owned(caller, course_id)
        course = await self._repo.get_course(header.id)
        if course is None:
            raise course_not_found()
        module_ids = [m.id for m in course.modules]

        enrolled = active = 0
        active_learners: set[str] = set()
        started: Counter[str] = Counter()
        completed: Counter[str] = Counter()
        done_by_learner: dict[str, set[str]] = defaultdict(set)
        last_activity: dict[str, datetime | None] = {}
        async for fact in self._learners.course_progress(course.id):
            enrolled += 1
            if fact.active:
                active += 1
                active_learners.add(fact.learner_id)
            last_activity[fact.learner_id] = fact.last_activity
            for m in fact.modules:
                if m.started_at or m.completed_at:
                    started[m.module_id] += 1
                if m.completed_at:
                    completed[m.module_id] += 1
                    done_by_learner[fact.learner_id].add(m.module_id)

        attempts: Counter[str] = Counter()
        passed: Counter[str] = Counter()
        score_sum: defaultdict[str, float] = defaultdict(float)
        buckets = [0] * BUCKETS
        answers: Counter[str] = Counter()
        correct: Counter[str] = Counter()
        answer_module: dict[str, str] = {}
        failed: Counter[tuple[str, str]] = Counter()
        async for a in self._learners.quiz_attempts(course.id):
            attempts[a.module_id] += 1
            score_sum[a.module_id] += a.score
            buckets[_bucket(a.score)] += 1
            if a.passed:
                passed[a.module_id] += 1
            else:
                failed[(a.learner_id, a.module_id)] += 1
            last_activity[a.learner_id] = _later(last_activity.get(a.learner_id), a.submitted_at)
            for answer in a.answers:
                if answer.objective_id:
                    answers[answer.objective_id] += 1
                    correct[answer.objective_id] += answer.correct
                    answer_module.setdefault(answer.objective_id, a.module_id)

        modules = [
            ModuleAnalytics(
                module_id=m.id,
                title=m.title,
                started_count=started[m.id],
                completed_count=completed[m.id],
                completion_rate=completed[m.id] / enrolled if enrolled else 0.0,
                attempt_count=attempts[m.id],
                average_score=score_sum[m.id] / attempts[m.id] if attempts[m.id] else 0.0,
                passed_attempt_count=passed[m.id],
            )
            for m in course.modules
        ]
        distribution = [
            ScoreBucket(round(i / BUCKETS, 1), round((i + 1) / BUCKETS, 1), buckets[i])
            for i in range(BUCKETS)
        ]
        texts = await self._repo.objective_texts(course.id)
        weakest = sorted(
            (
                ObjectiveAnalytics(
                    objective_id=oid,
                    text=texts.get(oid, ("", ""))[0],
                    module_id=texts.get(oid, ("", answer_module[oid]))[1],
                    answer_count=count,
                    correct_rate=correct[oid] / count,
                )
                for oid, count in answers.items()
            ),
            key=lambda o: (o.correct_rate, -o.answer_count, o.objective_id),
        )[:MAX_WEAKEST]

        stuck: dict[tuple[str, str], StuckLearner] = {}
        for (learner_id, module_id), count in failed.items():
            if (
                learner_id in active_learners
                and count >= STUCK_FAILED_ATTEMPTS
                and module_id not in done_by_learner[learner_id]
            ):
                stuck[(learner_id, module_id)] = StuckLearner(
                    learner_id, module_id, count, last_activity.get(learner_id)
                )
        idle_before = now() - INACTIVE_AFTER
        for learner_id in active_learners:
            remaining = [m for m in module_ids if m not in done_by_learner[learner_id]]
            moment = last_activity.get(learner_id)
            if remaining and (moment is None or moment < idle_before):
                module_id = remaining[0]
                if (learner_id, module_id) not in stuck:
                    stuck[(learner_id, module_id)] = StuckLearner(
                        learner_id, module_id, failed[(learner_id, module_id)], moment
                    )
        stuck_list = sorted(
            stuck.values(),
            key=lambda s: (
                -s.failed_attempts,
                s.last_activity or datetime.min.replace(tzinfo=idle_before.tzinfo),
            ),
        )
        return CourseAnalytics(
            course_id=course.id,
            enrollment_count=enrolled,
            active_enrollment_count=active,
            modules=modules,
            score_distribution=distribution,
            weakest_objectives=weakest,
            stuck_learners=stuck_list,
        )
