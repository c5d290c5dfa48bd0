"""Course files over real gRPC client/server streaming, real blobs, MongoDB and PostgreSQL.

The first part runs with sme_svc down (nothing listens on its port): uploads still succeed, files wait in
PENDING. The second part runs sme_svc in-process (skipped until `sme_svc.bootstrap` exists): ingestion
completes, a corrupt PDF ends FAILED with a reason, deletion removes the chunks, and files uploaded while
sme_svc was down are indexed once it comes up.
"""

from __future__ import annotations

import asyncio
import io
import os
import time
import uuid
import zipfile
from pathlib import Path

import grpc
import pytest

from devkit.databases import free_port
from lmw.instructor.v1 import instructor_service_pb2 as pb
from lmw.sme.v1 import sme_service_pb2 as spb
from lmw.sme.v1 import sme_service_pb2_grpc as spb_grpc
from tests.integration.test_instructor_support import (
    auth,
    databases,
    expect,
    instructor_env,
    make_pdf,
    markdown,
    sha256,
    sme_available,
    sme_env,
    upload_requests,
    wait_for,
)

LIMIT = 1024 * 1024
INVALID = grpc.StatusCode.INVALID_ARGUMENT
needs_sme = pytest.mark.skipif(not sme_available(), reason="sme_svc is not there yet")


@pytest.fixture(scope="module")
async def env(postgres, mongo, common_settings, tmp_path_factory):
    async with (
        databases(postgres, mongo) as (pg_url, mongo_url),
        instructor_env(
            pg_url, mongo_url, tmp_path_factory.mktemp("blobs"), common_settings, max_upload_bytes=LIMIT
        ) as e,
    ):
        yield e


@pytest.fixture
async def owner(env):
    _, token = await env.sign_up()
    course = await env.course(token, modules=2)
    return token, course


async def file_docs(env, course_id: str) -> list[dict]:
    return await env.db["files"].find({"course_id": course_id}).to_list()


def course_blobs(env, course_id: str) -> list[str]:
    directory = env.blob_root / course_id
    return sorted(os.listdir(directory)) if directory.exists() else []


async def test_upload_markdown_and_pdf(env, owner):
    token, course = owner
    md_bytes = markdown("Loops", 40)
    pdf_bytes = make_pdf([f"Line {i} about recursion and the call stack." for i in range(120)])
    md = await env.upload(token, course.id, "loops.md", md_bytes, chunk=1000)
    pdf = await env.upload(token, course.id, "Recursion notes.pdf", pdf_bytes, size_bytes=len(pdf_bytes))
    assert (md.file.name, md.file.media_type, md.file.size_bytes) == (
        "loops.md",
        "text/markdown",
        len(md_bytes),
    )
    assert (pdf.file.name, pdf.file.media_type) == ("Recursion notes.pdf", "application/pdf")
    assert md.file.sha256 == sha256(md_bytes) and pdf.file.sha256 == sha256(pdf_bytes)
    for response in (md, pdf):
        assert not response.duplicate
        assert response.file.state == pb.FILE_STATE_PENDING  # sme_svc is down: waits, nothing lost
        assert "sme_svc" in response.file.state_message
        assert not response.HasField("job")
    # bytes on disk under server-chosen names, metadata in MongoDB
    assert course_blobs(env, course.id) == sorted([md.file.id, pdf.file.id])
    assert (env.blob_root / course.id / pdf.file.id).read_bytes() == pdf_bytes
    docs = {d["_id"]: d for d in await file_docs(env, course.id)}
    assert docs[md.file.id]["sha256"] == sha256(md_bytes) and docs[md.file.id]["job_id"] is None
    # materials changed twice
    got = (await env.stub.GetCourse(pb.GetCourseRequest(course_id=course.id), metadata=auth(token))).course
    assert got.materials_version == 2
    listed = await env.stub.ListCourseFiles(
        pb.ListCourseFilesRequest(course_id=course.id), metadata=auth(token)
    )
    assert [f.id for f in listed.files] == [pdf.file.id, md.file.id]  # newest first
    page = await env.stub.ListCourseFiles(
        pb.ListCourseFilesRequest(course_id=course.id, page_size=1), metadata=auth(token)
    )
    assert len(page.files) == 1 and page.next_page_token
    status = await env.status(token, course.id)
    assert (status.state, status.file_count, status.indexed_file_count) == (pb.INDEX_STATE_INDEXING, 2, 0)


