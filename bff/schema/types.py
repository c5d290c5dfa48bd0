"""GraphQL object types and enums, each built from its proto message (`from_pb`)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Generic, TypeVar

import strawberry
from google.protobuf.message import Message
from strawberry.types import Info

from bff.loaders import get_loaders
from lmw.common.v1 import common_pb2 as cpb
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.learner.v1 import learner_service_pb2 as lpb
from lmw.orchestrator.v1 import orchestrator_service_pb2 as opb
from lmw_common import preferences
from lmw_common.protoconv import from_timestamp

T = TypeVar("T")


def _time(message: Message, field: str) -> datetime | None:
    return from_timestamp(getattr(message, field)) if message.HasField(field) else None


# ---------------------------------------------------------------------------------------------- enums


@strawberry.enum
class Role(enum.Enum):
    LEARNER = "learner"
    INSTRUCTOR = "instructor"


@strawberry.enum
class JobState(enum.Enum):
    QUEUED = cpb.JOB_STATE_QUEUED
    RUNNING = cpb.JOB_STATE_RUNNING
    SUCCEEDED = cpb.JOB_STATE_SUCCEEDED
    FAILED = cpb.JOB_STATE_FAILED


_PREFERENCE_ENUMS: dict[str, type[enum.Enum]] = {}


def _preference_enum(name: str, dimension: str) -> type[enum.Enum]:
    """A preference dimension's values (lmw_common.preferences) as a GraphQL enum: "brief" is BRIEF."""
    values = strawberry.enum(
        enum.Enum(name, {value.upper(): value for value in preferences.ALLOWED[dimension]})
    )
    _PREFERENCE_ENUMS[dimension] = values
    return values


DetailLevel = _preference_enum("DetailLevel", "detail_level")
ExplanationStyle = _preference_enum("ExplanationStyle", "explanation_style")
LanguageLevel = _preference_enum("LanguageLevel", "language")


@strawberry.enum
class EnrollmentState(enum.Enum):
    ACTIVE = lpb.ENROLLMENT_STATE_ACTIVE
    UNENROLLED = lpb.ENROLLMENT_STATE_UNENROLLED


@strawberry.enum
class FileState(enum.Enum):
    PENDING = ipb.FILE_STATE_PENDING
    INDEXING = ipb.FILE_STATE_INDEXING
    INDEXED = ipb.FILE_STATE_INDEXED
    FAILED = ipb.FILE_STATE_FAILED


@strawberry.enum
class IndexState(enum.Enum):
    EMPTY = ipb.INDEX_STATE_EMPTY
    INDEXING = ipb.INDEX_STATE_INDEXING
    READY = ipb.INDEX_STATE_READY
    PARTIAL = ipb.INDEX_STATE_PARTIAL


@strawberry.enum
class ModuleStatus(enum.Enum):
    LOCKED = opb.MODULE_STATUS_LOCKED
    AVAILABLE = opb.MODULE_STATUS_AVAILABLE
    IN_PROGRESS = opb.MODULE_STATUS_IN_PROGRESS
    COMPLETED = opb.MODULE_STATUS_COMPLETED


@strawberry.enum
class NextStepKind(enum.Enum):
    READ = opb.NEXT_STEP_KIND_READ
    TAKE_QUIZ = opb.NEXT_STEP_KIND_TAKE_QUIZ
    RETAKE_QUIZ = opb.NEXT_STEP_KIND_RETAKE_QUIZ
    COMPLETE_MODULE = opb.NEXT_STEP_KIND_COMPLETE_MODULE
    COURSE_COMPLETED = opb.NEXT_STEP_KIND_COURSE_COMPLETED


@strawberry.enum
class TutorRole(enum.Enum):
    LEARNER = opb.TUTOR_ROLE_LEARNER
    TUTOR = opb.TUTOR_ROLE_TUTOR


E = TypeVar("E", bound=enum.Enum)


def _enum(kind: type[E], value: int, default: E | None = None) -> E | None:
    """A proto enum value as a GraphQL enum; UNSPECIFIED (0) or unknown values give `default`."""
    try:
        return kind(value)
    except ValueError:
        return default


