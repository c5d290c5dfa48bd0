"""In-memory fakes of the Protocols instructor_svc's use cases need, and `Instructor`, which wires the real use
cases (instructor_svc.app) to them as bootstrap.compose wires them to the real stores and clients. No I/O:
for the fast unit tests of the instructor's rules."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from instructor_svc.app.access import CourseAccess
from instructor_svc.app.courses import Courses
from instructor_svc.app.files import Files
from instructor_svc.app.jobs import Jobs
from instructor_svc.app.objectives import Objectives
from instructor_svc.domain import (
    Course,
    CourseFile,
    DuplicateFile,
    FileState,
    JobAlreadyActive,
    Module,
    ModuleObjectives,
    ModuleSetMismatch,
    NoObjectives,
    Objective,
    TooManyModules,
    VersionMismatch,
)
from lmw_common.errors import NotFound, Unavailable
from lmw_common.jobs import JOB_KIND_INGEST, Job, JobItem, JobState

MAX_UPLOAD_BYTES = 1000


class FakeCourses:
    """instructor_svc's PostgreSQL: courses, their modules and each module's objectives."""

    def __init__(self) -> None:
        self.courses: dict[str, Course] = {}
        self.objectives: dict[str, list[Objective]] = {}  # module id -> current list

    def _modules(self, course_id: str) -> list[Module]:
        return self.courses[course_id].modules

    def _module(self, course_id: str, module_id: str) -> Module | None:
        if course_id not in self.courses:
            return None
        return next((m for m in self._modules(course_id) if m.id == module_id), None)

    async def course_header(self, course_id: str) -> Course | None:
        course = self.courses.get(course_id)
        return dataclasses.replace(course, modules=[]) if course else None

    async def get_course(self, course_id: str) -> Course | None:
        course = self.courses.get(course_id)
        if course is None:
            return None
        return dataclasses.replace(course, modules=[dataclasses.replace(m) for m in course.modules])

    async def add_course(self, course: Course) -> None:
        self.courses[course.id] = dataclasses.replace(course, modules=[])

    async def update_course(self, course_id: str, values: dict, now: datetime) -> Course | None:
        self.courses[course_id] = dataclasses.replace(self.courses[course_id], **values, updated_at=now)
        return await self.get_course(course_id)

    async def set_published(self, course_id: str, published: bool, now: datetime) -> Course | None:
        return await self.update_course(course_id, {"published": published}, now)

    async def delete_course(self, course_id: str) -> bool:
        return self.courses.pop(course_id, None) is not None

    async def list_by_instructor(self, instructor_id: str, offset: int, limit: int) -> list[Course]:
        mine = [c for c in reversed(self.courses.values()) if c.instructor_id == instructor_id]
        return mine[offset : offset + limit]

    async def list_published(self, offset: int, limit: int) -> list[Course]:
        return [c for c in self.courses.values() if c.published][offset : offset + limit]

    async def materials_changed(self, course_id: str, now: datetime) -> int:
        course = self.courses[course_id]
        course.materials_version += 1
        for m in course.modules:
            m.objectives_stale = m.objectives_version > 0
        return course.materials_version

    async def set_last_ingest_job(self, course_id: str, job_id: str) -> None:
        self.courses[course_id].last_ingest_job_id = job_id

    async def add_module(self, module: Module, max_modules: int, now: datetime) -> Module | None:
        if module.course_id not in self.courses:
            return None
        modules = self._modules(module.course_id)
        if len(modules) >= max_modules:
            raise TooManyModules()
        module.position = len(modules)
        modules.append(module)
        self.objectives[module.id] = []
        return dataclasses.replace(module)

    async def get_module(self, course_id: str, module_id: str) -> Module | None:
        module = self._module(course_id, module_id)
        return dataclasses.replace(module) if module else None

    async def update_module(
        self, course_id: str, module_id: str, values: dict, now: datetime
    ) -> Module | None:
        module = self._module(course_id, module_id)
        if module is None:
            return None
        for name, value in values.items():
            setattr(module, name, value)
        return dataclasses.replace(module)

    async def delete_module(self, course_id: str, module_id: str, now: datetime) -> bool:
        module = self._module(course_id, module_id)
        if module is None:
            return False
        self._modules(course_id).remove(module)
        for position, m in enumerate(self._modules(course_id)):
            m.position = position
        return True

    async def reorder_modules(self, course_id: str, module_ids: list[str], now: datetime) -> bool:
        if course_id not in self.courses:
            return False
        by_id = {m.id: m for m in self._modules(course_id)}
        if len(module_ids) != len(set(module_ids)) or set(module_ids) != set(by_id):
            raise ModuleSetMismatch([m for m in module_ids if m not in by_id])
        self.courses[course_id].modules = [by_id[m] for m in module_ids]
        for position, m in enumerate(self.courses[course_id].modules):
            m.position = position
        return True

    def _view(self, module: Module) -> ModuleObjectives:
        return ModuleObjectives(
            module.id,
            module.objectives_version,
            module.objectives_approved,
            module.objectives_stale,
            list(self.objectives[module.id]),
        )

    async def module_objectives(
        self, course_id: str, module_id: str | None, offset: int, limit: int
    ) -> list[ModuleObjectives]:
        modules = [m for m in self._modules(course_id) if not module_id or m.id == module_id]
        return [self._view(m) for m in modules[offset : offset + limit]]

    async def store_generated(
        self,
        course_id: str,
        module_id: str,
        objectives: list[Objective],
        materials_version: int,
        now: datetime,
    ) -> ModuleObjectives | None:
        module = self._module(course_id, module_id)
        if module is None:
            return None
        self.objectives[module_id] = [Objective(uuid.uuid4().hex, o.text, o.citations) for o in objectives]
        module.objectives_version += 1
        module.objectives_approved = False
        module.objectives_stale = self.courses[course_id].materials_version != materials_version
        return self._view(module)

    async def replace_objectives(
        self,
        course_id: str,
        module_id: str,
        build: Callable[[ModuleObjectives], list[Objective]],
        expected_version: int,
        now: datetime,
    ) -> ModuleObjectives | None:
        module = self._module(course_id, module_id)
        if module is None:
            return None
        if expected_version and expected_version != module.objectives_version:
            raise VersionMismatch(module.objectives_version)
        self.objectives[module_id] = build(self._view(module))
        module.objectives_version += 1
        module.objectives_approved = False
        return self._view(module)

    async def approve_objectives(
        self, course_id: str, module_id: str, version: int, now: datetime
    ) -> ModuleObjectives | None:
        module = self._module(course_id, module_id)
        if module is None:
            return None
        if version != module.objectives_version:
            raise VersionMismatch(module.objectives_version)
        if not self.objectives[module_id]:
            raise NoObjectives()
        module.objectives_approved, module.objectives_stale = True, False
        return self._view(module)

    async def objective_texts(self, course_id: str) -> dict[str, tuple[str, str]]:
        return {o.id: (o.text, m.id) for m in self._modules(course_id) for o in self.objectives[m.id]}


@dataclasses.dataclass
class _Record:
    file: CourseFile
    claim_until: datetime
    deleting: bool = False


class FakeFiles:
    """The file records (MongoDB `files`): one per content per course."""

    def __init__(self) -> None:
        self.records: dict[str, _Record] = {}

    def _visible(self, course_id: str) -> list[CourseFile]:
        return [r.file for r in self.records.values() if r.file.course_id == course_id and not r.deleting]

    async def insert(self, file: CourseFile, claim_until: datetime) -> None:
        if await self.by_sha256(file.course_id, file.sha256) is not None:
            raise DuplicateFile(file.sha256)
        self.records[file.id] = _Record(dataclasses.replace(file), claim_until)

    async def get(self, course_id: str, file_id: str) -> CourseFile | None:
        return next((f for f in self._visible(course_id) if f.id == file_id), None)

    async def by_sha256(self, course_id: str, sha256: str) -> CourseFile | None:
        return next(
            (
                r.file
                for r in self.records.values()
                if (r.file.course_id, r.file.sha256) == (course_id, sha256)
            ),
            None,
        )

    async def list(self, course_id: str, offset: int, limit: int) -> list[CourseFile]:
        return list(reversed(self._visible(course_id)))[offset : offset + limit]

    async def all_of_course(self, course_id: str) -> list[CourseFile]:
        return self._visible(course_id)

    async def recorded_ids(self, course_id: str, file_ids: list[str]) -> set[str]:
        return {i for i in file_ids if i in self.records and self.records[i].file.course_id == course_id}

    async def unsettled_of_job(self, job_id: str) -> list[CourseFile]:
        return [r.file for r in self.records.values() if r.file.job_id == job_id and not r.file.state.settled]

    async def has_unsettled(self, course_id: str) -> bool:
        return any(not f.state.settled for f in self._visible(course_id))

    async def courses_with_unsettled(self, limit: int) -> list[str]:
        return list(
            dict.fromkeys(r.file.course_id for r in self.records.values() if not r.file.state.settled)
        )[:limit]

    async def claim_unrequested(self, course_id: str, now: datetime, lease_s: float) -> list[CourseFile]:
        claimed = []
        for r in self.records.values():
            if (
                r.file.course_id == course_id
                and r.file.job_id is None
                and not r.deleting
                and r.claim_until < now
            ):
                r.claim_until = now + timedelta(seconds=lease_s)
                claimed.append(r.file)
        return claimed

    async def release(self, file_ids: list[str], message: str, now: datetime) -> None:
        for r in self._unrequested(file_ids):
            r.claim_until, r.file.state_message = now, message

    async def fail_unrequested(self, file_ids: list[str], message: str, now: datetime) -> None:
        for r in self._unrequested(file_ids):
            r.file.job_id, r.file.state, r.file.state_message = "", FileState.FAILED, message

    def _unrequested(self, file_ids: list[str]) -> list[_Record]:
        return [
            self.records[i] for i in file_ids if i in self.records and self.records[i].file.job_id is None
        ]

    async def set_module(self, course_id: str, file_ids: list[str], module_id: str, now: datetime) -> None:
        for i in file_ids:
            self.records[i].file.module_id = module_id

    async def of_module(self, course_id: str, module_id: str) -> list[CourseFile]:
        return [f for f in self._visible(course_id) if f.module_id == module_id]

    async def set_job(self, file_ids: list[str], job_id: str, message: str, now: datetime) -> None:
        for i in file_ids:
            f = self.records[i].file
            f.job_id, f.state, f.state_message = job_id, FileState.PENDING, message

    async def set_state(
        self, file_id: str, job_id: str, state: FileState, message: str, chunk_count: int, now: datetime
    ) -> None:
        record = self.records.get(file_id)
        if record is not None and record.file.job_id == job_id:
            record.file.state, record.file.state_message, record.file.chunk_count = (
                state,
                message,
                chunk_count,
            )

    async def forget_job(self, job_id: str, message: str, now: datetime) -> None:
        for r in self.records.values():
            if r.file.job_id == job_id and not r.file.state.settled:
                r.file.job_id, r.claim_until = None, now
                r.file.state, r.file.state_message = FileState.PENDING, message

    async def mark_deleting(self, course_id: str, file_id: str, deleting: bool) -> bool:
        record = self.records.get(file_id)
        if record is None or record.file.course_id != course_id:
            return False
        record.deleting = deleting
        return True

    async def delete(self, course_id: str, file_id: str) -> None:
        self.records.pop(file_id, None)

    async def delete_course(self, course_id: str) -> None:
        for file_id in [i for i, r in self.records.items() if r.file.course_id == course_id]:
            del self.records[file_id]


class FakeJobs:
    """instructor_svc's jobs (MongoDB `jobs`): objective jobs, and the ingestion jobs it requested."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.heartbeats: dict[str, datetime] = {}

    async def record_ingest(self, job: Job, file_ids: list[str], now: datetime) -> None:
        self.jobs[job.id] = dataclasses.replace(job)

    async def update_snapshot(self, job: Job) -> None:
        if job.id in self.jobs:
            self.jobs[job.id] = dataclasses.replace(job)

    async def get(self, job_id: str) -> Job | None:
        job = self.jobs.get(job_id)
        return dataclasses.replace(job, items=[dataclasses.replace(i) for i in job.items]) if job else None

    async def delete_course(self, course_id: str) -> None:
        self.jobs = {k: j for k, j in self.jobs.items() if j.course_id != course_id}

    async def create(self, job: Job, params: dict, now: datetime) -> None:
        active = next(
            (
                j
                for j in self.jobs.values()
                if (j.kind, j.course_id) == (job.kind, job.course_id) and not j.state.terminal
            ),
            None,
        )
        if active is not None:
            raise JobAlreadyActive(active.id)
        self.jobs[job.id] = dataclasses.replace(job)
        self.heartbeats[job.id] = now

    async def save(self, job: Job, now: datetime) -> bool:
        if self.jobs[job.id].state.terminal:
            return False
        self.jobs[job.id] = dataclasses.replace(job, items=[dataclasses.replace(i) for i in job.items])
        self.heartbeats[job.id] = now
        return True

    async def heartbeat(self, job_id: str, now: datetime) -> bool:
        self.heartbeats[job_id] = now
        return not self.jobs[job_id].state.terminal

    async def fail_stale(
        self,
        heartbeat_before: datetime,
        reason: str,
        now: datetime,
        job_id: str | None = None,
        course_id: str | None = None,
    ) -> int:
        stale = [
            j
            for j in self.jobs.values()
            if j.kind != JOB_KIND_INGEST
            and not j.state.terminal
            and self.heartbeats[j.id] < heartbeat_before
            and job_id in (None, j.id)
            and course_id in (None, j.course_id)
        ]
        for job in stale:
            await self.fail_now(job, reason, now)
        return len(stale)

    async def fail_now(self, job: Job, reason: str, now: datetime) -> None:
        for item in job.items:
            if not item.state.terminal:
                item.state, item.message = JobState.FAILED, reason
        job.state, job.message, job.ended_at = JobState.FAILED, reason, now
        self.jobs[job.id] = dataclasses.replace(job)


