"""Ingest + retrieval against a real MongoDB-wire server (SecantusDB) and the real embedding model.

The sample course (32 chunks) is embedded once per module; tests that change data copy its chunks into a
course of their own, so no test embeds more than a handful of texts.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from pathlib import Path

import numpy as np
import pytest
from pymongo import AsyncMongoClient

from lmw_common.errors import InvalidArgument
from lmw_common.filetypes import MEDIA_PDF, MEDIA_TEXT, detect_media_type
from sme_svc.adapters.chunk_store import ChunkStore
from sme_svc.app.documents import Documents
from sme_svc.domain import Method
from sme_svc.ingest.chunking import chunk_id, content_hash
from sme_svc.ingest.indexer import Indexer
from sme_svc.ingest.parsing import ParseError
from sme_svc.retrieval.embedder import get_embedder
from sme_svc.retrieval.lexical import BM25, tokenize
from sme_svc.retrieval.retriever import Retriever, maximal_marginal_relevance, reciprocal_rank_fusion

SAMPLE_COURSE = Path(__file__).resolve().parents[2] / "scripts" / "sample_course"
SAMPLE_FILES = ["01-describing-data.md", "01-relationships.html", "02-probability.md", "03-inference.pdf"]
COURSE = "stats"


@pytest.fixture(scope="module")
def embedder():
    return get_embedder()


@pytest.fixture(scope="module")
async def store(mongo) -> ChunkStore:
    client = AsyncMongoClient(mongo.uri)
    chunk_store = ChunkStore(client[f"t_{uuid.uuid4().hex[:16]}"])
    await chunk_store.ensure_indexes()
    yield chunk_store
    await client.close()


@pytest.fixture(scope="module")
async def sample_course(store: ChunkStore, embedder) -> dict[str, int]:
    """The sample course indexed through the real Indexer; returns chunk counts per file."""
    indexer = Indexer(store, embedder)
    counts = {}
    for name in SAMPLE_FILES:
        data = (SAMPLE_COURSE / name).read_bytes()
        counts[name] = await indexer.index_file(COURSE, name, name, "", data, detect_media_type(data, name))
    return counts


async def copy_course(store: ChunkStore, source: str, target: str) -> None:
    """Clone a course's stored chunks and embeddings under another course id (no re-embedding)."""
    stored = await store.load_course(source)
    chunks = stored.chunks
    for file_id in sorted({chunk.file_id for chunk in chunks}):
        rows = [i for i, chunk in enumerate(chunks) if chunk.file_id == file_id]
        copies = [
            dataclasses.replace(
                chunks[i], id=chunk_id(target, file_id, "copy", chunks[i].ordinal), course_id=target
            )
            for i in rows
        ]
        await store.replace_file_chunks(
            target,
            file_id,
            copies,
            stored.embeddings[rows],
            encoder=stored.encoders[rows[0]],
            content_hashes=[content_hash(chunk) for chunk in copies],
        )


@pytest.fixture
def retriever(store: ChunkStore, embedder, tmp_path: Path) -> Retriever:
    return Retriever(store, embedder, tmp_path / "index-cache")


@pytest.mark.parametrize("method", list(Method))
async def test_finds_the_pdf_page_that_answers(sample_course, retriever: Retriever, method: Method) -> None:
    hits = await retriever.retrieve(
        COURSE, "What does a 95 percent confidence level really mean?", k=3, method=method
    )
    assert 0 < len(hits) <= 3
    assert any(hit.chunk.file_id == "03-inference.pdf" and hit.chunk.page == 3 for hit in hits)
    assert "repeated the sampling" in " ".join(hit.chunk.text for hit in hits)


@pytest.mark.parametrize("method", [Method.HYBRID, Method.DENSE])
async def test_finds_the_markdown_section_with_its_heading(
    sample_course, retriever: Retriever, method: Method
) -> None:
    hits = await retriever.retrieve(
        COURSE,
        "Why are positive results of a screening test for a rare disease mostly false alarms?",
        method=method,
    )
    top = hits[0].chunk
    assert top.file_id == "02-probability.md"
    assert top.heading == "Probability Basics > Bayes' theorem"
    assert "base rate neglect" in top.text


async def test_scores_follow_each_method(sample_course, retriever: Retriever) -> None:
    dense = await retriever.retrieve(COURSE, "interquartile range", k=5, method=Method.DENSE)
    lexical = await retriever.retrieve(COURSE, "interquartile range", k=5, method=Method.LEXICAL)
    assert all(-1.0 <= hit.score <= 1.0 for hit in dense)
    assert [hit.score for hit in dense] == sorted((hit.score for hit in dense), reverse=True)
    assert lexical[0].score > 1.0  # a BM25 score, not a cosine
    assert "interquartile" in lexical[0].chunk.text.lower()


