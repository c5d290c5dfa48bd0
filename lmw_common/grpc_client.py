"""The one channel factory: default deadlines, retries with backoff for UNAVAILABLE, bounded in-flight calls,
and the caller's credentials and request id attached as metadata."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import grpc

from lmw_common import telemetry
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

    __slots__ = ("_token_provider", "_timeout_s")

    def __init__(self, token_provider: TokenProvider, timeout_s: float) -> None:
        self._token_provider = token_provider
        self._timeout_s = timeout_s

    def timeout(self, timeout: float | None) -> float:
        return timeout if timeout is not None else self._timeout_s

    def metadata(self, given: Any) -> tuple[tuple[str, str], ...]:
        pairs = tuple(given or ())
        token = self._token_provider()
        if token and not any(key == "authorization" for key, _ in pairs):
            pairs += (("authorization", f"Bearer {token}"),)
        request_id = request_id_var.get()
        if request_id != "-" and not any(key == "x-request-id" for key, _ in pairs):
            pairs += (("x-request-id", request_id),)
        return pairs


class _UnaryUnary:
    """A unary multicallable with the defaults; at most `max_in_flight` calls of the channel run at once
    (thousands of unbounded calls on one channel get CANCELLED). Calling it returns an awaitable."""

    __slots__ = ("_inner", "_defaults", "_slots")

    def __init__(self, inner: Any, defaults: _CallDefaults, slots: asyncio.Semaphore) -> None:
        self._inner = inner
        self._defaults = defaults
        self._slots = slots

    def __call__(self, request: Any, *, timeout: float | None = None, metadata: Any = None, **kwargs: Any):
        return self._invoke(
            request, self._defaults.timeout(timeout), self._defaults.metadata(metadata), kwargs
        )

    async def _invoke(self, request: Any, deadline_s: float, metadata: Any, kwargs: dict) -> Any:
        async with self._slots:
            return await self._inner(request, timeout=deadline_s, metadata=metadata, **kwargs)


class _Streaming:
    """A streaming multicallable with the defaults; returns grpc's own call object."""

    __slots__ = ("_inner", "_defaults")

    def __init__(self, inner: Any, defaults: _CallDefaults) -> None:
        self._inner = inner
        self._defaults = defaults

    def __call__(self, *args: Any, timeout: float | None = None, metadata: Any = None, **kwargs: Any):
        return self._inner(
            *args,
            timeout=self._defaults.timeout(timeout),
            metadata=self._defaults.metadata(metadata),
            **kwargs,
        )


class DefaultsChannel(grpc.aio.Channel):
    """A grpc.aio channel whose multicallables add the defaults themselves.

    Not grpc.aio client interceptors: those cost about 70 us of CPU per call (an extra task and call
    objects per call, measured by scripts/bench/serving.py's profiling), a fifth of a whole unary call."""

    def __init__(self, channel: grpc.aio.Channel, defaults: _CallDefaults, max_in_flight: int) -> None:
        self._channel = channel
        self._defaults = defaults
        self._slots = asyncio.Semaphore(max_in_flight)

    async def __aenter__(self) -> DefaultsChannel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._channel.close(None)

    async def close(self, grace: float | None = None) -> None:
        await self._channel.close(grace)

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return self._channel.get_state(try_to_connect)

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        await self._channel.wait_for_state_change(last_observed_state)

    async def channel_ready(self) -> None:
        await self._channel.channel_ready()

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _UnaryUnary(self._channel.unary_unary(method, *args, **kwargs), self._defaults, self._slots)

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _Streaming(self._channel.unary_stream(method, *args, **kwargs), self._defaults)

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _Streaming(self._channel.stream_unary(method, *args, **kwargs), self._defaults)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _Streaming(self._channel.stream_stream(method, *args, **kwargs), self._defaults)


def create_channel(
    target: str,
    token_provider: TokenProvider,
    *,
    timeout_s: float = 10.0,
    max_in_flight: int = 200,
) -> grpc.aio.Channel:
    """An insecure channel (mesh-internal; TLS terminates in the service mesh) with the project's defaults.

    Streaming calls get the default deadline too; pass `timeout=` for long streams. Unary calls return an
    awaitable (await it); streaming calls return grpc's call objects. While tracing is on, OpenTelemetry's
    client interceptors start a span per call and send the trace context (off: no interceptor at all).
    """
    channel = grpc.aio.insecure_channel(
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
        interceptors=telemetry.client_interceptors(),
    )
    return DefaultsChannel(channel, _CallDefaults(token_provider, timeout_s), max_in_flight)
