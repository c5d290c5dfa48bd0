"""Grounded generation: learning objectives, personalized module content, quizzes and tutor answers, each
written from passages retrieved from the course's materials and citing them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from lmw_common import telemetry
from lmw_common import validation as v
from lmw_common.errors import FailedPrecondition, InvalidArgument, Unavailable
from lmw_common.preferences import Preferences
from sme_svc.app.metrics import SmeMetrics
from sme_svc.app.retrieval import MAX_QUERY, Search
from sme_svc.domain import Chunk, Generated, ModelInfo, Objective, QuizItem
from sme_svc.generation import contextualize_question
from sme_svc.generation.base import BackendUnavailable, GenerationFailed, Generator
from sme_svc.retrieval.index import gpu_available

# Passages a module's content is written from, by detail level.
CONTENT_PASSAGES = {"brief": 8, "moderate": 12, "detailed": 18}
OBJECTIVE_PASSAGES = 16
QUIZ_PASSAGES = 6  # per objective: the module's bank of items grows with it
VOCABULARY_PASSAGES = 12  # from the whole course, for distractors
TUTOR_PASSAGES = 6
MAX_SEEN = 200


@dataclass(frozen=True, slots=True)
class Cited:
    """A generation result with the chunks its citations point at."""

    value: object
    chunks: dict[str, Chunk]


class EmbeddingModel(Protocol):
    @property
    def model_name(self) -> str: ...

    @property
    def dimension(self) -> int:
        """The embedding size (reading it loads the model on first use)."""
        ...

    @property
    def device(self) -> str: ...


class Generation:
    def __init__(
        self,
        search: Search,
        generator: Generator,
        embedder: EmbeddingModel,
        max_generations: int,
        metrics: SmeMetrics | None = None,
    ) -> None:
        self._search = search
        self._generator = generator
        self._embedder = embedder
        self._slots = asyncio.Semaphore(max_generations)
        self._requests: Counter[str] = Counter()
        self._metrics = metrics or SmeMetrics()
        self._backend = str(generator.info().get("backend", "")) or "unknown"

    async def objectives(
        self,
        course_id: str,
        title: str,
        description: str,
        count: int,
        avoid: Sequence[str],
        module_id: str | None = None,
    ) -> Cited:
        """ObjectiveDrafts from the module's material (see Search.grounding), with the chunks they cite."""
        course_id = v.identifier(course_id, "course_id")
        title = v.text(title, "module_title", v.MAX_TITLE)
        description = v.text(description, "module_description", v.MAX_DESCRIPTION, required=False)
        count = _bounded_count(count, 4, 20)
        avoid = [v.text(a, "avoid", 500) for a in v.bounded_list(avoid, "avoid", 200)]
        query = f"{title}. {description}"
        chunks = [
            h.chunk for h in await self._search.grounding(course_id, query, OBJECTIVE_PASSAGES, module_id)
        ]
        async with self._generating("GenerateLearningObjectives", "objectives"):
            drafts = await _guarded_call(self._generator.objectives(title, description, chunks, count, avoid))
        return Cited(drafts, {c.id: c for c in chunks})

    async def content(
        self,
        course_id: str,
        title: str,
        description: str,
        objectives: Sequence[Objective],
        prefs: Preferences,
        recap: Sequence[Objective],
        module_id: str | None = None,
    ) -> AsyncIterator[str | Cited]:
        """Markdown deltas, then the whole content with the chunks it cites. The module's objectives are
        grounded in the module's material; the recap of earlier objectives in the whole course."""
        course_id = v.identifier(course_id, "course_id")
        title = v.text(title, "module_title", v.MAX_TITLE)
        description = v.text(description, "module_description", v.MAX_DESCRIPTION, required=False)
        objectives = _checked_objectives(objectives)
        recap = _checked_objectives(recap, required=False)
        query = " ".join([title, description, *(o.text for o in objectives)])
        passages = CONTENT_PASSAGES.get(prefs.detail_level, 12)
        hits = await self._search.grounding(course_id, query, passages, module_id)
        if recap:
            hits += await self._search.grounding(course_id, " ".join(o.text for o in recap), 4)
        chunks = list({h.chunk.id: h.chunk for h in hits}.values())
        async with self._generating("GenerateModuleContent", "content"):
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
        module_id: str | None = None,
        seen: Sequence[str] = (),
    ) -> Cited:
        """Quiz items from the module's material; questions in `seen` (the learner's earlier draws, most
        recent first) come back only once every other item of the module's bank was drawn."""
        course_id = v.identifier(course_id, "course_id")
        title = v.text(title, "module_title", v.MAX_TITLE)
        objectives = _checked_objectives(objectives)
        count = _bounded_count(count, 5, 20)
        seen = [q[:1000] for q in v.bounded_list(seen, "seen_questions", MAX_SEEN)]
        by_objective: dict[str, list[Chunk]] = {}
        for objective in objectives:
            hits = await self._search.grounding(course_id, objective.text, QUIZ_PASSAGES, module_id)
            by_objective[objective.id] = [h.chunk for h in hits]
        own = {c.id for chunks in by_objective.values() for c in chunks}
        nearby = await self._search.passages(course_id, title, VOCABULARY_PASSAGES)
        vocabulary = [h.chunk for h in nearby if h.chunk.id not in own]  # distractors from the same course
        async with self._generating("GenerateQuiz", "quiz"):
            items: list[QuizItem] = await _guarded_call(
                self._generator.quiz(
                    title, objectives, by_objective, count, list(focus), seed, seen, vocabulary
                )
            )
        return Cited(items, {c.id: c for group in by_objective.values() for c in group})

    async def answer(
        self,
        course_id: str,
        question: str,
        history: Sequence[tuple[str, str]],
        protected: Sequence[str],
        module_id: str | None = None,
    ) -> AsyncIterator[str | Cited]:
        """The tutor's answer: text deltas, then the whole answer with the chunks it cites. Questions in
        `protected` (the learner's open quizzes) get a hint instead of the answer. Asked from a module, the
        module's passages come first, and the best of the whole course join them."""
        course_id = v.identifier(course_id, "course_id")
        question = v.text(question, "question", MAX_QUERY)
        history = [(role, text[:MAX_QUERY]) for role, text in v.bounded_list(history, "history", 50)]
        protected = [p[:1000] for p in v.bounded_list(protected, "protected_questions", 50)]
        # A follow-up ("and the second one?") is retrieved together with what it points at.
        query = contextualize_question(question, history)
        hits = await self._search.passages(course_id, query, TUTOR_PASSAGES)
        if module_id:
            own = await self._search.passages(course_id, query, TUTOR_PASSAGES, module_id)
            hits = list({h.chunk.id: h for h in [*own, *hits]}.values())
        async with self._generating("Answer", "answer"):
            async for item in _guarded(self._generator.answer(question, history, hits, protected)):
                yield (
                    Cited(item, {h.chunk.id: h.chunk for h in hits}) if isinstance(item, Generated) else item
                )

    async def model_info(self) -> ModelInfo:
        # Reading the dimension loads the embedding model on first use: keep it off the event loop.
        dimension, device = await asyncio.to_thread(lambda: (self._embedder.dimension, self._embedder.device))
        generator = self._generator.info()
        return ModelInfo(
            generator_backend=generator.get("backend", ""),
            generator_model=generator.get("model", ""),
            embedding_model=self._embedder.model_name,
            embedding_dimension=dimension,
            device=device,
            faiss_gpu=gpu_available(),
            request_counts=dict(self._requests),
        )

    @contextlib.asynccontextmanager
    async def _generating(self, rpc: str, kind: str) -> AsyncIterator[None]:
        """A generator slot, held while the block generates; timed and traced by backend and kind. (The span
        is not made current: a stream's block spans its consumer's yields.)"""
        self._requests[rpc] += 1
        with self._metrics.generation_waiting.track_inprogress():
            await self._slots.acquire()
        started = time.perf_counter()
        attributes = {"lmw.generator.backend": self._backend, "lmw.generation.kind": kind}
        try:
            with telemetry.span("sme.generate", current=False, **attributes):
                yield
        finally:
            self._slots.release()
            seconds = time.perf_counter() - started
            self._metrics.generation_seconds.labels(self._backend, kind).observe(seconds)


