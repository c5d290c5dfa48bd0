"""Jobs in MongoDB (collection `jobs`).

Two kinds share the collection:
- "objectives": this service's own jobs; the document is the job (state, items, heartbeat_at).
  While a job is active (QUEUED/RUNNING) it holds `active_key` ("<kind>:<course_id>"), which a unique partial
  index keeps to one document: at most one active objectives job per course, however many requests race.
  Every write that ends a job (succeeded, failed, failed as stale) removes the key, freeing the slot.
- "ingest": a reference to a job that runs in sme_svc (same id): which course it belongs to (the ownership
  check of GetJob/WatchJob) and the last snapshot seen of it.
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from instructor_svc.domain import JobAlreadyActive
from lmw_common.jobs import JOB_KIND_INGEST, JOB_KIND_OBJECTIVES, Job, JobItem, JobState

_ACTIVE = [JobState.QUEUED.value, JobState.RUNNING.value]


def _active_key(kind: str, course_id: str) -> str:
    return f"{kind}:{course_id}"


def _items(job: Job) -> list[dict]:
    return [
        {
            "id": i.id,
            "name": i.name,
            "state": i.state.value,
            "message": i.message,
            "chunk_count": i.chunk_count,
        }
        for i in job.items
    ]


def _snapshot(job: Job) -> dict:
    return {
        "state": job.state.value,
        "message": job.message,
        "items": _items(job),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "ended_at": job.ended_at,
    }


def _stored(job: Job, **fields) -> dict:
    """The update that writes an objective job's state; a job that ends gives up its course's active slot."""
    update: dict = {"$set": {**_snapshot(job), **fields}}
    if job.state.terminal:
        update["$unset"] = {"active_key": ""}
    return update


def _job(job_id: str, kind: str, course_id: str, fields: dict) -> Job:
    return Job(
        id=job_id,
        kind=kind,
        course_id=course_id,
        state=JobState(fields.get("state", JobState.QUEUED.value)),
        message=fields.get("message", ""),
        items=[
            JobItem(
                i["id"],
                i.get("name", ""),
                JobState(i["state"]),
                i.get("message", ""),
                i.get("chunk_count", 0),
            )
            for i in fields.get("items", ())
        ],
        created_at=fields.get("created_at"),
        updated_at=fields.get("updated_at"),
        ended_at=fields.get("ended_at"),
    )


class JobStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self._jobs = db["jobs"]

    async def ensure_indexes(self) -> None:
        await self._jobs.create_index(
            [("course_id", ASCENDING), ("kind", ASCENDING), ("created_at", DESCENDING)]
        )
        await self._jobs.create_index([("state", ASCENDING), ("heartbeat_at", ASCENDING)])
        await self._jobs.create_index(
            [("active_key", ASCENDING)],
            unique=True,
            partialFilterExpression={"active_key": {"$exists": True}},
            name="one_active_job_per_course",
        )

    async def get(self, job_id: str) -> Job | None:
        doc = await self._jobs.find_one({"_id": job_id})
        if doc is None:
            return None
        fields = doc.get("snapshot", {}) if doc["kind"] == JOB_KIND_INGEST else doc
        return _job(doc["_id"], doc["kind"], doc["course_id"], fields)

    # ingestion jobs (references to sme_svc jobs)

    async def record_ingest(self, job: Job, file_ids: list[str], now: datetime) -> None:
        await self._jobs.update_one(
            {"_id": job.id},
            {
                "$set": {"kind": JOB_KIND_INGEST, "course_id": job.course_id, "snapshot": _snapshot(job)},
                "$setOnInsert": {"created_at": now},
                "$addToSet": {"file_ids": {"$each": file_ids}},
            },
            upsert=True,
        )

    async def update_snapshot(self, job: Job) -> None:
        await self._jobs.update_one(
            {"_id": job.id, "kind": JOB_KIND_INGEST}, {"$set": {"snapshot": _snapshot(job)}}
        )

    # objective jobs (this service's own)

    async def create(self, job: Job, params: dict, now: datetime) -> None:
        """Insert a new active job; JobAlreadyActive when its course already has an active one of its kind
        (the unique index decides, so concurrent requests cannot both get in)."""
        key = _active_key(job.kind, job.course_id)
        try:
            await self._jobs.insert_one(
                {
                    "_id": job.id,
                    "kind": job.kind,
                    "course_id": job.course_id,
                    **_snapshot(job),
                    "heartbeat_at": now,
                    "active_key": key,
                    **params,
                }
            )
        except DuplicateKeyError as exc:
            holder = await self._jobs.find_one({"active_key": key}, {"_id": 1})
            raise JobAlreadyActive(holder["_id"] if holder else None) from exc

    async def params(self, job_id: str) -> dict:
        return await self._jobs.find_one({"_id": job_id}) or {}

    async def save(self, job: Job, now: datetime) -> bool:
        """Write the runner's view of an active job; False if someone else ended it meanwhile."""
        result = await self._jobs.update_one(
            {"_id": job.id, "state": {"$in": _ACTIVE}}, _stored(job, heartbeat_at=now)
        )
        return result.matched_count == 1

    async def heartbeat(self, job_id: str, now: datetime) -> bool:
        result = await self._jobs.update_one(
            {"_id": job_id, "state": {"$in": _ACTIVE}}, {"$set": {"heartbeat_at": now}}
        )
        return result.matched_count == 1

    async def fail_stale(
        self,
        heartbeat_before: datetime,
        reason: str,
        now: datetime,
        job_id: str | None = None,
        course_id: str | None = None,
    ) -> int:
        """End active objective jobs whose runner stopped beating (a crash or a restart): never left hanging.
        Limited to one job or one course's jobs when given."""
        query: dict = {
            "kind": JOB_KIND_OBJECTIVES,
            "state": {"$in": _ACTIVE},
            "heartbeat_at": {"$lt": heartbeat_before},
        }
        if job_id:
            query["_id"] = job_id
        if course_id:
            query["course_id"] = course_id
        failed = 0
        async for doc in self._jobs.find(query):
            job = _job(doc["_id"], doc["kind"], doc["course_id"], doc)
            _fail_open_items(job, reason)
            job.state, job.message, job.updated_at, job.ended_at = JobState.FAILED, reason, now, now
            result = await self._jobs.update_one(
                {"_id": job.id, "state": {"$in": _ACTIVE}, "heartbeat_at": {"$lt": heartbeat_before}},
                _stored(job),
            )
            failed += result.modified_count
        return failed

    async def fail_now(self, job: Job, reason: str, now: datetime) -> None:
        _fail_open_items(job, reason)
        job.state, job.message, job.updated_at, job.ended_at = JobState.FAILED, reason, now, now
        await self._jobs.update_one({"_id": job.id, "state": {"$in": _ACTIVE}}, _stored(job))

    async def delete_course(self, course_id: str) -> None:
        await self._jobs.delete_many({"course_id": course_id})


def _fail_open_items(job: Job, reason: str) -> None:
    for item in job.items:
        if not item.state.terminal:
            item.state, item.message = JobState.FAILED, reason