# ---------------------------------------------------------------------------------------- pagination


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


# --------------------------------------------------------------------------------------------- users


@strawberry.interface
class User:
    id: strawberry.ID
    email: str
    display_name: str
    create_time: datetime | None
    role: Role


@strawberry.type
class Learner(User):
    @staticmethod
    def from_pb(m: lpb.Learner) -> Learner:
        return Learner(
            id=strawberry.ID(m.id),
            email=m.email,
            display_name=m.display_name,
            create_time=_time(m, "create_time"),
            role=Role.LEARNER,
        )


@strawberry.type
class Instructor(User):
    @staticmethod
    def from_pb(m: ipb.Instructor) -> Instructor:
        return Instructor(
            id=strawberry.ID(m.id),
            email=m.email,
            display_name=m.display_name,
            create_time=_time(m, "create_time"),
            role=Role.INSTRUCTOR,
        )


@strawberry.type
class AuthPayload:
    token: str
    expires_at: datetime | None
    role: Role
    user: User


# ------------------------------------------------------------------------------------------- courses


@strawberry.type
class Module:
    id: strawberry.ID
    course_id: strawberry.ID
    title: str
    description: str
    position: int
    objectives_version: int
    objectives_approved: bool
    objectives_stale: bool
    pass_mark: float

    @staticmethod
    def from_pb(m: ipb.Module) -> Module:
        return Module(
            id=strawberry.ID(m.id),
            course_id=strawberry.ID(m.course_id),
            title=m.title,
            description=m.description,
            position=m.position,
            objectives_version=m.objectives_version,
            objectives_approved=m.objectives_approved,
            objectives_stale=m.objectives_stale,
            pass_mark=m.pass_mark,
        )


@strawberry.type
class Course:
    id: strawberry.ID
    instructor_id: strawberry.ID
    title: str
    description: str
    published: bool
    modules: list[Module]
    create_time: datetime | None
    update_time: datetime | None
    materials_version: int

    @staticmethod
    def from_pb(m: ipb.Course) -> Course:
        return Course(
            id=strawberry.ID(m.id),
            instructor_id=strawberry.ID(m.instructor_id),
            title=m.title,
            description=m.description,
            published=m.published,
            modules=[Module.from_pb(module) for module in m.modules],
            create_time=_time(m, "create_time"),
            update_time=_time(m, "update_time"),
            materials_version=m.materials_version,
        )


async def _load_course(info: Info, course_id: str) -> Course | None:
    """The course of an enrollment or dashboard the caller was allowed to see."""
    if not course_id:
        return None
    return Course.from_pb(await get_loaders(info.context).enrolled_course(course_id))


@strawberry.type
class Enrollment:
    learner_id: strawberry.ID
    course_id: strawberry.ID
    state: EnrollmentState | None
    enroll_time: datetime | None
    unenroll_time: datetime | None

    @strawberry.field(description="The course, through a per-request DataLoader (deduplicated, concurrent).")
    async def course(self, info: Info) -> Course | None:
        return await _load_course(info, self.course_id)

    @staticmethod
    def from_pb(m: lpb.Enrollment) -> Enrollment:
        return Enrollment(
            learner_id=strawberry.ID(m.learner_id),
            course_id=strawberry.ID(m.course_id),
            state=_enum(EnrollmentState, m.state),
            enroll_time=_time(m, "enroll_time"),
            unenroll_time=_time(m, "unenroll_time"),
        )


@strawberry.type
class Citation:
    chunk_id: str
    file_id: str
    file_name: str
    page: int
    slide: int
    heading: str
    char_start: int
    char_end: int
    snippet: str

    @staticmethod
    def from_pb(m: cpb.Citation) -> Citation:
        return Citation(
            chunk_id=m.chunk_id,
            file_id=m.file_id,
            file_name=m.file_name,
            page=m.page,
            slide=m.slide,
            heading=m.heading,
            char_start=m.char_start,
            char_end=m.char_end,
            snippet=m.snippet,
        )


def _citations(items) -> list[Citation]:
    return [Citation.from_pb(c) for c in items]


