"""Calls to a flaky dependency (sme_svc) through a pybreaker circuit breaker.

Transient UNAVAILABLE errors are retried with exponential backoff by the channel's retry policy
(lmw_common.grpc_client); what still fails counts against the breaker. Once open, calls fail fast with
UNAVAILABLE until `reset_timeout_s` passes and a trial call succeeds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import grpc
import pybreaker

from lmw_common.errors import Unavailable, from_rpc_error

T = TypeVar("T")

# Only infrastructure failures trip the breaker; a rejected request says nothing about the dependency's health.
_INFRA_CODES = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


def _not_infra_failure(exc: BaseException) -> bool:
    return not (isinstance(exc, grpc.aio.AioRpcError) and exc.code() in _INFRA_CODES)


class GuardedDependency:
    def __init__(self, name: str, fail_max: int = 5, reset_timeout_s: float = 15.0) -> None:
        self.name = name
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max, reset_timeout=reset_timeout_s, exclude=[_not_infra_failure], name=name
        )

    @property
    def state(self) -> str:
        """closed, open or half-open (for lmw_common.metrics)."""
        return self._breaker.current_state

    def _unavailable(self) -> Unavailable:
        """The refusal of a call while the breaker is open, or of the failure that opened it (`circuit` tells
        the caller that calls fail fast for the reset timeout)."""
        return Unavailable(
            f"{self.name} is unavailable, try again shortly",
            "DEPENDENCY_UNAVAILABLE",
            dependency=self.name,
            circuit="open",
        )

    async def call(self, make_call: Callable[[], Awaitable[T]]) -> T:
        """Run one unary call; gRPC errors come back as the DomainError the remote raised."""
        try:
            with self._breaker.calling():
                return await make_call()
        except pybreaker.CircuitBreakerError as exc:
            raise self._unavailable() from exc
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from exc

    async def stream(self, make_call: Callable[[], AsyncIterator[T]]) -> AsyncIterator[T]:
        """Iterate a server stream under the breaker."""
        try:
            with self._breaker.calling():
                async for item in make_call():
                    yield item
        except pybreaker.CircuitBreakerError as exc:
            raise self._unavailable() from exc
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from exc
