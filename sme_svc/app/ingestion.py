"""Background ingestion: fetch each file from instructor_svc, parse, chunk, embed, index. The next file is
fetched, parsed and chunked while the current one embeds, with at most PREFETCH_FILES chunked files waiting,
so memory stays bounded whatever the job's size.

Jobs live in MongoDB with a heartbeat. A replica that restarts (or any live replica) takes over a job whose
heartbeat went stale and resumes it: items already done are kept, the others are indexed again, which is
idempotent (a file's chunks are replaced, never appended), so nothing is double-indexed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Protocol

from lmw_common import telemetry
from lmw_common.errors import DomainError
from lmw_common.jobs import JOB_KIND_INGEST, JobState
from sme_svc.app.metrics import SmeMetrics
from sme_svc.domain import ChunkedFile, DocumentItem, IngestJob

log = logging.getLogger(__name__)

PREFETCH_FILES = 1


class JobStore(Protocol):
    async def create(self, kind: str, course_id: str, items: list[DocumentItem]) -> IngestJob: ...

    async def claim(self, job_id: str, owner: str) -> IngestJob | None:
        """Take a queued job (None when another runner has it)."""
        ...

    async def claim_stale(self, owner: str, stale_after_s: float) -> IngestJob | None:
        """Take over one job whose runner stopped heartbeating (its `resumes` counted up)."""
        ...

    async def heartbeat(self, job_id: str, owner: str) -> bool:
        """False once the job is no longer this owner's."""
        ...

    async def save(self, job: IngestJob, owner: str) -> None:
        """Write the runner's view of the job; only its current owner may."""
        ...


class FileSource(Protocol):
    async def read(self, course_id: str, file_id: str) -> bytes: ...


class FileIndexer(Protocol):
    async def prepare(
        self,
        course_id: str,
        file_id: str,
        file_name: str,
        file_sha256: str,
        data: bytes,
        media_type: str,
        *,
        module_id: str = "",
    ) -> ChunkedFile:
        """Parse and chunk the file (ParseError, InvalidArgument: the file is bad)."""
        ...

    async def embed_and_store(self, prepared: ChunkedFile) -> int:
        """Embed and store the file's chunks; returns how many there are."""
        ...


