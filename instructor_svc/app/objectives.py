"""Learning objectives: generation jobs (run here, in background tasks), listing, editing and approval.

Rules:
- Every edit replaces the whole list, bumps the module's `objectives_version` and voids the approval;
  `expected_version` (when not 0) must equal the current version (optimistic concurrency).
- Approval names the version it approves; it needs at least one objective. Approving confirms the
  objectives against the current materials, so it also clears `stale`.
- A course-material change (upload or delete) marks existing objectives stale; a generated draft is not
  stale unless the materials changed while it was being generated.
- A generation job stores each module's draft as a new version (not approved). It beats a heartbeat; a job
  whose heartbeat is older than `stale_after_s` (its replica died or restarted) is marked FAILED with
  "interrupted by a restart; run it again" at startup, by the background loop, when it is read and when a
  new generation for its course is requested (which then takes its place).
- A course has at most one active (queued or running, not stale) generation job: the job store enforces it
  atomically (a unique index), so of simultaneous requests exactly one starts a job and the others are
  refused with JOB_ALREADY_RUNNING naming it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from instructor_svc.app.access import CourseAccess, now
from instructor_svc.app.files import Files
from instructor_svc.domain import (
    MAX_CITATIONS,
    MAX_MODULES,
    MAX_OBJECTIVE_LEN,
    MAX_OBJECTIVES,
    MIN_OBJECTIVE_LEN,
    Course,
    JobAlreadyActive,
    Module,
    ModuleObjectives,
    NoObjectives,
    Objective,
    VersionMismatch,
)
from lmw_common import validation as v
from lmw_common.auth import Principal, require_role
from lmw_common.citations import Citation
from lmw_common.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, Unavailable
from lmw_common.jobs import JOB_KIND_OBJECTIVES, Job, JobItem, JobState
from lmw_common.pagination import next_offset_token, offset_from, page_size

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted by a restart; run it again"
SHUTDOWN = "interrupted by a shutdown; run it again"
MAX_AVOID = 200
# Tries to take a course's active-job slot that a finishing job frees between our insert and its look-up.
CLAIM_ATTEMPTS = 3


class ObjectiveRepository(Protocol):
    async def get_course(self, course_id: str) -> Course | None: ...

    async def get_module(self, course_id: str, module_id: str) -> Module | None: ...

    async def module_objectives(
        self, course_id: str, module_id: str | None, offset: int, limit: int
    ) -> list[ModuleObjectives]:
        """The objectives of a page of the course's modules (or of one module), in course order."""
        ...

    async def store_generated(
        self,
        course_id: str,
        module_id: str,
        objectives: list[Objective],
        materials_version: int,
        now: datetime,
    ) -> ModuleObjectives | None:
        """A generated draft: a new version, not approved, stale if the materials changed meanwhile (None when
        the module is gone)."""
        ...

    async def replace_objectives(
        self,
        course_id: str,
        module_id: str,
        build: Callable[[ModuleObjectives], list[Objective]],
        expected_version: int,
        now: datetime,
    ) -> ModuleObjectives | None:
        """Replace the list atomically with what `build` makes of the current one: a new version, approval
        voided. VersionMismatch unless `expected_version` is 0 or current; None when the module is gone."""
        ...

    async def approve_objectives(
        self, course_id: str, module_id: str, version: int, now: datetime
    ) -> ModuleObjectives | None:
        """Approve `version` if current (VersionMismatch otherwise; NoObjectives for an empty list), which
        clears `stale`; None when the module is gone."""
        ...


class ObjectiveJobs(Protocol):
    async def create(self, job: Job, params: dict, now: datetime) -> None:
        """Store a new active job; JobAlreadyActive when its course has one (settled atomically)."""
        ...

    async def save(self, job: Job, now: datetime) -> bool:
        """Write the runner's view of an active job; False if someone else ended it meanwhile."""
        ...

    async def heartbeat(self, job_id: str, now: datetime) -> bool: ...

    async def fail_stale(
        self,
        heartbeat_before: datetime,
        reason: str,
        now: datetime,
        job_id: str | None = None,
        course_id: str | None = None,
    ) -> int:
        """Fail active jobs whose runner stopped beating (limited to one job or course when given)."""
        ...

    async def fail_now(self, job: Job, reason: str, now: datetime) -> None: ...


