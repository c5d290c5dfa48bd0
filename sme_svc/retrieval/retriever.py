"""Course retrieval: dense (FAISS), lexical (BM25) or hybrid (Reciprocal Rank Fusion, then MMR).

Loaded courses (index, BM25, chunks, embeddings) live in a bounded LRU so memory stays flat however many
courses exist. Every retrieve reads the course's version from the store (one read by primary key) and reloads
a stale course, so any number of replicas converge on what MongoDB holds. Loading and searching run in
worker threads; concurrent loads of one course share a single task.

Vectors of two encoders are never mixed: a chunk stored with another encoder's embedding (the encoder setting
changed, or another replica runs another one) is embedded again when its course loads, and the new embedding
is written back so that this happens once.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from sme_svc.domain import Chunk, Hit, Method, StoredCourse
from sme_svc.ingest.chunking import content_hash, text_for_embedding
from sme_svc.retrieval.index import DEFAULT_HNSW_THRESHOLD, IndexCache, VectorIndex, load_or_build
from sme_svc.retrieval.lexical import BM25

log = logging.getLogger(__name__)

MAX_K = 100
RRF_K = 60
MMR_LAMBDA = 0.7
CANDIDATE_POOL = 50


class ChunkSource(Protocol):
    async def get_version(self, course_id: str) -> int: ...

    async def load_course(self, course_id: str) -> StoredCourse: ...

    async def replace_embeddings(
        self, chunks: Sequence[Chunk], embeddings: np.ndarray, encoder: str, content_hashes: Sequence[str]
    ) -> None:
        """Store these chunks' embeddings made again by `encoder`."""
        ...