async def test_oversized_stream_is_cut_off_midway_and_leaves_nothing(env, owner):
    token, course = owner
    chunk, total = 64 * 1024, 64 * 1024 * 1024
    sent = 0

    def stream():
        nonlocal sent
        yield pb.UploadCourseFileRequest(
            metadata=pb.UploadCourseFileMetadata(course_id=course.id, file_name="big.txt")
        )
        while sent < total:
            sent += chunk
            yield pb.UploadCourseFileRequest(data=b"a" * chunk)

    def upload_with_sync_client():
        # The synchronous client reports the server's status faithfully. (grpc.aio clients may report
        # INTERNAL "Failed execute_batch" instead when a write is in flight as the server ends the call:
        # grpc/grpc#36066; the server's status is the same either way.)
        with grpc.insecure_channel(f"127.0.0.1:{env.port}") as channel:
            from lmw.instructor.v1 import instructor_service_pb2_grpc as pb_grpc

            pb_grpc.InstructorServiceStub(channel).UploadCourseFile(stream(), metadata=auth(token))

    with pytest.raises(grpc.RpcError) as err:
        await asyncio.to_thread(upload_with_sync_client)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "file too large" in err.value.details()
    assert sent < total // 4  # the server stopped reading long before the end

    async def aio_stream():
        for message in stream():
            yield message

    sent = 0
    with pytest.raises(grpc.aio.AioRpcError):
        await env.stub.UploadCourseFile(aio_stream(), metadata=auth(token))
    assert sent < total // 4
    declared = upload_requests(course.id, "big.txt", b"a" * 10, size_bytes=LIMIT + 1)
    await expect(
        grpc.StatusCode.RESOURCE_EXHAUSTED, env.stub.UploadCourseFile(declared, metadata=auth(token))
    )
    # exactly at the limit is fine
    exact = await env.upload(token, course.id, "exact.txt", b"b" * LIMIT)
    assert exact.file.size_bytes == LIMIT

    async def only_the_exact_blob() -> bool:  # no partial temp file left behind
        return course_blobs(env, course.id) == [exact.file.id]

    await wait_for(only_the_exact_blob)
    assert [d["_id"] for d in await file_docs(env, course.id)] == [exact.file.id]


async def test_type_is_decided_by_content_not_extension(env, owner):
    token, course = owner
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(range(256)) * 8
    zip_not_office = b"PK\x03\x04" + b"\x00" * 200
    cases = [
        ("notes.pdf", exe, "UNSUPPORTED_FILE_TYPE"),
        ("slides.pptx", b"just some text, not a presentation\n" * 10, "UNSUPPORTED_FILE_TYPE"),
        ("paper.pdf", markdown("Fake"), "UNSUPPORTED_FILE_TYPE"),
        ("doc.docx", zip_not_office, "UNSUPPORTED_FILE_TYPE"),
        ("image.md", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "UNSUPPORTED_FILE_TYPE"),
        ("real.pdf", b"%PDF-1.7\n" + b"x" * 100, None),  # passes the magic check (ingestion decides later)
    ]
    for name, data, reason in cases:
        if reason is None:
            assert (await env.upload(token, course.id, name, data)).file.media_type == "application/pdf"
            continue
        assert await expect(INVALID, env.upload(token, course.id, name, data)) == reason, name
    assert len(await file_docs(env, course.id)) == 1
    assert len(course_blobs(env, course.id)) == 1


def office_bytes(kind: str, text: str = "Merge sort splits the list in halves.") -> bytes:
    buffer = io.BytesIO()
    if kind == "docx":
        import docx

        document = docx.Document()
        document.add_heading("Sorting", 1)
        document.add_paragraph(text)
        document.save(buffer)
    else:
        import pptx

        deck = pptx.Presentation()
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = "Sorting"
        slide.placeholders[1].text = "Quick sort picks a pivot."
        deck.save(buffer)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (20 * 1024 * 1024))
    return buffer.getvalue()


async def test_office_documents_are_checked_as_archives(env, owner):
    token, course = owner
    docx_file = (await env.upload(token, course.id, "sorting.docx", office_bytes("docx"))).file
    pptx_file = (await env.upload(token, course.id, "sorting.pptx", office_bytes("pptx"))).file
    assert docx_file.media_type.endswith("wordprocessingml.document")
    assert pptx_file.media_type.endswith("presentationml.presentation")
    bomb = zip_bomb()
    assert len(bomb) < LIMIT
    assert await expect(INVALID, env.upload(token, course.id, "bomb.docx", bomb)) == "UNSAFE_ARCHIVE"
    # (other content than the upload above: the same bytes would be answered as a duplicate)
    swapped = env.upload(
        token, course.id, "sorting-copy.pptx", office_bytes("docx", "Heap sort uses a heap.")
    )
    assert await expect(INVALID, swapped) == "UNSUPPORTED_FILE_TYPE"
    assert len(await file_docs(env, course.id)) == 2