class FakeStagedBlob:
    def __init__(self, blobs: FakeBlobs, course_id: str) -> None:
        self._blobs, self._course_id = blobs, course_id
        self.data = b""
        self.size = 0

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    async def write(self, data: bytes) -> None:
        self.data += data
        self.size = len(self.data)

    async def read_all(self) -> bytes:
        return self.data

    async def commit(self, final: Path) -> None:
        self._blobs.blobs[(self._course_id, final.name)] = self.data


class FakeBlobs:
    """Blob storage: bytes by (course, file id); `path` names where a blob is committed."""

    def __init__(self) -> None:
        self.blobs: dict[tuple[str, str], bytes] = {}
        self.staged = 0  # temp files open now

    @contextlib.asynccontextmanager
    async def staging(self, course_id: str) -> AsyncIterator[FakeStagedBlob]:
        self.staged += 1
        try:
            yield FakeStagedBlob(self, course_id)
        finally:
            self.staged -= 1

    def path(self, course_id: str, file_id: str) -> Path:
        return Path(course_id) / file_id

    async def read(self, course_id: str, file_id: str, chunk_size: int) -> AsyncIterator[bytes]:
        data = self.blobs[(course_id, file_id)]
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    async def exists(self, course_id: str, file_id: str) -> bool:
        return (course_id, file_id) in self.blobs

    async def delete(self, course_id: str, file_id: str) -> None:
        self.blobs.pop((course_id, file_id), None)

    async def delete_course(self, course_id: str) -> None:
        self.blobs = {k: v for k, v in self.blobs.items() if k[0] != course_id}

    async def course_ids(self) -> list[str]:
        return sorted({c for c, _ in self.blobs})

    async def blobs_older_than(self, course_id: str, cutoff: float) -> list[str]:
        return [f for c, f in self.blobs if c == course_id]

    async def remove_if_older(self, course_id: str, file_id: str, cutoff: float) -> bool:
        return self.blobs.pop((course_id, file_id), None) is not None


