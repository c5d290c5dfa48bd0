"""Ingestion jobs in MongoDB (the source of truth), with a heartbeat so a dead replica's job is taken over."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

QUEUED, RUNNING, SUCCEEDED, FAILED = "QUEUED", "RUNNING", "SUCCEEDED", "FAILED"
TERMINAL = (SUCCEEDED, FAILED)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class JobItem:
    id: str  # file id
    name: str
    sha256: str = ""
    media_type: str = ""
    state: str = QUEUED
    message: str = ""
    chunk_count: int = 0


@dataclass(slots=True)
class Job:
    id: str
    kind: str
    course_id: str
    state: str = QUEUED
    message: str = ""
    items: list[JobItem] = field(default_factory=list)
    created_at: datetime = field(default_factory=_now)
    updated_at: datetime = field(default_factory=_now)
    ended_at: datetime | None = None
    resumes: int = 0

    @property
    def items_done(self) -> int:
        return sum(1 for item in self.items if item.state in TERMINAL)

    @property
    def progress(self) -> float:
        return self.items_done / len(self.items) if self.items else (1.0 if self.state in TERMINAL else 0.0)


def _to_doc(job: Job) -> dict:
    return {
        "_id": job.id,
        "kind": job.kind,
        "course_id": job.course_id,
        "state": job.state,
        "message": job.message,
        "items": [_item_doc(item) for item in job.items],
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "ended_at": job.ended_at,
        "resumes": job.resumes,
        "owner": None,
        "heartbeat_at": None,
    }


def _item_doc(item: JobItem) -> dict:
    return {
        "id": item.id,
        "name": item.name,
        "sha256": item.sha256,
        "media_type": item.media_type,
        "state": item.state,
        "message": item.message,
        "chunk_count": item.chunk_count,
    }


def _from_doc(doc: dict) -> Job:
    return Job(
        id=doc["_id"],
        kind=doc["kind"],
        course_id=doc["course_id"],
        state=doc["state"],
        message=doc["message"],
        items=[JobItem(**item) for item in doc["items"]],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        ended_at=doc.get("ended_at"),
        resumes=doc.get("resumes", 0),
    )


class JobStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self._jobs = db["jobs"]

    async def ensure_indexes(self) -> None:
        await self._jobs.create_index([("state", ASCENDING), ("heartbeat_at", ASCENDING)])
        await self._jobs.create_index([("course_id", ASCENDING), ("created_at", ASCENDING)])

    async def create(self, kind: str, course_id: str, items: list[JobItem]) -> Job:
        job = Job(id=uuid.uuid4().hex, kind=kind, course_id=course_id, items=items)
        await self._jobs.insert_one(_to_doc(job))
        return job

    async def get(self, job_id: str) -> Job | None:
        doc = await self._jobs.find_one({"_id": job_id})
        return _from_doc(doc) if doc else None

    async def claim(self, job_id: str, owner: str) -> Job | None:
        """Take a queued job, or one whose runner stopped heartbeating (see `claim_stale`)."""
        doc = await self._jobs.find_one_and_update(
            {"_id": job_id, "state": QUEUED, "owner": None},
            {"$set": {"state": RUNNING, "owner": owner, "heartbeat_at": _now(), "updated_at": _now()}},
            return_document=ReturnDocument.AFTER,
        )
        return _from_doc(doc) if doc else None

    async def claim_stale(self, owner: str, stale_after_s: float) -> Job | None:
        """Take over one job left RUNNING (or QUEUED) by a replica that stopped heartbeating."""
        cutoff = _now() - timedelta(seconds=stale_after_s)
        doc = await self._jobs.find_one_and_update(
            {
                "state": {"$in": [QUEUED, RUNNING]},
                "$or": [
                    {"heartbeat_at": {"$lt": cutoff}},
                    {"heartbeat_at": None, "created_at": {"$lt": cutoff}},
                ],
            },
            {
                "$set": {"state": RUNNING, "owner": owner, "heartbeat_at": _now(), "updated_at": _now()},
                "$inc": {"resumes": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        return _from_doc(doc) if doc else None

    async def heartbeat(self, job_id: str, owner: str) -> bool:
        result = await self._jobs.update_one(
            {"_id": job_id, "owner": owner}, {"$set": {"heartbeat_at": _now()}}
        )
        return result.matched_count == 1

    async def save(self, job: Job, owner: str) -> None:
        """Write the runner's view of the job; only its current owner may."""
        await self._jobs.update_one(
            {"_id": job.id, "owner": owner},
            {
                "$set": {
                    "state": job.state,
                    "message": job.message,
                    "items": [_item_doc(i) for i in job.items],
                    "updated_at": _now(),
                    "ended_at": job.ended_at,
                    "heartbeat_at": _now(),
                }
            },
        )
