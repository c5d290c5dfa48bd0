"""Small proto <-> Python conversions every servicer needs."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from lmw.common.v1 import common_pb2
from lmw_common.errors import InvalidArgument

_ROLES = {
    "learner": common_pb2.ROLE_LEARNER,
    "instructor": common_pb2.ROLE_INSTRUCTOR,
    "service": common_pb2.ROLE_SERVICE,
}


def timestamp(moment: datetime | float | None) -> Timestamp | None:
    if moment is None:
        return None
    stamp = Timestamp()
    if isinstance(moment, datetime):
        stamp.FromDatetime(moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC))
    else:
        stamp.FromNanoseconds(int(moment * 1e9))
    return stamp


def from_timestamp(stamp: Timestamp) -> datetime | None:
    if not stamp.seconds and not stamp.nanos:
        return None
    try:
        return stamp.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:  # nanos out of range, or a year datetime cannot hold
        raise InvalidArgument(f"timestamp is not valid: {exc}", "INVALID_TIMESTAMP") from exc


def access_token(token: str, expires_at: float, role: str, subject: str) -> common_pb2.AccessToken:
    return common_pb2.AccessToken(
        token=token, expire_time=timestamp(expires_at), role=_ROLES[role], subject=subject
    )


_JOB_STATES = {
    "QUEUED": common_pb2.JOB_STATE_QUEUED,
    "RUNNING": common_pb2.JOB_STATE_RUNNING,
    "SUCCEEDED": common_pb2.JOB_STATE_SUCCEEDED,
    "FAILED": common_pb2.JOB_STATE_FAILED,
}


def job_pb(job) -> common_pb2.Job:
    """Any job with the shape of sme_svc's/instructor_svc's Job dataclass (states as upper-case names)."""
    return common_pb2.Job(
        id=job.id,
        kind=job.kind,
        state=_JOB_STATES[job.state],
        progress=job.progress,
        message=job.message,
        course_id=job.course_id,
        items_done=job.items_done,
        items_total=len(job.items),
        items=[
            common_pb2.JobItem(
                id=i.id, name=i.name, state=_JOB_STATES[i.state], message=i.message, chunk_count=i.chunk_count
            )
            for i in job.items
        ],
        create_time=timestamp(job.created_at),
        update_time=timestamp(job.updated_at),
        end_time=timestamp(job.ended_at),
    )


DETAIL_LEVELS = {
    common_pb2.DETAIL_LEVEL_BRIEF: "brief",
    common_pb2.DETAIL_LEVEL_MODERATE: "moderate",
    common_pb2.DETAIL_LEVEL_DETAILED: "detailed",
}
EXPLANATION_STYLES = {
    common_pb2.EXPLANATION_STYLE_EXAMPLES: "examples",
    common_pb2.EXPLANATION_STYLE_CONCEPTUAL: "conceptual",
    common_pb2.EXPLANATION_STYLE_PRACTICAL: "practical",
    common_pb2.EXPLANATION_STYLE_VISUAL: "visual",
}
LANGUAGE_LEVELS = {
    common_pb2.LANGUAGE_LEVEL_SIMPLE: "simple",
    common_pb2.LANGUAGE_LEVEL_BALANCED: "balanced",
    common_pb2.LANGUAGE_LEVEL_TECHNICAL: "technical",
}


def preferences_from_pb(prefs: common_pb2.Preferences) -> tuple[str, str, str]:
    """(detail_level, explanation_style, language); UNSPECIFIED means the default."""
    return (
        DETAIL_LEVELS.get(prefs.detail_level, "moderate"),
        EXPLANATION_STYLES.get(prefs.explanation_style, "conceptual"),
        LANGUAGE_LEVELS.get(prefs.language, "balanced"),
    )


def preferences_pb(detail_level: str, explanation_style: str, language: str) -> common_pb2.Preferences:
    def key(table: dict, value: str) -> int:
        return next(k for k, v in table.items() if v == value)

    return common_pb2.Preferences(
        detail_level=key(DETAIL_LEVELS, detail_level),
        explanation_style=key(EXPLANATION_STYLES, explanation_style),
        language=key(LANGUAGE_LEVELS, language),
    )
