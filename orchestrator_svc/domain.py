"""orchestrator_svc's domain types and pure rules (no proto, no SQL, no I/O)."""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

DETAIL_LEVELS = ("brief", "moderate", "detailed")
EXPLANATION_STYLES = ("examples", "conceptual", "practical", "visual")
LANGUAGE_LEVELS = ("simple", "balanced", "technical")


@dataclass(frozen=True, slots=True)
class Preferences:
    detail_level: str = "moderate"
    explanation_style: str = "conceptual"
    language: str = "balanced"

    def as_dict(self) -> dict[str, str]:
        return {
            "detail_level": self.detail_level,
            "explanation_style": self.explanation_style,
            "language": self.language,
        }


DEFAULT_PREFERENCES = Preferences()


@dataclass(frozen=True, slots=True)
class Citation:
    chunk_id: str = ""
    file_id: str = ""
    file_name: str = ""
    page: int = 0
    slide: int = 0
    heading: str = ""
    char_start: int = 0
    char_end: int = 0
    snippet: str = ""

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict) -> Citation:
        return cls(**{k: v for k, v in data.items() if k in cls.__slots__})


@dataclass(frozen=True, slots=True)
class Objective:
    id: str
    text: str
    module_id: str = ""


@dataclass(frozen=True, slots=True)
class Module:
    id: str
    title: str
    description: str
    position: int
    objectives_version: int
    objectives_approved: bool
    pass_mark: float  # 0 when the instructor set none


@dataclass(frozen=True, slots=True)
class Course:
    id: str
    title: str
    description: str
    published: bool
    materials_version: int
    modules: tuple[Module, ...]  # in course order

    def module(self, module_id: str) -> Module | None:
        return next((m for m in self.modules if m.id == module_id), None)

    def index_of(self, module_id: str) -> int:
        return next(i for i, m in enumerate(self.modules) if m.id == module_id)

    def earlier(self, module_id: str) -> tuple[Module, ...]:
        return self.modules[: self.index_of(module_id)]

    def next_after(self, module_id: str) -> Module | None:
        i = self.index_of(module_id)
        return self.modules[i + 1] if i + 1 < len(self.modules) else None


@dataclass(frozen=True, slots=True)
class ModuleObjectives:
    module_id: str
    version: int
    approved: bool
    objectives: tuple[Objective, ...]


@dataclass(slots=True)
class ModuleProgress:
    module_id: str
    started: bool = False
    completed: bool = False
    attempt_count: int = 0
    best_score: float = 0.0
    passed: bool = False


@dataclass(slots=True)
class CourseProgress:
    learner_id: str
    course_id: str
    active: bool
    modules: dict[str, ModuleProgress] = field(default_factory=dict)

    def of(self, module_id: str) -> ModuleProgress:
        return self.modules.get(module_id) or ModuleProgress(module_id)


def is_unlocked(course: Course, progress: CourseProgress, module_id: str) -> bool:
    """Sequential unlock: a module opens once every module before it in the course is completed."""
    return all(progress.of(m.id).completed for m in course.earlier(module_id))


class ModuleStatus(enum.Enum):
    LOCKED = "locked"
    AVAILABLE = "available"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


def module_status(course: Course, progress: CourseProgress, module_id: str) -> ModuleStatus:
    p = progress.of(module_id)
    if p.completed:
        return ModuleStatus.COMPLETED
    if not is_unlocked(course, progress, module_id):
        return ModuleStatus.LOCKED
    if p.started or p.attempt_count:
        return ModuleStatus.IN_PROGRESS
    return ModuleStatus.AVAILABLE


class NextStepKind(enum.Enum):
    READ = "read"
    TAKE_QUIZ = "take_quiz"
    RETAKE_QUIZ = "retake_quiz"
    COMPLETE_MODULE = "complete_module"
    COURSE_COMPLETED = "course_completed"


@dataclass(frozen=True, slots=True)
class NextStep:
    kind: NextStepKind
    module_id: str
    message: str