def _bounded_count(count: int, default: int, maximum: int) -> int:
    if not 0 <= count <= maximum:
        raise InvalidArgument(f"count must be between 1 and {maximum}", "INVALID_COUNT")
    return count or default


def _checked_objectives(objectives: Sequence[Objective], required: bool = True) -> list[Objective]:
    if required and not objectives:
        raise InvalidArgument("objectives are required", "REQUIRED", field="objectives")
    v.bounded_list(objectives, "objectives", 50)
    return [Objective(o.id[:64], v.text(o.text, "objective", 500), o.chunk_ids) for o in objectives]


def _unavailable(exc: BackendUnavailable) -> Unavailable:
    return Unavailable(f"the generator backend is unavailable: {exc}", "GENERATOR_UNAVAILABLE")


def _failed(exc: GenerationFailed) -> FailedPrecondition:
    return FailedPrecondition(f"generation failed: {exc}", "GENERATION_FAILED")


async def _guarded_call(awaitable):
    try:
        return await awaitable
    except BackendUnavailable as exc:
        raise _unavailable(exc) from exc
    except GenerationFailed as exc:
        raise _failed(exc) from exc


async def _guarded(stream):
    try:
        async for item in stream:
            yield item
    except BackendUnavailable as exc:
        raise _unavailable(exc) from exc
    except GenerationFailed as exc:
        raise _failed(exc) from exc