class IngestionRunner:
    def __init__(
        self,
        jobs: JobStore,
        files: FileSource,
        indexer: FileIndexer,
        max_concurrent_jobs: int,
        stale_after_s: float,
        max_resumes: int,
        metrics: SmeMetrics | None = None,
    ) -> None:
        self._metrics = metrics or SmeMetrics()
        self._jobs = jobs
        self._files = files
        self._indexer = indexer
        self._slots = asyncio.Semaphore(max_concurrent_jobs)
        self._stale_after_s = stale_after_s
        self._max_resumes = max_resumes
        self.owner = uuid.uuid4().hex  # this replica
        self._tasks: set[asyncio.Task] = set()
        self._sweeper: asyncio.Task | None = None

    async def submit(self, course_id: str, items: list[DocumentItem]) -> IngestJob:
        job = await self._jobs.create(JOB_KIND_INGEST, course_id, items)
        self._spawn(self._claim_and_run(job.id))
        return job

    def start(self) -> None:
        """Begin sweeping for jobs abandoned by a dead runner (this replica's previous life included)."""
        self._sweeper = asyncio.create_task(self._sweep())

    async def close(self) -> None:
        tasks = [*self._tasks, *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sweep(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                while (job := await self._jobs.claim_stale(self.owner, self._stale_after_s)) is not None:
                    log.warning("resuming job %s left by a stopped runner", job.id)
                    self._spawn(self._run(job))
            await asyncio.sleep(min(self._stale_after_s / 2, 10.0))

    async def _claim_and_run(self, job_id: str) -> None:
        job = await self._jobs.claim(job_id, self.owner)
        if job is not None:
            await self._run(job)

    async def _run(self, job: IngestJob) -> None:
        # Heartbeat from the claim on, also while waiting for a slot, so no one takes the job over meanwhile.
        beat = asyncio.create_task(self._heartbeat(job.id))
        try:
            with self._metrics.ingestion_queued.track_inprogress():
                await self._slots.acquire()
            try:
                with (
                    self._running(job),
                    telemetry.span("sme.ingest", **{"lmw.ingestion.files": len(job.items)}),
                ):
                    await self._run_claimed(job)
            finally:
                self._slots.release()
        finally:
            beat.cancel()

    async def _run_claimed(self, job: IngestJob) -> None:
        try:
            if job.resumes > self._max_resumes:
                await self._finish(
                    job, JobState.FAILED, f"interrupted {job.resumes} times; upload the files again"
                )
                return
            await self._ingest_items(job)
            await self._finish(job, *self._outcome(job))
        except asyncio.CancelledError:
            raise  # shutdown: the heartbeat stops and a live replica resumes the job
        except Exception as exc:  # a bug must not leave the job RUNNING forever
            log.exception("ingestion job %s crashed", job.id)
            await self._finish(job, JobState.FAILED, f"internal error: {type(exc).__name__}")

    @contextlib.contextmanager
    def _running(self, job: IngestJob) -> Iterator[None]:
        """Counts the job as running, then by the state it ended in (none when interrupted), and times it."""
        metrics = self._metrics
        started = time.perf_counter()
        try:
            with metrics.ingestion_running.track_inprogress():
                yield
        finally:
            if job.state.terminal:
                state = job.state.name.lower()
                metrics.ingestion_jobs.labels(state).inc()
                metrics.ingestion_seconds.labels(state).observe(time.perf_counter() - started)

    async def _ingest_items(self, job: IngestJob) -> None:
        """Index the job's unfinished files in order, preparing the next ones while the current one embeds."""
        items = [item for item in job.items if not item.state.terminal]
        ready: asyncio.Queue[tuple[DocumentItem, ChunkedFile | Exception]] = asyncio.Queue(PREFETCH_FILES)

        async def prepare_all() -> None:
            for item in items:
                try:
                    prepared: ChunkedFile | Exception = await self._prepare(job.course_id, item)
                except Exception as exc:  # handed on, so that files fail (or the job crashes) in their order
                    prepared = exc
                await ready.put((item, prepared))

        producer = asyncio.create_task(prepare_all())
        try:
            for _ in items:
                await self._index_item(job, *await ready.get())
        finally:
            producer.cancel()
            await asyncio.gather(producer, return_exceptions=True)

    async def _prepare(self, course_id: str, item: DocumentItem) -> ChunkedFile:
        data = await self._files.read(course_id, item.id)
        return await self._indexer.prepare(
            course_id, item.id, item.name, item.sha256, data, item.media_type, module_id=item.module_id
        )

    async def _index_item(
        self, job: IngestJob, item: DocumentItem, prepared: ChunkedFile | Exception
    ) -> None:
        item.state, item.message = JobState.RUNNING, ""
        await self._jobs.save(job, self.owner)
        try:
            if isinstance(prepared, Exception):
                raise prepared
            started = time.perf_counter()
            with telemetry.span("sme.embed", **{"lmw.ingestion.chunks": len(prepared.chunks)}):
                item.chunk_count = await self._indexer.embed_and_store(prepared)
            self._metrics.embedding_seconds.observe(time.perf_counter() - started)
            item.state, item.message = JobState.SUCCEEDED, f"{item.chunk_count} chunks indexed"
        except (DomainError, ValueError) as exc:  # a bad file fails alone, with its reason
            item.state, item.message = JobState.FAILED, _reason(exc)
        job.message = f"{job.items_done} of {len(job.items)} files processed"
        await self._jobs.save(job, self.owner)

    @staticmethod
    def _outcome(job: IngestJob) -> tuple[JobState, str]:
        failed = [item for item in job.items if item.state is JobState.FAILED]
        if failed and len(failed) == len(job.items):
            return JobState.FAILED, "no file could be indexed: " + "; ".join(
                f"{i.name}: {i.message}" for i in failed
            )
        if failed:
            return (
                JobState.SUCCEEDED,
                f"{len(job.items) - len(failed)} of {len(job.items)} files indexed; failed: "
                + ("; ".join(f"{i.name}: {i.message}" for i in failed)),
            )
        return (
            JobState.SUCCEEDED,
            f"{len(job.items)} files indexed, {sum(i.chunk_count for i in job.items)} chunks",
        )

    async def _finish(self, job: IngestJob, state: JobState, message: str) -> None:
        for item in job.items:
            if not item.state.terminal:
                item.state, item.message = JobState.FAILED, message
        job.state, job.message, job.ended_at = state, message, datetime.now(UTC)
        await self._jobs.save(job, self.owner)

    async def _heartbeat(self, job_id: str) -> None:
        while await self._jobs.heartbeat(job_id, self.owner):
            await asyncio.sleep(self._stale_after_s / 4)


def _reason(exc: Exception) -> str:
    message = exc.message if isinstance(exc, DomainError) else str(exc)
    return (message or type(exc).__name__)[:500]
