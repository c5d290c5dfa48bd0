"""orchestrator_svc's domain types and pure rules (no proto, no SQL, no I/O)."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lmw_common.citations import Citation
from lmw_common.errors import FailedPrecondition
from lmw_common.preferences import Preferences
from orchestrator_svc import bkt


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


NO_OBJECTIVES = ModuleObjectives("", 0, False, ())


def approved(objectives: dict[str, ModuleObjectives], module: Module) -> ModuleObjectives:
    """The module's objectives, which content and quizzes are made from once the instructor approved them."""
    own = objectives.get(module.id)
    if own is None or not own.approved or not own.objectives:
        raise FailedPrecondition(
            "the module's learning objectives are not approved yet", "OBJECTIVES_NOT_APPROVED"
        )
    return own


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
    option_notes: tuple[str, ...] = ()  # per option: why it is wrong, where the material says so

    def explanation_for(self, selected: int) -> str:
        """The explanation, and why the chosen option is wrong when it is and the material says why."""
        wrong = selected != self.correct_index and 0 <= selected < len(self.option_notes)
        note = self.option_notes[selected] if wrong else ""
        return (
            f"{self.explanation} You chose \u201c{self.options[selected]}\u201d: {note}"
            if note
            else self.explanation
        )


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


def quiz_seed(learner_id: str, module_id: str, ordinal: int) -> int:
    """The generator's seed of a draw: the same draw always asks the same questions."""
    digest = hashlib.sha256(f"{learner_id}:{module_id}:{ordinal}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def usable_items(items: Sequence[QuizItem], objective_ids: set[str]) -> list[QuizItem]:
    """Well-formed questions only, with ids of our own (unique, and valid wherever they travel) and objective
    ids of the module (an unknown one is dropped)."""
    usable = []
    for item in items:
        if (
            not item.question.strip()
            or len(item.options) < 2
            or not 0 <= item.correct_index < len(item.options)
        ):
            continue
        usable.append(
            QuizItem(
                id=f"q{len(usable) + 1}",
                objective_id=item.objective_id if item.objective_id in objective_ids else "",
                question=item.question,
                options=tuple(item.options),
                correct_index=item.correct_index,
                explanation=item.explanation,
                citations=item.citations,
                option_notes=item.option_notes if len(item.option_notes) == len(item.options) else (),
            )
        )
    return usable


def pass_mark(module: Module, default: float) -> float:
    """The module's own pass mark, or `default` where the instructor set none."""
    return module.pass_mark if 0 < module.pass_mark <= 1 else default


class AttemptConflict(Exception):
    """A quiz store refuses an attempt: its id belongs to another quiz, or the quiz already has another one."""


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
class MasteryRules:
    """How answers turn into mastery (Bayesian Knowledge Tracing with `params`) and what counts as mastered
    or weak."""

    params: bkt.BktParams
    mastery_threshold: float
    weak_threshold: float
    max_recap_objectives: int

    def mastery(self, objective_id: str, module_id: str, p: float, answers: int, text: str = "") -> Mastery:
        return Mastery(objective_id, module_id, p, answers, text, p >= self.mastery_threshold)

    def is_weak(self, m: Mastery) -> bool:
        """Answered at least once and still below the weak threshold."""
        return bool(m.answer_count) and m.p_mastery < self.weak_threshold

    def trace(
        self, current: dict[str, Mastery], quiz: Quiz, questions: Sequence[GradedQuestion]
    ) -> list[Mastery]:
        """The new mastery of the quiz's objectives: BKT over the answers in question order, from the stored
        state (p_init for an objective never answered)."""
        updated: dict[str, Mastery] = {}
        for q in questions:
            if not q.objective_id:
                continue
            before = updated.get(q.objective_id) or current.get(q.objective_id)
            p = bkt.update(before.p_mastery if before else self.params.p_init, q.correct, self.params)
            updated[q.objective_id] = self.mastery(
                q.objective_id,
                before.module_id if before else quiz.module_id,
                p,
                (before.answer_count if before else 0) + 1,
                quiz.objective_texts.get(q.objective_id, ""),
            )
        return list(updated.values())

    def view(
        self, course: Course, objectives: dict[str, ModuleObjectives], mastery: dict[str, Mastery]
    ) -> list[Mastery]:
        """Every objective of the course in course order (p_init when never answered), then any answered
        objective that is no longer in the course."""
        view, seen = [], set()
        for module in course.modules:
            for objective in objectives.get(module.id, NO_OBJECTIVES).objectives:
                m = mastery.get(objective.id)
                p, answers = (m.p_mastery, m.answer_count) if m else (self.params.p_init, 0)
                view.append(self.mastery(objective.id, module.id, p, answers, objective.text))
                seen.add(objective.id)
        view += [
            self.mastery(m.objective_id, m.module_id, m.p_mastery, m.answer_count)
            for m in mastery.values()
            if m.objective_id not in seen
        ]
        return view

    def recap(
        self,
        course: Course,
        module: Module,
        objectives: dict[str, ModuleObjectives],
        mastery: dict[str, Mastery],
    ) -> list[Objective]:
        """Objectives of earlier modules the learner is weak at, weakest first, to recap at the module's start."""
        weak = [
            (mastery[o.id].p_mastery, o)
            for earlier in course.earlier(module.id)
            for o in objectives.get(earlier.id, NO_OBJECTIVES).objectives
            if o.id in mastery and self.is_weak(mastery[o.id])
        ]
        weak.sort(key=lambda pair: pair[0])
        return [objective for _, objective in weak[: self.max_recap_objectives]]


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


# What sme_svc streams while it generates.


@dataclass(frozen=True, slots=True)
class ContentEvent:
    delta: str = ""
    markdown: str | None = None  # set on the final event
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class AnswerEvent:
    delta: str = ""
    final: bool = False
    text: str = ""
    citations: tuple[Citation, ...] = ()
    grounded: bool = False
