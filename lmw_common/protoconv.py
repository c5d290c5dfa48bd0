"""Small proto <-> Python conversions every servicer needs: timestamps and access tokens. The shared
messages of lmw.common.v1 have their own modules: preferences, citations, jobs."""

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
