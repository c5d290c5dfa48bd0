"""The Starlette app: GraphQL over HTTP (queries, mutations, multipart uploads) and websockets
(graphql-transport-ws and graphql-ws), GraphiQL at /graphql, /healthz and /readyz, and the portal
(bff/portal.py): its files at /, course files for its source viewer at /api/course-files/. Its Prometheus
metrics are served on a port of their own (LMW_METRICS_PORT) while the app runs; with tracing on
(lmw_common.telemetry), each request is a server span."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET

from bff.clients import Clients
from bff.config import BffSettings
from bff.context import BffContext, bearer_token
from bff.metrics import GraphQLMetrics
from bff.portal import PortalFiles, WithExplorer, course_file
from bff.schema import build_schema
from lmw_common import telemetry
from lmw_common.logs import configure_logging, new_request_id, request_id_var
from lmw_common.metrics import Metrics
from lmw_common.runtime import freeze_startup_objects, metrics_served

log = logging.getLogger("bff")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


# What a JSON POST may run (subscriptions stream, and only Strawberry's view streams).
_QUERY_OR_MUTATION = frozenset({OperationType.QUERY, OperationType.MUTATION})
_NOT_PLAIN = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


class BffGraphQL(GraphQL):
    """Strawberry's ASGI view with our context and websocket authentication.

    A JSON POST of one query or mutation, nearly every request, is executed straight through the schema's
    public `execute`, without the view's per-request machinery (a quarter of a small request's CPU).
    Anything else, and any request the view would answer with an HTTP error, goes through the view itself:
    GET and GraphiQL, multipart uploads, batches, subscriptions, websockets, malformed bodies."""

    def __init__(self, schema, clients: Clients, settings: BffSettings, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.clients = clients
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _is_json(scope):
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        response = await self._execute_plain(request, body)
        if response is None:  # the view answers it, from the same body
            await super().__call__(scope, _replay(body), send)
        else:
            await response(scope, receive, send)

    async def _execute_plain(self, request: Request, body: bytes) -> Response | None:
        try:
            data = self.decode_json(body)
        except ValueError:
            return None
        if not isinstance(data, dict | list):  # (Strawberry's view fails on these with a 500)
            return PlainTextResponse("The request body must be a JSON object", status_code=400)
        if not isinstance(data, dict) or not _plain_operation(data):
            return None
        try:
            result = await self.schema.execute(
                data["query"],
                variable_values=data.get("variables"),
                context_value=await self.get_context(request, None),
                operation_name=data.get("operationName"),
                allowed_operation_types=_QUERY_OR_MUTATION,
                operation_extensions=data.get("extensions"),
            )
        except _NOT_PLAIN:
            return None
        payload = await self.process_result(request, result)
        return Response(self.encode_json(payload), media_type="application/json")

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


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


def _plain_operation(data: dict) -> bool:
    """One operation with the fields of the GraphQL-over-HTTP request, each of its type."""
    return (
        isinstance(data.get("query"), str)
        and isinstance(data.get("variables"), dict | None)
        and isinstance(data.get("operationName"), str | None)
        and isinstance(data.get("extensions"), dict | None)
    )


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class _BodyTooLarge(Exception):
    pass


class RequestMiddleware:
    """Pure ASGI (contextvars flow into the app): a request id per HTTP request and websocket (taken from
    `x-request-id` when sane, echoed back) and request-body limits enforced while the body streams in.
    Requests that fail (status >= 400) or are slow are logged, every request with BFF_ACCESS_LOG."""

    def __init__(self, app: ASGIApp, settings: BffSettings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming, content_type, declared = "", b"", b""
        for name, value in scope["headers"]:  # ASGI header names are lower case
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = value
        request_id = incoming if _REQUEST_ID.match(incoming) else new_request_id()
        request_id_var.set(request_id)
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        multipart = content_type[:10].lower() == b"multipart/"
        limit = self.settings.max_request_bytes if multipart else self.settings.max_json_bytes
        started = time.perf_counter()
        status = {"code": 500, "sent": False}
        request_id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message["headers"] = [*message.get("headers", ()), request_id_header]
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
            if declared.isdigit() and int(declared) > limit:
                raise _BodyTooLarge
            await self.app(scope, limited_receive, send_with_id)
        except _BodyTooLarge:
            if status["sent"]:
                raise
            await _too_large(limit, send_with_id)
        finally:
            self._log(scope, status["code"], (time.perf_counter() - started) * 1000)

    def _log(self, scope: Scope, status: int, ms: float) -> None:
        slow = ms >= self.settings.slow_request_ms
        if status < 400 and not slow and not self.settings.access_log:
            return
        if scope.get("path") in ("/healthz", "/readyz") and status < 400:
            return
        log.log(
            logging.WARNING if status >= 500 or slow else logging.INFO,
            "%s %s %s",
            scope.get("method"),
            scope.get("path"),
            status,
            extra={"fields": {"status": status, "ms": round(ms, 1)}},
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
    metrics = Metrics()
    metrics.watch_caches(
        {"published_courses": clients.published_courses, "anonymous_catalog": clients.anonymous_catalog}
    )
    schema = build_schema(settings, GraphQLMetrics(metrics))
    portal = PortalFiles(Path(settings.portal_dir) if settings.portal_dir else None)
    graphql = BffGraphQL(
        schema,
        clients,
        settings,
        graphql_ide=None,  # GraphiQL comes from the portal's build (Strawberry's page loads it from a CDN)
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
            shared = settings.workers > 1
            with metrics_served(
                metrics, settings.host, settings.common, shared_port=shared
            ) as metrics_server:
                app.state.metrics_port = metrics_server.port if metrics_server else None
                yield
        finally:
            await clients.close()

    app = Starlette(
        routes=[
            Route(
                "/graphql",
                WithExplorer(graphql, portal) if settings.graphiql else graphql,
                methods=["GET", "POST"],
            ),
            WebSocketRoute("/graphql", graphql),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/api/course-files/{course_id}/{file_id}", course_file, methods=["GET"]),
            Mount("/", portal),
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
    if telemetry.tracing_enabled():  # inside RequestMiddleware: the span starts with the request id known
        app.add_middleware(telemetry.traced_asgi)
    app.add_middleware(RequestMiddleware, settings=settings)
    app.state.clients = clients
    app.state.metrics = metrics
    app.state.settings = settings
    app.state.schema = schema
    return app


def create_app_from_env() -> Starlette:
    """uvicorn factory (one per worker process)."""
    settings = BffSettings()
    configure_logging("bff", settings.common.log_level)
    telemetry.configure_tracing("bff")
    app = create_app(settings)
    freeze_startup_objects()
    return app
