"""MongoDB, the source of truth for chunks and their embeddings (pymongo async; only pymongo is imported).

Collections:
- `chunks`: one document per chunk (`_id` = chunk id), its Chunk fields, `file_sha256`, the embedding as
  little-endian float32 bytes (`embedding`, BSON Binary) and `ingest_id` (the write that produced it).
- `course_indexes`: `{_id: course_id, version, chunk_count, updated_at}`. `version` only ever grows (a
  deleted course keeps its document with chunk_count 0), so a replica holding version N knows it is stale
  as soon as it reads N+1.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import numpy as np
from bson.binary import Binary
from pymongo import ASCENDING, ReplaceOne, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from sme_svc.domain import Chunk

CHUNKS = "chunks"
COURSE_INDEXES = "course_indexes"
_WRITE_BATCH = 500
_CHUNK_FIELDS = (
    "course_id",
    "file_id",
    "file_name",
    "ordinal",
    "text",
    "page",
    "slide",
    "heading",
    "module_id",  # absent in chunks stored before modules had files: read as "" (course-wide)
)
_SPAN_FIELDS = ("char_start", "char_end")
_NO_EMBEDDING = {"embedding": 0, "ingest_id": 0}


class ChunkStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._chunks = database[CHUNKS]
        self._courses = database[COURSE_INDEXES]

    async def ensure_indexes(self) -> None:
        """The one compound index serves course scans (sorted by file and ordinal) and per-file deletes."""
        await self._chunks.create_index(
            [("course_id", ASCENDING), ("file_id", ASCENDING), ("ordinal", ASCENDING)],
            name="course_file_ordinal",
        )

    async def replace_file_chunks(
        self,
        course_id: str,
        file_id: str,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        file_sha256: str = "",
    ) -> int:
        """Make `chunks` the only chunks of the file and bump the course version; returns the new version.

        Idempotent: chunk ids are deterministic, so re-ingesting the same file overwrites in place. The new
        chunks are upserted before the old ones are deleted, so a concurrent reader sees the file's old or
        new chunks (briefly both), never none of them.
        """
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        ingest_id = uuid.uuid4().hex
        vectors = np.ascontiguousarray(embeddings, dtype="<f4")
        for start in range(0, len(chunks), _WRITE_BATCH):
            batch = range(start, min(len(chunks), start + _WRITE_BATCH))
            requests = [
                ReplaceOne(
                    {"_id": chunks[i].id}, _to_document(chunks[i], vectors[i], file_sha256, ingest_id), True
                )
                for i in batch
            ]
            await self._chunks.bulk_write(requests, ordered=False)
        await self._chunks.delete_many(
            {"course_id": course_id, "file_id": file_id, "ingest_id": {"$ne": ingest_id}}
        )
        return await self._bump_version(course_id)

    async def set_module(self, course_id: str, file_ids: Iterable[str], module_id: str) -> int:
        """Move the chunks of these files to `module_id` ("" = course-wide); returns how many changed."""
        result = await self._chunks.update_many(
            {"course_id": course_id, "file_id": {"$in": list(file_ids)}, "module_id": {"$ne": module_id}},
            {"$set": {"module_id": module_id}},
        )
        if result.modified_count:
            await self._bump_version(course_id)
        return result.modified_count

    async def delete_files(self, course_id: str, file_ids: Iterable[str]) -> int:
        """Delete the chunks of these files; returns how many were deleted."""
        result = await self._chunks.delete_many({"course_id": course_id, "file_id": {"$in": list(file_ids)}})
        if result.deleted_count:
            await self._bump_version(course_id)
        return result.deleted_count

    async def delete_course(self, course_id: str) -> int:
        """Delete every chunk of the course; its version document stays (see the module docstring)."""
        result = await self._chunks.delete_many({"course_id": course_id})
        await self._bump_version(course_id)
        return result.deleted_count

    async def get_version(self, course_id: str) -> int:
        """The course's index version (0 when nothing was ever indexed): one read by primary key."""
        document = await self._courses.find_one({"_id": course_id}, {"version": 1})
        return int(document["version"]) if document else 0

    async def load_course(self, course_id: str) -> tuple[int, list[Chunk], np.ndarray]:
        """(version, chunks sorted by file and ordinal, their embeddings as an (n, dim) float32 array).

        The version is read BEFORE the chunks: if a write lands in between, the chunks are newer than the
        version says, and the next version check reloads them; the reverse order could label old chunks
        with a new version and keep them forever.
        """
        version = await self.get_version(course_id)
        cursor = self._chunks.find({"course_id": course_id}, {"ingest_id": 0}).sort(
            [("file_id", ASCENDING), ("ordinal", ASCENDING)]
        )
        chunks: list[Chunk] = []
        vectors: list[bytes] = []
        async for document in cursor:
            chunks.append(_to_chunk(document))
            vectors.append(bytes(document["embedding"]))
        return version, chunks, _stack(vectors)

    async def get_chunks(self, ids: Sequence[str]) -> list[Chunk]:
        """The chunks with these ids in the order asked for (unknown ids are left out)."""
        cursor = self._chunks.find({"_id": {"$in": list(ids)}}, _NO_EMBEDDING)
        found = {document["_id"]: _to_chunk(document) async for document in cursor}
        return [found[chunk_id] for chunk_id in ids if chunk_id in found]

    async def count_chunks(self, course_id: str, file_id: str | None = None) -> int:
        query = {"course_id": course_id} | ({"file_id": file_id} if file_id is not None else {})
        return await self._chunks.count_documents(query)

    async def _bump_version(self, course_id: str) -> int:
        """`$inc` is atomic, so concurrent writers each get a distinct version. The count is informational."""
        count = await self.count_chunks(course_id)
        document = await self._courses.find_one_and_update(
            {"_id": course_id},
            {"$inc": {"version": 1}, "$set": {"chunk_count": count, "updated_at": datetime.now(UTC)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return int(document["version"])


def _to_document(chunk: Chunk, vector: np.ndarray, file_sha256: str, ingest_id: str) -> dict:
    document = {field: getattr(chunk, field) for field in _CHUNK_FIELDS + _SPAN_FIELDS}
    document.update(
        _id=chunk.id,
        file_sha256=file_sha256,
        embedding=Binary(vector.tobytes()),
        dim=int(vector.shape[0]),
        ingest_id=ingest_id,
    )
    return document


def _to_chunk(document: dict) -> Chunk:
    fields = {field: document.get(field) for field in _CHUNK_FIELDS + _SPAN_FIELDS if field in document}
    return Chunk(id=document["_id"], **fields)


def _stack(vectors: list[bytes]) -> np.ndarray:
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    flat = np.frombuffer(b"".join(vectors), dtype="<f4")
    return flat.reshape(len(vectors), -1).astype(np.float32, copy=False)