async def test_traversal_names_are_sanitized_and_stay_in_the_course_dir(env, owner):
    token, course = owner
    outside = env.blob_root.parent / "etc"
    response = await env.upload(token, course.id, "../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n")
    assert response.file.name == "passwd"
    windows = await env.upload(token, course.id, "..\\..\\windows\\evil.md", b"# Evil\n\nnot really\n")
    assert windows.file.name == "evil.md"
    weird = await env.upload(token, course.id, "a\x00b\u202e/.hidden notes.txt", b"hidden notes\n")
    assert weird.file.name == "hidden notes.txt"
    assert sorted(course_blobs(env, course.id)) == sorted([response.file.id, windows.file.id, weird.file.id])
    for path in env.blob_files():
        assert path.resolve().is_relative_to(env.blob_root.resolve())
    assert not outside.exists()
    for name in ["", "../..", "///", "\x00\x01"]:
        assert await expect(INVALID, env.upload(token, course.id, name, b"text\n")) == "INVALID_FILE_NAME"


async def test_empty_file_and_malformed_streams(env, owner):
    token, course = owner
    assert await expect(INVALID, env.upload(token, course.id, "empty.md", b"")) == "EMPTY_FILE"

    async def data_first():
        yield pb.UploadCourseFileRequest(data=b"hello")

    async def two_metadata():
        meta = pb.UploadCourseFileMetadata(course_id=course.id, file_name="a.md")
        yield pb.UploadCourseFileRequest(metadata=meta)
        yield pb.UploadCourseFileRequest(data=b"# A\n")
        yield pb.UploadCourseFileRequest(metadata=meta)

    async def nothing():
        return
        yield

    md = auth(token)
    assert await expect(INVALID, env.stub.UploadCourseFile(data_first(), metadata=md)) == "METADATA_REQUIRED"
    assert await expect(INVALID, env.stub.UploadCourseFile(nothing(), metadata=md)) == "METADATA_REQUIRED"
    assert (
        await expect(INVALID, env.stub.UploadCourseFile(two_metadata(), metadata=md)) == "UNEXPECTED_METADATA"
    )
    mismatch = upload_requests(course.id, "a.md", b"# A\n", size_bytes=99)
    assert await expect(INVALID, env.stub.UploadCourseFile(mismatch, metadata=md)) == "SIZE_MISMATCH"
    assert await file_docs(env, course.id) == []
    assert course_blobs(env, course.id) == []


async def test_duplicate_upload_returns_the_existing_file(env, owner):
    token, course = owner
    data = markdown("Duplicates")
    first = await env.upload(token, course.id, "first.md", data)
    second = await env.upload(token, course.id, "renamed copy.md", data)
    assert second.duplicate and not first.duplicate
    assert second.file.id == first.file.id and second.file.name == "first.md"
    assert len(await file_docs(env, course.id)) == 1
    assert course_blobs(env, course.id) == [first.file.id]
    got = (await env.stub.GetCourse(pb.GetCourseRequest(course_id=course.id), metadata=auth(token))).course
    assert got.materials_version == 1  # the duplicate changed nothing
    # the same content in another course is a separate file
    other = await env.course(token)
    elsewhere = await env.upload(token, other.id, "first.md", data)
    assert not elsewhere.duplicate and elsewhere.file.id != first.file.id


async def test_concurrent_identical_uploads_create_one_record(env, owner):
    token, course = owner
    data = markdown("Concurrency", 30)
    responses = await asyncio.gather(
        *(env.upload(token, course.id, f"copy{i}.md", data, chunk=4096) for i in range(6))
    )
    ids = {r.file.id for r in responses}
    assert len(ids) == 1
    assert sum(not r.duplicate for r in responses) == 1
    assert len(await file_docs(env, course.id)) == 1
    assert course_blobs(env, course.id) == [ids.pop()]


