"""sme_svc's ingestion runner over in-memory fakes: the next files are fetched, parsed and chunked while the
current one embeds, no more of them wait than PREFETCH_FILES allows, and files still succeed or fail one by
one, in their order."""

from __future__ import annotations

import asyncio
import time

import pytest

from lmw_common.jobs import JOB_KIND_INGEST, JobState
from sme_svc.app.ingestion import PREFETCH_FILES, IngestionRunner
from sme_svc.domain import ChunkedFile, DocumentItem, IngestJob
from sme_svc.ingest.parsing import ParseError
from tests.fakes.sme import Files, InMemoryJobs

DEADLINE_S = 60.0
FILE_IDS = [f"f{i}" for i in range(6)]


class PipelineIndexer:
    """A FileIndexer that logs each step. Embedding file k waits until file k + 2 is prepared (when there is
    one), which only a runner that prepares ahead can provide; `failing` files raise while being prepared."""

    def __init__(self, file_ids: list[str], failing: dict[str, Exception] | None = None) -> None:
        self.file_ids = file_ids
        self.failing = failing or {}
        self.log: list[tuple[str, str]] = []
        self.prepared = {file_id: asyncio.Event() for file_id in file_ids}
        self.in_memory_at_prepare: list[int] = []  # files begun and not yet stored, at each prepare

    async def prepare(
        self, course_id, file_id, file_name, file_sha256, data, media_type, *, module_id=""
    ) -> ChunkedFile:
        started = {f for step, f in self.log if step == "prepare"} | {file_id}
        stored = {f for step, f in self.log if step == "stored"}
        self.in_memory_at_prepare.append(len(started - stored))
        self.log.append(("prepare", file_id))
        await asyncio.sleep(0)
        self.prepared[file_id].set()
        if file_id in self.failing:
            raise self.failing[file_id]
        return ChunkedFile(course_id, file_id, file_sha256, [])

    async def embed_and_store(self, prepared: ChunkedFile) -> int:
        position = self.file_ids.index(prepared.file_id)
        if position + 2 < len(self.file_ids):
            await asyncio.wait_for(self.prepared[self.file_ids[position + 2]].wait(), DEADLINE_S)
        self.log.append(("stored", prepared.file_id))
        return position + 1


async def run_job(indexer: PipelineIndexer, file_ids: list[str]) -> tuple[IngestJob, InMemoryJobs]:
    jobs = InMemoryJobs()
    runner = IngestionRunner(
        jobs, Files({f: f.encode() for f in file_ids}), indexer, 1, stale_after_s=30, max_resumes=3
    )
    items = [DocumentItem(id=f, name=f"{f}.md", media_type="text/markdown") for f in file_ids]
    job = await runner.submit("course", items)
    deadline = time.monotonic() + DEADLINE_S
    while not jobs.jobs[job.id].state.terminal:
        assert time.monotonic() < deadline, "the job did not end"
        await asyncio.sleep(0.01)
    await runner.close()
    return jobs.jobs[job.id], jobs


async def test_the_next_files_are_prepared_while_the_current_one_embeds() -> None:
    indexer = PipelineIndexer(FILE_IDS)
    job, _ = await run_job(indexer, FILE_IDS)
    assert job.kind == JOB_KIND_INGEST
    assert job.state is JobState.SUCCEEDED, job.message
    assert [item.chunk_count for item in job.items] == [1, 2, 3, 4, 5, 6]
    assert [f for step, f in indexer.log if step == "stored"] == FILE_IDS
    for current, following in zip(FILE_IDS, FILE_IDS[1:], strict=False):
        assert indexer.log.index(("prepare", following)) < indexer.log.index(("stored", current))


async def test_no_more_prepared_files_wait_than_the_prefetch_allows() -> None:
    indexer = PipelineIndexer(FILE_IDS)
    await run_job(indexer, FILE_IDS)
    # At most: the file embedding, PREFETCH_FILES prepared ones queued, and the one being prepared.
    bound = PREFETCH_FILES + 2
    assert max(indexer.in_memory_at_prepare) == bound
    assert all(count <= bound for count in indexer.in_memory_at_prepare)


async def test_a_file_that_cannot_be_read_fails_alone_in_its_turn() -> None:
    indexer = PipelineIndexer(FILE_IDS[:4], failing={"f1": ParseError("not a PDF")})
    job, jobs = await run_job(indexer, FILE_IDS[:4])
    assert job.state is JobState.SUCCEEDED
    assert [item.state for item in job.items] == [JobState.SUCCEEDED, JobState.FAILED] + [
        JobState.SUCCEEDED
    ] * 2
    assert job.items[1].message == "not a PDF"
    assert "3 of 4 files indexed; failed: f1.md: not a PDF" in job.message
    assert ended_in_order(jobs) == FILE_IDS[:4]  # each file's outcome was saved in the job's order


def ended_in_order(jobs: InMemoryJobs) -> list[str]:
    """The files in the order the job's saves first showed them ended."""
    order: list[str] = []
    for saved in jobs.saved:
        order += [f for f, state in saved if state.terminal and f not in order]
    return order


async def test_a_crash_while_preparing_fails_the_job_rather_than_leaving_it_running() -> None:
    indexer = PipelineIndexer(FILE_IDS[:3], failing={"f1": RuntimeError("a bug")})
    job, _ = await run_job(indexer, FILE_IDS[:3])
    assert job.state is JobState.FAILED
    assert job.message == "internal error: RuntimeError"
    assert job.items[0].state is JobState.SUCCEEDED
    assert all(item.state is JobState.FAILED for item in job.items[1:])


@pytest.mark.parametrize("count", [1, 2])
async def test_short_jobs_end_too(count: int) -> None:
    indexer = PipelineIndexer(FILE_IDS[:count])
    job, _ = await run_job(indexer, FILE_IDS[:count])
    assert job.state is JobState.SUCCEEDED
    assert [f for step, f in indexer.log if step == "stored"] == FILE_IDS[:count]
