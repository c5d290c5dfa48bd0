"""MongoDB, the source of truth for chunks and their embeddings (pymongo async; only pymongo is imported).

Collections:
- `chunks`: one document per chunk (`_id` = chunk id), its Chunk fields, `file_sha256`, the embedding as
  little-endian float32 bytes (`embedding`, BSON Binary), `encoder` (the id of the encoder that made it),
  `content_hash` (of the text it embeds: with `encoder`, the key under which an unchanged text reuses it) and
  `ingest_id` (the write that produced it).
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
from pymongo import ASCENDING, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from sme_svc.domain import Chunk, StoredCourse

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
_LOOKUP_BATCH = 1_000


class ChunkStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._chunks = database[CHUNKS]
        self._courses = database[COURSE_INDEXES]

    async def ensure_indexes(self) -> None:
        """Course scans (sorted by file and ordinal) and per-file deletes; embeddings looked up by content."""
        await self._chunks.create_index(
            [("course_id", ASCENDING), ("file_id", ASCENDING), ("ordinal", ASCENDING)],
            name="course_file_ordinal",
        )
        await self._chunks.create_index(
            [("course_id", ASCENDING), ("content_hash", ASCENDING)], name="course_content_hash"
        )

    async def replace_file_chunks(
        self,
        course_id: str,
        file_id: str,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        file_sha256: str = "",
        encoder: str = "",
        content_hashes: Sequence[str] = (),
    ) -> int:
        """Make `chunks` the only chunks of the file; returns the course version, bumped when anything changed.
        `encoder` made the embeddings; `content_hashes` (one per chunk, or none) key them for reuse.

        Idempotent: chunk ids are deterministic, so re-ingesting the same file overwrites in place, and when
        nothing changed at all (the same chunks, texts and encoder) nothing is written and the version stays,
        so no replica rebuilds its index. The new chunks are upserted before the old ones are deleted, so a
        concurrent reader sees the file's old or new chunks (briefly both), never none of them.
        """
        if len(chunks) != len(embeddings) or len(content_hashes) not in (0, len(chunks)):
            raise ValueError(
                f"{len(chunks)} chunks, {len(embeddings)} embeddings, {len(content_hashes)} hashes"
            )
        ingest_id = uuid.uuid4().hex
        vectors = np.ascontiguousarray(embeddings, dtype="<f4")
        stamp = {"file_sha256": file_sha256, "ingest_id": ingest_id, "encoder": encoder}
        documents = [
            _to_document(chunk, vectors[i], stamp, content_hashes[i] if content_hashes else None)
            for i, chunk in enumerate(chunks)
        ]
        if await self._unchanged(course_id, file_id, documents):
            return await self.get_version(course_id)
        for start in range(0, len(documents), _WRITE_BATCH):
            batch = documents[start : start + _WRITE_BATCH]
            await self._chunks.bulk_write(
                [ReplaceOne({"_id": document["_id"]}, document, True) for document in batch], ordered=False
            )
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

    async def _unchanged(self, course_id: str, file_id: str, documents: list[dict]) -> bool:
        """Whether the file's stored chunks are exactly these, embedded from the same texts by the same encoder
        (the embedding itself is not compared: equal content hashes and encoders make it interchangeable)."""
        if not documents or documents[0]["content_hash"] is None:
            return False
        stored = {
            document["_id"]: document
            async for document in self._chunks.find(
                {"course_id": course_id, "file_id": file_id}, {"embedding": 0, "ingest_id": 0}
            )
        }
        return len(stored) == len(documents) and all(
            _comparable(document) == stored.get(document["_id"]) for document in documents
        )

    async def find_embeddings(
        self, course_id: str, content_hashes: Sequence[str], encoder: str
    ) -> dict[str, np.ndarray]:
        """Stored embeddings of the course made by `encoder` from texts with these hashes, by hash."""
        found: dict[str, np.ndarray] = {}
        wanted = list(dict.fromkeys(content_hashes))
        for start in range(0, len(wanted), _LOOKUP_BATCH):
            cursor = self._chunks.find(
                {
                    "course_id": course_id,
                    "content_hash": {"$in": wanted[start : start + _LOOKUP_BATCH]},
                    "encoder": encoder,
                },
                {"content_hash": 1, "embedding": 1},
            )
            async for document in cursor:
                found[document["content_hash"]] = np.frombuffer(document["embedding"], dtype="<f4")
        return found

    async def replace_embeddings(
        self,
        chunks: Sequence[Chunk],
        embeddings: np.ndarray,
        encoder: str,
        content_hashes: Sequence[str],
    ) -> None:
        """Store new embeddings of these chunks, made by `encoder`, for a chunk whose text is still the one
        embedded (a chunk replaced in between keeps its own). The course version stays: the texts are the
        same, and a replica that loaded them with another encoder re-embeds them in turn."""
        vectors = np.ascontiguousarray(embeddings, dtype="<f4")
        requests = [
            UpdateOne(
                {"_id": chunk.id, "text": chunk.text, "heading": chunk.heading},
                {"$set": {"embedding": Binary(vector.tobytes()), "encoder": encoder, "content_hash": digest}},
            )
            for chunk, vector, digest in zip(chunks, vectors, content_hashes, strict=True)
        ]
        for start in range(0, len(requests), _WRITE_BATCH):
            await self._chunks.bulk_write(requests[start : start + _WRITE_BATCH], ordered=False)

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

    async def load_course(self, course_id: str) -> StoredCourse:
        """The course's version, chunks sorted by file and ordinal, their embeddings and encoders.

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
        encoders: list[str] = []
        async for document in cursor:
            chunks.append(_to_chunk(document))
            vectors.append(bytes(document["embedding"]))
            encoders.append(document.get("encoder") or "")
        return StoredCourse(version, chunks, _stack(vectors), encoders)

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


def _to_document(chunk: Chunk, vector: np.ndarray, stamp: dict, digest: str | None) -> dict:
    document = {field: getattr(chunk, field) for field in _CHUNK_FIELDS + _SPAN_FIELDS}
    document.update(
        stamp,
        _id=chunk.id,
        embedding=Binary(vector.tobytes()),
        dim=int(vector.shape[0]),
        content_hash=digest,
    )
    return document


def _comparable(document: dict) -> dict:
    return {key: value for key, value in document.items() if key not in ("embedding", "ingest_id")}


def _to_chunk(document: dict) -> Chunk:
    fields = {field: document.get(field) for field in _CHUNK_FIELDS + _SPAN_FIELDS if field in document}
    return Chunk(id=document["_id"], **fields)


def _stack(vectors: list[bytes]) -> np.ndarray:
    if not vectors:
        return np.zeros((0, 0), dtype=np.float32)
    flat = np.frombuffer(b"".join(vectors), dtype="<f4")
    return flat.reshape(len(vectors), -1).astype(np.float32, copy=False)
