"""The one channel factory: default deadlines, retries with backoff for UNAVAILABLE, bounded in-flight calls,
and the caller's credentials and request id attached as metadata."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import grpc

from lmw_common.logs import request_id_var

TokenProvider = Callable[[], str | None]

_RETRY_CONFIG = json.dumps(
    {
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.1s",
                    "maxBackoff": "2s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ]
    }
)


class _CallDefaults:
    """Adds metadata (authorization, x-request-id) and a default deadline to every call."""

    def __init__(self, token_provider: TokenProvider, timeout_s: float) -> None:
        self._token_provider = token_provider
        self._timeout_s = timeout_s

    def details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        token = self._token_provider()
        if token and "authorization" not in metadata:
            metadata["authorization"] = f"Bearer {token}"
        request_id = request_id_var.get()
        if request_id != "-" and "x-request-id" not in metadata:
            metadata["x-request-id"] = request_id
        return grpc.aio.ClientCallDetails(
            details.method,
            details.timeout if details.timeout is not None else self._timeout_s,
            metadata,
            details.credentials,
            details.wait_for_ready,
        )


class _UnaryUnary(_CallDefaults, grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, token_provider: TokenProvider, timeout_s: float, max_in_flight: int) -> None:
        super().__init__(token_provider, timeout_s)
        self._slots = asyncio.Semaphore(max_in_flight)

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        async with self._slots:  # thousands of unbounded calls on one channel get CANCELLED
            call = await continuation(self.details(client_call_details), request)
            await call
        return call


class _UnaryStream(_CallDefaults, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, client_call_details, request):
        return await continuation(self.details(client_call_details), request)


class _StreamUnary(_CallDefaults, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return await continuation(self.details(client_call_details), request_iterator)


class _StreamStream(_CallDefaults, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return await continuation(self.details(client_call_details), request_iterator)


def create_channel(
    target: str,
    token_provider: TokenProvider,
    *,
    timeout_s: float = 10.0,
    max_in_flight: int = 200,
) -> grpc.aio.Channel:
    """An insecure channel (mesh-internal; TLS terminates in the service mesh) with the project's defaults.

    Streaming calls get the default deadline too; pass `timeout=` for long streams.
    """
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.service_config", _RETRY_CONFIG),
            ("grpc.enable_retries", 1),
            # Spread calls over every replica a headless Service's DNS name resolves to.
            ("grpc.lb_policy_name", "round_robin"),
            ("grpc.keepalive_time_ms", 30_000),
            # Reconnect within seconds after a dependency comes back (the default backoff grows to 120 s).
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 5_000),
            ("grpc.max_receive_message_length", 8 * 1024 * 1024),
            ("grpc.max_send_message_length", 8 * 1024 * 1024),
        ],
        interceptors=[
            _UnaryUnary(token_provider, timeout_s, max_in_flight),
            _UnaryStream(token_provider, timeout_s),
            _StreamUnary(token_provider, timeout_s),
            _StreamStream(token_provider, timeout_s),
        ],
    )
