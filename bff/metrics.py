"""The BFF's GraphQL operation metrics (lmw_common.metrics holds the registry and its /metrics server).

Operations are counted and timed by name, type and outcome. Clients choose operation names, so the label
is bounded: a name becomes a label value only once an operation of that name parsed and validated, and at
most MAX_OPERATION_NAMES of them; later newcomers count as "other", unnamed operations as "anonymous",
and documents that did not parse or validate as "invalid". The outcome is the first error's
`extensions.code` (one of bff.errors' codes) or OK.
"""

from __future__ import annotations

import re

from lmw_common.metrics import Metrics

MAX_OPERATION_NAMES = 200
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "CONFLICT",
        "FAILED_PRECONDITION",
        "UNAVAILABLE",
        "RESOURCE_EXHAUSTED",
        "INTERNAL",
    }
)


class GraphQLMetrics:
    def __init__(self, metrics: Metrics | None = None) -> None:
        metrics = metrics or Metrics()  # unserved: schemas built without one (unit tests, schema export)
        self.operations = metrics.counter(
            "lmw_graphql_operations",
            "GraphQL operations completed, by operation name, type and outcome code",
            ["operation", "type", "code"],
        )
        self.seconds = metrics.histogram(
            "lmw_graphql_operation_duration_seconds",
            "Time from an operation's start to its result (a subscription's: to its end)",
            ["operation", "type"],
        )
        self._names: set[str] = set()

    def operation_label(self, name: str | None, valid: bool) -> str:
        if not valid:
            return "invalid"
        if not name:
            return "anonymous"
        if name in self._names:
            return name
        if len(self._names) < MAX_OPERATION_NAMES and _NAME.match(name):
            self._names.add(name)
            return name
        return "other"

    def observe(self, operation: str, kind: str, code: str, seconds: float) -> None:
        self.operations.labels(operation, kind, code).inc()
        self.seconds.labels(operation, kind).observe(seconds)


def outcome(errors: list | None) -> str:
    """OK, or the first error's code (INTERNAL for errors that carry none of the known codes)."""
    if not errors:
        return "OK"
    code = (getattr(errors[0], "extensions", None) or {}).get("code")
    return code if code in _CODES else "INTERNAL"