async def test_read_course_file_streams_bytes_back_to_services_and_the_owner(env, owner, service_token):
    token, course = owner
    data = os.urandom(600 * 1024).hex().encode()[: 700 * 1024]  # text, several 256 KiB chunks
    uploaded = (await env.upload(token, course.id, "blob.txt", data)).file
    request = pb.ReadCourseFileRequest(course_id=course.id, file_id=uploaded.id)
    messages = [m async for m in env.stub.ReadCourseFile(request, metadata=auth(service_token))]
    assert messages[0].file.id == uploaded.id and messages[0].file.sha256 == sha256(data)
    assert all(len(m.data) <= 256 * 1024 for m in messages)
    assert len(messages) >= 4
    assert b"".join(m.data for m in messages) == data

    async def read(token_, file_id=uploaded.id):
        stream = env.stub.ReadCourseFile(
            pb.ReadCourseFileRequest(course_id=course.id, file_id=file_id), metadata=auth(token_)
        )
        return [m async for m in stream]

    assert b"".join(m.data for m in await read(token)) == data  # the owner (the portal's source viewer)
    await expect(grpc.StatusCode.UNAUTHENTICATED, read(None))
    await expect(grpc.StatusCode.NOT_FOUND, read(service_token, "nope"))


async def test_other_instructors_and_learners_cannot_touch_files(env, owner, tokens):
    token, course = owner
    _, other = await env.sign_up("Mallory")
    learner = tokens.issue("learner-x", "learner", 600)[0]
    uploaded = (await env.upload(token, course.id, "mine.md", markdown("Mine"))).file
    denied = grpc.StatusCode.PERMISSION_DENIED
    assert await expect(denied, env.upload(other, course.id, "theirs.md", markdown("Theirs"))) == "NOT_OWNER"
    assert (
        await expect(denied, env.upload(learner, course.id, "theirs.md", markdown("Theirs")))
        == "ROLE_NOT_ALLOWED"
    )
    delete = pb.DeleteCourseFileRequest(course_id=course.id, file_id=uploaded.id)
    assert await expect(denied, env.stub.DeleteCourseFile(delete, metadata=auth(other))) == "NOT_OWNER"
    listing = pb.ListCourseFilesRequest(course_id=course.id)
    assert await expect(denied, env.stub.ListCourseFiles(listing, metadata=auth(other))) == "NOT_OWNER"
    missing = upload_requests("no-such-course", "x.md", b"# x\n")
    assert await expect(
        grpc.StatusCode.NOT_FOUND, env.stub.UploadCourseFile(missing, metadata=auth(token))
    ) == ("COURSE_NOT_FOUND")
    assert len(await file_docs(env, course.id)) == 1


async def test_delete_needs_sme_to_drop_chunks_first(env, owner):
    token, course = owner
    uploaded = (await env.upload(token, course.id, "keep.md", markdown("Keep"))).file
    delete = pb.DeleteCourseFileRequest(course_id=course.id, file_id=uploaded.id)
    # sme_svc is down: the file (and its chunks, if any) must not be half-deleted
    await expect(grpc.StatusCode.UNAVAILABLE, env.stub.DeleteCourseFile(delete, metadata=auth(token)))
    assert course_blobs(env, course.id) == [uploaded.id]
    listed = await env.stub.ListCourseFiles(
        pb.ListCourseFilesRequest(course_id=course.id), metadata=auth(token)
    )
    assert [f.id for f in listed.files] == [uploaded.id]
    unknown = pb.DeleteCourseFileRequest(course_id=course.id, file_id="nope")
    assert await expect(
        grpc.StatusCode.NOT_FOUND, env.stub.DeleteCourseFile(unknown, metadata=auth(token))
    ) == ("FILE_NOT_FOUND")


async def test_deleting_a_course_with_files_needs_sme(env, owner):
    token, course = owner
    uploaded = (await env.upload(token, course.id, "keep.md", markdown("Keep it"))).file
    delete = env.stub.DeleteCourse(pb.DeleteCourseRequest(course_id=course.id), metadata=auth(token))
    await expect(grpc.StatusCode.UNAVAILABLE, delete)  # its index could not be dropped: nothing is deleted
    assert course_blobs(env, course.id) == [uploaded.id]
    assert (
        await env.stub.GetCourse(pb.GetCourseRequest(course_id=course.id), metadata=auth(token))
    ).course.id
    empty = await env.course(token)
    await env.stub.DeleteCourse(pb.DeleteCourseRequest(course_id=empty.id), metadata=auth(token))  # no files


# Orphan blobs (a crash between a blob's commit and its record's insert) ---------------------------------

HOUR_S = 3600.0  # well past the default grace period (600 s)


