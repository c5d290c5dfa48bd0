"""Any OpenAI-compatible chat-completions server (e.g. `vllm serve`) over HTTP.

Transport rules: every request has a timeout; connection errors, timeouts, 429 and 5xx are retried with
exponential backoff (honouring Retry-After) up to `max_attempts`; a stream is retried only if it failed
before its first delta (a retry after that would repeat text the caller already forwarded).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx

from sme_svc.generation import prompts
from sme_svc.generation.base import BackendUnavailable, Encode, GenerationFailed
from sme_svc.generation.llm import LLMGenerator

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OpenAIGenerator(LLMGenerator):
    backend_name = "openai"

    def __init__(
        self,
        encode: Encode,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_attempts: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        seed: int | None = 0,
        **options,
    ) -> None:
        super().__init__(encode, model=model, **options)
        self.url = base_url.rstrip("/") + (
            "/chat/completions" if base_url.rstrip("/").endswith("/v1") else "/v1/chat/completions"
        )
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s)), headers=headers
        )
        self.max_attempts = max(1, max_attempts)
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.seed = seed

    async def aclose(self) -> None:
        await self._client.aclose()

    def info(self) -> dict[str, str]:
        return {**super().info(), "base_url": self.url}

    def _body(self, messages: list[prompts.Message], schema: dict | None, stream: bool) -> dict:
        body: dict = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stream": stream,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        if schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "result", "schema": schema, "strict": True},
            }
        return body

    async def complete(self, messages: list[prompts.Message], *, schema: dict | None = None) -> str:
        body = self._body(messages, schema, stream=False)
        for attempt in range(self.max_attempts):
            try:
                response = await self._client.post(self.url, json=body)
                _raise_for_status(response.status_code, response.headers, response.text)
                return _message_content(response)
            except (httpx.TransportError, _Retryable) as exc:
                await self._backoff_or_give_up(attempt, exc)
        raise AssertionError("unreachable")  # _backoff_or_give_up raises on the last attempt

    async def stream(self, messages: list[prompts.Message]) -> AsyncIterator[str]:
        body = self._body(messages, None, stream=True)
        for attempt in range(self.max_attempts):
            started = False
            try:
                async with self._client.stream("POST", self.url, json=body) as response:
                    if response.status_code >= 400:
                        text = (await response.aread()).decode(errors="replace")
                        _raise_for_status(response.status_code, response.headers, text)
                    async for delta in sse_deltas(response.aiter_lines()):
                        started = True
                        yield delta
                return
            except (httpx.TransportError, _Retryable) as exc:
                if started:
                    raise BackendUnavailable(
                        f"stream from {self.url} broke after it started: {exc!r}"
                    ) from exc
                await self._backoff_or_give_up(attempt, exc)

    async def _backoff_or_give_up(self, attempt: int, exc: Exception) -> None:
        if attempt + 1 >= self.max_attempts:
            raise BackendUnavailable(
                f"{self.url} failed after {self.max_attempts} attempts: {exc!r}"
            ) from exc
        delay = min(self.max_backoff_s, self.backoff_s * 2**attempt)
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            delay = min(self.max_backoff_s, max(delay, exc.retry_after))
        await asyncio.sleep(delay)


async def sse_deltas(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Content deltas of an OpenAI chat-completions SSE stream (`data: {...}` lines until `data: [DONE]`)."""
    async for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, comments (":"), "event:" lines
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise GenerationFailed(f"malformed stream event: {payload[:80]!r}") from exc
        if "error" in event:
            raise GenerationFailed(f"model server error in stream: {event['error']}")
        for choice in event.get("choices") or []:
            content = (choice.get("delta") or {}).get("content")
            if content:
                yield content


def _raise_for_status(status: int, headers: httpx.Headers, text: str) -> None:
    if status < 400:
        return
    if status in RETRYABLE_STATUS:
        raise _Retryable(f"HTTP {status}: {text[:200]}", _retry_after(headers))
    raise GenerationFailed(f"model server refused the request: HTTP {status}: {text[:300]}")


def _retry_after(headers: httpx.Headers) -> float | None:
    try:
        return float(headers.get("retry-after", ""))
    except ValueError:
        return None


def _message_content(response: httpx.Response) -> str:
    try:
        content = response.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise GenerationFailed(f"unexpected chat-completions reply: {response.text[:200]!r}") from exc
    return content or ""