class FakeSme:
    """sme_svc: ingestion jobs it runs (queued until a test moves them on), objectives it drafts."""

    def __init__(self) -> None:
        self.jobs: dict[str, Job] = {}
        self.down = False
        self.deleted: list[tuple[str, list[str]]] = []
        self.drafts: list[Objective] = [Objective("", f"Explain idea number {k}") for k in (1, 2, 3)]
        self.modules: dict[str, str] = {}  # file id -> module id, as the index knows it
        self.objective_requests: list[str] = []  # the module of each objectives request

    def _up(self) -> None:
        if self.down:
            raise Unavailable("sme_svc is unavailable, try again shortly", "DEPENDENCY_UNAVAILABLE")

    async def ingest(self, course_id: str, files: list[CourseFile], timeout_s: float | None = None) -> Job:
        self._up()
        job = Job(uuid.uuid4().hex, JOB_KIND_INGEST, course_id, items=[JobItem(f.id, f.name) for f in files])
        self.jobs[job.id] = job
        self.modules.update({f.id: f.module_id for f in files})
        return dataclasses.replace(job)

    def finish(self, job_id: str, chunks: int = 3) -> None:
        job = self.jobs[job_id]
        for item in job.items:
            item.state, item.chunk_count = JobState.SUCCEEDED, chunks
        job.state = JobState.SUCCEEDED

    async def get_job(self, job_id: str, timeout_s: float | None = None) -> Job:
        self._up()
        if job_id not in self.jobs:
            raise NotFound("job not found", "JOB_NOT_FOUND")
        job = self.jobs[job_id]
        return dataclasses.replace(job, items=[dataclasses.replace(i) for i in job.items])

    async def watch_job(self, job_id: str) -> AsyncIterator[Job]:
        yield await self.get_job(job_id)

    async def delete_documents(self, course_id: str, file_ids: list[str]) -> int:
        self._up()
        self.deleted.append((course_id, file_ids))
        return len(file_ids)

    async def move_documents(self, course_id: str, file_ids: list[str], module_id: str) -> int:
        self._up()
        self.modules.update(dict.fromkeys(file_ids, module_id))
        return len(file_ids)

    async def delete_course_index(self, course_id: str) -> int:
        self._up()
        self.deleted.append((course_id, ["*"]))
        return 0

    async def generate_objectives(
        self, course_id: str, module: Module, count: int, avoid: list[str]
    ) -> tuple[list[Objective], str]:
        self._up()
        self.objective_requests.append(module.id)
        drafted = self.drafts[:count]
        return drafted, "" if len(
            drafted
        ) >= count else f"{len(drafted)} of {count} objectives: too little material"


