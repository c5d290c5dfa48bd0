"""instructor_svc's domain types (no proto, no SQL, no MongoDB)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_PASS_MARK = 0.6
MAX_MODULES = 100
MAX_OBJECTIVES = 20
MIN_OBJECTIVE_LEN = 5
MAX_OBJECTIVE_LEN = 300
MAX_CITATIONS = 20


@dataclass(frozen=True, slots=True)
class Instructor:
    id: str
    email: str
    display_name: str
    created_at: datetime


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


@dataclass(frozen=True, slots=True)
class Objective:
    id: str
    text: str
    citations: tuple[Citation, ...] = ()


@dataclass(slots=True)
class Module:
    id: str
    course_id: str
    title: str
    description: str
    position: int
    pass_mark: float = DEFAULT_PASS_MARK
    objectives_version: int = 0
    objectives_approved: bool = False
    objectives_stale: bool = False


@dataclass(slots=True)
class Course:
    id: str
    instructor_id: str
    title: str
    description: str
    published: bool
    materials_version: int
    created_at: datetime
    updated_at: datetime
    modules: list[Module] = field(default_factory=list)
    last_ingest_job_id: str | None = None


@dataclass(slots=True)
class ModuleObjectives:
    module_id: str
    version: int
    approved: bool
    stale: bool
    objectives: list[Objective] = field(default_factory=list)


class FileState(enum.Enum):
    PENDING = "PENDING"
    INDEXING = "INDEXING"
    INDEXED = "INDEXED"
    FAILED = "FAILED"

    @property
    def settled(self) -> bool:
        return self in (FileState.INDEXED, FileState.FAILED)


@dataclass(slots=True)
class CourseFile:
    id: str
    course_id: str
    name: str
    media_type: str
    size_bytes: int
    sha256: str
    state: FileState
    state_message: str
    chunk_count: int
    created_at: datetime
    job_id: str | None = None


class JobState(enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED)


JOB_KIND_INGEST = "ingest"
JOB_KIND_OBJECTIVES = "objectives"


@dataclass(slots=True)
class JobItem:
    id: str
    name: str
    state: JobState
    message: str = ""
    chunk_count: int = 0


@dataclass(slots=True)
class Job:
    id: str
    kind: str
    course_id: str
    state: JobState
    progress: float = 0.0
    message: str = ""
    items: list[JobItem] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def items_done(self) -> int:
        return sum(1 for item in self.items if item.state.terminal)

    @property
    def items_total(self) -> int:
        return len(self.items)


class IndexState(enum.Enum):
    EMPTY = "EMPTY"
    INDEXING = "INDEXING"
    READY = "READY"
    PARTIAL = "PARTIAL"


@dataclass(slots=True)
class IndexStatus:
    state: IndexState
    file_count: int
    indexed_file_count: int
    failed_file_count: int
    chunk_count: int
    last_job: Job | None = None


@dataclass(frozen=True, slots=True)
class UploadResult:
    file: CourseFile
    job: Job | None
    duplicate: bool


# Analytics: facts read from learner_svc, and the report.


@dataclass(frozen=True, slots=True)
class ModuleFact:
    module_id: str
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True, slots=True)
class LearnerFact:
    learner_id: str
    active: bool
    last_activity: datetime | None
    modules: tuple[ModuleFact, ...]


@dataclass(frozen=True, slots=True)
class AnswerFact:
    objective_id: str
    correct: bool


@dataclass(frozen=True, slots=True)
class AttemptFact:
    learner_id: str
    module_id: str
    score: float
    passed: bool
    submitted_at: datetime | None
    answers: tuple[AnswerFact, ...]


@dataclass(slots=True)
class ModuleAnalytics:
    module_id: str
    title: str
    started_count: int = 0
    completed_count: int = 0
    completion_rate: float = 0.0
    attempt_count: int = 0
    average_score: float = 0.0
    passed_attempt_count: int = 0


@dataclass(frozen=True, slots=True)
class ScoreBucket:
    lower: float
    upper: float
    count: int


@dataclass(frozen=True, slots=True)
class ObjectiveAnalytics:
    objective_id: str
    text: str
    module_id: str
    answer_count: int
    correct_rate: float


@dataclass(frozen=True, slots=True)
class StuckLearner:
    learner_id: str
    module_id: str
    failed_attempts: int
    last_activity: datetime | None


@dataclass(slots=True)
class CourseAnalytics:
    course_id: str
    enrollment_count: int
    active_enrollment_count: int
    modules: list[ModuleAnalytics]
    score_distribution: list[ScoreBucket]
    weakest_objectives: list[ObjectiveAnalytics]
    stuck_learners: list[StuckLearner]