def plant(path: Path, data: bytes, age_s: float = 0.0) -> Path:
    """A file as a crashed upload would have left it, last modified `age_s` ago."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return backdate(path, age_s)


def backdate(path: Path, age_s: float) -> Path:
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp), follow_symlinks=False)
    return path


async def test_orphan_blobs_past_the_grace_period_are_swept(env, owner, tmp_path):
    token, course = owner
    uploads = [await env.upload(token, course.id, f"real{i}.md", markdown(f"Real {i}")) for i in range(2)]
    directory = env.blob_root / course.id
    real = [backdate(directory / u.file.id, HOUR_S) for u in uploads]  # old: only their records keep them
    orphan = plant(directory / uuid.uuid4().hex, b"committed, then the process died", HOUR_S)
    fresh = plant(directory / uuid.uuid4().hex, b"committed, its record is being inserted")
    temp = plant(directory / ".upload-0123.part", b"an upload in progress", HOUR_S)
    gone_course = plant(env.blob_root / uuid.uuid4().hex / uuid.uuid4().hex, b"of a deleted course", HOUR_S)
    # symlinks are never followed: neither an id-named link in a course nor a linked "course" directory
    outside = plant(tmp_path / "outside" / "secret1", b"not the service's", HOUR_S)
    link = directory / uuid.uuid4().hex
    link.symlink_to(outside)
    backdate(link, HOUR_S)
    (env.blob_root / uuid.uuid4().hex).symlink_to(outside.parent, target_is_directory=True)

    removed = await env.app.files.remove_orphan_blobs()

    assert removed == 2
    assert not orphan.exists() and not gone_course.exists()
    assert all(p.read_bytes() for p in real)
    assert fresh.exists() and temp.exists() and link.is_symlink() and outside.exists()
    listed = await env.stub.ListCourseFiles(
        pb.ListCourseFilesRequest(course_id=course.id), metadata=auth(token)
    )
    assert {f.id for f in listed.files} == {u.file.id for u in uploads}
    assert await env.app.files.remove_orphan_blobs() == 0  # nothing left to sweep


async def test_orphan_blobs_are_swept_when_the_service_starts(postgres, mongo, common_settings, tmp_path):
    async with databases(postgres, mongo) as (pg_url, mongo_url):
        async with instructor_env(pg_url, mongo_url, tmp_path, common_settings) as first:
            _, token = await first.sign_up()
            course = await first.course(token)
            real = (await first.upload(token, course.id, "notes.md", markdown("Notes"))).file.id
        # what the stopped replica left: its real blob, an orphan from a crash long ago, a fresh one
        directory = tmp_path / course.id
        backdate(directory / real, HOUR_S)
        orphan = plant(directory / uuid.uuid4().hex, b"committed, then the process died", HOUR_S)
        fresh = plant(directory / uuid.uuid4().hex, b"committed a moment ago")
        async with instructor_env(pg_url, mongo_url, tmp_path, common_settings):

            async def swept() -> bool:
                return not orphan.exists()

            await wait_for(swept, timeout_s=120)
            assert fresh.exists() and (directory / real).exists()


# With sme_svc running --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def mesh(postgres, mongo, common_settings, tmp_path_factory):
    """instructor_svc and sme_svc pointing at each other. sme_svc starts only when a test asks for it, on
    the port instructor_svc already knows, so the 'sme_svc was down' path can be tested first."""
    if not sme_available():
        pytest.skip("sme_svc is not there yet")
    sme_port = free_port()
    async with (
        databases(postgres, mongo) as (pg_url, mongo_url),
        instructor_env(
            pg_url,
            mongo_url,
            tmp_path_factory.mktemp("blobs"),
            common_settings,
            sme_target=f"127.0.0.1:{sme_port}",
            reconcile_interval_s=0.5,
            sme_breaker_reset_s=0.5,
        ) as e,
    ):
        state = {"env": e, "sme": None}

        async def start_sme():
            if state["sme"] is None:
                cm = sme_env(
                    mongo_url.rsplit("/", 1)[0] + "/sme_" + mongo_url.rsplit("/", 1)[1],
                    e.port,
                    tmp_path_factory.mktemp("index"),
                    common_settings,
                    port=sme_port,
                )
                state["sme"] = (cm, await cm.__aenter__())
            return state["sme"][1]

        state["start_sme"] = start_sme
        try:
            yield state
        finally:
            if state["sme"] is not None:
                await state["sme"][0].__aexit__(None, None, None)


@needs_sme
async def test_files_uploaded_while_sme_was_down_are_indexed_once_it_is_back(mesh):
    env = mesh["env"]
    _, token = await env.sign_up()
    course = await env.course(token, modules=1)
    waiting = await env.upload(token, course.id, "early.md", markdown("Early birds"))
    assert waiting.file.state == pb.FILE_STATE_PENDING
    await mesh["start_sme"]()

    async def job_done():  # the file is indexed a moment before its job is marked done
        status = await env.status(token, course.id)
        settled = status.state in (
            pb.INDEX_STATE_READY,
            pb.INDEX_STATE_PARTIAL,
        ) and status.last_job.state in (3, 4)
        return status if settled else None

    status = await wait_for(job_done)
    assert status.state == pb.INDEX_STATE_READY and status.indexed_file_count == 1 and status.chunk_count > 0
    assert status.last_job.kind == "ingest" and status.last_job.state == 3  # SUCCEEDED


@needs_sme
async def test_ingestion_completes_and_a_corrupt_pdf_fails_with_a_reason(mesh, service_token):
    env = mesh["env"]
    sme = await mesh["start_sme"]()
    _, token = await env.sign_up()
    course = await env.course(token, modules=1)
    good = await env.upload(token, course.id, "lists.md", markdown("Lists"))
    assert good.job.id and good.job.kind == "ingest"
    corrupt = await env.upload(token, course.id, "broken.pdf", b"%PDF-1.7\nthis is not really a pdf\n" * 3)
    assert corrupt.file.media_type == "application/pdf"  # the magic matched; parsing will not
    watched = await env.watch(token, good.job.id)
    assert watched[-1].state == 3  # SUCCEEDED
    status = await env.wait_indexed(token, course.id)
    assert status.state == pb.INDEX_STATE_PARTIAL
    assert (status.indexed_file_count, status.failed_file_count) == (1, 1)
    files = {
        f.id: f
        for f in (
            await env.stub.ListCourseFiles(
                pb.ListCourseFilesRequest(course_id=course.id), metadata=auth(token)
            )
        ).files
    }
    assert files[good.file.id].state == pb.FILE_STATE_INDEXED and files[good.file.id].chunk_count > 0
    assert files[corrupt.file.id].state == pb.FILE_STATE_FAILED and files[corrupt.file.id].state_message
    job = (await env.stub.GetJob(pb.GetJobRequest(job_id=corrupt.job.id), metadata=auth(token))).job
    assert job.state in (3, 4) and job.items[0].id == corrupt.file.id
    _, other = await env.sign_up("Other")
    await expect(
        grpc.StatusCode.PERMISSION_DENIED,
        env.stub.GetJob(pb.GetJobRequest(job_id=good.job.id), metadata=auth(other)),
    )

    # deleting a file removes its chunks from the index, its bytes and its metadata
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{sme.port}")
    retrieve = spb_grpc.SmeServiceStub(channel).Retrieve
    query = spb.RetrieveRequest(course_id=course.id, query="lists example", k=10)
    before = await retrieve(query, metadata=auth(service_token))
    assert {c.citation.file_id for c in before.chunks} == {good.file.id}
    await env.stub.DeleteCourseFile(
        pb.DeleteCourseFileRequest(course_id=course.id, file_id=good.file.id), metadata=auth(token)
    )
    after = await retrieve(query, metadata=auth(service_token))
    assert good.file.id not in {c.citation.file_id for c in after.chunks}
    assert course_blobs(env, course.id) == [corrupt.file.id]
    got = (await env.stub.GetCourse(pb.GetCourseRequest(course_id=course.id), metadata=auth(token))).course
    assert got.materials_version == 3

    # deleting the course removes its index in sme_svc, its blobs, files and jobs
    other = await env.upload(token, course.id, "other.md", markdown("Dictionaries"))
    await env.wait_indexed(token, course.id)
    await env.stub.DeleteCourse(pb.DeleteCourseRequest(course_id=course.id), metadata=auth(token))
    gone = await retrieve(
        spb.RetrieveRequest(course_id=course.id, query="dictionaries"), metadata=auth(service_token)
    )
    assert other.file.id not in {c.citation.file_id for c in gone.chunks}
    await channel.close()
    assert not (env.blob_root / course.id).exists()
    assert await env.db["files"].count_documents({"course_id": course.id}) == 0
    assert await env.db["jobs"].count_documents({"course_id": course.id}) == 0
