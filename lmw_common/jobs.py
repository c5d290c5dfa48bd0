"""Long-running work (lmw.common.v1.Job): its states, the one job dataclass and its proto mapping.

instructor_svc runs objective jobs and proxies ingestion jobs, which sme_svc runs; both report them with
`job_pb`. A job's progress is the share of its items that ended (a job without items: 1.0 once it ended).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from lmw.common.v1 import common_pb2
from lmw_common.protoconv import from_timestamp, timestamp

JOB_KIND_INGEST = "ingest"
JOB_KIND_OBJECTIVES = "objectives"


class JobState(enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def terminal(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED)


@dataclass(slots=True)
class JobItem:
    """One unit of a job: a file to ingest, a module to draft objectives for."""

    id: str
    name: str
    state: JobState = JobState.QUEUED
    message: str = ""
    chunk_count: int = 0


@dataclass(slots=True)
class Job:
    id: str
    kind: str
    course_id: str
    state: JobState = JobState.QUEUED
    message: str = ""
    items: list[JobItem] = field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None

    @property
    def items_done(self) -> int:
        return sum(1 for item in self.items if item.state.terminal)

    @property
    def items_total(self) -> int:
        return len(self.items)

    @property
    def progress(self) -> float:
        if not self.items:
            return 1.0 if self.state.terminal else 0.0
        return self.items_done / len(self.items)


_STATES = {
    JobState.QUEUED: common_pb2.JOB_STATE_QUEUED,
    JobState.RUNNING: common_pb2.JOB_STATE_RUNNING,
    JobState.SUCCEEDED: common_pb2.JOB_STATE_SUCCEEDED,
    JobState.FAILED: common_pb2.JOB_STATE_FAILED,
}
_FROM_PB = {number: state for state, number in _STATES.items()}


def job_pb(job: Job) -> common_pb2.Job:
    return common_pb2.Job(
        id=job.id,
        kind=job.kind,
        state=_STATES[job.state],
        progress=job.progress,
        message=job.message,
        course_id=job.course_id,
        items_done=job.items_done,
        items_total=job.items_total,
        items=[
            common_pb2.JobItem(
                id=i.id, name=i.name, state=_STATES[i.state], message=i.message, chunk_count=i.chunk_count
            )
            for i in job.items
        ],
        create_time=timestamp(job.created_at),
        update_time=timestamp(job.updated_at),
        end_time=timestamp(job.ended_at),
    )


def job_from_pb(message: common_pb2.Job, course_id: str = "") -> Job:
    """A job another service reported (`course_id` where it left the course out)."""
    return Job(
        id=message.id,
        kind=message.kind or JOB_KIND_INGEST,
        course_id=message.course_id or course_id,
        state=_FROM_PB.get(message.state, JobState.QUEUED),
        message=message.message,
        items=[
            JobItem(i.id, i.name, _FROM_PB.get(i.state, JobState.QUEUED), i.message, i.chunk_count)
            for i in message.items
        ],
        created_at=from_timestamp(message.create_time),
        updated_at=from_timestamp(message.update_time),
        ended_at=from_timestamp(message.end_time),
    )
