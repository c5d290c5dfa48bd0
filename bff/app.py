"""The Starlette app: GraphQL over HTTP (queries, mutations, multipart uploads) and websockets
(graphql-transport-ws and graphql-ws), GraphiQL at /graphql, /healthz and /readyz."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET

from bff.clients import Clients
from bff.config import BffSettings
from bff.context import BffContext, bearer_token
from bff.schema import build_schema
from lmw_common.logs import configure_logging, new_request_id, request_id_var

log = logging.getLogger("bff")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BffGraphQL(GraphQL):
    """Strawberry's ASGI view with our context and websocket authentication."""

    def __init__(self, schema, clients: Clients, settings: BffSettings, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.clients = clients
        self.settings = settings

    async def get_context(self, request, response) -> BffContext:
        return BffContext(
            request=request,
            response=response,
            clients=self.clients,
            settings=self.settings,
            token=bearer_token(request.headers.get("authorization")),
        )

    async def on_ws_connect(self, context: BffContext):
        """Take the token from connection_init: {"Authorization": "Bearer ..."} or {"authToken": "..."}."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        for key in ("Authorization", "authorization", "authToken", "token"):
            value = params.get(key)
            if isinstance(value, str) and value:
                context.token = bearer_token(value)
                break
        return UNSET


class _BodyTooLarge(Exception):
    pass


class RequestMiddleware:
    """Pure ASGI (contextvars flow into the app): a request id per HTTP request and websocket (taken from
    `x-request-id` when sane, echoed back), request-body limits enforced while the body streams in, and
    one JSON access-log line per HTTP request."""

    def __init__(self, app: ASGIApp, settings: BffSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_request_id()
        request_id_var.set(request_id)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        limit = self.settings.max_request_bytes if multipart else self.settings.max_json_bytes
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        try:
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _BodyTooLarge
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            if status["sent"]:
                raise
            await _too_large(limit, send_with_id)
        finally:
            if scope.get("path") not in ("/healthz", "/readyz"):
                log.info(
                    "%s %s %s",
                    scope.get("method"),
                    scope.get("path"),
                    status["code"],
                    extra={
                        "fields": {
                            "status": status["code"],
                            "ms": round((time.perf_counter() - started) * 1000, 1),
                        }
                    },
                )


async def _too_large(limit: int, send: Send) -> None:
    body = json.dumps(
        {
            "errors": [
                {
                    "message": f"the request body is larger than {limit} bytes",
                    "extensions": {"code": "BAD_USER_INPUT", "reason": "REQUEST_TOO_LARGE"},
                }
            ]
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(settings: BffSettings | None = None, clients: Clients | None = None) -> Starlette:
    settings = settings or BffSettings()
    clients = clients or Clients(settings)
    schema = build_schema(settings)
    graphql = BffGraphQL(
        schema,
        clients,
        settings,
        graphql_ide="graphiql" if settings.graphiql else None,
        subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL],
        multipart_uploads_enabled=True,
        allowed_origins=list(settings.allowed_origins),
    )

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        services = await clients.readiness()
        ready = all(status == "SERVING" for status in services.values())
        return JSONResponse(
            {"status": "ok" if ready else "unavailable", "services": services}, 200 if ready else 503
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        clients.open()
        log.info("bff ready on %s:%s", settings.host, settings.port)
        try:
            yield
        finally:
            await clients.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
        ],
        lifespan=lifespan,
    )
    if settings.allowed_origins:  # a browser frontend on another origin
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type", "x-request-id"],
            expose_headers=["x-request-id"],
            max_age=600,
        )
    app.add_middleware(RequestMiddleware, settings=settings)
    app.state.clients = clients
    app.state.settings = settings
    app.state.schema = schema
    return app


def create_app_from_env() -> Starlette:
    """uvicorn factory (one per worker process)."""
    settings = BffSettings()
    configure_logging("bff", settings.common.log_level)
    return create_app(settings)