# ---------------------------------------------------------------------------------------------- jobs


@strawberry.type
class JobItem:
    id: str
    name: str
    state: JobState | None
    message: str
    chunk_count: int


@strawberry.type
class Job:
    id: strawberry.ID
    kind: str
    state: JobState | None
    progress: float
    message: str
    course_id: strawberry.ID
    items_done: int
    items_total: int
    items: list[JobItem]
    create_time: datetime | None
    update_time: datetime | None
    end_time: datetime | None

    @strawberry.field(description="True once the job succeeded or failed.")
    def done(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)

    @staticmethod
    def from_pb(m: cpb.Job) -> Job:
        return Job(
            id=strawberry.ID(m.id),
            kind=m.kind,
            state=_enum(JobState, m.state),
            progress=m.progress,
            message=m.message,
            course_id=strawberry.ID(m.course_id),
            items_done=m.items_done,
            items_total=m.items_total,
            items=[
                JobItem(
                    id=i.id,
                    name=i.name,
                    state=_enum(JobState, i.state),
                    message=i.message,
                    chunk_count=i.chunk_count,
                )
                for i in m.items
            ],
            create_time=_time(m, "create_time"),
            update_time=_time(m, "update_time"),
            end_time=_time(m, "end_time"),
        )


# --------------------------------------------------------------------------------------------- files


@strawberry.type
class CourseFile:
    id: strawberry.ID
    course_id: strawberry.ID
    name: str
    media_type: str
    size_bytes: float = strawberry.field(description="Size in bytes (a Float: files may exceed 2^31).")
    sha256: str
    state: FileState | None
    state_message: str
    chunk_count: int
    create_time: datetime | None
    module_id: strawberry.ID | None = strawberry.field(
        description="The module the file belongs to; null for a course-wide file."
    )

    @staticmethod
    def from_pb(m: ipb.CourseFile) -> CourseFile:
        return CourseFile(
            id=strawberry.ID(m.id),
            course_id=strawberry.ID(m.course_id),
            name=m.name,
            media_type=m.media_type,
            size_bytes=float(m.size_bytes),
            sha256=m.sha256,
            state=_enum(FileState, m.state),
            state_message=m.state_message,
            chunk_count=m.chunk_count,
            create_time=_time(m, "create_time"),
            module_id=strawberry.ID(m.module_id) if m.module_id else None,
        )


@strawberry.type
class UploadResult:
    file: CourseFile
    job: Job | None
    duplicate: bool

    @staticmethod
    def from_pb(m: ipb.UploadCourseFileResponse) -> UploadResult:
        return UploadResult(
            file=CourseFile.from_pb(m.file),
            job=Job.from_pb(m.job) if m.HasField("job") else None,
            duplicate=m.duplicate,
        )


@strawberry.type
class IndexingStatus:
    state: IndexState | None
    file_count: int
    indexed_file_count: int
    failed_file_count: int
    chunk_count: int
    last_job: Job | None

    @staticmethod
    def from_pb(m: ipb.GetIndexingStatusResponse) -> IndexingStatus:
        return IndexingStatus(
            state=_enum(IndexState, m.state),
            file_count=m.file_count,
            indexed_file_count=m.indexed_file_count,
            failed_file_count=m.failed_file_count,
            chunk_count=m.chunk_count,
            last_job=Job.from_pb(m.last_job) if m.HasField("last_job") else None,
        )


# ---------------------------------------------------------------------------------------- objectives


@strawberry.type
class LearningObjective:
    id: strawberry.ID
    text: str
    citations: list[Citation]

    @staticmethod
    def from_pb(m: cpb.LearningObjective) -> LearningObjective:
        return LearningObjective(id=strawberry.ID(m.id), text=m.text, citations=_citations(m.citations))


@strawberry.type
class ModuleObjectives:
    module_id: strawberry.ID
    version: int
    approved: bool
    stale: bool
    objectives: list[LearningObjective]

    @staticmethod
    def from_pb(m: ipb.ModuleObjectives) -> ModuleObjectives:
        return ModuleObjectives(
            module_id=strawberry.ID(m.module_id),
            version=m.version,
            approved=m.approved,
            stale=m.stale,
            objectives=[LearningObjective.from_pb(o) for o in m.objectives],
        )