class FakeEnrollments:
    """learner_svc's enrollments, as instructor_svc asks about them: the (learner, course) pairs enrolled."""

    def __init__(self) -> None:
        self.active: set[tuple[str, str]] = set()

    async def is_enrolled(self, learner_id: str, course_id: str) -> bool:
        return (learner_id, course_id) in self.active


class Instructor:
    """instructor_svc's use cases over the fakes above, wired as bootstrap.compose wires the real ones."""

    def __init__(self) -> None:
        self.courses = FakeCourses()
        self.files = FakeFiles()
        self.jobs = FakeJobs()
        self.blobs = FakeBlobs()
        self.sme = FakeSme()
        self.enrollments = FakeEnrollments()
        access = CourseAccess(self.courses)
        self.file_cases = Files(
            access,
            self.courses,
            self.files,
            self.jobs,
            self.blobs,
            self.sme,
            self.enrollments,
            max_upload_bytes=MAX_UPLOAD_BYTES,
            reconcile_timeout_s=1.0,
            max_verifications=2,
        )
        self.course_cases = Courses(access, self.courses, self.file_cases)
        self.objective_cases = Objectives(
            access,
            self.courses,
            self.file_cases,
            self.jobs,
            self.sme,
            default_count=2,
            heartbeat_s=60.0,
            stale_after_s=300.0,
        )
        self.job_cases = Jobs(access, self.jobs, self.file_cases, self.sme, stale_after_s=300.0, poll_s=0.01)


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def now() -> datetime:
    return datetime.now(UTC)