class ObjectiveWriter(Protocol):
    """sme_svc, which drafts objectives from the course's materials."""

    async def generate_objectives(
        self, course_id: str, module: Module, count: int, avoid: list[str]
    ) -> tuple[list[Objective], str]:
        """Objectives from the module's files first (then the course-wide ones), and why fewer than `count`
        when there are ("" otherwise)."""
        ...


def _module_not_found() -> NotFound:
    return NotFound("module not found", "MODULE_NOT_FOUND")


def _objective_text(text: str, field: str) -> str:
    text = v.text(text, field, MAX_OBJECTIVE_LEN)
    if len(text) < MIN_OBJECTIVE_LEN:
        raise InvalidArgument(
            f"{field} must have at least {MIN_OBJECTIVE_LEN} characters", "TOO_SHORT", field=field
        )
    return text


def _citation(c: Citation) -> Citation:
    for name, limit in (("chunk_id", 200), ("file_id", 64), ("file_name", 255), ("heading", 500)):
        if len(getattr(c, name)) > limit:
            raise InvalidArgument(f"citation {name} is too long", "TOO_LONG", field=f"citations.{name}")
    if len(c.snippet) > 2000:
        raise InvalidArgument("citation snippet is too long", "TOO_LONG", field="citations.snippet")
    return c


def _clean_generated(objectives: list[Objective]) -> list[Objective]:
    """What a generator returned, within this service's rules (length, count, citations)."""
    out: list[Objective] = []
    seen: set[str] = set()
    for o in objectives:
        text = " ".join(o.text.split())[:MAX_OBJECTIVE_LEN].strip()
        if len(text) < MIN_OBJECTIVE_LEN or text.lower() in seen:
            continue
        seen.add(text.lower())
        out.append(Objective("", text, tuple(o.citations[:MAX_CITATIONS])))
    return out[:MAX_OBJECTIVES]


