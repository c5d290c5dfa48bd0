"""A course's documents: ingesting files (a job that the ingestion runner works through in the background),
following that job, and deleting files or the course's whole index."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from lmw_common import validation as v
from lmw_common.errors import InvalidArgument, NotFound
from sme_svc.app.ingestion import IngestionRunner
from sme_svc.domain import DocumentItem, IngestJob

MAX_DOCUMENTS = 100
MAX_FILE_IDS = 500
WATCH_POLL_S = 0.3


class JobReader(Protocol):
    async def get(self, job_id: str) -> IngestJob | None: ...


class ChunkStore(Protocol):
    async def delete_files(self, course_id: str, file_ids: Sequence[str]) -> int:
        """Delete the files' chunks; how many were deleted."""
        ...

    async def delete_course(self, course_id: str) -> int:
        """Delete every chunk of the course; how many were deleted."""
        ...

    async def set_module(self, course_id: str, file_ids: Sequence[str], module_id: str) -> int:
        """Attach the files' chunks to `module_id` ("" = course-wide); how many changed."""
        ...


class LoadedCourses(Protocol):
    async def forget(self, course_id: str) -> None:
        """Drop the course's search index from memory and disk."""
        ...


class Documents:
    def __init__(
        self, runner: IngestionRunner, jobs: JobReader, chunks: ChunkStore, loaded: LoadedCourses
    ) -> None:
        self._runner = runner
        self._jobs = jobs
        self._chunks = chunks
        self._loaded = loaded

    async def ingest(self, course_id: str, documents: Sequence[DocumentItem]) -> IngestJob:
        """Start a job that fetches, parses, chunks, embeds and indexes each file."""
        course_id = v.identifier(course_id, "course_id")
        if not documents:
            raise InvalidArgument("documents must not be empty", "REQUIRED", field="documents")
        v.bounded_list(documents, "documents", MAX_DOCUMENTS)
        items = [
            DocumentItem(
                id=v.identifier(d.id, "file_id"),
                name=v.text(d.name, "file_name", 255),
                sha256=d.sha256[:64],
                media_type=d.media_type[:100],
                module_id=v.identifier(d.module_id, "module_id") if d.module_id else "",
            )
            for d in documents
        ]
        return await self._runner.submit(course_id, items)

    async def job(self, job_id: str) -> IngestJob:
        job = await self._jobs.get(v.identifier(job_id, "job_id"))
        if job is None:
            raise NotFound("job not found", "JOB_NOT_FOUND")
        return job

    async def watch(self, job_id: str) -> AsyncIterator[IngestJob]:
        """The job whenever it changes, ending with its terminal state."""
        last = None
        while True:
            job = await self.job(job_id)
            if job.updated_at != last:
                last = job.updated_at
                yield job
            if job.state.terminal:
                return
            await asyncio.sleep(WATCH_POLL_S)

    async def delete_files(self, course_id: str, file_ids: Sequence[str]) -> int:
        course_id = v.identifier(course_id, "course_id")
        ids = [v.identifier(f, "file_id") for f in v.bounded_list(file_ids, "file_ids", MAX_FILE_IDS)]
        return await self._chunks.delete_files(course_id, ids)

    async def move_files(self, course_id: str, file_ids: Sequence[str], module_id: str) -> int:
        """Attach files to a module ("" = course-wide): their chunks stay, only their module changes. A file
        still being ingested gets its module from the ingestion request, which its caller updates too."""
        course_id = v.identifier(course_id, "course_id")
        ids = [v.identifier(f, "file_id") for f in v.bounded_list(file_ids, "file_ids", MAX_FILE_IDS)]
        if not ids:
            raise InvalidArgument("file_ids must not be empty", "REQUIRED", field="file_ids")
        module_id = v.identifier(module_id, "module_id") if module_id else ""
        return await self._chunks.set_module(course_id, ids, module_id)

    async def delete_course(self, course_id: str) -> int:
        """Delete the course's chunks, then its index on this replica (the others see the course's version
        change at their next search and drop theirs)."""
        course_id = v.identifier(course_id, "course_id")
        deleted = await self._chunks.delete_course(course_id)
        await self._loaded.forget(course_id)
        return deleted
