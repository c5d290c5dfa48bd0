"""Shared helpers for the instructor_svc tests (no tests in here).

Every environment is real: instructor_svc served over gRPC on a free port, its own PostgreSQL database and
MongoDB database on the session's servers (tests/conftest.py), its own blob directory; sme_svc and
learner_svc, where a test needs them, run in-process the same way.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import psycopg
import pytest
from pymongo import AsyncMongoClient

from devkit.databases import MongoWire, Postgres, free_port
from instructor_svc.app import InstructorApp
from instructor_svc.bootstrap import compose
from instructor_svc.config import InstructorSettings
from instructor_svc.servicer import service_spec
from lmw.common.v1 import common_pb2 as cpb
from lmw.instructor.v1 import instructor_service_pb2 as pb
from lmw.instructor.v1 import instructor_service_pb2_grpc as pb_grpc
from lmw_common.errors import from_rpc_error
from lmw_common.runtime import serving

PASSWORD = "Correct-horse-9"


def auth(token: str | None) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")] if token else []


async def expect(code: grpc.StatusCode, call) -> str:
    """Await `call`, assert it fails with `code`; returns the ErrorInfo reason."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, f"{err.value.code()}: {err.value.details()}"
    return from_rpc_error(err.value).reason


def markdown(topic: str, paragraphs: int = 6) -> bytes:
    body = "\n\n".join(
        f"## {topic} part {i}\n\n{topic} is explained here in detail. Paragraph {i} shows how {topic.lower()} "
        f"works when the inputs change, with a worked example of {topic.lower()} number {i}."
        for i in range(paragraphs)
    )
    return f"# {topic}\n\n{body}\n".encode()


def make_pdf(lines: list[str]) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    y = 800
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 18
        if y < 72:
            pdf.showPage()
            y = 800
    pdf.save()
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def upload_requests(
    course_id: str, name: str, data: bytes, chunk: int = 64 * 1024, size_bytes: int = 0
) -> AsyncIterator[pb.UploadCourseFileRequest]:
    yield pb.UploadCourseFileRequest(
        metadata=pb.UploadCourseFileMetadata(course_id=course_id, file_name=name, size_bytes=size_bytes)
    )
    for start in range(0, len(data), chunk):
        yield pb.UploadCourseFileRequest(data=data[start : start + chunk])


