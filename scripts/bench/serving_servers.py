"""Baseline servers of the serving benchmark, each run as its own process by `serving.py`:

    python scripts/bench/serving_servers.py KIND PORT

KIND:
- `stock`:      a stock Strawberry schema (no extensions) on Strawberry's ASGI view, in a Starlette app;
- `cached`:     the same schema with Strawberry's ParserCache and ValidationCache only (the cheapest
                configuration Strawberry offers: what the BFF's own extensions and middleware add shows
                against it);
- `starlette`:  a bare Starlette endpoint that reads the body and answers a constant JSON document;
- `grpc-echo`:  a bare grpc.aio server with one echo RPC (bytes in, the same bytes out), no interceptors;
- `grpc-stack`: the same echo behind the project's own server factory (`lmw_common.grpc_server.start_server`:
                request-context interceptor, JWT verification, access check, health, reflection), declared
                AUTHENTICATED, so a call needs a valid token (LMW_JWT_SECRET from the environment).

The HTTP ones are served by uvicorn with exactly the BFF's settings (`bff.__main__.server_options`), the
gRPC ones on uvloop like the services (`lmw_common.runtime`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import uvloop

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

ECHO_METHOD = "/lmw.bench.v1.EchoService/Echo"


def stock_app(extensions=()):
    import strawberry
    from starlette.applications import Starlette
    from starlette.routing import Route
    from strawberry.asgi import GraphQL

    @strawberry.type
    class Query:
        @strawberry.field
        def hello(self) -> str:
            return "world"

    graphql = GraphQL(strawberry.Schema(query=Query, extensions=list(extensions)), graphql_ide=None)
    return Starlette(routes=[Route("/graphql", graphql, methods=["GET", "POST"])])


def cached_app():
    from strawberry.extensions import ParserCache, ValidationCache

    return stock_app([ParserCache, ValidationCache])


def starlette_app():
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"data": {"__typename": "Query"}})

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


def serve_http(kind: str, port: int) -> None:
    import uvicorn

    from bff.__main__ import server_options
    from bff.config import BffSettings

    factory = {"stock": "stock_app", "cached": "cached_app", "starlette": "starlette_app"}[kind]
    options = server_options(BffSettings(port=port))
    # An import string (not an object), so BFF_WORKERS > 1 works here as it does for the BFF.
    uvicorn.run(f"serving_servers:{factory}", factory=True, app_dir=str(Path(__file__).parent), **options)


def _echo_handler():
    import grpc

    async def echo(request: bytes, context) -> bytes:
        return request

    return grpc.method_handlers_generic_handler(
        "lmw.bench.v1.EchoService", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
    )


async def serve_grpc(kind: str, port: int) -> None:
    import grpc

    if kind == "grpc-echo":
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((_echo_handler(),))
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()
        return

    from lmw_common.auth import Access
    from lmw_common.config import LmwSettings
    from lmw_common.grpc_server import ServiceSpec, start_server
    from lmw_common.logs import configure_logging
    from lmw_common.runtime import Runtime

    common = LmwSettings()
    configure_logging("bench-echo", common.log_level)
    runtime = Runtime("bench-echo", common)
    descriptor = SimpleNamespace(full_name="lmw.bench.v1.EchoService", methods=[SimpleNamespace(name="Echo")])
    spec = ServiceSpec(
        descriptor=descriptor,  # type: ignore[arg-type]  (only its names are read)
        servicer=None,
        add_to_server=lambda _servicer, server: server.add_generic_rpc_handlers((_echo_handler(),)),
        access={"Echo": Access.AUTHENTICATED},
    )
    running = await start_server([spec], runtime.tokens, "127.0.0.1", port)
    await running.server.wait_for_termination()


def main() -> None:
    kind, port = sys.argv[1], int(sys.argv[2])
    os.chdir(REPO_ROOT)
    if kind in ("stock", "cached", "starlette"):
        serve_http(kind, port)
    elif kind in ("grpc-echo", "grpc-stack"):
        uvloop.run(serve_grpc(kind, port))  # the event loop the services run on (lmw_common.runtime)
    else:
        sys.exit(f"unknown kind {kind!r}")


if __name__ == "__main__":
    main()
