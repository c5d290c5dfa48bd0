"""Course files: streaming upload, listing, deletion, read-back, and the indexing status.

Upload flow: ownership check and name sanitizing before any byte is read; the stream goes to a temp file in
the course's blob directory while its size is counted (the upload is cut off as soon as it passes the limit)
and its sha256 computed; the content decides the media type; a duplicate (same sha256 in the course) is
answered with the existing file and writes nothing; otherwise fsync + rename, metadata in MongoDB (a unique
index on (course_id, sha256) settles concurrent identical uploads), the materials version is bumped, and
sme_svc is asked to ingest. When sme_svc is unavailable the file stays PENDING and ingestion is requested
again later (reconcile: on GetIndexingStatus, ListCourseFiles, PublishCourse and by a background loop).

Reconciliation: file states follow the per-file items (JobItem.id == file id) of the ingestion jobs that
sme_svc reports; a job sme_svc no longer knows sends its unsettled files back to waiting for a new request.

Orphan blobs: an upload commits its blob before it inserts the record, and a deletion removes the record
before the blob, so a crash in between leaves bytes no record names. `remove_orphan_blobs` (run by the
background loop) deletes those once they are older than a grace period, which keeps it off a blob whose
record is still being inserted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from instructor_svc.app.access import CourseAccess, now
from instructor_svc.domain import (
    Course,
    CourseFile,
    DuplicateFile,
    FileState,
    IndexState,
    IndexStatus,
    Module,
    UploadResult,
)
from lmw_common import filetypes
from lmw_common import validation as v
from lmw_common.auth import Principal
from lmw_common.errors import (
    DeadlineExceeded,
    DomainError,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
)
from lmw_common.jobs import JOB_KIND_INGEST, Job, JobState
from lmw_common.pagination import next_offset_token, offset_from, page_size

log = logging.getLogger(__name__)

READ_CHUNK_BYTES = 256 * 1024
INGEST_BATCH = 100
# How long the replica that requests ingestion for a file holds it before another may try.
CLAIM_LEASE_S = 60.0
MAX_JOBS_PER_RECONCILE = 20
# Blob ids looked up in MongoDB at once by the orphan sweep.
ORPHAN_LOOKUP_BATCH = 500
WAITING_MESSAGE = "waiting for the search service (sme_svc); indexing starts automatically once it is back"
QUEUED_MESSAGE = "queued for indexing"
# sme_svc could not take the request now (down, overloaded, or a fault on its side): ask again later.
_RETRYABLE = (Unavailable, DeadlineExceeded, ResourceExhausted, Internal)
_ITEM_STATES = {
    JobState.QUEUED: FileState.PENDING,
    JobState.RUNNING: FileState.INDEXING,
    JobState.SUCCEEDED: FileState.INDEXED,
    JobState.FAILED: FileState.FAILED,
}


class StagedBlob(Protocol):
    """An upload being written to a temp file."""

    size: int

    @property
    def sha256(self) -> str: ...

    async def write(self, data: bytes) -> None: ...

    async def read_all(self) -> bytes: ...

    async def commit(self, final: Path) -> None:
        """Move the bytes to their final name (durably)."""
        ...


class BlobStore(Protocol):
    def staging(self, course_id: str) -> AbstractAsyncContextManager[StagedBlob]:
        """A temp file in the course's directory, removed on exit unless committed."""
        ...

    def path(self, course_id: str, file_id: str) -> Path: ...

    def read(self, course_id: str, file_id: str, chunk_size: int) -> AsyncIterator[bytes]: ...

    async def exists(self, course_id: str, file_id: str) -> bool: ...

    async def delete(self, course_id: str, file_id: str) -> None: ...

    async def delete_course(self, course_id: str) -> None: ...

    async def course_ids(self) -> list[str]: ...

    async def blobs_older_than(self, course_id: str, cutoff: float) -> list[str]:
        """Ids of the course's blobs last modified before `cutoff` (epoch seconds)."""
        ...

    async def remove_if_older(self, course_id: str, file_id: str, cutoff: float) -> bool:
        """Delete the blob if it was last modified before `cutoff`; True if it did."""
        ...