async def wait_for(probe: Callable, timeout_s: float = 120.0, interval_s: float = 0.2):
    """Poll the async `probe` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s (last: {result!r})")
        await asyncio.sleep(interval_s)


@dataclass
class InstructorEnv:
    stub: pb_grpc.InstructorServiceStub
    port: int
    settings: InstructorSettings
    mongo: AsyncMongoClient
    blob_root: Path
    app: InstructorApp  # the service's use cases, to drive them directly where gRPC would get in the way

    @property
    def db(self):
        return self.mongo[self.settings.mongo_url.rsplit("/", 1)[1]]

    def sql(self, statement: str, *params) -> list[tuple]:
        with psycopg.connect(self.settings.database_url, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    async def sign_up(self, name: str = "Ada") -> tuple[pb.Instructor, str]:
        response = await self.stub.SignUp(
            pb.SignUpRequest(
                email=f"{uuid.uuid4().hex[:10]}@example.org", password=PASSWORD, display_name=name
            )
        )
        return response.instructor, response.access_token.token

    async def course(self, token: str, title: str = "Python basics", modules: int = 0) -> pb.Course:
        course = (
            await self.stub.CreateCourse(pb.CreateCourseRequest(title=title), metadata=auth(token))
        ).course
        for i in range(modules):
            await self.stub.CreateModule(
                pb.CreateModuleRequest(
                    course_id=course.id, title=f"Module {i}", description=f"About topic {i}"
                ),
                metadata=auth(token),
            )
        return (
            await self.stub.GetCourse(pb.GetCourseRequest(course_id=course.id), metadata=auth(token))
        ).course

    async def upload(
        self, token: str, course_id: str, name: str, data: bytes, **kw
    ) -> pb.UploadCourseFileResponse:
        return await self.stub.UploadCourseFile(
            upload_requests(course_id, name, data, **kw), metadata=auth(token)
        )

    async def status(self, token: str, course_id: str) -> pb.GetIndexingStatusResponse:
        return await self.stub.GetIndexingStatus(
            pb.GetIndexingStatusRequest(course_id=course_id), metadata=auth(token)
        )

    async def wait_indexed(self, token: str, course_id: str, timeout_s: float = 180.0):
        async def settled():
            status = await self.status(token, course_id)
            return status if status.state in (pb.INDEX_STATE_READY, pb.INDEX_STATE_PARTIAL) else None

        return await wait_for(settled, timeout_s, 0.3)

    async def watch(self, token: str, job_id: str) -> list[cpb.Job]:
        stream = self.stub.WatchJob(pb.WatchJobRequest(job_id=job_id), metadata=auth(token), timeout=120)
        return [message.job async for message in stream]

    def blob_files(self) -> list[Path]:
        return sorted(p for p in self.blob_root.rglob("*") if p.is_file()) if self.blob_root.exists() else []


@asynccontextmanager
async def databases(postgres: Postgres, mongo: MongoWire) -> AsyncIterator[tuple[str, str]]:
    """A fresh PostgreSQL database and a fresh MongoDB database name, for one environment."""
    name = "ti_" + uuid.uuid4().hex[:16]
    pg_url = await asyncio.to_thread(postgres.database_uri, name)
    try:
        yield pg_url, f"{mongo.uri.rstrip('/')}/{name}"
    finally:
        await asyncio.to_thread(postgres.drop_database, name)


@asynccontextmanager
async def instructor_env(
    pg_url: str, mongo_url: str, blob_root: Path, common, *, port: int = 0, **overrides
) -> AsyncIterator[InstructorEnv]:
    if "sme_target" not in overrides:
        overrides["sme_target"] = f"127.0.0.1:{free_port()}"  # nothing listens: sme_svc is down
        overrides.setdefault("sme_breaker_fail_max", 1)  # fail fast after the first refusal
    overrides.setdefault("learner_target", f"127.0.0.1:{free_port()}")
    settings = InstructorSettings(
        database_url=pg_url,
        mongo_url=mongo_url,
        blob_root=str(blob_root),
        common=common,
        port=port,
        shutdown_grace_s=0,
        **overrides,
    )
    apps: list[InstructorApp] = []

    @asynccontextmanager
    async def capture(service_settings, runtime):
        async with compose(service_settings, runtime) as app:
            apps.append(app)
            yield [service_spec(app)]

    mongo_client = AsyncMongoClient(mongo_url, tz_aware=True)
    try:
        async with serving("instructor_svc", settings, capture) as server:
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
            try:
                yield InstructorEnv(
                    pb_grpc.InstructorServiceStub(channel),
                    server.port,
                    settings,
                    mongo_client,
                    blob_root,
                    apps[0],
                )
            finally:
                await channel.close()
    finally:
        await mongo_client.close()


def sme_available() -> bool:
    try:
        import sme_svc.bootstrap  # noqa: F401
    except ImportError:
        return False
    return True


@asynccontextmanager
async def sme_env(mongo_url: str, instructor_port: int, index_dir: Path, common, port: int = 0):
    """sme_svc in-process (extractive generator, packaged embedding model), reading files from instructor_svc."""
    from sme_svc.bootstrap import bootstrap as sme_bootstrap
    from sme_svc.config import SmeSettings

    settings = SmeSettings(
        mongo_url=mongo_url,
        instructor_target=f"127.0.0.1:{instructor_port}",
        index_dir=str(index_dir),
        generator_backend="extractive",
        port=port,
        shutdown_grace_s=0,
        common=common,
    )
    async with serving("sme_svc", settings, sme_bootstrap) as server:
        yield server
