"""Ingest one course file: parse (thread), chunk (thread), embed in batches (embedding thread), store.

The store is the source of truth; retrievers notice the bumped course version and reload on their own.
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
from sme_svc.domain import Chunk, Section
from sme_svc.ingest.chunking import ChunkingConfig, TokenCounter, chunk_sections, text_for_embedding
from sme_svc.ingest.parsing import ParseError, parse

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None | Awaitable[None]]
EMBED_BATCH = 64  # texts per embedding call: queries interleave between calls

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
    ) -> int: ...


class TextEncoder(Protocol):
    """What the Indexer needs from the embedder (Embedder)."""

    async def aencode(self, texts: Sequence[str]) -> np.ndarray: ...


class Indexer:
    def __init__(
        self,
        store: ChunkSink,
        embedder: TextEncoder,
        chunking: ChunkingConfig | None = None,
        token_counter: TokenCounter | None = None,
        embed_batch: int = EMBED_BATCH,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._chunking = chunking or ChunkingConfig()
        self._token_counter = token_counter
        self._embed_batch = embed_batch

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
        embeddings = await self._embed(chunks, on_progress)
        await _report(on_progress, STAGE_STORE, 0, 1)
        version = await self._store.replace_file_chunks(course_id, file_id, chunks, embeddings, file_sha256)
        await _report(on_progress, STAGE_STORE, 1, 1)
        log.info(
            "file indexed",
            extra={
                "fields": {
                    "course_id": course_id,
                    "file_id": file_id,
                    "chunks": len(chunks),
                    "version": version,
                }
            },
        )
        return len(chunks)

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

    async def _embed(self, chunks: list[Chunk], on_progress: ProgressCallback | None) -> np.ndarray:
        """One embedding call per batch, so retrieval queries interleave with a long ingest."""
        texts = [text_for_embedding(chunk) for chunk in chunks]
        batches = []
        for start in range(0, len(texts), self._embed_batch):
            batches.append(await self._embedder.aencode(texts[start : start + self._embed_batch]))
            await _report(on_progress, STAGE_EMBED, min(start + self._embed_batch, len(texts)), len(texts))
        return np.concatenate(batches)


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