class FileStore(Protocol):
    async def insert(self, file: CourseFile, claim_until: datetime) -> None:
        """Record a new file, its ingestion request claimed until `claim_until`; DuplicateFile when the
        course already has this content."""
        ...

    async def get(self, course_id: str, file_id: str) -> CourseFile | None: ...

    async def by_sha256(self, course_id: str, sha256: str) -> CourseFile | None: ...

    async def list(self, course_id: str, offset: int, limit: int) -> list[CourseFile]: ...

    async def all_of_course(self, course_id: str) -> list[CourseFile]: ...

    async def recorded_ids(self, course_id: str, file_ids: list[str]) -> set[str]:
        """Which of these ids the course has a record of (one being deleted included)."""
        ...

    async def unsettled_of_job(self, job_id: str) -> list[CourseFile]: ...

    async def has_unsettled(self, course_id: str) -> bool: ...

    async def courses_with_unsettled(self, limit: int) -> list[str]: ...

    async def claim_unrequested(self, course_id: str, now: datetime, lease_s: float) -> list[CourseFile]:
        """Take the lease on the course's files that wait for an ingestion request (one replica wins)."""
        ...

    async def release(self, file_ids: list[str], message: str, now: datetime) -> None:
        """Ingestion could not be requested: keep the files PENDING and retriable at once."""
        ...

    async def fail_unrequested(self, file_ids: list[str], message: str, now: datetime) -> None:
        """sme_svc refused to ingest the files: FAILED for good."""
        ...

    async def set_job(self, file_ids: list[str], job_id: str, message: str, now: datetime) -> None: ...

    async def set_module(
        self, course_id: str, file_ids: list[str], module_id: str, now: datetime
    ) -> None: ...

    async def of_module(self, course_id: str, module_id: str) -> list[CourseFile]: ...

    async def set_state(
        self, file_id: str, job_id: str, state: FileState, message: str, chunk_count: int, now: datetime
    ) -> None:
        """Apply what the ingestion job says, unless the file moved on to another job meanwhile."""
        ...

    async def forget_job(self, job_id: str, message: str, now: datetime) -> None:
        """The job is unknown to sme_svc: its unsettled files go back to waiting for a new request."""
        ...

    async def mark_deleting(self, course_id: str, file_id: str, deleting: bool) -> bool:
        """False when there is no such file."""
        ...

    async def delete(self, course_id: str, file_id: str) -> None: ...

    async def delete_course(self, course_id: str) -> None: ...


class IngestJobs(Protocol):
    """This service's records of the ingestion jobs it requested (which course each belongs to)."""

    async def record_ingest(self, job: Job, file_ids: list[str], now: datetime) -> None: ...

    async def update_snapshot(self, job: Job) -> None: ...

    async def get(self, job_id: str) -> Job | None: ...

    async def delete_course(self, course_id: str) -> None: ...


class CourseMaterials(Protocol):
    async def course_header(self, course_id: str) -> Course | None: ...

    async def get_module(self, course_id: str, module_id: str) -> Module | None: ...

    async def materials_changed(self, course_id: str, now: datetime) -> int:
        """Bump the materials version and mark every module's existing objectives stale."""
        ...

    async def set_last_ingest_job(self, course_id: str, job_id: str) -> None: ...


class Indexer(Protocol):
    """sme_svc, which indexes the files."""

    async def ingest(
        self, course_id: str, files: list[CourseFile], timeout_s: float | None = None
    ) -> Job: ...

    async def get_job(self, job_id: str, timeout_s: float | None = None) -> Job: ...

    async def delete_documents(self, course_id: str, file_ids: list[str]) -> int: ...

    async def move_documents(self, course_id: str, file_ids: list[str], module_id: str) -> int:
        """Attach the files' chunks to the module ("" = course-wide)."""
        ...

    async def delete_course_index(self, course_id: str) -> int: ...


