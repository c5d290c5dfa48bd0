"""Ingest one course file in two steps: `prepare` parses and chunks it (a worker thread), `embed_and_store`
embeds what it must (the embedding thread, batch by batch) and stores the chunks. The ingestion runner
overlaps the first step of the next file with the second of the current one.

A chunk whose text was embedded before by the same encoder (the same content hash, anywhere in the course)
reuses the stored embedding, so re-ingesting an unchanged or lightly edited file costs parsing only. The store
is the source of truth; retrievers notice the bumped course version and reload on their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import numpy as np

from lmw_common.errors import InvalidArgument
from lmw_common.filetypes import SUPPORTED_MEDIA_TYPES
from sme_svc.domain import Chunk, ChunkedFile, Section
from sme_svc.ingest.chunking import (
    ChunkingConfig,
    TokenCounter,
    chunk_sections,
    content_hash,
    text_for_embedding,
)
from sme_svc.ingest.parsing import ParseError, parse

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None | Awaitable[None]]

STAGE_PARSE = "parse"
STAGE_CHUNK = "chunk"
STAGE_EMBED = "embed"
STAGE_STORE = "store"


class ChunkSink(Protocol):
    """What the Indexer needs from the store (ChunkStore)."""

    async def replace_file_chunks(
        self,
        course_id: str,
        file_id: str,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        file_sha256: str = "",
        encoder: str = "",
        content_hashes: Sequence[str] = (),
    ) -> int: ...

    async def find_embeddings(
        self, course_id: str, content_hashes: Sequence[str], encoder: str
    ) -> dict[str, np.ndarray]:
        """Stored embeddings of the course's texts with these hashes made by `encoder`, by hash."""
        ...


class TextEncoder(Protocol):
    """What the Indexer needs from the embedder (Embedder)."""

    @property
    def encoder_id(self) -> str: ...

    async def aencode(
        self, texts: Sequence[str], on_batch: Callable[[int, int], Awaitable[None] | None] | None = None
    ) -> np.ndarray:
        """Embeddings of the texts, one batch at a time; `on_batch(done, total)` after each."""
        ...


class Indexer:
    def __init__(
        self,
        store: ChunkSink,
        embedder: TextEncoder,
        chunking: ChunkingConfig | None = None,
        token_counter: TokenCounter | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._chunking = chunking or ChunkingConfig()
        self._token_counter = token_counter

    async def index_file(
        self,
        course_id: str,
        file_id: str,
        file_name: str,
        file_sha256: str,
        data: bytes,
        media_type: str,
        on_progress: ProgressCallback | None = None,
        module_id: str = "",
    ) -> int:
        """Replace the file's chunks in the store with freshly parsed ones; returns the chunk count.

        Raises ParseError for files that can't be read or hold no text, and InvalidArgument when `data`
        doesn't match `file_sha256` (an empty `file_sha256` is computed here instead).
        """
        prepared = await self.prepare(
            course_id, file_id, file_name, file_sha256, data, media_type, on_progress, module_id
        )
        return await self.embed_and_store(prepared, on_progress)

    async def prepare(
        self,
        course_id: str,
        file_id: str,
        file_name: str,
        file_sha256: str,
        data: bytes,
        media_type: str,
        on_progress: ProgressCallback | None = None,
        module_id: str = "",
    ) -> ChunkedFile:
        """Check, parse and chunk the file (in worker threads); raises as `index_file` does."""
        if media_type not in SUPPORTED_MEDIA_TYPES:
            raise ParseError(f"unsupported media type {media_type!r}")
        file_sha256 = await asyncio.to_thread(_checked_sha256, data, file_sha256)
        await _report(on_progress, STAGE_PARSE, 0, 1)
        sections = await asyncio.to_thread(parse, data, media_type)
        await _report(on_progress, STAGE_PARSE, 1, 1)
        chunks = await asyncio.to_thread(
            self._chunk, sections, course_id, file_id, file_name, file_sha256, module_id
        )
        if not chunks:
            raise ParseError("no text could be extracted from the file (a scanned document?)")
        await _report(on_progress, STAGE_CHUNK, len(chunks), len(chunks))
        return ChunkedFile(course_id, file_id, file_sha256, chunks)

    async def embed_and_store(
        self, prepared: ChunkedFile, on_progress: ProgressCallback | None = None
    ) -> int:
        """Embed the chunks that have no stored embedding yet, then make them the file's chunks."""
        encoder = self._embedder.encoder_id
        digests = [content_hash(chunk) for chunk in prepared.chunks]
        embeddings = await self._embed(prepared, digests, encoder, on_progress)
        await _report(on_progress, STAGE_STORE, 0, 1)
        version = await self._store.replace_file_chunks(
            prepared.course_id,
            prepared.file_id,
            prepared.chunks,
            embeddings,
            prepared.file_sha256,
            encoder=encoder,
            content_hashes=digests,
        )
        await _report(on_progress, STAGE_STORE, 1, 1)
        log.info(
            "file indexed",
            extra={
                "fields": {
                    "course_id": prepared.course_id,
                    "file_id": prepared.file_id,
                    "chunks": len(prepared.chunks),
                    "version": version,
                }
            },
        )
        return len(prepared.chunks)

    def _chunk(
        self,
        sections: list[Section],
        course_id: str,
        file_id: str,
        file_name: str,
        file_sha256: str,
        module_id: str,
    ) -> list[Chunk]:
        return chunk_sections(
            sections,
            course_id=course_id,
            file_id=file_id,
            file_name=file_name,
            file_sha256=file_sha256,
            module_id=module_id,
            config=self._chunking,
            counter=self._token_counter,
        )

    async def _embed(
        self, prepared: ChunkedFile, digests: list[str], encoder: str, on_progress: ProgressCallback | None
    ) -> np.ndarray:
        """Stored embeddings where the text and encoder are unchanged; the rest embedded (sorted by length,
        one batch per hop of the embedding thread, so retrieval queries interleave with a long ingest)."""
        stored = await self._store.find_embeddings(prepared.course_id, digests, encoder)
        missing = [i for i, digest in enumerate(digests) if digest not in stored]
        total, reused = len(digests), len(digests) - len(missing)
        if not missing:
            await _report(on_progress, STAGE_EMBED, total, total)
        fresh = await self._embedder.aencode(
            [text_for_embedding(prepared.chunks[i]) for i in missing],
            lambda done, _: _report(on_progress, STAGE_EMBED, reused + done, total),
        )
        embeddings = np.empty((total, fresh.shape[1]), dtype=np.float32)
        embeddings[missing] = fresh
        for i, digest in enumerate(digests):
            if digest in stored:
                embeddings[i] = stored[digest]
        return embeddings


def _checked_sha256(data: bytes, expected: str) -> str:
    actual = hashlib.sha256(data).hexdigest()
    if expected and expected.lower() != actual:
        raise InvalidArgument(
            "the file's bytes do not match its recorded sha256", reason="CHECKSUM_MISMATCH", expected=expected
        )
    return actual


async def _report(on_progress: ProgressCallback | None, stage: str, done: int, total: int) -> None:
    if on_progress is None:
        return
    result = on_progress(stage, done, total)
    if inspect.isawaitable(result):
        await result