@strawberry.input
class LearningObjectiveInput:
    id: strawberry.ID | None = strawberry.field(default=None, description="Empty for a new objective.")
    text: str


# --------------------------------------------------------------------------------------- preferences


@strawberry.type
class Preferences:
    detail_level: DetailLevel
    explanation_style: ExplanationStyle
    language: LanguageLevel

    @staticmethod
    def from_pb(m: cpb.Preferences) -> Preferences:
        values = preferences.preferences_from_pb(m).as_dict()
        return Preferences(**{d: _PREFERENCE_ENUMS[d](value) for d, value in values.items()})


@strawberry.input
class PreferencesInput:
    detail_level: DetailLevel | None = None
    explanation_style: ExplanationStyle | None = None
    language: LanguageLevel | None = None

    def changes(self) -> dict[str, str]:
        """The dimensions given, by name (those left out keep their values)."""
        return {d: value.value for d in preferences.DIMENSIONS if (value := getattr(self, d)) is not None}


# ------------------------------------------------------------------------------------------- content


@strawberry.type
class ModuleContent:
    course_id: strawberry.ID
    module_id: strawberry.ID
    markdown: str
    citations: list[Citation]
    preferences: Preferences
    objectives_version: int
    materials_version: int
    recap_objective_ids: list[strawberry.ID]
    generate_time: datetime | None

    @staticmethod
    def from_pb(m: opb.ModuleContent) -> ModuleContent:
        return ModuleContent(
            course_id=strawberry.ID(m.course_id),
            module_id=strawberry.ID(m.module_id),
            markdown=m.markdown,
            citations=_citations(m.citations),
            preferences=Preferences.from_pb(m.preferences),
            objectives_version=m.objectives_version,
            materials_version=m.materials_version,
            recap_objective_ids=[strawberry.ID(i) for i in m.recap_objective_ids],
            generate_time=_time(m, "generate_time"),
        )


@strawberry.type
class ModuleContentEvent:
    """One event of `moduleContentStream`: Markdown deltas, then one event with the whole content."""

    markdown_delta: str | None = None
    content: ModuleContent | None = None


# ---------------------------------------------------------------------------------------------- quiz


@strawberry.type
class QuizQuestion:
    id: strawberry.ID
    objective_id: strawberry.ID
    text: str
    options: list[str]


@strawberry.type
class Quiz:
    id: strawberry.ID
    course_id: strawberry.ID
    module_id: strawberry.ID
    questions: list[QuizQuestion]
    pass_mark: float
    submitted: bool = strawberry.field(
        description="An attempt was submitted; ask with retake for a fresh quiz."
    )
    create_time: datetime | None

    @staticmethod
    def from_pb(m: opb.Quiz) -> Quiz:
        return Quiz(
            id=strawberry.ID(m.id),
            course_id=strawberry.ID(m.course_id),
            module_id=strawberry.ID(m.module_id),
            questions=[
                QuizQuestion(
                    id=strawberry.ID(q.id),
                    objective_id=strawberry.ID(q.objective_id),
                    text=q.text,
                    options=list(q.options),
                )
                for q in m.questions
            ],
            pass_mark=m.pass_mark,
            submitted=m.submitted,
            create_time=_time(m, "create_time"),
        )


@strawberry.input
class QuizAnswerInput:
    question_id: strawberry.ID
    selected_index: int


@strawberry.type
class GradedQuestion:
    question_id: strawberry.ID
    objective_id: strawberry.ID
    selected_index: int
    correct_index: int
    correct: bool
    explanation: str
    citations: list[Citation]


@strawberry.type
class ObjectiveMastery:
    objective_id: strawberry.ID
    text: str
    module_id: strawberry.ID
    p_mastery: float
    answer_count: int
    mastered: bool

    @staticmethod
    def from_pb(m: opb.ObjectiveMastery) -> ObjectiveMastery:
        return ObjectiveMastery(
            objective_id=strawberry.ID(m.objective_id),
            text=m.text,
            module_id=strawberry.ID(m.module_id),
            p_mastery=m.p_mastery,
            answer_count=m.answer_count,
            mastered=m.mastered,
        )