def _too_large(limit: int) -> ResourceExhausted:
    return ResourceExhausted(
        f"file too large: the limit is {limit} bytes", "FILE_TOO_LARGE", limit_bytes=limit
    )


class Enrollments(Protocol):
    """Whether a learner is actively enrolled in a course (learner_svc owns enrollments)."""

    async def is_enrolled(self, learner_id: str, course_id: str) -> bool: ...


class Files:
    def __init__(
        self,
        access: CourseAccess,
        repo: CourseMaterials,
        files: FileStore,
        jobs: IngestJobs,
        blobs: BlobStore,
        sme: Indexer,
        enrollments: Enrollments,
        *,
        max_upload_bytes: int,
        reconcile_timeout_s: float,
        max_verifications: int,
        upload_idle_timeout_s: float = 60.0,
        orphan_blob_grace_s: float = 600.0,
    ) -> None:
        self._access = access
        self._repo = repo
        self._files = files
        self._jobs = jobs
        self._blobs = blobs
        self._sme = sme
        self._enrollments = enrollments
        self._max_bytes = max_upload_bytes
        self._reconcile_timeout_s = reconcile_timeout_s
        self._verify_slots = asyncio.Semaphore(max_verifications)
        self._idle_s = upload_idle_timeout_s
        self.orphan_blob_grace_s = orphan_blob_grace_s

    # upload

    async def upload(
        self,
        caller: Principal,
        course_id: str,
        file_name: str,
        declared_size: int,
        chunks: AsyncIterator[bytes],
        module_id: str = "",
    ) -> UploadResult:
        """Store and index a file of the course, for one module or (no module) for the whole course. The
        same content already in the course is answered with the existing file, wherever it belongs."""
        course = await self._access.owned(caller, course_id)
        module_id = await self._module_of(course.id, module_id)
        name = filetypes.sanitize_file_name(file_name)
        if declared_size < 0:
            raise InvalidArgument("size_bytes must not be negative", "INVALID_SIZE", field="size_bytes")
        if declared_size > self._max_bytes:
            raise _too_large(self._max_bytes)
        async with self._blobs.staging(course.id) as staged:
            async for chunk in _until_idle(chunks, self._idle_s):
                if staged.size + len(chunk) > self._max_bytes:
                    raise _too_large(self._max_bytes)  # the partial temp file is removed on the way out
                if chunk:
                    await staged.write(chunk)
            if staged.size == 0:
                raise InvalidArgument("the file is empty", "EMPTY_FILE")
            if declared_size and declared_size != staged.size:
                raise InvalidArgument(
                    f"received {staged.size} bytes but size_bytes said {declared_size}", "SIZE_MISMATCH"
                )
            existing = await self._files.by_sha256(course.id, staged.sha256)
            if existing is not None:
                return UploadResult(existing, None, True)
            media_type = await self._check_content(staged, name)
            file = CourseFile(
                id=uuid.uuid4().hex,
                course_id=course.id,
                name=name,
                media_type=media_type,
                size_bytes=staged.size,
                sha256=staged.sha256,
                state=FileState.PENDING,
                state_message=QUEUED_MESSAGE,
                chunk_count=0,
                created_at=now(),
                module_id=module_id,
            )
            await staged.commit(self._blobs.path(course.id, file.id))
        try:
            await self._files.insert(file, claim_until=now() + timedelta(seconds=CLAIM_LEASE_S))
        except DuplicateFile:
            # A concurrent upload of the same content won the race: keep its record, drop our copy.
            await self._blobs.delete(course.id, file.id)
            existing = await self._files.by_sha256(course.id, file.sha256)
            if existing is None:
                raise Unavailable("the file was deleted meanwhile; upload it again", "CONFLICT") from None
            return UploadResult(existing, None, True)
        except BaseException:
            await self._blobs.delete(course.id, file.id)
            raise
        await self._repo.materials_changed(course.id, now())
        job = await self._request_ingest(course.id, [file])
        return UploadResult(await self._files.get(course.id, file.id) or file, job, False)

    async def _check_content(self, staged: StagedBlob, name: str) -> str:
        """The media type by content, off the event loop (detection also refuses DOCX/PPTX zip bombs)."""
        async with self._verify_slots:
            data = await staged.read_all()
            return await asyncio.to_thread(filetypes.detect_media_type, data, name)

    async def _module_of(self, course_id: str, module_id: str) -> str:
        """A module of this course ("" stays "": course-wide); NOT_FOUND for any other id."""
        if not module_id:
            return ""
        module_id = v.identifier(module_id, "module_id")
        if await self._repo.get_module(course_id, module_id) is None:
            raise NotFound("module not found", "MODULE_NOT_FOUND")
        return module_id

    # modules

    async def move(self, caller: Principal, course_id: str, file_id: str, module_id: str) -> CourseFile:
        """Attach a file to another module, or (no module) to the whole course. Its index moves with it in
        sme_svc first, so nothing changes while that is unavailable; a file still being indexed cannot move
        yet. Objectives drafted before become stale, as after any change of the materials."""
        course = await self._access.owned(caller, course_id)
        file_id = v.identifier(file_id, "file_id")
        module_id = await self._module_of(course.id, module_id)
        file = await self._files.get(course.id, file_id)
        if file is None:
            raise NotFound("file not found", "FILE_NOT_FOUND")
        if file.module_id == module_id:
            return file
        if not file.state.settled:
            raise FailedPrecondition(
                "the file is still being indexed; move it once it is indexed", "FILE_INDEXING"
            )
        await self._move([file], module_id)
        await self._repo.materials_changed(course.id, now())
        return await self._files.get(course.id, file_id) or file

    async def release_module(self, course_id: str, module_id: str) -> None:
        """The module is going: its files stay, for the whole course."""
        files = await self._files.of_module(course_id, module_id)
        if files:
            await self._move(files, "")

    async def _move(self, files: list[CourseFile], module_id: str) -> None:
        course_id = files[0].course_id
        ids = [f.id for f in files]
        indexed = [f.id for f in files if f.state is FileState.INDEXED]
        if indexed:
            with contextlib.suppress(NotFound):
                await self._sme.move_documents(course_id, indexed, module_id)
        await self._files.set_module(course_id, ids, module_id, now())

    # ingestion requests and reconciliation

    async def _request_ingest(self, course_id: str, files: list[CourseFile]) -> Job | None:
        """Ask sme_svc to ingest; on a transient failure the files stay PENDING and retriable."""
        job = None
        for start in range(0, len(files), INGEST_BATCH):
            batch = files[start : start + INGEST_BATCH]
            ids = [f.id for f in batch]
            try:
                job = await self._sme.ingest(course_id, batch, timeout_s=self._reconcile_timeout_s)
            except _RETRYABLE as exc:
                log.warning("ingestion of %d file(s) postponed: %s", len(batch), exc.message)
                await self._files.release(ids, WAITING_MESSAGE, now())
                return None
            except DomainError as exc:
                # sme_svc refused the request itself: retrying will not help.
                await self._files.fail_unrequested(ids, f"indexing refused: {exc.message}", now())
                continue
            await self._jobs.record_ingest(job, ids, now())
            await self._files.set_job(ids, job.id, QUEUED_MESSAGE, now())
            await self._repo.set_last_ingest_job(course_id, job.id)
            await self.apply_job(job)
        return job

    async def apply_job(self, job: Job) -> None:
        """Copy what an ingestion job says about each of its files onto the files."""
        if job.kind != JOB_KIND_INGEST:
            return
        await self._jobs.update_snapshot(job)
        ended = job.state.terminal
        leftover = job.message or "the ingestion job ended without processing this file"
        for item in job.items:
            state = _ITEM_STATES[item.state]
            message = item.message if state is FileState.FAILED else _state_message(state, item.message)
            if ended and not state.settled:  # the job is over: an unfinished item will never finish
                state, message = FileState.FAILED, leftover
            await self._files.set_state(item.id, job.id, state, message, item.chunk_count, now())
        if ended:
            listed = {item.id for item in job.items}
            for file in await self._files.unsettled_of_job(job.id):
                if file.id not in listed:
                    await self._files.set_state(file.id, job.id, FileState.FAILED, leftover, 0, now())

    async def reconcile(self, course_id: str) -> None:
        """Request ingestion for files still waiting, and refresh unsettled files from their jobs."""
        waiting = await self._files.claim_unrequested(course_id, now(), CLAIM_LEASE_S)
        if waiting:
            await self._request_ingest(course_id, waiting)
        job_ids = {
            f.job_id for f in await self._files.all_of_course(course_id) if not f.state.settled and f.job_id
        }
        for job_id in list(job_ids)[:MAX_JOBS_PER_RECONCILE]:
            try:
                job = await self._sme.get_job(job_id, timeout_s=self._reconcile_timeout_s)
            except NotFound:
                await self._files.forget_job(job_id, WAITING_MESSAGE, now())
                continue
            except DomainError as exc:
                log.info("could not refresh ingestion job %s: %s", job_id, exc.message)
                return
            await self.apply_job(job)

    async def reconcile_all(self, max_courses: int = 100) -> None:
        """One pass of the background loop over courses with unsettled files."""
        for course_id in await self._files.courses_with_unsettled(max_courses):
            try:
                await self.reconcile(course_id)
            except DomainError as exc:
                log.info("reconciling course %s: %s", course_id, exc.message)

    # orphan blobs

    async def remove_orphan_blobs(self) -> int:
        """Delete the blobs no file record names that are older than the grace period; returns how many."""
        cutoff = time.time() - self.orphan_blob_grace_s
        removed = 0
        for course_id in await self._blobs.course_ids():
            try:
                removed += await self._remove_orphans_of(course_id, cutoff)
            except OSError as exc:  # one unreadable directory must not stop the sweep of the others
                log.warning("orphan sweep skipped course directory %s: %s", course_id, exc)
        log.log(
            logging.INFO if removed else logging.DEBUG,
            "removed %d orphan blob(s) older than %g s",
            removed,
            self.orphan_blob_grace_s,
        )
        return removed

    async def _remove_orphans_of(self, course_id: str, cutoff: float) -> int:
        candidates = await self._blobs.blobs_older_than(course_id, cutoff)
        removed = 0
        for start in range(0, len(candidates), ORPHAN_LOOKUP_BATCH):
            batch = candidates[start : start + ORPHAN_LOOKUP_BATCH]
            recorded = await self._files.recorded_ids(course_id, batch)
            for file_id in batch:
                if file_id not in recorded and await self._blobs.remove_if_older(course_id, file_id, cutoff):
                    removed += 1
        return removed

    # listing, status, deletion, read-back

    async def list(
        self, caller: Principal, course_id: str, size: int, token: str
    ) -> tuple[list[CourseFile], str]:
        course = await self._access.owned_or_service(caller, course_id)
        size, offset = page_size(size), offset_from(token)
        if await self._files.has_unsettled(course.id):
            await self.reconcile(course.id)
        rows = await self._files.list(course.id, offset, size + 1)
        return rows[:size], next_offset_token(offset, size, len(rows))

    async def indexing_status(self, caller: Principal, course_id: str) -> IndexStatus:
        course = await self._access.owned_or_service(caller, course_id)
        return await self.status_of(course.id)

    async def status_of(self, course_id: str) -> IndexStatus:
        await self.reconcile(course_id)
        files = await self._files.all_of_course(course_id)
        indexed = sum(1 for f in files if f.state is FileState.INDEXED)
        failed = sum(1 for f in files if f.state is FileState.FAILED)
        if not files:
            state = IndexState.EMPTY
        elif indexed + failed < len(files):
            state = IndexState.INDEXING
        elif failed:
            state = IndexState.PARTIAL
        else:
            state = IndexState.READY
        course = await self._repo.course_header(course_id)
        last_job = None
        if course is not None and course.last_ingest_job_id:
            last_job = await self._jobs.get(course.last_ingest_job_id)
        return IndexStatus(
            state=state,
            file_count=len(files),
            indexed_file_count=indexed,
            failed_file_count=failed,
            chunk_count=sum(f.chunk_count for f in files if f.state is FileState.INDEXED),
            last_job=last_job,
        )

    async def delete(self, caller: Principal, course_id: str, file_id: str) -> None:
        course = await self._access.owned(caller, course_id)
        file_id = v.identifier(file_id, "file_id")
        if not await self._files.mark_deleting(course.id, file_id, True):
            raise NotFound("file not found", "FILE_NOT_FOUND")
        # From here on sme_svc can no longer read the file; its chunks go first, then the bytes.
        try:
            await self._sme.delete_documents(course.id, [file_id])
        except NotFound:
            pass
        except BaseException:
            await self._files.mark_deleting(course.id, file_id, False)
            raise
        await self._files.delete(course.id, file_id)
        await self._blobs.delete(course.id, file_id)
        await self._repo.materials_changed(course.id, now())

    async def read(
        self, caller: Principal, course_id: str, file_id: str
    ) -> tuple[CourseFile, AsyncIterator[bytes]]:
        """The file's metadata and its bytes in 256 KiB chunks, for services (sme_svc ingests it), the course's
        owner, and a learner actively enrolled in the published course (opening a cited source). Files are
        looked up only after that: a learner who is not enrolled learns nothing but what the catalog shows."""
        course = await self._access.readable(caller, course_id)
        if caller.role == "learner" and not await self._enrollments.is_enrolled(caller.subject, course.id):
            raise PermissionDenied("only learners enrolled in this course can open its files", "NOT_ENROLLED")
        file = await self._files.get(course.id, v.identifier(file_id, "file_id"))
        if file is None or not await self._blobs.exists(course.id, file.id):
            raise NotFound("file not found", "FILE_NOT_FOUND")
        return file, self._blobs.read(course.id, file.id, READ_CHUNK_BYTES)

    async def delete_course_files(self, course_id: str, has_files: bool) -> None:
        """Everything of a course's files: the index in sme_svc first (may raise UNAVAILABLE), then ours."""
        if has_files:
            with contextlib.suppress(NotFound):
                await self._sme.delete_course_index(course_id)
        await self._files.delete_course(course_id)
        await self._jobs.delete_course(course_id)
        await self._blobs.delete_course(course_id)

    async def failed_files(self, course_id: str, limit: int) -> list[CourseFile]:
        files = await self._files.all_of_course(course_id)
        return [f for f in files if f.state is FileState.FAILED][:limit]

    async def course_has_files(self, course_id: str) -> bool:
        return bool(await self._files.list(course_id, 0, 1))


_END = object()


async def _until_idle(chunks: AsyncIterator[bytes], idle_s: float) -> AsyncIterator[bytes]:
    """The chunks, failing once none arrives for `idle_s`: a client that stops sending without ending or
    cancelling its stream (stalled, or a slow-loris without a deadline) would otherwise hold the upload,
    its temp file and its file handle forever."""
    iterator = aiter(chunks)
    while True:
        try:
            # (not asyncio.wait_for: on Python 3.11 it swallows a cancellation that lands as the stream
            # ends, and a client's cancel would then commit its truncated upload)
            async with asyncio.timeout(idle_s):
                chunk = await anext(iterator, _END)
        except TimeoutError:
            raise DeadlineExceeded(
                f"no data received for {idle_s:g} s: the upload was abandoned", "UPLOAD_STALLED"
            ) from None
        if chunk is _END:
            return
        yield chunk


def _state_message(state: FileState, item_message: str) -> str:
    if state is FileState.INDEXED:
        return item_message or "indexed"
    if state is FileState.INDEXING:
        return item_message or "indexing"
    return item_message or QUEUED_MESSAGE
