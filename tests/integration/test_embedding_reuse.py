"""Stored embeddings are reused, never mixed: against a real MongoDB-wire server (SecantusDB), with an encoder
without a model that counts what it embeds (tests/fakes/sme.py WordEncoder).

- a chunk whose text and encoder are unchanged keeps its stored embedding (re-ingesting costs parsing only);
- an index holds one encoder's vectors: chunks stored by another encoder are embedded again when their
  course loads, and an index file cached for another encoder is rebuilt.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from pymongo import AsyncMongoClient

from lmw_common.filetypes import MEDIA_MARKDOWN
from sme_svc.adapters.chunk_store import ChunkStore
from sme_svc.domain import Method
from sme_svc.ingest.chunking import content_hash, text_for_embedding
from sme_svc.ingest.indexer import Indexer
from sme_svc.retrieval.retriever import Retriever
from tests.fakes.sme import WordEncoder

SAMPLE = Path(__file__).resolve().parents[2] / "scripts" / "sample_course" / "01-describing-data.md"


@pytest.fixture
async def store(mongo) -> ChunkStore:
    client = AsyncMongoClient(mongo.uri)
    chunk_store = ChunkStore(client[f"t_{uuid.uuid4().hex[:16]}"])
    await chunk_store.ensure_indexes()
    yield chunk_store
    await client.close()


def course_id() -> str:
    return f"reuse-{uuid.uuid4().hex[:8]}"


async def index(store: ChunkStore, encoder: WordEncoder, course: str, file_id: str, data: bytes) -> int:
    return await Indexer(store, encoder).index_file(
        course, file_id, f"{file_id}.md", "", data, MEDIA_MARKDOWN
    )


async def test_reingesting_an_unchanged_file_embeds_nothing(store: ChunkStore) -> None:
    course, encoder, data = course_id(), WordEncoder(), SAMPLE.read_bytes()
    count = await index(store, encoder, course, "notes", data)
    assert len(encoder.encoded) == count > 5
    before = await store.load_course(course)

    encoder.encoded.clear()
    assert await index(store, encoder, course, "notes", data) == count
    assert encoder.encoded == []
    after = await store.load_course(course)
    assert after.version == before.version  # nothing written: no replica reloads the course
    assert np.array_equal(after.embeddings, before.embeddings)

    # The same file uploaded again under a new id (what an instructor's re-upload is) reuses them too.
    assert await index(store, encoder, course, "notes-again", data) == count
    assert encoder.encoded == []
    assert await store.count_chunks(course) == 2 * count


async def test_a_lightly_edited_file_embeds_only_the_chunks_that_changed(store: ChunkStore) -> None:
    course, encoder, original = course_id(), WordEncoder(), SAMPLE.read_text()
    await index(store, encoder, course, "notes", original.encode())
    old = {content_hash(chunk) for chunk in (await store.load_course(course)).chunks}
    edited = original.replace("The median", "The sample median", 1)
    assert edited != original

    encoder.encoded.clear()
    version = await store.get_version(course)
    await index(store, encoder, course, "notes", edited.encode())
    assert await store.get_version(course) == version + 1
    new_chunks = (await store.load_course(course)).chunks
    changed = [text_for_embedding(chunk) for chunk in new_chunks if content_hash(chunk) not in old]
    assert 1 <= len(changed) < len(new_chunks) / 2
    assert sorted(encoder.encoded) == sorted(changed)


async def test_a_new_encoder_embeds_every_chunk_again_at_ingest(store: ChunkStore) -> None:
    course, data = course_id(), SAMPLE.read_bytes()
    count = await index(store, WordEncoder("words-a"), course, "notes", data)
    other = WordEncoder("words-b")
    await index(store, other, course, "notes", data)
    assert len(other.encoded) == count
    assert set((await store.load_course(course)).encoders) == {"words-b"}


async def test_a_course_stored_by_another_encoder_is_embedded_again_when_it_loads(
    store: ChunkStore, tmp_path: Path
) -> None:
    course, old, new = course_id(), WordEncoder("words-a"), WordEncoder("words-b")
    count = await index(store, old, course, "notes", SAMPLE.read_bytes())
    question = "What does the median of a sample measure?"
    assert await Retriever(store, old, tmp_path).retrieve(course, question, k=3)  # cached for words-a

    hits = await Retriever(store, new, tmp_path).retrieve(course, question, k=3, method=Method.DENSE)
    texts = [text_for_embedding(chunk) for chunk in (await store.load_course(course)).chunks]
    assert sorted(new.encoded) == sorted(texts + [question])  # every chunk once, then the query
    expected = new.encode(texts)
    assert hits[0].score == pytest.approx(float(np.max(expected @ new.encode([question])[0])), abs=1e-5)
    stored = await store.load_course(course)
    assert stored.encoders == ["words-b"] * count  # written back: the next load embeds nothing
    assert np.allclose(stored.embeddings, expected, atol=1e-6)
    meta = json.loads(next((tmp_path / course).glob("*.json")).read_text())
    assert meta["encoder"] == "words-b"  # the index file of words-a was rebuilt, not searched

    new.encoded.clear()
    assert await Retriever(store, new, tmp_path).retrieve(course, question, k=3)  # another replica
    assert new.encoded == [question]


async def test_chunks_of_two_encoders_in_one_course_are_never_searched_together(store: ChunkStore) -> None:
    course, first, second = course_id(), WordEncoder("words-a"), WordEncoder("words-b")
    await index(store, first, course, "describing", SAMPLE.read_bytes())
    await index(store, second, course, "probability", (SAMPLE.parent / "02-probability.md").read_bytes())
    stored = await store.load_course(course)
    assert set(stored.encoders) == {"words-a", "words-b"}

    course_view = await Retriever(store, second, None).course(course)
    first_files = [i for i, chunk in enumerate(stored.chunks) if chunk.file_id == "describing"]
    texts = [text_for_embedding(stored.chunks[i]) for i in first_files]
    assert np.allclose(course_view.embeddings[first_files], second.encode(texts), atol=1e-6)
    assert set((await store.load_course(course)).encoders) == {"words-b"}