@strawberry.type
class QuizResult:
    attempt_id: strawberry.ID
    quiz_id: strawberry.ID
    score: float
    passed: bool
    pass_mark: float
    questions: list[GradedQuestion]
    mastery: list[ObjectiveMastery]
    submit_time: datetime | None

    @staticmethod
    def from_pb(m: opb.QuizResult) -> QuizResult:
        return QuizResult(
            attempt_id=strawberry.ID(m.attempt_id),
            quiz_id=strawberry.ID(m.quiz_id),
            score=m.score,
            passed=m.passed,
            pass_mark=m.pass_mark,
            questions=[
                GradedQuestion(
                    question_id=strawberry.ID(q.question_id),
                    objective_id=strawberry.ID(q.objective_id),
                    selected_index=q.selected_index,
                    correct_index=q.correct_index,
                    correct=q.correct,
                    explanation=q.explanation,
                    citations=_citations(q.citations),
                )
                for q in m.questions
            ],
            mastery=[ObjectiveMastery.from_pb(x) for x in m.mastery],
            submit_time=_time(m, "submit_time"),
        )


@strawberry.type
class QuizAttempt:
    """A submitted quiz attempt of the caller (answers and their grading stay with the result itself)."""

    id: strawberry.ID
    course_id: strawberry.ID
    module_id: strawberry.ID
    quiz_id: strawberry.ID
    score: float
    passed: bool
    correct_count: int
    question_count: int
    submit_time: datetime | None

    @staticmethod
    def from_pb(m: lpb.QuizAttempt) -> QuizAttempt:
        return QuizAttempt(
            id=strawberry.ID(m.id),
            course_id=strawberry.ID(m.course_id),
            module_id=strawberry.ID(m.module_id),
            quiz_id=strawberry.ID(m.quiz_id),
            score=m.score,
            passed=m.passed,
            correct_count=sum(r.correct for r in m.results),
            question_count=len(m.results),
            submit_time=_time(m, "submit_time"),
        )


@strawberry.type
class CompleteModuleResult:
    next_module_id: strawberry.ID | None
    course_completed: bool


# ------------------------------------------------------------------------------------------ dashboard


@strawberry.type
class DashboardModule:
    module_id: strawberry.ID
    title: str
    position: int
    status: ModuleStatus | None
    best_score: float
    attempt_count: int


@strawberry.type
class NextStep:
    kind: NextStepKind | None
    module_id: strawberry.ID | None
    message: str


@strawberry.type
class QuizResultSummary:
    attempt_id: strawberry.ID
    module_id: strawberry.ID
    score: float
    passed: bool
    submit_time: datetime | None


@strawberry.type
class Dashboard:
    learner_id: strawberry.ID
    course_id: strawberry.ID
    course_title: str
    course_description: str
    modules: list[DashboardModule]
    completed_module_count: int
    progress: float
    preferences: Preferences
    recent_quiz_results: list[QuizResultSummary]
    mastery: list[ObjectiveMastery]
    next_step: NextStep | None

    @strawberry.field(description="Course details (loaded in parallel with the dashboard itself).")
    async def course(self, info: Info) -> Course | None:
        return await _load_course(info, self.course_id)

    @staticmethod
    def from_pb(m: opb.Dashboard) -> Dashboard:
        step = m.next_step if m.HasField("next_step") else None
        return Dashboard(
            learner_id=strawberry.ID(m.learner_id),
            course_id=strawberry.ID(m.course_id),
            course_title=m.course_title,
            course_description=m.course_description,
            modules=[
                DashboardModule(
                    module_id=strawberry.ID(x.module_id),
                    title=x.title,
                    position=x.position,
                    status=_enum(ModuleStatus, x.status),
                    best_score=x.best_score,
                    attempt_count=x.attempt_count,
                )
                for x in m.modules
            ],
            completed_module_count=m.completed_module_count,
            progress=m.progress,
            preferences=Preferences.from_pb(m.preferences),
            recent_quiz_results=[
                QuizResultSummary(
                    attempt_id=strawberry.ID(r.attempt_id),
                    module_id=strawberry.ID(r.module_id),
                    score=r.score,
                    passed=r.passed,
                    submit_time=_time(r, "submit_time"),
                )
                for r in m.recent_quiz_results
            ],
            mastery=[ObjectiveMastery.from_pb(x) for x in m.mastery],
            next_step=NextStep(
                kind=_enum(NextStepKind, step.kind),
                module_id=strawberry.ID(step.module_id) if step.module_id else None,
                message=step.message,
            )
            if step is not None
            else None,
        )


