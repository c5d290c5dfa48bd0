"""Course file metadata in MongoDB (collection `files`).

A document per file: `_id` (file id), course_id, name, media_type, size_bytes, sha256, state, state_message,
chunk_count, created_at, updated_at, job_id (the ingestion job, None until one was requested), claim_until
(a lease: whoever holds it is requesting ingestion), deleting, module_id ("" for a course-wide file; files
recorded before modules had files have none and read as course-wide). `(course_id, sha256)` is unique, so the same
content can never be recorded twice in a course, however many uploads race.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from instructor_svc.domain import CourseFile, DuplicateFile, FileState

_UNSETTLED = [FileState.PENDING.value, FileState.INDEXING.value]


def _file(doc: dict) -> CourseFile:
    return CourseFile(
        id=doc["_id"],
        course_id=doc["course_id"],
        name=doc["name"],
        media_type=doc["media_type"],
        size_bytes=doc["size_bytes"],
        sha256=doc["sha256"],
        state=FileState(doc["state"]),
        state_message=doc.get("state_message", ""),
        chunk_count=doc.get("chunk_count", 0),
        created_at=doc["created_at"],
        job_id=doc.get("job_id"),
        module_id=doc.get("module_id", ""),
    )


class FileStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self._files = db["files"]

    async def ensure_indexes(self) -> None:
        await self._files.create_index([("course_id", ASCENDING), ("sha256", ASCENDING)], unique=True)
        await self._files.create_index(
            [("course_id", ASCENDING), ("created_at", DESCENDING), ("_id", ASCENDING)]
        )
        await self._files.create_index([("state", ASCENDING), ("course_id", ASCENDING)])
        await self._files.create_index([("job_id", ASCENDING)])

    async def insert(self, file: CourseFile, claim_until: datetime) -> None:
        """Record a new file; DuplicateFile when the course already has this content."""
        doc = {
            "_id": file.id,
            "course_id": file.course_id,
            "name": file.name,
            "media_type": file.media_type,
            "size_bytes": file.size_bytes,
            "sha256": file.sha256,
            "state": file.state.value,
            "state_message": file.state_message,
            "chunk_count": 0,
            "created_at": file.created_at,
            "updated_at": file.created_at,
            "job_id": None,
            "claim_until": claim_until,
            "deleting": False,
            "module_id": file.module_id,
        }
        try:
            await self._files.insert_one(doc)
        except DuplicateKeyError as exc:
            raise DuplicateFile(file.sha256) from exc

    async def set_module(self, course_id: str, file_ids: list[str], module_id: str, now: datetime) -> None:
        await self._files.update_many(
            {"course_id": course_id, "_id": {"$in": file_ids}},
            {"$set": {"module_id": module_id, "updated_at": now}},
        )

    async def of_module(self, course_id: str, module_id: str) -> list[CourseFile]:
        cursor = self._files.find({"course_id": course_id, "module_id": module_id, "deleting": {"$ne": True}})
        return [_file(doc) async for doc in cursor]

    async def get(self, course_id: str, file_id: str) -> CourseFile | None:
        doc = await self._files.find_one({"_id": file_id, "course_id": course_id, "deleting": {"$ne": True}})
        return _file(doc) if doc else None

    async def by_sha256(self, course_id: str, sha256: str) -> CourseFile | None:
        doc = await self._files.find_one({"course_id": course_id, "sha256": sha256})
        return _file(doc) if doc else None

    async def list(self, course_id: str, offset: int, limit: int) -> list[CourseFile]:
        cursor = (
            self._files.find({"course_id": course_id, "deleting": {"$ne": True}})
            .sort([("created_at", DESCENDING), ("_id", ASCENDING)])
            .skip(offset)
            .limit(limit)
        )
        return [_file(doc) async for doc in cursor]

    async def all_of_course(self, course_id: str) -> list[CourseFile]:
        cursor = self._files.find({"course_id": course_id, "deleting": {"$ne": True}})
        return [_file(doc) async for doc in cursor]

    async def recorded_ids(self, course_id: str, file_ids: list[str]) -> set[str]:
        """Which of these ids the course has a record of (one being deleted included: its deletion removes
        the blob itself)."""
        cursor = self._files.find({"course_id": course_id, "_id": {"$in": file_ids}}, {"_id": 1})
        return {doc["_id"] async for doc in cursor}

    async def unsettled_of_job(self, job_id: str) -> list[CourseFile]:
        cursor = self._files.find({"job_id": job_id, "state": {"$in": _UNSETTLED}})
        return [_file(doc) async for doc in cursor]

    async def has_unsettled(self, course_id: str) -> bool:
        doc = await self._files.find_one({"course_id": course_id, "state": {"$in": _UNSETTLED}}, {"_id": 1})
        return doc is not None

    async def courses_with_unsettled(self, limit: int) -> list[str]:
        courses = await self._files.distinct("course_id", {"state": {"$in": _UNSETTLED}})
        return list(courses)[:limit]

    async def claim_unrequested(self, course_id: str, now: datetime, lease_s: float) -> list[CourseFile]:
        """Take the lease on the course's files that wait for an ingestion request (one replica wins)."""
        token = uuid.uuid4().hex
        await self._files.update_many(
            {"course_id": course_id, "job_id": None, "deleting": {"$ne": True}, "claim_until": {"$lt": now}},
            {"$set": {"claim_until": now + timedelta(seconds=lease_s), "claim": token}},
        )
        cursor = self._files.find({"course_id": course_id, "claim": token, "job_id": None})
        return [_file(doc) async for doc in cursor]

    async def release(self, file_ids: list[str], message: str, now: datetime) -> None:
        """Ingestion could not be requested: keep the files PENDING and retriable at once."""
        await self._files.update_many(
            {"_id": {"$in": file_ids}, "job_id": None},
            {"$set": {"claim_until": now, "state_message": message, "updated_at": now}},
        )

    async def fail_unrequested(self, file_ids: list[str], message: str, now: datetime) -> None:
        """sme_svc refused to ingest the files: FAILED for good (an empty job id is never claimed again)."""
        await self._files.update_many(
            {"_id": {"$in": file_ids}, "job_id": None},
            {
                "$set": {
                    "job_id": "",
                    "state": FileState.FAILED.value,
                    "state_message": message,
                    "updated_at": now,
                }
            },
        )

    async def set_job(self, file_ids: list[str], job_id: str, message: str, now: datetime) -> None:
        await self._files.update_many(
            {"_id": {"$in": file_ids}},
            {
                "$set": {
                    "job_id": job_id,
                    "state": FileState.PENDING.value,
                    "state_message": message,
                    "updated_at": now,
                }
            },
        )

    async def set_state(
        self,
        file_id: str,
        job_id: str,
        state: FileState,
        message: str,
        chunk_count: int,
        now: datetime,
    ) -> None:
        """Apply what the ingestion job says, unless the file moved on to another job meanwhile."""
        await self._files.update_one(
            {"_id": file_id, "job_id": job_id},
            {
                "$set": {
                    "state": state.value,
                    "state_message": message,
                    "chunk_count": chunk_count,
                    "updated_at": now,
                }
            },
        )

    async def forget_job(self, job_id: str, message: str, now: datetime) -> None:
        """The job is unknown to sme_svc: its unsettled files go back to waiting for a new request."""
        await self._files.update_many(
            {"job_id": job_id, "state": {"$in": _UNSETTLED}},
            {
                "$set": {
                    "job_id": None,
                    "claim_until": now,
                    "state": FileState.PENDING.value,
                    "state_message": message,
                    "updated_at": now,
                }
            },
        )

    async def mark_deleting(self, course_id: str, file_id: str, deleting: bool) -> bool:
        result = await self._files.update_one(
            {"_id": file_id, "course_id": course_id}, {"$set": {"deleting": deleting}}
        )
        return result.matched_count == 1

    async def delete(self, course_id: str, file_id: str) -> None:
        await self._files.delete_one({"_id": file_id, "course_id": course_id})

    async def delete_course(self, course_id: str) -> None:
        await self._files.delete_many({"course_id": course_id})