class Objectives:
    def __init__(
        self,
        access: CourseAccess,
        repo: ObjectiveRepository,
        files: Files,
        jobs: ObjectiveJobs,
        sme: ObjectiveWriter,
        *,
        default_count: int,
        heartbeat_s: float,
        stale_after_s: float,
    ) -> None:
        self._access = access
        self._repo = repo
        self._files = files
        self._jobs = jobs
        self._sme = sme
        self._default_count = default_count
        self._heartbeat_s = heartbeat_s
        self._stale_after = timedelta(seconds=stale_after_s)
        self._tasks: set[asyncio.Task] = set()

    # generation jobs

    async def generate(self, caller: Principal, course_id: str, module_ids: list[str], count: int) -> Job:
        owner = require_role(caller, "instructor")
        count = count or self._default_count
        if not 1 <= count <= MAX_OBJECTIVES:
            raise InvalidArgument(
                f"count must be between 1 and {MAX_OBJECTIVES}", "INVALID_COUNT", field="count"
            )
        ids = list(
            dict.fromkeys(
                v.identifier(m, "module_ids") for m in v.bounded_list(module_ids, "module_ids", MAX_MODULES)
            )
        )
        header = await self._access.owned(caller, course_id)
        course = await self._repo.get_course(header.id)
        if course is None:
            raise NotFound("course not found", "COURSE_NOT_FOUND")
        by_id = {m.id: m for m in course.modules}
        unknown = [m for m in ids if m not in by_id]
        if unknown:
            raise NotFound(f"unknown module ids {unknown[:5]}", "MODULE_NOT_FOUND")
        modules = [by_id[m] for m in ids] if ids else course.modules
        if not modules:
            raise FailedPrecondition("the course has no modules", "NO_MODULES")
        if not await self._files.course_has_files(course.id):
            raise FailedPrecondition("upload course materials first", "NO_MATERIALS")
        moment = now()
        job = Job(
            id=uuid.uuid4().hex,
            kind=JOB_KIND_OBJECTIVES,
            course_id=course.id,
            state=JobState.QUEUED,
            message="queued",
            items=[JobItem(m.id, m.title, JobState.QUEUED) for m in modules],
            created_at=moment,
            updated_at=moment,
        )
        params = {"count": count, "materials_version": course.materials_version, "instructor_id": owner}
        await self._claim(job, params)
        task = asyncio.create_task(
            self._run(job, count, course.materials_version), name=f"objectives-{job.id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    async def _claim(self, job: Job, params: dict) -> None:
        """Store `job` as its course's one active objectives job, or refuse naming the job that is. The store
        settles concurrent requests atomically; a holder whose runner died (stale heartbeat) is failed first,
        which frees its slot for this job."""
        for _ in range(CLAIM_ATTEMPTS):
            moment = now()
            await self._jobs.fail_stale(
                moment - self._stale_after, INTERRUPTED, moment, course_id=job.course_id
            )
            try:
                await self._jobs.create(job, params, moment)
                return
            except JobAlreadyActive as exc:
                if exc.job_id is not None:
                    raise FailedPrecondition(
                        "objectives are already being generated for this course",
                        "JOB_ALREADY_RUNNING",
                        job_id=exc.job_id,
                    ) from None
                # the holder ended between our insert and the look-up: its slot is free, try again
        raise Unavailable("objective jobs of this course keep changing; try again", "CONFLICT")

    async def _run(self, job: Job, count: int, materials_version: int) -> None:
        beat = asyncio.create_task(self._beat(job.id))
        try:
            job.state, job.message, job.updated_at = JobState.RUNNING, "generating", now()
            if not await self._jobs.save(job, now()):
                return
            for item in job.items:
                item.state, job.updated_at = JobState.RUNNING, now()
                if not await self._jobs.save(job, now()):
                    return
                try:
                    made, shortfall = await self._generate_module(
                        job.course_id, item.id, count, materials_version
                    )
                    item.state, item.message = JobState.SUCCEEDED, shortfall or f"{made} objectives drafted"
                except DomainError as exc:
                    item.state, item.message = JobState.FAILED, exc.message
                except Exception:
                    log.exception("objective generation failed for module %s", item.id)
                    item.state, item.message = JobState.FAILED, "internal error"
                job.updated_at = now()
                if not await self._jobs.save(job, now()):
                    return
            failed = [i for i in job.items if i.state is JobState.FAILED]
            job.state = JobState.FAILED if failed else JobState.SUCCEEDED
            job.message = (
                f"{len(failed)} of {job.items_total} module(s) failed" if failed else "objectives drafted"
            )
            job.updated_at, job.ended_at = now(), now()
            await self._jobs.save(job, now())
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._jobs.fail_now(job, SHUTDOWN, now()))
            raise
        except Exception:
            log.exception("objective job %s crashed", job.id)
            with contextlib.suppress(Exception):
                await self._jobs.fail_now(job, "internal error; run it again", now())
        finally:
            beat.cancel()

    async def _beat(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_s)
            try:
                if not await self._jobs.heartbeat(job_id, now()):
                    return
            except Exception as exc:  # a missed beat is not fatal; the next one may succeed
                log.warning("heartbeat of job %s failed: %s", job_id, exc)

    async def _generate_module(
        self, course_id: str, module_id: str, count: int, materials_version: int
    ) -> tuple[int, str]:
        module = await self._repo.get_module(course_id, module_id)
        if module is None:
            raise NotFound("the module was deleted", "MODULE_NOT_FOUND")
        others = await self._repo.module_objectives(course_id, None, 0, MAX_MODULES)
        avoid = [o.text for m in others if m.module_id != module_id for o in m.objectives][:MAX_AVOID]
        generated, shortfall = await self._sme.generate_objectives(course_id, module, count, avoid)
        objectives = _clean_generated(generated)
        if not objectives:
            raise FailedPrecondition(
                "no objectives could be generated from the course materials", "NO_OBJECTIVES_GENERATED"
            )
        stored = await self._repo.store_generated(course_id, module_id, objectives, materials_version, now())
        if stored is None:
            raise NotFound("the module was deleted", "MODULE_NOT_FOUND")
        return len(stored.objectives), shortfall

    async def fail_stale_jobs(self) -> int:
        moment = now()
        return await self._jobs.fail_stale(moment - self._stale_after, INTERRUPTED, moment)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # reading and editing

    async def list(
        self, caller: Principal, course_id: str, module_id: str, size: int, token: str
    ) -> tuple[list[ModuleObjectives], str]:
        module_id = v.identifier(module_id, "module_id") if module_id else ""
        size, offset = page_size(size), offset_from(token)
        course = await self._access.readable(caller, course_id)
        rows = await self._repo.module_objectives(course.id, module_id or None, offset, size + 1)
        if module_id and not rows and offset == 0:
            raise _module_not_found()
        return rows[:size], next_offset_token(offset, size, len(rows))

    async def update(
        self,
        caller: Principal,
        course_id: str,
        module_id: str,
        objectives: list[Objective],
        expected_version: int,
    ) -> ModuleObjectives:
        module_id = v.identifier(module_id, "module_id")
        if expected_version < 0:
            raise InvalidArgument("expected_version must not be negative", "INVALID_VERSION")
        v.bounded_list(objectives, "objectives", MAX_OBJECTIVES)
        wanted: list[Objective] = []
        for i, o in enumerate(objectives):
            oid = v.identifier(o.id, f"objectives[{i}].id") if o.id else ""
            text = _objective_text(o.text, f"objectives[{i}].text")
            cites = tuple(_citation(c) for c in v.bounded_list(o.citations, "citations", MAX_CITATIONS))
            wanted.append(Objective(oid, text, cites))
        ids = [o.id for o in wanted if o.id]
        if len(ids) != len(set(ids)):
            raise InvalidArgument("an objective id appears twice", "DUPLICATE_OBJECTIVE_ID")
        course = await self._access.owned(caller, course_id)

        def build(current: ModuleObjectives) -> list[Objective]:
            existing = {o.id: o for o in current.objectives}
            out = []
            for o in wanted:
                if not o.id:
                    out.append(Objective(uuid.uuid4().hex, o.text, o.citations))
                elif o.id not in existing:
                    raise NotFound(f"objective {o.id} is not in this module", "OBJECTIVE_NOT_FOUND")
                else:  # citations kept unless the edit sends new ones
                    out.append(Objective(o.id, o.text, o.citations or existing[o.id].citations))
            return out

        try:
            result = await self._repo.replace_objectives(course.id, module_id, build, expected_version, now())
        except VersionMismatch as exc:
            raise FailedPrecondition(
                f"the objectives changed meanwhile: version {expected_version} is not the current {exc.current}",
                "VERSION_MISMATCH",
                current_version=exc.current,
            ) from exc
        if result is None:
            raise _module_not_found()
        return result

    async def approve(
        self, caller: Principal, course_id: str, module_id: str, version: int
    ) -> ModuleObjectives:
        module_id = v.identifier(module_id, "module_id")
        if version <= 0:
            raise InvalidArgument("version is required", "REQUIRED", field="version")
        course = await self._access.owned(caller, course_id)
        try:
            result = await self._repo.approve_objectives(course.id, module_id, version, now())
        except VersionMismatch as exc:
            raise FailedPrecondition(
                f"version {version} is not the current version {exc.current}",
                "VERSION_MISMATCH",
                current_version=exc.current,
            ) from exc
        except NoObjectives as exc:
            raise FailedPrecondition("there are no objectives to approve", "NO_OBJECTIVES") from exc
        if result is None:
            raise _module_not_found()
        return result
