"""sme_svc ingestion jobs end to end over gRPC: progress, per-file failures, idempotent re-ingestion, and
recovery after the process is killed mid-job.

instructor_svc's file streaming is stood in for by a minimal InstructorService gRPC server that serves
fixed bytes (optionally slowly); the full-mesh tests cover the real pairing.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import subprocess
import sys
import time

import grpc
import pytest
from pymongo import MongoClient, uri_parser

from devkit.databases import free_port
from lmw.common.v1 import common_pb2 as cpb
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.instructor.v1 import instructor_service_pb2_grpc as ipb_grpc
from lmw.sme.v1 import sme_service_pb2 as pb
from lmw.sme.v1 import sme_service_pb2_grpc as pb_grpc

COURSE = "course1"


def markdown(topic: str, paragraphs: int = 6) -> bytes:
    body = "\n\n".join(
        f"## {topic} part {i}\n\n{topic} is discussed here in detail. Paragraph {i} explains how {topic.lower()} "
        f"behaves when values change, with an example of {topic.lower()} number {i}."
        for i in range(paragraphs)
    )
    return f"# {topic}\n\n{body}\n".encode()


FILES = {
    "f_loops": ("loops.md", "text/markdown", markdown("Loops")),
    "f_lists": ("lists.md", "text/markdown", markdown("Lists")),
    "f_broken": ("broken.pdf", "application/pdf", b"%PDF-1.7\nthis is not really a pdf\n"),
}


class FileServer(ipb_grpc.InstructorServiceServicer):
    def __init__(self) -> None:
        self.hold: asyncio.Event | None = None  # while set and not released, no file is served

    async def ReadCourseFile(self, request, context):
        if request.file_id not in FILES:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such file")
        if self.hold is not None:
            await self.hold.wait()
        name, media_type, data = FILES[request.file_id]
        yield ipb.ReadCourseFileResponse(
            file=ipb.CourseFile(id=request.file_id, name=name, media_type=media_type)
        )
        yield ipb.ReadCourseFileResponse(data=data)


@pytest.fixture(scope="module")
async def file_server():
    server = grpc.aio.server()
    servicer = FileServer()
    ipb_grpc.add_InstructorServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield port, servicer
    await server.stop(0)


def documents(*file_ids: str) -> list[pb.DocumentRef]:
    return [
        pb.DocumentRef(
            file_id=f,
            file_name=FILES[f][0],
            media_type=FILES[f][1],
            sha256=hashlib.sha256(FILES[f][2]).hexdigest(),
        )
        for f in file_ids
    ]


class SmeProcess:
    """sme_svc as a real process, so a test can kill it without warning."""

    def __init__(self, mongo_url: str, instructor_port: int, index_dir: str, secret: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "LMW_ENV": "dev",
            "LMW_JWT_SECRET": secret,
            "LMW_LOG_LEVEL": "WARNING",
            "SME_PORT": str(self.port),
            "SME_MONGO_URL": mongo_url,
            "SME_INDEX_DIR": index_dir,
            "SME_INSTRUCTOR_TARGET": f"127.0.0.1:{instructor_port}",
            "SME_JOB_STALE_AFTER_S": "2",
        }
        self.proc: subprocess.Popen | None = None

    async def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "sme_svc"], env=self.env)
        deadline = time.monotonic() + 180
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            from grpc_health.v1 import health_pb2, health_pb2_grpc

            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, "sme_svc exited during start"
                try:
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.3)
        raise TimeoutError("sme_svc did not start")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


async def wait_done(stub, job_id: str, metadata, timeout_s: float = 120) -> cpb.Job:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = (await stub.GetJob(pb.GetJobRequest(job_id=job_id), metadata=metadata)).job
        if job.state in (cpb.JOB_STATE_SUCCEEDED, cpb.JOB_STATE_FAILED):
            return job
        await asyncio.sleep(0.3)
    raise TimeoutError(f"job {job_id} did not finish")


def chunk_counts(mongo_url: str, course_id: str) -> dict[str, int]:
    database = uri_parser.parse_uri(mongo_url)["database"]
    with MongoClient(mongo_url) as client:
        counts = client[database]["chunks"].aggregate(
            [{"$match": {"course_id": course_id}}, {"$group": {"_id": "$file_id", "n": {"$sum": 1}}}]
        )
        return {row["_id"]: row["n"] for row in counts}


@pytest.fixture(scope="module")
def sme_mongo_url(mongo):
    return f"{mongo.uri.rstrip('/')}/sme_ingestion_tests"


@pytest.fixture(scope="module")
async def sme(sme_mongo_url, file_server, tmp_path_factory, common_settings, service_token):
    """One sme_svc process for the module (it loads the embedding model at start); tests use distinct courses."""
    index_dir = str(tmp_path_factory.mktemp("index"))
    process = SmeProcess(sme_mongo_url, file_server[0], index_dir, common_settings.signing_secret())
    await process.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{process.port}")
    yield process, pb_grpc.SmeServiceStub(channel), [("authorization", f"Bearer {service_token}")]
    await channel.close()
    process.stop()


async def test_ingest_watch_retrieve_and_reingest(sme, sme_mongo_url):
    _, stub, svc = sme
    course = "course_reingest"
    started = await stub.IngestDocuments(
        pb.IngestDocumentsRequest(course_id=course, documents=documents("f_loops", "f_lists", "f_broken")),
        metadata=svc,
    )
    assert started.job.state in (cpb.JOB_STATE_QUEUED, cpb.JOB_STATE_RUNNING)
    seen = [
        update.job async for update in stub.WatchJob(pb.WatchJobRequest(job_id=started.job.id), metadata=svc)
    ]
    final = seen[-1]
    assert final.state == cpb.JOB_STATE_SUCCEEDED and final.items_done == 3 and final.progress == 1.0
    items = {item.id: item for item in final.items}
    assert items["f_loops"].state == cpb.JOB_STATE_SUCCEEDED and items["f_loops"].chunk_count > 0
    assert (
        items["f_broken"].state == cpb.JOB_STATE_FAILED and items["f_broken"].message
    )  # fails alone, with a reason
    assert [j.progress for j in seen] == sorted(j.progress for j in seen)

    hits = await stub.Retrieve(
        pb.RetrieveRequest(course_id=course, query="how do lists behave", k=3), metadata=svc
    )
    assert hits.chunks and hits.chunks[0].citation.file_id == "f_lists" and hits.chunks[0].citation.heading

    before = chunk_counts(sme_mongo_url, course)
    again = await stub.IngestDocuments(
        pb.IngestDocumentsRequest(course_id=course, documents=documents("f_loops")), metadata=svc
    )
    await wait_done(stub, again.job.id, svc)
    assert (
        chunk_counts(sme_mongo_url, course) == before
    )  # idempotent: the file's chunks were replaced, not added

    deleted = await stub.DeleteDocuments(
        pb.DeleteDocumentsRequest(course_id=course, file_ids=["f_lists"]), metadata=svc
    )
    assert deleted.deleted_chunk_count == before["f_lists"]
    hits = await stub.Retrieve(pb.RetrieveRequest(course_id=course, query="lists", k=5), metadata=svc)
    assert all(h.citation.file_id != "f_lists" for h in hits.chunks)


async def test_a_modules_files_rank_first_and_moving_a_file_moves_its_chunks(sme):
    _, stub, svc = sme
    course = "course_modules"
    loops, lists = documents("f_loops", "f_lists")
    loops.module_id, lists.module_id = "m1", "m2"
    started = await stub.IngestDocuments(
        pb.IngestDocumentsRequest(course_id=course, documents=[loops, lists]), metadata=svc
    )
    await wait_done(stub, started.job.id, svc)

    async def files(query: str, module: str, k: int = 6) -> list[str]:
        request = pb.RetrieveRequest(
            course_id=course, query=query, k=k, filter=pb.RetrieveFilter(module_id=module)
        )
        return [h.citation.file_id for h in (await stub.Retrieve(request, metadata=svc)).chunks]

    count = chunk_counts_of(await files("lists", "m1", 50))
    # Asked from module 1, even a question about lists gets module 1's chunks first, the rest after them.
    ranked = await files("how do lists behave", "m1", 50)
    assert ranked[: count["f_loops"]] == ["f_loops"] * count["f_loops"] and "f_lists" in ranked
    moved = await stub.MoveDocuments(
        pb.MoveDocumentsRequest(course_id=course, file_ids=["f_lists"], module_id="m1"), metadata=svc
    )
    assert moved.moved_chunk_count == count["f_lists"]
    assert (await files("how do lists behave", "m1", 3))[0] == "f_lists"
    assert set(await files("how do loops behave", "m2", 50)) == {"f_loops", "f_lists"}  # m2 has nothing left


def chunk_counts_of(file_ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for file_id in file_ids:
        counts[file_id] = counts.get(file_id, 0) + 1
    return counts


async def test_every_rpc_is_internal(sme, tokens):
    _, stub, _ = sme
    learner = [("authorization", f"Bearer {tokens.issue('someone', 'learner', 60)[0]}")]
    for metadata, code in [
        ([], grpc.StatusCode.UNAUTHENTICATED),
        (learner, grpc.StatusCode.PERMISSION_DENIED),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.Retrieve(pb.RetrieveRequest(course_id=COURSE, query="x"), metadata=metadata)
        assert err.value.code() == code


async def test_bad_requests_are_rejected(sme):
    _, stub, svc = sme
    for request in [
        pb.IngestDocumentsRequest(course_id=COURSE),
        pb.IngestDocumentsRequest(course_id="../etc", documents=documents("f_loops")),
        pb.RetrieveRequest(course_id=COURSE, query="x" * 5000),
        pb.RetrieveRequest(course_id=COURSE, query="loops", k=500),
    ]:
        call = stub.IngestDocuments if isinstance(request, pb.IngestDocumentsRequest) else stub.Retrieve
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call(request, metadata=svc)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetJob(pb.GetJobRequest(job_id="nope"), metadata=svc)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_job_survives_a_killed_process(sme, file_server, sme_mongo_url):
    process, stub, svc = sme
    course = "course_killed"
    file_server[1].hold = asyncio.Event()  # no file arrives until the process is killed: it dies mid-job
    started = await stub.IngestDocuments(
        pb.IngestDocumentsRequest(course_id=course, documents=documents("f_loops", "f_lists")), metadata=svc
    )
    deadline = time.monotonic() + 120
    while (await stub.GetJob(pb.GetJobRequest(job_id=started.job.id), metadata=svc)).job.state != (
        cpb.JOB_STATE_RUNNING
    ):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    process.kill()
    file_server[1].hold.set()
    await process.start()  # same port and database: the new process takes over the stale job
    final = await wait_done(stub, started.job.id, svc)
    assert final.state == cpb.JOB_STATE_SUCCEEDED, final.message
    counts = chunk_counts(sme_mongo_url, course)
    assert counts == {item.id: item.chunk_count for item in final.items}  # nothing double-indexed
