"""Domain errors and their one mapping to gRPC status codes with a `google.rpc.ErrorInfo` reason."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

ERROR_DOMAIN = "learning-middleware"


class DomainError(Exception):
    """Base of the errors a use case may raise; `reason` is a stable UPPER_SNAKE machine code."""

    code = grpc.StatusCode.UNKNOWN
    default_reason = "ERROR"

    def __init__(self, message: str, reason: str | None = None, **metadata: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata = {k: str(v) for k, v in metadata.items()}


class InvalidArgument(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND
    default_reason = "NOT_FOUND"


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class Unavailable(DomainError):
    code = grpc.StatusCode.UNAVAILABLE
    default_reason = "UNAVAILABLE"


class ResourceExhausted(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_reason = "RESOURCE_EXHAUSTED"


class DeadlineExceeded(DomainError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
    default_reason = "DEADLINE_EXCEEDED"


class Internal(DomainError):
    code = grpc.StatusCode.INTERNAL
    default_reason = "INTERNAL"


_BY_CODE: dict[grpc.StatusCode, type[DomainError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        Unauthenticated,
        FailedPrecondition,
        Unavailable,
        ResourceExhausted,
        DeadlineExceeded,
        Internal,
    )
}


def error_for(
    code: grpc.StatusCode | str, message: str, reason: str | None = None, **metadata: str
) -> DomainError:
    """The DomainError of a status code (or of its name, as stored); Internal for a code without its own."""
    if isinstance(code, str):
        code = grpc.StatusCode.__members__.get(code, grpc.StatusCode.INTERNAL)
    return _BY_CODE.get(code, Internal)(message, reason, **metadata)


def store_unavailable(exc: BaseException) -> Unavailable | None:
    """An Unavailable for a failure to reach a database (down, restarting, a connection cut), else None.

    Such failures are transient and say nothing about the request: callers retry UNAVAILABLE (and the
    services' clients do), never INTERNAL. SQLAlchemy's OperationalError and InterfaceError wrap the
    driver's connection errors; pymongo's ConnectionFailure covers AutoReconnect, NetworkTimeout and
    ServerSelectionTimeoutError.
    """
    from pymongo.errors import ConnectionFailure
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    if isinstance(exc, ConnectionFailure | OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return Unavailable("a database is unavailable; try again shortly", "DATABASE_UNAVAILABLE")
    return None


def to_status(error: DomainError) -> grpc.Status:
    """A rich gRPC status carrying ErrorInfo(reason, domain, metadata) in its details."""
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata)
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(
        code=getattr(code_pb2, error.code.name), message=error.message, details=[detail]
    )
    rich = rpc_status.to_status(status)
    if error.code is grpc.StatusCode.UNAVAILABLE:
        # A service that answers "my dependency is down" is up itself: tell clients not to retry at once
        # (gRFC A6 pushback), or every caller's channel would hammer it three more times.
        return rich._replace(trailing_metadata=(*rich.trailing_metadata, ("grpc-retry-pushback-ms", "-1")))
    return rich


def from_rpc_error(error: grpc.RpcError) -> DomainError:
    """Rebuild the DomainError a remote service raised (reason included) from a failed call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    reason = None
    metadata: dict[str, str] = {}
    try:
        status = rpc_status.from_call(error)
    except Exception:  # a status that does not parse is treated as having no details
        status = None
    if status is not None:
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info):
                reason, metadata = info.reason, dict(info.metadata)
    details = error.details() if hasattr(error, "details") else None
    return error_for(code, details or code.name, reason, **metadata)
