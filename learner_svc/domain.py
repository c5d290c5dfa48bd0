"""learner_svc's domain types (no proto, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Learner:
    id: str
    email: str
    display_name: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Enrollment:
    learner_id: str
    course_id: str
    active: bool
    enrolled_at: datetime
    unenrolled_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question_id: str
    objective_id: str
    selected_index: int
    correct: bool


@dataclass(frozen=True, slots=True)
class QuizAttempt:
    id: str
    learner_id: str
    course_id: str
    module_id: str
    quiz_id: str
    score: float
    passed: bool
    results: tuple[QuestionResult, ...]
    submitted_at: datetime


@dataclass(slots=True)
class ModuleProgress:
    module_id: str
    started_at: datetime | None = None
    completed_at: datetime | None = None
    attempt_count: int = 0
    best_score: float = 0.0
    passed: bool = False


@dataclass(slots=True)
class CourseProgress:
    learner_id: str
    course_id: str
    enrollment: Enrollment
    modules: list[ModuleProgress] = field(default_factory=list)

    @property
    def completed_module_count(self) -> int:
        return sum(1 for m in self.modules if m.completed_at is not None)

    @property
    def last_activity(self) -> datetime | None:
        moments = [self.enrollment.enrolled_at]
        for m in self.modules:
            moments += [t for t in (m.started_at, m.completed_at) if t is not None]
        return max(moments)