async def test_file_filter_restricts_results(sample_course, retriever: Retriever) -> None:
    for method in Method:
        hits = await retriever.retrieve(COURSE, "mean", k=10, file_ids=["02-probability.md"], method=method)
        assert hits
        assert {hit.chunk.file_id for hit in hits} == {"02-probability.md"}
    assert await retriever.retrieve(COURSE, "mean", file_ids=["no-such-file"]) == []


async def test_hybrid_returns_no_duplicates(sample_course, retriever: Retriever) -> None:
    hits = await retriever.retrieve(COURSE, "standard deviation of the normal distribution", k=10)
    assert len(hits) == 10
    assert len({hit.chunk.id for hit in hits}) == 10


async def test_reindexing_the_same_file_is_idempotent(store: ChunkStore, embedder, sample_course) -> None:
    course = f"reindex-{uuid.uuid4().hex[:8]}"
    await copy_course(store, COURSE, course)
    indexer = Indexer(store, embedder)
    data = (SAMPLE_COURSE / "03-inference.pdf").read_bytes()
    first = await indexer.index_file(course, "03-inference.pdf", "03-inference.pdf", "", data, MEDIA_PDF)
    total = await store.count_chunks(course)
    version = await store.get_version(course)
    second = await indexer.index_file(course, "03-inference.pdf", "03-inference.pdf", "", data, MEDIA_PDF)
    assert first == second == sample_course["03-inference.pdf"]
    assert await store.count_chunks(course) == total
    assert await store.count_chunks(course, "03-inference.pdf") == first
    assert await store.get_version(course) == version  # nothing changed: no new version to reload


async def test_deleted_files_disappear_from_results(
    store: ChunkStore, retriever: Retriever, sample_course
) -> None:
    course = f"delete-{uuid.uuid4().hex[:8]}"
    await copy_course(store, COURSE, course)
    query = "What is the definition of a p-value?"
    before = await retriever.retrieve(course, query, k=3)
    assert before[0].chunk.file_id == "03-inference.pdf"

    deleted = await store.delete_files(course, ["03-inference.pdf"])
    assert deleted == sample_course["03-inference.pdf"]
    after = await retriever.retrieve(course, query, k=10)
    assert after and all(hit.chunk.file_id != "03-inference.pdf" for hit in after)

    assert await store.delete_course(course) == sum(sample_course.values()) - deleted
    assert await retriever.retrieve(course, query) == []
    assert await store.get_version(course) > 0  # versions never go back, so stale caches always notice


async def test_a_deleted_course_index_is_no_longer_loaded(
    store: ChunkStore, retriever: Retriever, sample_course, tmp_path: Path
) -> None:
    """DeleteCourseIndex (Documents.delete_course) drops the course's chunks, then its index from this
    replica's memory and disk."""
    course = f"gone-{uuid.uuid4().hex[:8]}"
    await copy_course(store, COURSE, course)
    assert await retriever.retrieve(course, "variance", k=1)
    index_dir = tmp_path / "index-cache" / course
    assert course in retriever.loaded_course_ids and any(index_dir.iterdir())

    documents = Documents(runner=None, jobs=None, chunks=store, loaded=retriever)  # no ingestion involved
    assert await documents.delete_course(course) == sum(sample_course.values())

    assert course not in retriever.loaded_course_ids
    assert not index_dir.exists()
    assert await retriever.retrieve(course, "variance") == []


async def test_loaded_courses_are_bounded_lru(
    store: ChunkStore, embedder, sample_course, tmp_path: Path
) -> None:
    courses = [f"lru-{i}-{uuid.uuid4().hex[:6]}" for i in range(3)]
    for course in courses:
        await copy_course(store, COURSE, course)
    retriever = Retriever(store, embedder, tmp_path, max_loaded_courses=2)
    for course in courses:
        assert await retriever.retrieve(course, "median", k=2)
    assert retriever.loaded_course_ids == courses[1:]
    assert await retriever.retrieve(courses[0], "median", k=2)  # an evicted course reloads on demand
    assert retriever.loaded_course_ids == [courses[2], courses[0]]


async def test_index_cache_is_stamped_with_the_version(
    store: ChunkStore, embedder, sample_course, tmp_path
) -> None:
    course = f"cache-{uuid.uuid4().hex[:8]}"
    await copy_course(store, COURSE, course)
    version = await store.get_version(course)
    first = Retriever(store, embedder, tmp_path)
    await first.retrieve(course, "variance", k=1)
    assert (tmp_path / course / f"{version}.faiss").exists()
    assert (tmp_path / course / f"{version}.json").exists()

    second = Retriever(store, embedder, tmp_path)  # another replica: reads the cached index
    assert (await second.retrieve(course, "variance", k=1))[0].chunk.id == (
        await first.retrieve(course, "variance", k=1)
    )[0].chunk.id

    await store.delete_files(course, ["01-relationships.html"])
    await second.retrieve(course, "variance", k=1)
    assert sorted(path.name for path in (tmp_path / course).iterdir()) == [
        f"{version + 1}.faiss",
        f"{version + 1}.json",
    ]


