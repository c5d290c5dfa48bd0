"""sme_svc use cases: ingestion jobs, retrieval and grounded generation (no gRPC in here)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from lmw_common import validation as v
from lmw_common.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from sme_svc.adapters.job_store import TERMINAL, Job, JobItem, JobStore
from sme_svc.app.ingestion import IngestionRunner
from sme_svc.domain import Chunk, Generated, Hit, Method, Objective, Preferences, QuizItem
from sme_svc.generation import contextualize_question
from sme_svc.generation.base import BackendUnavailable, GenerationFailed, Generator
from sme_svc.retrieval.index import gpu_available

MAX_QUERY = 2_000
MAX_K = 50
WATCH_POLL_S = 0.3


@dataclass(frozen=True, slots=True)
class DocumentRef:
    file_id: str
    file_name: str
    sha256: str
    media_type: str


@dataclass(frozen=True, slots=True)
class Cited:
    """A generation result with the chunks its citations point at."""

    value: object
    chunks: dict[str, Chunk]


class SmeHandlers:
    def __init__(
        self,
        runner: IngestionRunner,
        jobs: JobStore,
        store,
        retriever,
        generator: Generator,
        embedder,
        max_generations: int,
    ) -> None:
        self._runner = runner
        self._jobs = jobs
        self._store = store
        self._retriever = retriever
        self._generator = generator
        self._embedder = embedder
        self._generation_slots = asyncio.Semaphore(max_generations)
        self.request_counts: Counter[str] = Counter()

    # ingestion

    async def ingest(self, course_id: str, documents: Sequence[DocumentRef]) -> Job:
        course_id = v.identifier(course_id, "course_id")
        if not documents:
            raise InvalidArgument("documents must not be empty", "REQUIRED", field="documents")
        v.bounded_list(documents, "documents", 100)
        items = [
            JobItem(
                id=v.identifier(d.file_id, "file_id"),
                name=v.text(d.file_name, "file_name", 255),
                sha256=d.sha256[:64],
                media_type=d.media_type[:100],
            )
            for d in documents
        ]
        return await self._runner.submit(course_id, items)

    async def get_job(self, job_id: str) -> Job:
        job = await self._jobs.get(v.identifier(job_id, "job_id"))
        if job is None:
            raise NotFound("job not found", "JOB_NOT_FOUND")
        return job

    async def watch_job(self, job_id: str) -> AsyncIterator[Job]:
        """Yields the job whenever it changes, ending with its terminal state."""
        last = None
        while True:
            job = await self.get_job(job_id)
            if job.updated_at != last:
                last = job.updated_at
                yield job
            if job.state in TERMINAL:
                return
            await asyncio.sleep(WATCH_POLL_S)

    async def delete_documents(self, course_id: str, file_ids: Sequence[str]) -> int:
        course_id = v.identifier(course_id, "course_id")
        ids = [v.identifier(f, "file_id") for f in v.bounded_list(file_ids, "file_ids", 500)]
        return await self._store.delete_files(course_id, ids)

    async def delete_course(self, course_id: str) -> int:
        return await self._store.delete_course(v.identifier(course_id, "course_id"))

    # retrieval

    async def retrieve(
        self, course_id: str, query: str, k: int, file_ids: Sequence[str], method: Method
    ) -> list[Hit]:
        course_id = v.identifier(course_id, "course_id")
        query = v.text(query, "query", MAX_QUERY)
        if not 0 <= k <= MAX_K:
            raise InvalidArgument(f"k must be between 1 and {MAX_K}", "INVALID_K", field="k")
        ids = [v.identifier(f, "file_id") for f in v.bounded_list(file_ids, "file_ids", 500)]
        return await self._retriever.retrieve(course_id, query, k or 5, ids or None, method)

    async def _grounding(self, course_id: str, query: str, k: int) -> list[Hit]:
        hits = await self._retriever.retrieve(course_id, query[:MAX_QUERY], k, None, Method.HYBRID)
        if not hits:
            raise FailedPrecondition("the course has no indexed material yet", "INDEX_EMPTY")
        return hits

    # generation

    async def objectives(
        self, course_id: str, title: str, description: str, count: int, avoid: Sequence[str]
    ) -> Cited:
        course_id = v.identifier(course_id, "course_id")
        title = v.text(title, "module_title", v.MAX_TITLE)
        description = v.text(description, "module_description", v.MAX_DESCRIPTION, required=False)
        count = _bounded_count(count, 4, 20)
        avoid = [v.text(a, "avoid", 500) for a in v.bounded_list(avoid, "avoid", 200)]
        hits = await self._grounding(course_id, f"{title}. {description}", 16)
        chunks = [h.chunk for h in hits]
        async with self._generating("GenerateLearningObjectives"):
            objectives = await _guarded_call(
                self._generator.objectives(title, description, chunks, count, avoid)
            )
        return Cited(objectives, {c.id: c for c in chunks})

    async def content(
        self,
        course_id: str,
        title: str,
        description: str,
        objectives: Sequence[Objective],
        prefs: Preferences,
        recap: Sequence[Objective],
    ) -> AsyncIterator[str | Cited]:
        course_id = v.identifier(course_id, "course_id")
        title = v.text(title, "module_title", v.MAX_TITLE)
        description = v.text(description, "module_description", v.MAX_DESCRIPTION, required=False)
        objectives = _checked_objectives(objectives)
        recap = _checked_objectives(recap, required=False)
        k = {"brief": 8, "moderate": 12, "detailed": 18}.get(prefs.detail_level, 12)
        query = " ".join([title, description, *(o.text for o in objectives)])
        hits = await self._grounding(course_id, query, k)
        if recap:
            hits += await self._grounding(course_id, " ".join(o.text for o in recap), 4)
        chunks = _unique([h.chunk for h in hits])
        async with self._generating("GenerateModuleContent"):
            stream = self._generator.content(title, description, objectives, chunks, prefs, recap)
            async for item in _guarded(stream):
                yield Cited(item, {c.id: c for c in chunks}) if isinstance(item, Generated) else item

    async def quiz(
        self,
        course_id: str,
        title: str,
        objectives: Sequence[Objective],
        count: int,
        focus: Sequence[str],
        seed: int,
    ) -> Cited:
        course_id = v.identifier(course_id, "course_id")
        title = v.text(title, "module_title", v.MAX_TITLE)
        objectives = _checked_objectives(objectives)
        count = _bounded_count(count, 5, 20)
        by_objective: dict[str, list[Chunk]] = {}
        for objective in objectives:
            by_objective[objective.id] = [
                h.chunk for h in await self._grounding(course_id, objective.text, 4)
            ]
        async with self._generating("GenerateQuiz"):
            items: list[QuizItem] = await _guarded_call(
                self._generator.quiz(title, objectives, by_objective, count, list(focus), seed)
            )
        chunks = {c.id: c for group in by_objective.values() for c in group}
        return Cited(items, chunks)

    async def answer(
        self, course_id: str, question: str, history: Sequence[tuple[str, str]], protected: Sequence[str]
    ) -> AsyncIterator[str | Cited]:
        course_id = v.identifier(course_id, "course_id")
        question = v.text(question, "question", MAX_QUERY)
        history = [(role, text[:MAX_QUERY]) for role, text in v.bounded_list(history, "history", 50)]
        protected = [p[:1000] for p in v.bounded_list(protected, "protected_questions", 50)]
        # A follow-up ("and the second one?") is retrieved together with what it points at.
        query = contextualize_question(question, history)
        hits = await self._retriever.retrieve(course_id, query[:MAX_QUERY], 6, None, Method.HYBRID)
        async with self._generating("Answer"):
            async for item in _guarded(self._generator.answer(question, history, hits, protected)):
                yield (
                    Cited(item, {h.chunk.id: h.chunk for h in hits}) if isinstance(item, Generated) else item
                )

    async def model_info(self) -> dict[str, str]:
        # Reading the dimension loads the embedding model on first use: keep it off the event loop.
        dimension, device = await asyncio.to_thread(lambda: (self._embedder.dimension, self._embedder.device))
        return {
            **self._generator.info(),
            "embedding_model": self._embedder.model_name,
            "embedding_dim": str(dimension),
            "device": device,
            "faiss_gpu": str(gpu_available()).lower(),
        }

    def _generating(self, rpc: str):
        self.request_counts[rpc] += 1
        return self._generation_slots


def _bounded_count(count: int, default: int, maximum: int) -> int:
    if not 0 <= count <= maximum:
        raise InvalidArgument(f"count must be between 1 and {maximum}", "INVALID_COUNT")
    return count or default


def _checked_objectives(objectives: Sequence[Objective], required: bool = True) -> list[Objective]:
    if required and not objectives:
        raise InvalidArgument("objectives are required", "REQUIRED", field="objectives")
    v.bounded_list(objectives, "objectives", 50)
    return [Objective(o.id[:64], v.text(o.text, "objective", 500), o.chunk_ids) for o in objectives]


def _unique(chunks: list[Chunk]) -> list[Chunk]:
    return list({c.id: c for c in chunks}.values())


async def _guarded_call(awaitable):
    try:
        return await awaitable
    except BackendUnavailable as exc:
        raise Unavailable(f"the generator backend is unavailable: {exc}", "GENERATOR_UNAVAILABLE") from exc
    except GenerationFailed as exc:
        raise FailedPrecondition(f"generation failed: {exc}", "GENERATION_FAILED") from exc


async def _guarded(stream):
    try:
        async for item in stream:
            yield item
    except BackendUnavailable as exc:
        raise Unavailable(f"the generator backend is unavailable: {exc}", "GENERATOR_UNAVAILABLE") from exc
    except GenerationFailed as exc:
        raise FailedPrecondition(f"generation failed: {exc}", "GENERATION_FAILED") from exc
