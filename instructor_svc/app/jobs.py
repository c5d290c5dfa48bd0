"""GetJob / WatchJob over both kinds of jobs of an instructor's courses.

Ingestion jobs run in sme_svc: after the ownership check (the job's course, recorded when the job was
requested) they are proxied to sme_svc, and what they report is copied onto the files. Objective jobs are
this service's own and are read from MongoDB (WatchJob polls it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Protocol

from instructor_svc.app.access import CourseAccess, now
from instructor_svc.app.files import Files
from instructor_svc.app.objectives import INTERRUPTED
from lmw_common import validation as v
from lmw_common.auth import Principal, require_role
from lmw_common.errors import NotFound
from lmw_common.jobs import JOB_KIND_INGEST, Job


class JobRecords(Protocol):
    async def get(self, job_id: str) -> Job | None: ...

    async def fail_stale(
        self, heartbeat_before: datetime, reason: str, now: datetime, job_id: str | None = None
    ) -> int: ...


class RemoteJobs(Protocol):
    """sme_svc, which runs the ingestion jobs."""

    async def get_job(self, job_id: str) -> Job: ...

    def watch_job(self, job_id: str) -> AsyncIterator[Job]: ...


def _job_not_found() -> NotFound:
    return NotFound("job not found", "JOB_NOT_FOUND")


class Jobs:
    def __init__(
        self,
        access: CourseAccess,
        jobs: JobRecords,
        files: Files,
        sme: RemoteJobs,
        *,
        stale_after_s: float,
        poll_s: float,
    ) -> None:
        self._access = access
        self._jobs = jobs
        self._files = files
        self._sme = sme
        self._stale_after = timedelta(seconds=stale_after_s)
        self._poll_s = poll_s

    async def _locate(self, caller: Principal, job_id: str) -> Job:
        job_id = v.identifier(job_id, "job_id")
        require_role(caller, "instructor", "service")
        job = await self._jobs.get(job_id)
        if job is None:
            raise _job_not_found()
        await self._access.owned_or_service(caller, job.course_id)
        return job

    async def _own(self, job_id: str) -> Job:
        """An objective job as stored, failed first if its runner stopped beating."""
        moment = now()
        await self._jobs.fail_stale(moment - self._stale_after, INTERRUPTED, moment, job_id=job_id)
        job = await self._jobs.get(job_id)
        if job is None:
            raise _job_not_found()
        return job

    async def get(self, caller: Principal, job_id: str) -> Job:
        job = await self._locate(caller, job_id)
        if job.kind == JOB_KIND_INGEST:
            remote = await self._sme.get_job(job.id)
            remote.course_id = job.course_id
            await self._files.apply_job(remote)
            return remote
        return await self._own(job.id)

    async def watch(self, caller: Principal, job_id: str) -> AsyncIterator[Job]:
        job = await self._locate(caller, job_id)
        if job.kind == JOB_KIND_INGEST:
            async for remote in self._sme.watch_job(job.id):
                remote.course_id = job.course_id
                await self._files.apply_job(remote)
                yield remote
            return
        last = None
        while True:
            job = await self._own(job.id)
            seen = (
                job.state,
                job.progress,
                job.message,
                job.updated_at,
                [(i.state, i.message) for i in job.items],
            )
            if seen != last:
                last = seen
                yield job
            if job.state.terminal:
                return
            await asyncio.sleep(self._poll_s)