# ---------------------------------------------------------------------------------------------- tutor


@strawberry.type
class TutorMessage:
    id: strawberry.ID
    role: TutorRole | None
    text: str
    citations: list[Citation]
    grounded: bool
    module_id: strawberry.ID | None
    create_time: datetime | None

    @staticmethod
    def from_pb(m: opb.TutorMessage) -> TutorMessage:
        return TutorMessage(
            id=strawberry.ID(m.id),
            role=_enum(TutorRole, m.role),
            text=m.text,
            citations=_citations(m.citations),
            grounded=m.grounded,
            module_id=strawberry.ID(m.module_id) if m.module_id else None,
            create_time=_time(m, "create_time"),
        )


@strawberry.type
class TutorAnswerEvent:
    """One event of `tutorAnswer`: text deltas, then one event with the whole message."""

    text_delta: str | None = None
    message: TutorMessage | None = None


# ------------------------------------------------------------------------------------------ analytics


@strawberry.type
class ModuleAnalytics:
    module_id: strawberry.ID
    title: str
    started_count: int
    completed_count: int
    completion_rate: float
    attempt_count: int
    average_score: float
    passed_attempt_count: int = strawberry.field(description="Attempts that reached the pass mark.")


@strawberry.type
class ScoreBucket:
    lower: float
    upper: float
    count: int


@strawberry.type
class ObjectiveAnalytics:
    objective_id: strawberry.ID
    text: str
    module_id: strawberry.ID
    answer_count: int
    correct_rate: float


@strawberry.type
class StuckLearner:
    learner_id: strawberry.ID
    module_id: strawberry.ID
    failed_attempts: int
    last_activity_time: datetime | None


@strawberry.type
class CourseAnalytics:
    course_id: strawberry.ID
    enrollment_count: int
    active_enrollment_count: int
    modules: list[ModuleAnalytics]
    score_distribution: list[ScoreBucket]
    weakest_objectives: list[ObjectiveAnalytics]
    stuck_learners: list[StuckLearner]

    @staticmethod
    def from_pb(m: ipb.GetCourseAnalyticsResponse) -> CourseAnalytics:
        return CourseAnalytics(
            course_id=strawberry.ID(m.course_id),
            enrollment_count=m.enrollment_count,
            active_enrollment_count=m.active_enrollment_count,
            modules=[
                ModuleAnalytics(
                    module_id=strawberry.ID(x.module_id),
                    title=x.title,
                    started_count=x.started_count,
                    completed_count=x.completed_count,
                    completion_rate=x.completion_rate,
                    attempt_count=x.attempt_count,
                    average_score=x.average_score,
                    passed_attempt_count=x.passed_attempt_count,
                )
                for x in m.modules
            ],
            score_distribution=[
                ScoreBucket(lower=b.lower, upper=b.upper, count=b.count) for b in m.score_distribution
            ],
            weakest_objectives=[
                ObjectiveAnalytics(
                    objective_id=strawberry.ID(x.objective_id),
                    text=x.text,
                    module_id=strawberry.ID(x.module_id),
                    answer_count=x.answer_count,
                    correct_rate=x.correct_rate,
                )
                for x in m.weakest_objectives
            ],
            stuck_learners=[
                StuckLearner(
                    learner_id=strawberry.ID(x.learner_id),
                    module_id=strawberry.ID(x.module_id),
                    failed_attempts=x.failed_attempts,
                    last_activity_time=_time(x, "last_activity_time"),
                )
                for x in m.stuck_learners
            ],
        )
