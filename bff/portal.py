"""The portal's HTTP surface beside GraphQL: the built single-page app (web/dist) at /, the API explorer
(GraphiQL, bundled with the portal so it works offline and under a strict CSP) at GET /graphql, and course
files for the portal's source viewer at /api/course-files/{course_id}/{file_id}.

Caching: Vite names every file under /assets/ after its content, so those are cached for a year as immutable;
the HTML documents are revalidated on every load (`no-cache` with an ETag), so a new build shows at once.
Any other path without a file extension is a client route and gets index.html (SPA fallback). Files are
served as built (a `.gz` twin, written by the build, when the browser accepts gzip). Lookups never leave
the portal directory: the path is resolved and must stay inside it.

Token handling: the portal keeps its bearer token in the page and sends it in the Authorization header, so
no request is authorized by something the browser attaches on its own (no cookie, so no cross-site request
forgery); the Content-Security-Policy below (scripts from this origin only, no inline script, Trusted Types,
no framing) is what guards the token against script injection.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from bff.clients import Clients, current_token, server_stream
from bff.config import BffSettings
from bff.context import bearer_token
from bff.errors import ApiError
from lmw.instructor.v1 import instructor_service_pb2 as ipb

# The portal: its own scripts and styles only, no inline script or style, no plugins, no framing, no <base>;
# Trusted Types with no policy at all, so no string can ever become HTML or script (the portal renders
# through React only: never innerHTML, and HTML course files are tokenized, never parsed by the browser).
# Blob frames: the source viewer shows PDFs.
PORTAL_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; frame-src blob:; worker-src 'none'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "require-trusted-types-for 'script'; trusted-types 'none'"
)
# GraphiQL's own scripts only, too; its editor and dialogs set inline styles and render Markdown
# descriptions through innerHTML, so styles may be inline and Trusted Types are not enforced there.
EXPLORER_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
OTHER_FILES = "public, max-age=3600"

INDEX = "index.html"
EXPLORER = "graphiql.html"
_NOT_BUILT = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
    "<h1>{title}</h1><p>The portal has not been built. Run <code>make web</code> (or <code>make up</code>, "
    "which builds it) and reload this page.</p></html>"
)

# Course and file ids are opaque service ids: letters, digits, '-' and '_'.
_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_HTTP_STATUS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "BAD_USER_INPUT": 400,
    "CONFLICT": 409,
    "FAILED_PRECONDITION": 412,
    "RESOURCE_EXHAUSTED": 429,
    "UNAVAILABLE": 503,
}


def _document_headers(csp: str) -> dict[str, str]:
    return {**SECURITY_HEADERS, "content-security-policy": csp, "cache-control": REVALIDATE}


class PortalFiles:
    """An ASGI app serving the built portal from `root` (GET and HEAD)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root.resolve() if root else None

    def file(self, relative: str) -> Path | None:
        """The file at `relative` inside the portal directory, or None (also for anything outside it)."""
        if self.root is None or "\\" in relative or "\0" in relative:
            return None
        parts = PurePosixPath(relative).parts
        if not parts or any(part in ("..", ".") or part.startswith(".") for part in parts):
            return None
        path = (self.root / Path(*parts)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path

    def document(self, request: Request, name: str, csp: str, title: str) -> Response:
        path = self.file(name)
        if path is None:
            html = _NOT_BUILT.format(title=title)
            return Response(html, 503, media_type="text/html", headers=_document_headers(csp))
        return self._send(request, path, _document_headers(csp))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method not in ("GET", "HEAD"):
            response: Response = Response(status_code=405, headers={"allow": "GET, HEAD"})
        else:
            response = self._respond(request)
        await response(scope, receive, send)

    def _respond(self, request: Request) -> Response:
        relative = request.url.path.lstrip("/")
        if relative in ("", INDEX):
            return self.document(request, INDEX, PORTAL_CSP, "Learning Middleware")
        # HTML only as a document, with its CSP (GraphiQL's page is served at /graphql).
        path = None if relative.endswith(".html") else self.file(relative)
        if path is not None:
            immutable = relative.startswith("assets/")
            return self._send(
                request, path, {**SECURITY_HEADERS, "cache-control": IMMUTABLE if immutable else OTHER_FILES}
            )
        if relative.startswith(("assets/", "api/")) or "." in PurePosixPath(relative).name:
            return Response("Not Found", 404, media_type="text/plain", headers=SECURITY_HEADERS)
        return self.document(request, INDEX, PORTAL_CSP, "Learning Middleware")  # a client route

    def _send(self, request: Request, path: Path, headers: dict[str, str]) -> Response:
        stat = path.stat()
        etag = (
            '"'
            + hashlib.sha1(f"{stat.st_mtime_ns}-{stat.st_size}".encode(), usedforsecurity=False).hexdigest()[
                :20
            ]
            + '"'
        )
        headers = {**headers, "etag": etag, "vary": "accept-encoding"}
        if etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type in ("application/javascript", "image/svg+xml"):
            media_type += "; charset=utf-8"
        zipped = path.with_name(path.name + ".gz")
        if "gzip" in request.headers.get("accept-encoding", "") and zipped.is_file():
            headers["content-encoding"] = "gzip"
            return FileResponse(zipped, media_type=media_type, headers=headers, stat_result=zipped.stat())
        return FileResponse(path, media_type=media_type, headers=headers, stat_result=stat)


class WithExplorer:
    """/graphql: the explorer page for a browser opening it (GET, HTML accepted, no query in the URL:
    Strawberry's own rule), the GraphQL app for everything else."""

    def __init__(self, graphql: ASGIApp, portal: PortalFiles) -> None:
        self.graphql = graphql
        self.portal = portal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _wants_explorer(scope):
            page = self.portal.document(Request(scope, receive), EXPLORER, EXPLORER_CSP, "GraphiQL")
            await page(scope, receive, send)
        else:
            await self.graphql(scope, receive, send)


def _wants_explorer(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET" or b"query=" in scope.get("query_string", b""):
        return False
    accept = next((value for name, value in scope["headers"] if name == b"accept"), b"")
    return b"text/html" in accept


def _error_response(error: ApiError) -> Response:
    body = {"errors": [{"message": error.message, "extensions": error.extensions}]}
    return Response(
        json.dumps(body),
        _HTTP_STATUS.get(error.code, 500),
        media_type="application/json",
        headers={**SECURITY_HEADERS, "cache-control": "no-store"},
    )


def _download_name(name: str) -> str:
    """An ASCII stand-in for the Content-Disposition `filename` (the UTF-8 name goes in `filename*`)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:200] or "file"


async def course_file(request: Request) -> Response:
    """A course file's bytes, for the caller's token: instructor_svc's ReadCourseFile decides who may read
    (the owner, learners enrolled in the published course). Errors come as GraphQL-style JSON."""
    clients: Clients = request.app.state.clients
    settings: BffSettings = request.app.state.settings
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        return _error_response(ApiError("sign in to open course files", "UNAUTHENTICATED", "AUTH_REQUIRED"))
    course_id, file_id = request.path_params["course_id"], request.path_params["file_id"]
    if not (_ID.match(course_id) and _ID.match(file_id)):
        return _error_response(ApiError("no such course file", "NOT_FOUND", "FILE_NOT_FOUND"))
    current_token.set(token)
    call = clients.instructor.ReadCourseFile(
        ipb.ReadCourseFileRequest(course_id=course_id, file_id=file_id), timeout=settings.stream_timeout_s
    )
    chunks = server_stream(call)
    try:
        first = await anext(chunks)
    except ApiError as error:
        return _error_response(error)
    except StopAsyncIteration:
        return _error_response(ApiError("no such course file", "NOT_FOUND", "FILE_NOT_FOUND"))
    file = first.file

    async def body():
        async for message in chunks:
            yield message.data

    name = file.name or "file"
    headers = {
        **SECURITY_HEADERS,
        # Never run as a page of this origin, even if opened directly: no scripts, a unique origin.
        "content-security-policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
        "content-disposition": f"attachment; filename=\"{_download_name(name)}\"; filename*=UTF-8''{quote(name, safe='')}",
        "cache-control": "private, no-store",
        "content-length": str(file.size_bytes),
    }
    return StreamingResponse(
        body(), media_type=file.media_type or "application/octet-stream", headers=headers
    )