class QueryEncoder(Protocol):
    @property
    def encoder_id(self) -> str: ...

    async def aencode(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class LoadedCourse:
    """Everything needed to search one course at one version; immutable, so searches need no locks."""

    course_id: str
    version: int
    chunks: list[Chunk]
    embeddings: np.ndarray
    index: VectorIndex | None
    bm25: BM25
    positions_by_file: dict[str, np.ndarray] = field(default_factory=dict)
    positions_by_module: dict[str, np.ndarray] = field(default_factory=dict)  # "" = course-wide files

    def allowed_positions(self, file_ids: Sequence[str] | None) -> np.ndarray | None:
        """Positions of the chunks of these files (None = no filter)."""
        if not file_ids:
            return None
        parts = [
            self.positions_by_file[file_id] for file_id in set(file_ids) if file_id in self.positions_by_file
        ]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def module_tiers(self, module_id: str, allowed: np.ndarray | None) -> list[np.ndarray]:
        """The positions to search in turn for a module: its own files, the course-wide ones, the rest."""
        everything = np.arange(len(self.chunks)) if allowed is None else allowed
        empty = np.zeros(0, dtype=np.int64)
        own = self.positions_by_module.get(module_id, empty)
        shared = self.positions_by_module.get("", empty) if module_id else empty
        tiers = [np.intersect1d(everything, tier) for tier in (own, shared)]
        return [*tiers, np.setdiff1d(everything, np.concatenate(tiers))]


class Retriever:
    def __init__(
        self,
        store: ChunkSource,
        embedder: QueryEncoder,
        cache_dir: str | Path | None,
        max_loaded_courses: int = 16,
        hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
        candidate_pool: int = CANDIDATE_POOL,
        rrf_k: int = RRF_K,
        mmr_lambda: float = MMR_LAMBDA,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._cache = IndexCache(cache_dir) if cache_dir is not None else None
        self._max_loaded = max(1, max_loaded_courses)
        self._hnsw_threshold = hnsw_threshold
        self._candidate_pool = candidate_pool
        self._rrf_k = rrf_k
        self._mmr_lambda = mmr_lambda
        self._loaded: OrderedDict[str, LoadedCourse] = OrderedDict()
        self._loading: dict[str, asyncio.Task[LoadedCourse]] = {}
        self.hits = self.misses = 0  # of the loaded courses (lmw_common.metrics)

    @property
    def loaded_course_ids(self) -> list[str]:
        """Courses held in memory, least recently used first."""
        return list(self._loaded)

    def entry_count(self) -> int:
        return len(self._loaded)

    def caches(self) -> dict[str, Retriever]:
        """Its caches by name (for lmw_common.metrics): the courses loaded in memory."""
        return {"loaded_courses": self}

    async def retrieve(
        self,
        course_id: str,
        query: str,
        k: int = 5,
        file_ids: Sequence[str] | None = None,
        method: Method = Method.HYBRID,
        module_id: str | None = None,
    ) -> list[Hit]:
        """The `k` (at most MAX_K) best chunks of the course for `query`, best first; scores are cosine
        (dense), BM25 (lexical) or the RRF score (hybrid, in MMR order).

        With `module_id`, the module's own chunks come first, then the course-wide ones, then the rest of the
        course: each later tier only fills what the tiers before it left short of `k`."""
        k = min(k, MAX_K)
        if k <= 0 or not query.strip():
            return []
        course = await self.course(course_id)
        allowed = course.allowed_positions(file_ids)
        if not course.chunks or (allowed is not None and len(allowed) == 0):
            return []
        tiers = [allowed] if module_id is None else course.module_tiers(module_id, allowed)
        query_vector = None if method is Method.LEXICAL else (await self._embedder.aencode([query]))[0]
        ranked = await asyncio.to_thread(self._rank_tiers, course, query, query_vector, k, tiers, method)
        return [Hit(chunk=course.chunks[position], score=score) for position, score in ranked]

    async def course(self, course_id: str) -> LoadedCourse:
        """The course as of its current version in the store, from memory when still current."""
        version = await self._store.get_version(course_id)
        cached = self._loaded.get(course_id)
        if cached is not None and cached.version == version:
            self._loaded.move_to_end(course_id)
            self.hits += 1
            return cached
        self.misses += 1
        return await self._load_once(course_id)

    async def forget(self, course_id: str) -> None:
        """Drop the course from memory and its index files from disk (after DeleteCourseIndex)."""
        self._loaded.pop(course_id, None)
        if self._cache is not None:
            await asyncio.to_thread(self._cache.remove, course_id)

    # ------------------------------------------------------------ loading

    async def _load_once(self, course_id: str) -> LoadedCourse:
        """Single flight: concurrent callers await one load task; a cancelled caller doesn't cancel it."""
        task = self._loading.get(course_id)
        if task is None:
            task = asyncio.create_task(self._load(course_id), name=f"load-course-{course_id}")
            self._loading[course_id] = task
            task.add_done_callback(lambda done: self._load_finished(course_id, done))
        return await asyncio.shield(task)

    def _load_finished(self, course_id: str, task: asyncio.Task[LoadedCourse]) -> None:
        if self._loading.get(course_id) is task:
            del self._loading[course_id]
        if not task.cancelled() and task.exception() is not None:
            log.warning("loading course %s failed: %s", course_id, task.exception())

    async def _load(self, course_id: str) -> LoadedCourse:
        stored = await self._store.load_course(course_id)
        embeddings = await self._embedded_by_our_encoder(course_id, stored)
        course = await asyncio.to_thread(self._build, course_id, stored.version, stored.chunks, embeddings)
        self._loaded[course_id] = course
        self._loaded.move_to_end(course_id)
        while len(self._loaded) > self._max_loaded:
            self._loaded.popitem(last=False)
        return course

    async def _embedded_by_our_encoder(self, course_id: str, stored: StoredCourse) -> np.ndarray:
        """The course's embeddings, those of another encoder (or of none recorded) made again by ours."""
        encoder = self._embedder.encoder_id
        stale = [i for i, made_by in enumerate(stored.encoders) if made_by != encoder]
        if not stale:
            return stored.embeddings
        log.warning(
            "embedding %d of %d chunks of course %s again: they were stored by another encoder than %s",
            len(stale),
            len(stored.chunks),
            course_id,
            encoder,
        )
        chunks = [stored.chunks[i] for i in stale]
        fresh = await self._embedder.aencode([text_for_embedding(chunk) for chunk in chunks])
        await self._store.replace_embeddings(
            chunks, fresh, encoder, [content_hash(chunk) for chunk in chunks]
        )
        if len(stale) == len(stored.chunks):
            return fresh  # after a change of model too, when even the dimension differs
        embeddings = np.array(stored.embeddings, dtype=np.float32)  # writable: the loaded one views raw bytes
        embeddings[stale] = fresh
        return embeddings

    def _build(
        self, course_id: str, version: int, chunks: list[Chunk], embeddings: np.ndarray
    ) -> LoadedCourse:
        index = None
        if chunks:
            chunk_ids = [chunk.id for chunk in chunks]
            index = load_or_build(
                self._cache,
                course_id,
                version,
                chunk_ids,
                embeddings,
                self._embedder.encoder_id,
                self._hnsw_threshold,
            )
        positions: dict[str, list[int]] = {}
        modules: dict[str, list[int]] = {}
        for position, chunk in enumerate(chunks):
            positions.setdefault(chunk.file_id, []).append(position)
            modules.setdefault(chunk.module_id, []).append(position)
        return LoadedCourse(
            course_id=course_id,
            version=version,
            chunks=chunks,
            embeddings=embeddings,
            index=index,
            bm25=BM25([text_for_embedding(chunk) for chunk in chunks]),
            positions_by_file={file_id: np.array(p, dtype=np.int64) for file_id, p in positions.items()},
            positions_by_module={module: np.array(p, dtype=np.int64) for module, p in modules.items()},
        )

    # ------------------------------------------------------------ ranking (worker thread)

    def _rank_tiers(
        self,
        course: LoadedCourse,
        query: str,
        query_vector: np.ndarray | None,
        k: int,
        tiers: list[np.ndarray | None],
        method: Method,
    ) -> list[tuple[int, float]]:
        ranked: list[tuple[int, float]] = []
        for allowed in tiers:
            if len(ranked) >= k:
                break
            if allowed is None or len(allowed):
                ranked += self._rank(course, query, query_vector, k - len(ranked), allowed, method)
        return ranked

    def _rank(
        self,
        course: LoadedCourse,
        query: str,
        query_vector: np.ndarray | None,
        k: int,
        allowed: np.ndarray | None,
        method: Method,
    ) -> list[tuple[int, float]]:
        if method is Method.DENSE:
            return dense_top_k(course, query_vector, k, allowed)
        if method is Method.LEXICAL:
            return course.bm25.top_k(query, k, allowed)
        pool = max(self._candidate_pool, k)
        fused = reciprocal_rank_fusion(
            [dense_top_k(course, query_vector, pool, allowed), course.bm25.top_k(query, pool, allowed)],
            self._rrf_k,
        )
        return maximal_marginal_relevance(fused[:pool], course.embeddings, k, self._mmr_lambda)


def dense_top_k(
    course: LoadedCourse, query_vector: np.ndarray, k: int, allowed: np.ndarray | None
) -> list[tuple[int, float]]:
    """(position, cosine) of the nearest chunks. A file filter searches exactly within its subset (a matrix
    product over the subset's embeddings), which beats post-filtering when the subset is small."""
    if allowed is None:
        scores, positions = course.index.search(query_vector, k)
        return [(int(p), float(s)) for p, s in zip(positions, scores, strict=True)]
    scores = course.embeddings[allowed] @ query_vector
    if len(scores) > k:
        keep = np.argpartition(-scores, k - 1)[:k]
        allowed, scores = allowed[keep], scores[keep]
    order = np.argsort(-scores, kind="stable")
    return [(int(allowed[i]), float(scores[i])) for i in order]


def reciprocal_rank_fusion(
    rankings: Sequence[list[tuple[int, float]]], k: int = RRF_K
) -> list[tuple[int, float]]:
    """Sum of 1/(k + rank) over the rankings a position appears in (rank from 1), best first."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (position, _) in enumerate(ranking, start=1):
            fused[position] = fused.get(position, 0.0) + 1.0 / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def maximal_marginal_relevance(
    candidates: list[tuple[int, float]], embeddings: np.ndarray, k: int, lambda_: float = MMR_LAMBDA
) -> list[tuple[int, float]]:
    """Pick `k` candidates trading relevance (scaled to [0, 1]) against cosine similarity to those already
    picked, so near-duplicate chunks don't crowd out the rest. Keeps each candidate's original score."""
    if len(candidates) <= 1:
        return candidates[:k]
    positions = np.array([position for position, _ in candidates])
    relevance = np.array([score for _, score in candidates], dtype=np.float32)
    relevance = relevance / max(float(relevance.max()), 1e-12)
    vectors = embeddings[positions]
    similarity = vectors @ vectors.T
    chosen = [0]  # the most relevant candidate always comes first
    redundancy = similarity[0].copy()
    available = np.ones(len(candidates), dtype=bool)
    available[0] = False
    while len(chosen) < min(k, len(candidates)):
        gain = np.where(available, lambda_ * relevance - (1.0 - lambda_) * redundancy, -np.inf)
        best = int(np.argmax(gain))
        chosen.append(best)
        available[best] = False
        redundancy = np.maximum(redundancy, similarity[best])
    return [candidates[i] for i in chosen]
