"""The BFF's one error mapping: gRPC statuses (with their ErrorInfo reason) to GraphQL errors.

Every error a client may see carries `extensions.code` (a stable, Apollo-style code) and, where the service
gave one, `extensions.reason` (the service's UPPER_SNAKE reason). Anything else is masked by
`QuietSchema.process_errors` as INTERNAL with the request id; its details only reach the log.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
import strawberry
from google.rpc import error_details_pb2
from graphql import GraphQLError
from grpc_status import rpc_status

from lmw_common.errors import DomainError, from_rpc_error
from lmw_common.logs import request_id_var

log = logging.getLogger(__name__)

# gRPC status -> GraphQL `extensions.code`.
CODES: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.UNAUTHENTICATED: "UNAUTHENTICATED",
    grpc.StatusCode.PERMISSION_DENIED: "FORBIDDEN",
    grpc.StatusCode.NOT_FOUND: "NOT_FOUND",
    grpc.StatusCode.INVALID_ARGUMENT: "BAD_USER_INPUT",
    grpc.StatusCode.OUT_OF_RANGE: "BAD_USER_INPUT",
    grpc.StatusCode.ALREADY_EXISTS: "CONFLICT",
    grpc.StatusCode.ABORTED: "CONFLICT",
    grpc.StatusCode.FAILED_PRECONDITION: "FAILED_PRECONDITION",
    grpc.StatusCode.UNAVAILABLE: "UNAVAILABLE",
    # A deadline that passed says the same to a client as an unavailable dependency: try again later.
    grpc.StatusCode.DEADLINE_EXCEEDED: "UNAVAILABLE",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "RESOURCE_EXHAUSTED",
}
INTERNAL = "INTERNAL"
_INTERNAL_MESSAGE = "Internal server error"


class ApiError(Exception):
    """An error meant for the client; graphql-core copies `extensions` onto the GraphQL error."""

    def __init__(self, message: str, code: str, reason: str | None = None, **metadata: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extensions: dict[str, Any] = {"code": code, "reason": reason or code}
        if metadata:
            self.extensions["metadata"] = {k: str(v) for k, v in metadata.items()}
        if code == INTERNAL:
            self.extensions["requestId"] = request_id_var.get()


def bad_input(message: str, reason: str = "INVALID_ARGUMENT", **metadata: Any) -> ApiError:
    return ApiError(message, "BAD_USER_INPUT", reason, **metadata)


def from_domain_error(error: DomainError) -> ApiError:
    code = CODES.get(error.code, INTERNAL)
    if code == INTERNAL:
        return ApiError(_INTERNAL_MESSAGE, INTERNAL, "INTERNAL")
    return ApiError(error.message, code, error.reason, **error.metadata)


# Said instead of gRPC's own text when a status carries no ErrorInfo (a transport failure, not a decision
# of one of our services): "failed to connect to all addresses; ipv4:10.0.0.7:50052 ..." is not for clients.
_GENERIC = {
    "UNAVAILABLE": "A backend service is unavailable; try again shortly",
    "RESOURCE_EXHAUSTED": "A backend service is overloaded; try again shortly",
}


def _has_error_info(error: grpc.RpcError) -> bool:
    try:
        status = rpc_status.from_call(error)
    except Exception:  # a status that does not parse has no usable details
        return False
    return status is not None and any(d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR) for d in status.details)


def from_grpc_error(error: grpc.RpcError) -> ApiError:
    """Map a failed call; internal details (UNKNOWN, INTERNAL, transport errors) never reach the client."""
    domain = from_rpc_error(error)
    code = CODES.get(domain.code)
    if code is None or not _has_error_info(error):
        log.warning(
            "service call failed",
            extra={"fields": {"grpc_code": domain.code.name, "detail": domain.message[:500]}},
        )
        if code is None:
            return ApiError(_INTERNAL_MESSAGE, INTERNAL, "INTERNAL")
        message = _GENERIC.get(code, domain.message)
        return ApiError(message, code, domain.code.name)
    return from_domain_error(domain)


def to_api_error(exc: BaseException) -> ApiError | None:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, grpc.aio.AioRpcError | grpc.RpcError):
        return from_grpc_error(exc)
    if isinstance(exc, DomainError):
        return from_domain_error(exc)
    return None


def _with_code(error: GraphQLError) -> GraphQLError:
    """Give request errors (parse, validation, variable coercion) an `extensions.code` too."""
    if (error.extensions or {}).get("code"):
        return error
    if error.message.startswith("Syntax Error"):
        code = "GRAPHQL_PARSE_FAILED"
    elif error.message.startswith("Variable '"):
        code = "BAD_USER_INPUT"
    else:
        code = "GRAPHQL_VALIDATION_FAILED"
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


class QuietSchema(strawberry.Schema):
    """Strawberry logs every error with its traceback; ours are expected outcomes (a wrong password, a
    missing course): only unexpected ones are logged (once, with their traceback and request id).

    It is also where every error is finished, in place: Strawberry calls it for every error of every result
    (parse and validation errors, resolver errors, exceptions in an extension's hook, each result of a
    subscription) before the result is sent. Each error gets its `extensions.code`; gRPC/domain errors are
    mapped; anything else is masked as INTERNAL."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            original = error.original_error
            if original is None or isinstance(original, ApiError | GraphQLError):
                _with_code(error)
            elif (error.extensions or {}).get("code") is None:
                api_error = to_api_error(original)
                if api_error is None:
                    log.error(
                        "unexpected error",
                        exc_info=(type(original), original, original.__traceback__),
                    )
                    api_error = ApiError(_INTERNAL_MESSAGE, INTERNAL, INTERNAL)
                error.message = api_error.message
                error.extensions = dict(api_error.extensions)
            log.debug("graphql error: %s", error.message, extra={"fields": {"path": error.path}})
