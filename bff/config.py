"""Settings of the GraphQL BFF (prefix `BFF_`, shared `LMW_` settings under `common`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from lmw_common.config import ServiceSettings

MIB = 1024 * 1024
# The portal's build output in a source checkout (`make web` writes it); images set BFF_PORTAL_DIR.
CHECKOUT_PORTAL_DIR = Path(__file__).resolve().parent.parent / "web" / "dist"


class BffSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="BFF_", extra="ignore")

    port: int = Field(8000, ge=0, le=65535)
    # uvicorn worker processes (each holds its own channels).
    workers: int = Field(1, ge=1, le=64)
    learner_target: str = "127.0.0.1:50051"
    instructor_target: str = "127.0.0.1:50052"
    orchestrator_target: str = "127.0.0.1:50053"
    # Deadline of unary calls to the services, seconds.
    call_timeout_s: float = Field(10.0, gt=0)
    # Deadline of unary calls that may generate (content, quiz, grading), seconds.
    generation_timeout_s: float = Field(300.0, gt=0)
    # Deadline of streams (job progress, generated content, tutor answers, uploads), seconds.
    stream_timeout_s: float = Field(900.0, gt=0)
    # Largest single uploaded file; checked while the file streams to instructor_svc.
    max_upload_bytes: int = Field(50 * MIB, ge=1)
    # Largest multipart request body (all files of one request together).
    max_request_bytes: int = Field(200 * MIB, ge=1)
    # Largest non-multipart request body (a JSON GraphQL request).
    max_json_bytes: int = Field(1 * MIB, ge=1024)
    # Files one uploadCourseFiles request may carry.
    max_files_per_request: int = Field(20, ge=1, le=1000)
    # Query limits: nesting depth, aliases and parser tokens per document.
    max_query_depth: int = Field(10, ge=2, le=50)
    max_aliases: int = Field(30, ge=1)
    max_tokens: int = Field(2000, ge=100)
    # Estimated cost of a query: every field 1, a connection's subtree times its `first`.
    max_query_cost: int = Field(5000, ge=10)
    # Concurrent GetCourse calls one GraphQL operation's DataLoader may run (instructor_svc has no batch get).
    loader_concurrency: int = Field(8, ge=1, le=100)
    # How long published courses (public, like the catalog) are reused where the caller's own enrollment or
    # dashboard shows them, and catalog pages for anonymous callers. 0 asks instructor_svc every time.
    course_cache_ttl_s: float = Field(5.0, ge=0, le=300)
    # Upper bound of concurrent calls on each of the three channels.
    max_in_flight_per_channel: int = Field(200, ge=1)
    # Log every HTTP request (one JSON line with status and milliseconds). Failed (status >= 400) and slow
    # requests are logged either way.
    access_log: bool = False
    # A request that takes at least this many milliseconds is logged as slow.
    slow_request_ms: float = Field(1000.0, gt=0)
    # Serve GraphiQL at GET /graphql (text/html); its assets come with the portal's build.
    graphiql: bool = True
    # The built portal (web/dist), served at / with GraphiQL's assets; empty: serve no portal.
    portal_dir: str = str(CHECKOUT_PORTAL_DIR)
    # Browser origins allowed to call the API from another origin (CORS and websockets), as a JSON list,
    # e.g. ["https://app.example.com"]; "*" allows any. Empty: same origin only.
    allowed_origins: list[str] = Field(default_factory=list)
