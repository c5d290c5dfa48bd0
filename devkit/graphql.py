"""A small GraphQL client of the BFF: queries and mutations over HTTP, multipart uploads, and subscriptions
over graphql-transport-ws.

    async with GraphQLClient("http://127.0.0.1:8000/graphql") as anonymous:
        data = await anonymous.execute("{ catalog { edges { node { id } } } }")
        learner = anonymous.as_user(token)          # shares the HTTP pool
        async for data in learner.subscribe("subscription { ... }"): ...
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx


class GraphQLFailure(Exception):
    """The operation returned errors (or the transport failed)."""

    def __init__(self, errors: Any, operation: str = "") -> None:
        self.errors = errors if isinstance(errors, list) else [errors]
        self.operation = operation
        super().__init__(json.dumps(self.errors, indent=2, default=str))

    @property
    def codes(self) -> list[str]:
        return [(e.get("extensions") or {}).get("code", "") for e in self.errors if isinstance(e, dict)]


class GraphQLClient:
    """A small client for the BFF: queries/mutations over HTTP, multipart uploads, and subscriptions over
    graphql-transport-ws. `as_user(token)` gives a client for another user sharing the HTTP pool."""

    def __init__(self, url: str, token: str | None = None, *, http: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.ws_url = "ws" + url.removeprefix("http")
        self.token = token
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=10.0))

    def as_user(self, token: str | None) -> GraphQLClient:
        return GraphQLClient(self.url, token, http=self.http)

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> GraphQLClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @staticmethod
    def _result(response: httpx.Response, query: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise GraphQLFailure(
                {"message": f"HTTP {response.status_code}: {response.text[:500]}"}, query
            ) from None
        if body.get("errors"):
            raise GraphQLFailure(body["errors"], query)
        if response.status_code != 200:
            raise GraphQLFailure({"message": f"HTTP {response.status_code}"}, query)
        return body["data"]

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=self._headers()
        )
        return self._result(response, query)

    async def upload(
        self, query: str, variables: dict[str, Any], files: list[Path], variable: str = "files"
    ) -> dict[str, Any]:
        """A GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec)."""
        operations = {"query": query, "variables": {**variables, variable: [None] * len(files)}}
        mapping = {str(i): [f"variables.{variable}.{i}"] for i in range(len(files))}
        parts = {
            str(i): (path.name, path.read_bytes(), "application/octet-stream") for i, path in enumerate(files)
        }
        response = await self.http.post(
            self.url,
            data={"operations": json.dumps(operations), "map": json.dumps(mapping)},
            files=parts,
            headers=self._headers(),
        )
        return self._result(response, query)

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield each `data` of a subscription until the server completes it."""
        from websockets.asyncio.client import connect

        async with connect(
            self.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=60, max_size=None
        ) as ws:
            payload = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if ack.get("type") != "connection_ack":
                raise GraphQLFailure({"message": f"no connection_ack: {ack}"}, query)
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": variables or {}},
                    }
                )
            )
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    if message["payload"].get("errors"):
                        raise GraphQLFailure(message["payload"]["errors"], query)
                    yield message["payload"]["data"]
                elif kind == "error":
                    raise GraphQLFailure(message.get("payload"), query)
                elif kind == "complete":
                    return
                elif kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
