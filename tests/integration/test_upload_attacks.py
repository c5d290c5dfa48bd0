"""Hostile uploads through instructor_svc's UploadCourseFile (real gRPC client streams), with sme_svc running so
that what is accepted is also ingested.

Adds to tests/integration/test_instructor_files.py (basic traversal names, magic numbers, a 20 MB zip
bomb, a stream cut off without a declared size, six identical concurrent uploads): absolute and Windows
names, NUL and control characters, 10,000-character names, more content/name mismatches, office zip bombs
past 200 MB and past the entry limit, a DOCX whose zip directory lies about its sizes, PDFs with 3,000 blank
pages and a PDF whose page is a deflate bomb (ingestion must end quickly: 0 chunks or FAILED with a
reason), a stream that lies about its size, a client that goes away mid-upload, a stream of thousands of
tiny messages, and many concurrent uploads of one file from real threads. At the end: nothing was written
outside the course blob directories (blob root and temp dirs walked), no temp file is left, and every file
record has its blob and every blob its record.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import struct
import tempfile
import threading
import time
import unicodedata
import uuid
import zipfile
import zlib
from pathlib import Path

import grpc
import pytest

pytest.importorskip("sme_svc.bootstrap")

from devkit.databases import free_port  # noqa: E402
from lmw.instructor.v1 import instructor_service_pb2 as pb  # noqa: E402
from lmw.instructor.v1 import instructor_service_pb2_grpc as pb_grpc  # noqa: E402
from lmw_common.errors import from_rpc_error  # noqa: E402
from tests.integration.test_instructor_support import (  # noqa: E402
    auth,
    databases,
    expect,
    instructor_env,
    markdown,
    sme_env,
    upload_requests,
    wait_for,
)

LIMIT = 4 * 1024 * 1024
IDLE_S = 2.0  # an upload stream silent this long is abandoned
INVALID = grpc.StatusCode.INVALID_ARGUMENT
ATTACK_NAMES = ("passwd", "win.ini", "x.md", "deep.md", "evil.md")


@pytest.fixture(scope="module")
async def env(postgres, mongo, common_settings, tmp_path_factory):
    base = tmp_path_factory.mktemp("upload-attacks")
    sme_port = free_port()
    started = time.time()
    async with (
        databases(postgres, mongo) as (pg_url, mongo_url),
        instructor_env(
            pg_url,
            mongo_url,
            base / "blobs",
            common_settings,
            sme_target=f"127.0.0.1:{sme_port}",
            max_upload_bytes=LIMIT,
            upload_idle_timeout_s=IDLE_S,
            reconcile_interval_s=0.5,
            sme_breaker_reset_s=0.5,
        ) as e,
        sme_env(
            mongo_url.rsplit("/", 1)[0] + "/sme_" + mongo_url.rsplit("/", 1)[1],
            e.port,
            base / "index",
            common_settings,
            port=sme_port,
        ),
    ):
        e.base = base
        e.started = started
        yield e


@pytest.fixture
async def owner(env):
    _, token = await env.sign_up()
    course = await env.course(token, modules=1)
    return token, course


async def records(env, course_id: str | None = None) -> list[dict]:
    query = {"course_id": course_id} if course_id else {}
    return await env.db["files"].find(query).to_list()


def course_blobs(env, course_id: str) -> list[str]:
    directory = env.blob_root / course_id
    return sorted(os.listdir(directory)) if directory.exists() else []


def text_body(tag: str) -> bytes:
    """Distinct text content per upload (the same bytes twice would be answered as a duplicate)."""
    return markdown(f"Topic {tag} {uuid.uuid4().hex[:6]}", 2)


# ----------------------------------------------------------------------------------------------- names


def assert_clean_name(name: str) -> None:
    assert name and len(name) <= 200, name
    assert "/" not in name and "\\" not in name and not name.startswith("."), name
    assert not any(unicodedata.category(c) in ("Cc", "Cf") for c in name), repr(name)


async def test_hostile_names_are_sanitized_and_blobs_named_by_id(env, owner):
    token, course = owner
    cases = [
        ("../../etc/passwd", "passwd"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("C:\\x.md", "x.md"),
        ("C:/Windows/System32/evil.md", "evil.md"),
        ("\\\\server\\share\\evil.md", "evil.md"),
        ("notes\x00.md", "notes.md"),
        ("a\x00b\x00c.md", "abc.md"),
        ("\x01\x02bell\x07\x1b[31m.md", None),
        ("line\r\nbreak.md", None),
        ("\u202egnp.md", "gnp.md"),
        ("CON.md", "_CON.md"),
        ("../" * 3000 + "deep.md", "deep.md"),
        ("x" * 10_000, None),
        ("y" * 9_997 + ".md", None),
        ("é" * 10_000 + ".md", None),
    ]
    stored = []
    for index, (raw, expected) in enumerate(cases):
        response = await env.upload(token, course.id, raw, text_body(f"name {index}"))
        name = response.file.name
        assert_clean_name(name)
        if expected is not None:
            assert name == expected, (raw[:40], name)
        stored.append(response.file)
    long_names = [f.name for f in stored[-3:]]
    assert all(len(n) == 200 for n in long_names)
    assert long_names[1].endswith(".md") and long_names[2].endswith(".md")  # the extension survives
    # the bytes live under server-chosen ids, whatever the name said
    assert course_blobs(env, course.id) == sorted(f.id for f in stored)
    for file in stored:
        assert re.fullmatch(r"[0-9a-f]{32}", file.id)
    # names that are nothing once sanitized are refused, and leave nothing behind
    for raw in ["C:\\", "/etc/", "..\\..\\", "\x00" * 10_000, "\u202e\u200b", " . ", "/" * 10_000]:
        assert await expect(INVALID, env.upload(token, course.id, raw, b"text\n")) == "INVALID_FILE_NAME"
    assert len(await records(env, course.id)) == len(stored)


# --------------------------------------------------------------------------------------------- content


def png() -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000)


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + os.urandom(2000)


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("readme.txt", "not an office document " * 20)
        archive.writestr("data/values.csv", "a,b\n1,2\n" * 50)
    return buffer.getvalue()


def docx_bytes() -> bytes:
    import docx

    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Binary search halves the interval each step. " + uuid.uuid4().hex)
    document.save(buffer)
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    from tests.integration.test_instructor_support import make_pdf

    return make_pdf([f"Page text {uuid.uuid4().hex}"])


async def test_content_that_contradicts_its_name_is_refused(env, owner):
    token, course = owner
    cases = [
        ("diagram.pdf", png()),
        ("program.md", elf()),
        ("program.txt", elf()),
        ("archive.docx", plain_zip()),
        ("archive.pptx", plain_zip()),
        ("paper.md", pdf_bytes()),
        ("report.pdf", docx_bytes()),
        ("slides.pptx", docx_bytes()),
        ("page.html", b"just text, no html document start\n" * 5),
        ("noext", elf()),
        ("image.png", b"# Markdown in disguise\n\ntext\n"),
    ]
    for name, data in cases:
        reason = await expect(INVALID, env.upload(token, course.id, name, data))
        assert reason == "UNSUPPORTED_FILE_TYPE", (name, reason)
    assert await records(env, course.id) == []
    assert course_blobs(env, course.id) == []


# ----------------------------------------------------------------------------------------- zip bombs


def office_bomb(kind: str, expanded: int) -> bytes:
    """A DOCX/PPTX-shaped zip whose main part inflates to `expanded` bytes, built in memory chunk by chunk
    (the compressed archive is a few hundred KB; nothing of `expanded` size is ever held or written)."""
    part = "word/document.xml" if kind == "docx" else "ppt/slides/slide1.xml"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with archive.open(part, "w", force_zip64=True) as stream:
            block = b"<w:p><w:r><w:t>" + b"A" * 65_000 + b"</w:t></w:r></w:p>"
            written = 0
            while written < expanded:
                stream.write(block)
                written += len(block)
    return buffer.getvalue()


def many_entries_pptx(entries: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for i in range(entries):
            archive.writestr(f"ppt/s{i}", b"")
    return buffer.getvalue()


def lying_docx(real_size: int = 8 * 1024 * 1024, declared: int = 1000) -> bytes:
    """A valid DOCX whose document.xml declares `declared` bytes in both zip headers but inflates to
    `real_size`: the declared-size check passes; whoever reads it must not trust the declaration."""
    original = docx_bytes()
    payload = b"<w:p/>" * (real_size // 6)
    with zipfile.ZipFile(io.BytesIO(original)) as source:
        items = [(info, source.read(info.filename)) for info in source.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in items:
            archive.writestr(info.filename, payload if info.filename == "word/document.xml" else data)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        target = archive.getinfo("word/document.xml")
    # local file header: uncompressed size at offset 22; central directory entry: at offset 24
    struct.pack_into("<I", data, target.header_offset + 22, declared)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if bytes(data[central + 46 : central + 46 + name_len]) == b"word/document.xml":
            struct.pack_into("<I", data, central + 24, declared)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    else:
        raise AssertionError("central directory entry not found")
    return bytes(data)


async def test_office_zip_bombs_are_refused_before_anything_inflates(env, owner):
    token, course = owner
    docx_bomb = office_bomb("docx", 210 * 1024 * 1024)  # past the 200 MB bound, ratio ~ 800
    pptx_bomb = office_bomb("pptx", 60 * 1024 * 1024)  # under 200 MB but ratio ~ 800
    crowded = many_entries_pptx(10_001)
    for data in (docx_bomb, pptx_bomb, crowded):
        assert len(data) < LIMIT
    assert await expect(INVALID, env.upload(token, course.id, "bomb.docx", docx_bomb)) == "UNSAFE_ARCHIVE"
    assert await expect(INVALID, env.upload(token, course.id, "bomb.pptx", pptx_bomb)) == "UNSAFE_ARCHIVE"
    assert await expect(INVALID, env.upload(token, course.id, "crowd.pptx", crowded)) == "UNSAFE_ARCHIVE"
    assert await records(env, course.id) == [] and course_blobs(env, course.id) == []

    # sizes that lie pass the declared-size check; ingestion must then fail that file, not inflate it
    liar = lying_docx()
    try:
        accepted = (await env.upload(token, course.id, "liar.docx", liar)).file
    except grpc.aio.AioRpcError as err:  # refusing it at once is fine too
        assert err.code() == INVALID, err
        return
    settled = await settle(env, token, course.id, [accepted.id])
    assert settled[accepted.id]["state"] == "FAILED" and settled[accepted.id]["state_message"]


async def settle(env, token: str, course_id: str, file_ids: list[str], timeout_s: float = 90.0) -> dict:
    """Poll the status RPC (which drives reconciliation) until every file is INDEXED or FAILED."""

    async def done():
        await env.status(token, course_id)
        docs = {d["_id"]: d for d in await records(env, course_id) if d["_id"] in file_ids}
        return docs if all(d["state"] in ("INDEXED", "FAILED") for d in docs.values()) else None

    return await wait_for(done, timeout_s, 0.3)


# ------------------------------------------------------------------------------------------------ PDFs


def blank_pdf_reportlab(pages: int) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setTitle(uuid.uuid4().hex)
    for _ in range(pages):
        pdf.showPage()  # each page gets an (empty) content stream
    pdf.save()
    return buffer.getvalue()


def blank_pdf_pypdf(pages: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(612, 792)  # no content stream at all
    writer.add_metadata({"/Title": uuid.uuid4().hex})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def deflate_bomb_pdf(expanded: int = 300 * 1024 * 1024) -> bytes:
    """One page whose content stream inflates to `expanded` bytes (a few hundred KB on the wire)."""
    compressor = zlib.compressobj(9)
    block = b"BT /F1 12 Tf 72 720 Td (boom) Tj ET\n" + b" " * (1 << 20)
    parts, size = [], 0
    while size < expanded:
        parts.append(compressor.compress(block))
        size += len(block)
    stream = b"".join(parts) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


async def test_pdfs_with_thousands_of_blank_pages_or_a_deflate_bomb_end_quickly(env, owner):
    token, course = owner
    files = {
        "blank-reportlab.pdf": blank_pdf_reportlab(3000),
        "blank-pypdf.pdf": blank_pdf_pypdf(3000),
        "bomb.pdf": deflate_bomb_pdf(),
    }
    uploaded = {}
    for name, data in files.items():
        assert len(data) < LIMIT, name
        uploaded[name] = (await env.upload(token, course.id, name, data)).file
    started = time.monotonic()
    settled = await settle(env, token, course.id, [f.id for f in uploaded.values()])
    took = time.monotonic() - started
    for name, file in uploaded.items():
        doc = settled[file.id]
        if doc["state"] == "INDEXED":
            assert doc["chunk_count"] == 0, name  # blank pages hold no text
        else:
            assert doc["state_message"], name  # FAILED, with the reason for the instructor
    assert settled[uploaded["bomb.pdf"].id]["state"] == "FAILED"
    print(f"3,000-page PDFs and the deflate bomb settled in {took:.1f} s")
    status = await env.status(token, course.id)
    assert status.state in (pb.INDEX_STATE_READY, pb.INDEX_STATE_PARTIAL)


# --------------------------------------------------------------------------------------------- streams


async def test_streams_that_lie_stop_midway_or_vanish_and_leave_nothing(env, owner):
    token, course = owner
    sent = 0
    total = 64 * 1024 * 1024

    def lying_stream():
        nonlocal sent
        meta = pb.UploadCourseFileMetadata(course_id=course.id, file_name="small.txt", size_bytes=100)
        yield pb.UploadCourseFileRequest(metadata=meta)
        while sent < total:
            sent += 64 * 1024
            yield pb.UploadCourseFileRequest(data=b"b" * 64 * 1024)

    def sync_upload(requests):
        with grpc.insecure_channel(f"127.0.0.1:{env.port}") as channel:
            return pb_grpc.InstructorServiceStub(channel).UploadCourseFile(requests, metadata=auth(token))

    # says 100 bytes, sends 64 MB: cut off at the limit
    with pytest.raises(grpc.RpcError) as err:
        await asyncio.to_thread(sync_upload, lying_stream())
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert from_rpc_error(err.value).reason == "FILE_TOO_LARGE"
    assert sent < total // 4

    async def temp_files():
        return [p for p in env.blob_files() if p.name.startswith(".upload-")]

    async def no_temp_files():
        return not await temp_files()

    # one message over the transport's size limit: gRPC refuses it and cancels the upload, whose temp
    # file must go although the clean-up itself is cancelled again
    with pytest.raises(grpc.RpcError) as err:
        await asyncio.to_thread(
            sync_upload,
            iter(
                [
                    pb.UploadCourseFileRequest(
                        metadata=pb.UploadCourseFileMetadata(course_id=course.id, file_name="huge.txt")
                    ),
                    pb.UploadCourseFileRequest(data=b"c" * (9 * 1024 * 1024)),
                ]
            ),
        )
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert await wait_for(no_temp_files, 120, 0.1)

    # a client that sends a little, then nothing (slow loris): refused once idle, nothing kept
    release = asyncio.Event()

    async def then_silence():
        yield pb.UploadCourseFileRequest(
            metadata=pb.UploadCourseFileMetadata(course_id=course.id, file_name="slow.txt")
        )
        yield pb.UploadCourseFileRequest(data=b"e" * 1024)
        await release.wait()

    try:
        reason = await expect(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            env.stub.UploadCourseFile(then_silence(), metadata=auth(token), timeout=20 * IDLE_S),
        )
    finally:
        release.set()
    assert reason == "UPLOAD_STALLED"
    assert await wait_for(no_temp_files, 120, 0.1)

    # the client goes away mid-upload: the temp file goes too
    release = asyncio.Event()

    async def then_hang():
        yield pb.UploadCourseFileRequest(
            metadata=pb.UploadCourseFileMetadata(course_id=course.id, file_name="gone.txt")
        )
        for _ in range(16):
            yield pb.UploadCourseFileRequest(data=b"d" * 64 * 1024)
        await release.wait()

    call = env.stub.UploadCourseFile(then_hang(), metadata=auth(token))
    assert await wait_for(temp_files, 120, 0.05)  # the server is writing it
    call.cancel()
    release.set()
    assert await wait_for(no_temp_files, 120, 0.1)

    # thousands of tiny messages are fine
    data = text_body("tiny") * 10
    tiny = await env.stub.UploadCourseFile(
        upload_requests(course.id, "tiny.md", data, chunk=3), metadata=auth(token)
    )
    assert tiny.file.size_bytes == len(data) and len(data) // 3 > 1000
    assert [(d["name"], d["size_bytes"]) for d in await records(env, course.id)] == [("tiny.md", len(data))]
    assert course_blobs(env, course.id) == [tiny.file.id]


async def test_many_concurrent_uploads_of_one_file_keep_one_record(env, owner):
    token, course = owner
    data = text_body("same") * 40
    other = text_body("other")
    outcomes: list[tuple[str, str, bool]] = []
    lock = threading.Lock()
    jobs = [("same.md", data)] * 12 + [(f"copy-{i}.md", data) for i in range(2)] + [("same.md", other)] * 2
    barrier = threading.Barrier(len(jobs), timeout=60)

    def upload(name: str, payload: bytes) -> None:
        def requests():
            yield pb.UploadCourseFileRequest(
                metadata=pb.UploadCourseFileMetadata(course_id=course.id, file_name=name)
            )
            for start in range(0, len(payload), 4096):
                yield pb.UploadCourseFileRequest(data=payload[start : start + 4096])

        with grpc.insecure_channel(f"127.0.0.1:{env.port}") as channel:
            stub = pb_grpc.InstructorServiceStub(channel)
            barrier.wait()  # all at once, each from its own thread and connection
            try:
                response = stub.UploadCourseFile(requests(), metadata=auth(token), timeout=60)
                outcome = ("OK", response.file.id, response.duplicate)
            except grpc.RpcError as err:
                outcome = (err.code().name, from_rpc_error(err).reason, False)
        with lock:
            outcomes.append(outcome)

    def run_all() -> None:
        threads = [threading.Thread(target=upload, args=job) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)

    await asyncio.to_thread(run_all)
    assert len(outcomes) == 16
    assert all(code == "OK" for code, _, _ in outcomes), outcomes  # each one handled, none lost
    ids = {file_id for _, file_id, _ in outcomes}
    assert len(ids) == 2  # one record per distinct content
    assert sum(not duplicate for _, _, duplicate in outcomes) == 2
    docs = await records(env, course.id)
    assert sorted(d["_id"] for d in docs) == sorted(ids)
    assert course_blobs(env, course.id) == sorted(ids)


# ---------------------------------------------------------------------------------------- afterwards


async def test_nothing_written_outside_the_course_directories_and_no_orphans(env):
    """Runs last: every file record of every course of the module against the blob tree."""
    docs = await records(env)
    assert docs, "the tests above stored files"
    recorded = {(d["course_id"], d["_id"]) for d in docs}
    root = env.blob_root.resolve()
    on_disk = set()
    for path in env.blob_root.rglob("*"):
        assert not path.is_symlink(), path
        assert path.resolve().is_relative_to(root), path
        relative = path.relative_to(env.blob_root)
        if path.is_dir():
            assert len(relative.parts) == 1 and re.fullmatch(r"[0-9a-f]{32}", relative.name), relative
            continue
        assert len(relative.parts) == 2, relative
        assert not relative.name.startswith(".upload-"), f"temp file left: {relative}"
        on_disk.add(relative.parts)
    assert recorded - on_disk == set(), "file records without blob"
    assert on_disk - recorded == set(), "blobs without file record"
    for d in docs:
        assert (env.blob_root / d["course_id"] / d["_id"]).stat().st_size == d["size_bytes"]

    # the module's own temp tree holds only the blob root and sme_svc's index
    for path in env.base.rglob("*"):
        top = path.relative_to(env.base).parts[0]
        assert top in ("blobs", "index"), path
    # nothing named after an attack appeared in the system temp dir, the module's parent or /etc
    since = env.started - 1
    for directory in {
        Path(tempfile.gettempdir()),
        env.base.parent,
        env.blob_root.parent.parent,
        Path("/etc"),
    }:
        for depth, pattern in ((1, "*"), (2, "*/*")):
            for path in directory.glob(pattern):
                if path.name in ATTACK_NAMES and path.is_file():
                    assert path.stat().st_mtime < since, f"{path} was written during the test (depth {depth})"
    assert Path("/etc/passwd").stat().st_mtime < since
