"""Ingestion jobs in MongoDB (the source of truth), with a heartbeat so a dead replica's job is taken over."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from lmw_common.jobs import JobState
from sme_svc.domain import DocumentItem, IngestJob

_ACTIVE = [JobState.QUEUED.value, JobState.RUNNING.value]


def _now() -> datetime:
    return datetime.now(UTC)


def _to_doc(job: IngestJob) -> dict:
    return {
        "_id": job.id,
        "kind": job.kind,
        "course_id": job.course_id,
        "state": job.state.value,
        "message": job.message,
        "items": [_item_doc(item) for item in job.items],
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "ended_at": job.ended_at,
        "resumes": job.resumes,
        "owner": None,
        "heartbeat_at": None,
    }


def _item_doc(item: DocumentItem) -> dict:
    return {
        "id": item.id,
        "name": item.name,
        "sha256": item.sha256,
        "media_type": item.media_type,
        "module_id": item.module_id,  # absent in jobs stored before: DocumentItem's default, course-wide
        "state": item.state.value,
        "message": item.message,
        "chunk_count": item.chunk_count,
    }


def _from_doc(doc: dict) -> IngestJob:
    return IngestJob(
        id=doc["_id"],
        kind=doc["kind"],
        course_id=doc["course_id"],
        state=JobState(doc["state"]),
        message=doc["message"],
        items=[DocumentItem(**{**item, "state": JobState(item["state"])}) for item in doc["items"]],
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

    async def create(self, kind: str, course_id: str, items: list[DocumentItem]) -> IngestJob:
        moment = _now()
        job = IngestJob(uuid.uuid4().hex, kind, course_id, items=items, created_at=moment, updated_at=moment)
        await self._jobs.insert_one(_to_doc(job))
        return job

    async def get(self, job_id: str) -> IngestJob | None:
        doc = await self._jobs.find_one({"_id": job_id})
        return _from_doc(doc) if doc else None

    async def claim(self, job_id: str, owner: str) -> IngestJob | None:
        """Take a queued job, or one whose runner stopped heartbeating (see `claim_stale`)."""
        doc = await self._jobs.find_one_and_update(
            {"_id": job_id, "state": JobState.QUEUED.value, "owner": None},
            {
                "$set": {
                    "state": JobState.RUNNING.value,
                    "owner": owner,
                    "heartbeat_at": _now(),
                    "updated_at": _now(),
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return _from_doc(doc) if doc else None

    async def claim_stale(self, owner: str, stale_after_s: float) -> IngestJob | None:
        """Take over one job left RUNNING (or QUEUED) by a replica that stopped heartbeating."""
        cutoff = _now() - timedelta(seconds=stale_after_s)
        doc = await self._jobs.find_one_and_update(
            {
                "state": {"$in": _ACTIVE},
                "$or": [
                    {"heartbeat_at": {"$lt": cutoff}},
                    {"heartbeat_at": None, "created_at": {"$lt": cutoff}},
                ],
            },
            {
                "$set": {
                    "state": JobState.RUNNING.value,
                    "owner": owner,
                    "heartbeat_at": _now(),
                    "updated_at": _now(),
                },
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

    async def save(self, job: IngestJob, owner: str) -> None:
        """Write the runner's view of the job; only its current owner may."""
        await self._jobs.update_one(
            {"_id": job.id, "owner": owner},
            {
                "$set": {
                    "state": job.state.value,
                    "message": job.message,
                    "items": [_item_doc(i) for i in job.items],
                    "updated_at": _now(),
                    "ended_at": job.ended_at,
                    "heartbeat_at": _now(),
                }
            },
        )