async def test_concurrent_first_retrieves_load_the_course_once(
    store: ChunkStore, embedder, sample_course
) -> None:
    loads = 0
    original = store.load_course

    async def counting_load(course_id: str):
        nonlocal loads
        loads += 1
        return await original(course_id)

    retriever = Retriever(_Proxy(store, load_course=counting_load), embedder, None)
    results = await asyncio.gather(*(retriever.retrieve(COURSE, f"question {i}", k=2) for i in range(5)))
    assert all(results)
    assert loads == 1


async def test_indexer_reports_progress_and_rejects_bad_input(store: ChunkStore, embedder) -> None:
    indexer = Indexer(store, embedder)
    stages: list[tuple[str, int, int]] = []
    text = b"Sampling error shrinks as samples grow.\n\nBias does not."
    count = await indexer.index_file(
        "progress", "notes.txt", "notes.txt", "", text, MEDIA_TEXT, on_progress=lambda *a: stages.append(a)
    )
    assert count == 1
    assert [stage for stage, _, _ in stages] == ["parse", "parse", "chunk", "embed", "store", "store"]

    with pytest.raises(ParseError):
        await indexer.index_file("progress", "bad.pdf", "bad.pdf", "", b"%PDF-1.4 garbage", MEDIA_PDF)
    with pytest.raises(ParseError):
        await indexer.index_file("progress", "blank.txt", "blank.txt", "", b"  \n\n ", MEDIA_TEXT)
    with pytest.raises(InvalidArgument) as caught:
        await indexer.index_file("progress", "notes.txt", "notes.txt", "0" * 64, text, MEDIA_TEXT)
    assert caught.value.reason == "CHECKSUM_MISMATCH"
    assert await store.count_chunks("progress") == 1  # failed attempts left the stored chunks alone


async def test_store_round_trips_chunks_and_embeddings(store: ChunkStore, sample_course) -> None:
    stored = await store.load_course(COURSE)
    version, chunks, embeddings = stored.version, stored.chunks, stored.embeddings
    assert version >= len(SAMPLE_FILES)
    assert len(chunks) == len(embeddings) == sum(sample_course.values())
    assert embeddings.dtype == np.float32
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-3)
    wanted = [chunks[5].id, "missing", chunks[0].id]
    assert [chunk.id for chunk in await store.get_chunks(wanted)] == [chunks[5].id, chunks[0].id]


async def test_hnsw_index_above_the_threshold(store: ChunkStore, embedder, sample_course, tmp_path) -> None:
    exact = Retriever(store, embedder, None)
    approximate = Retriever(store, embedder, tmp_path, hnsw_threshold=10)
    query = "How is a z-score calculated?"
    assert (await approximate.course(COURSE)).index.kind == "hnsw-ip"
    hits = await approximate.retrieve(COURSE, query, k=3, method=Method.DENSE)
    assert [hit.chunk.id for hit in hits] == [
        hit.chunk.id for hit in await exact.retrieve(COURSE, query, k=3, method=Method.DENSE)
    ]
    reloaded = Retriever(store, embedder, tmp_path, hnsw_threshold=10)  # from the cached HNSW file
    assert [hit.chunk.id for hit in await reloaded.retrieve(COURSE, query, k=3, method=Method.DENSE)] == [
        hit.chunk.id for hit in hits
    ]


# ---------------------------------------------------------------- the ranking functions on their own


def test_bm25_ranks_by_term_rarity_and_frequency() -> None:
    bm25 = BM25(
        ["the mean of a sample", "median and mean", "variance variance of the data", "unrelated text"]
    )
    ranked = bm25.top_k("variance of means", k=10)
    assert [doc for doc, _ in ranked] == [2, 0, 1]  # 'variance' is rarer than 'mean'; doc 3 scores 0
    assert bm25.top_k("variance", k=10, allowed=np.array([0, 1])) == []
    assert tokenize("The Loops, while-loops and queries!") == ["loop", "while", "loop", "and", "query"]


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([[(1, 0.9), (2, 0.8), (3, 0.7)], [(3, 9.0), (1, 5.0)]], k=60)
    assert [position for position, _ in fused] == [1, 3, 2]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def test_mmr_skips_near_duplicates() -> None:
    embeddings = np.array([[1.0, 0.0], [0.999, 0.045], [0.6, 0.8]], dtype=np.float32)
    picked = maximal_marginal_relevance([(0, 1.0), (1, 0.95), (2, 0.8)], embeddings, k=2, lambda_=0.7)
    assert [position for position, _ in picked] == [0, 2]


class _Proxy:
    """Delegates to a store, with some methods overridden."""

    def __init__(self, target, **overrides) -> None:
        self._target = target
        self.__dict__.update(overrides)

    def __getattr__(self, name: str):
        return getattr(self._target, name)