def next_step(course: Course, progress: CourseProgress) -> NextStep:
    """What the learner should do now: work on the first module not completed yet."""
    for module in course.modules:
        p = progress.of(module.id)
        if p.completed:
            continue
        if p.passed:
            return NextStep(
                NextStepKind.COMPLETE_MODULE,
                module.id,
                f"You passed the quiz of “{module.title}”: complete the module to unlock the next one.",
            )
        if p.attempt_count:
            return NextStep(
                NextStepKind.RETAKE_QUIZ,
                module.id,
                f"Your best score in “{module.title}” is {p.best_score:.0%}: review the content and retake "
                "the quiz.",
            )
        if p.started:
            return NextStep(
                NextStepKind.TAKE_QUIZ, module.id, f"Take the quiz of “{module.title}” when you are ready."
            )
        return NextStep(NextStepKind.READ, module.id, f"Start reading “{module.title}”.")
    if not course.modules:
        return NextStep(NextStepKind.READ, "", "This course has no modules yet.")
    return NextStep(NextStepKind.COURSE_COMPLETED, "", "You completed every module of this course.")


@dataclass(frozen=True, slots=True)
class ContentInputs:
    """What a learner's module content is built from; its hash keys the cache."""

    course_id: str
    module_id: str
    preferences: Preferences
    objectives_version: int
    materials_version: int

    def digest(self) -> str:
        payload = json.dumps(
            {
                "course": self.course_id,
                "module": self.module_id,
                "preferences": self.preferences.as_dict(),
                "objectives_version": self.objectives_version,
                "materials_version": self.materials_version,
            },
            sort_keys=True,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ModuleContent:
    learner_id: str
    course_id: str
    module_id: str
    markdown: str
    citations: tuple[Citation, ...]
    preferences: Preferences
    objectives_version: int
    materials_version: int
    recap_objective_ids: tuple[str, ...]
    generated_at: datetime


@dataclass(frozen=True, slots=True)
class QuizItem:
    id: str
    objective_id: str
    question: str
    options: tuple[str, ...]
    correct_index: int
    explanation: str
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class Quiz:
    id: str
    learner_id: str
    course_id: str
    module_id: str
    ordinal: int  # 0 for the first quiz of (learner, module), then one per retake
    seed: int
    items: tuple[QuizItem, ...]
    objective_texts: dict[str, str]
    pass_mark: float
    created_at: datetime
    submitted_attempt_id: str = ""

    @property
    def submitted(self) -> bool:
        return bool(self.submitted_attempt_id)


@dataclass(frozen=True, slots=True)
class GradedQuestion:
    question_id: str
    objective_id: str
    selected_index: int  # -1 when unanswered
    correct_index: int
    correct: bool
    explanation: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class Mastery:
    objective_id: str
    module_id: str
    p_mastery: float
    answer_count: int
    text: str = ""
    mastered: bool = False


@dataclass(frozen=True, slots=True)
class QuizResult:
    attempt_id: str
    quiz_id: str
    learner_id: str
    course_id: str
    module_id: str
    score: float
    passed: bool
    pass_mark: float
    questions: tuple[GradedQuestion, ...]
    mastery: tuple[Mastery, ...]
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class AttemptSummary:
    attempt_id: str
    module_id: str
    score: float
    passed: bool
    submitted_at: datetime | None


@dataclass(frozen=True, slots=True)
class TutorMessage:
    id: str
    role: str  # "learner" | "tutor"
    text: str
    citations: tuple[Citation, ...]
    grounded: bool
    module_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ModuleSummary:
    module_id: str
    title: str
    position: int
    status: ModuleStatus
    best_score: float
    attempt_count: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    learner_id: str
    course: Course
    modules: tuple[ModuleSummary, ...]
    completed_module_count: int
    progress: float
    preferences: Preferences
    recent_results: tuple[AttemptSummary, ...]
    mastery: tuple[Mastery, ...]
    next_step: NextStep


@dataclass(frozen=True, slots=True)
class LearnerAnalytics:
    learner_id: str
    course_id: str
    attempt_count: int
    average_score: float
    mastery: tuple[Mastery, ...]
    weak_objective_ids: tuple[str, ...]
    tutor_question_count: int
