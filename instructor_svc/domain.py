"""instructor_svc's domain types (no proto, no SQL, no MongoDB)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from lmw_common.citations import Citation
from lmw_common.jobs import Job

DEFAULT_PASS_MARK = 0.6
MAX_MODULES = 100
MAX_OBJECTIVES = 20
MIN_OBJECTIVE_LEN = 5
MAX_OBJECTIVE_LEN = 300
MAX_CITATIONS = 20


# What the stores report (the use cases turn them into errors a caller understands).


class TooManyModules(Exception):
    pass


class ModuleSetMismatch(Exception):
    """A reorder did not name every module of the course exactly once."""

    def __init__(self, unknown: list[str]) -> None:
        super().__init__(f"unknown ids: {unknown}")
        self.unknown = unknown


class NoObjectives(Exception):
    pass


class VersionMismatch(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current


class DuplicateFile(Exception):
    """The course already has a file with this content (same sha256)."""


class JobAlreadyActive(Exception):
    """The course already has an active job of this kind; `job_id` names it (None if it ended meanwhile)."""

    def __init__(self, job_id: str | None) -> None:
        super().__init__(job_id)
        self.job_id = job_id


@dataclass(frozen=True, slots=True)
class Instructor:
    id: str
    email: str
    display_name: str
    created_at: datetime


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
    module_id: str = ""  # the module the file belongs to; "" for a course-wide file


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
