"""Upload validation: media types decided by content, file names sanitized, zip bombs refused."""

from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile

import pytest

from lmw_common.errors import InvalidArgument
from lmw_common.filetypes import (
    MEDIA_DOCX,
    MEDIA_HTML,
    MEDIA_MARKDOWN,
    MEDIA_PDF,
    MEDIA_PPTX,
    MEDIA_TEXT,
    check_zip_safety,
    detect_media_type,
    sanitize_file_name,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256))
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(64)


def make_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, "hello pdf")
    pdf.save()
    return buffer.getvalue()


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("hello docx")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pptx() -> bytes:
    import pptx

    presentation = pptx.Presentation()
    presentation.slides.add_slide(presentation.slide_layouts[1]).shapes.title.text = "hello pptx"
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def reason_of(call) -> str:
    with pytest.raises(InvalidArgument) as caught:
        call()
    return caught.value.reason


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (make_pdf(), "notes.pdf", MEDIA_PDF),
        (make_pdf(), "NOTES.PDF", MEDIA_PDF),
        (make_docx(), "essay.docx", MEDIA_DOCX),
        (make_pptx(), "slides.pptx", MEDIA_PPTX),
        (b"<!DOCTYPE html><html><body><p>hi</p></body></html>", "page.html", MEDIA_HTML),
        (b"\n\n  <HTML lang='en'><p>hi</p></HTML>", "page.htm", MEDIA_HTML),
        (b"<!doctype html><p>no extension</p>", "page", MEDIA_HTML),
        (b"# Title\n\nSome *markdown*.\n", "readme.md", MEDIA_MARKDOWN),
        ("# Über\n\nçà et là\n".encode(), "notes.markdown", MEDIA_MARKDOWN),
        (b"plain words\n", "notes.txt", MEDIA_TEXT),
        (b"\xef\xbb\xbfwith a byte order mark\n", "bom.txt", MEDIA_TEXT),
        (b"<html> in a text file stays text", "notes.txt", MEDIA_TEXT),
        (b"def f():\n    return 1\n", "script.py", MEDIA_TEXT),
    ],
)
def test_detects_media_type_from_content(data: bytes, name: str, expected: str) -> None:
    assert detect_media_type(data, name) == expected


def test_a_prefix_cut_inside_a_utf8_character_is_still_text() -> None:
    data = "é".encode() * 10
    assert detect_media_type(data[:-1], "cut.md") == MEDIA_MARKDOWN


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (PNG, "photo.pdf"),
        (ELF, "notes.md"),
        (ELF, "program"),
        (PNG, "image.png"),
        (make_zip({"a.txt": b"x"}), "archive.docx"),
        (make_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<x/>"}), "book.docx"),
        (make_zip({"[Content_Types].xml": b"<Types/>", "other/doc.xml": b"<x/>"}), "slides.pptx"),
        (make_pdf(), "disguised.docx"),
        (make_pdf(), "disguised.txt"),
        (make_docx(), "disguised.pdf"),
        (make_docx(), "disguised.pptx"),
        (make_pptx(), "disguised.docx"),
        (b"just text", "fake.pdf"),
        (b"just text", "fake.png"),
        (b"no html start here", "page.html"),
        (b"text\x00with a NUL", "notes.txt"),
        (b"\xff\xfe\x00\x00 not utf-8", "notes.txt"),
        (b"x\x01\x02\x03\x04\x05" * 10, "controls.txt"),
        (b"", "empty.txt"),
        (b"%PDF", "short.pdf"),
    ],
)
def test_refuses_unsupported_or_disguised_content(data: bytes, name: str) -> None:
    assert reason_of(lambda: detect_media_type(data, name)) == "UNSUPPORTED_FILE_TYPE"


def test_a_truncated_docx_is_refused() -> None:
    data = make_docx()
    assert reason_of(lambda: detect_media_type(data[: len(data) // 2], "cut.docx")) == "UNSUPPORTED_FILE_TYPE"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("/abs/path/notes.md", "notes.md"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("a\x00b\x07c.pdf", "abc.pdf"),
        ("line\nbreak\ttab.txt", "linebreaktab.txt"),
        ("  ..hidden.md", "hidden.md"),
        ("many     spaces   here.txt", "many spaces here.txt"),
        ("e\u0301te\u0301.md", "\u00e9t\u00e9.md"),
        ("résumé (final) v2.pdf", "résumé (final) v2.pdf"),
        ("データ分析.pdf", "データ分析.pdf"),
        ("weird:*?<>|name.md", "weird_name.md"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("CON.txt", "_CON.txt"),
        ("trailing dots... ", "trailing dots"),
    ],
)
def test_sanitizes_file_names(raw: str, clean: str) -> None:
    assert sanitize_file_name(raw) == clean


def test_long_names_are_capped_keeping_the_extension() -> None:
    clean = sanitize_file_name("a" * 10_000 + ".pdf")
    assert len(clean) == 200
    assert clean.endswith(".pdf")


@pytest.mark.parametrize("raw", ["", "   ", "...", "../..", "\x00\x01", "/", "C:\\", "***", "._-"])
def test_names_with_nothing_left_are_refused(raw: str) -> None:
    assert reason_of(lambda: sanitize_file_name(raw)) == "INVALID_FILE_NAME"


def test_zip_bomb_by_ratio_is_refused() -> None:
    bomb = make_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": bytes(20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    assert reason_of(lambda: check_zip_safety(bomb)) == "UNSAFE_ARCHIVE"
    assert reason_of(lambda: detect_media_type(bomb, "bomb.docx")) == "UNSAFE_ARCHIVE"


def test_zip_limits_on_size_and_entries() -> None:
    archive = make_zip({f"word/part{i}.xml": b"<x/>" * 100 for i in range(20)})
    check_zip_safety(archive)  # within the defaults
    assert reason_of(lambda: check_zip_safety(archive, max_entries=10)) == "UNSAFE_ARCHIVE"
    assert reason_of(lambda: check_zip_safety(archive, max_uncompressed=1000)) == "UNSAFE_ARCHIVE"


def lying_docx(real_size: int, declared: int = 1000) -> bytes:
    """A DOCX whose document.xml declares `declared` bytes (local header and central directory alike) but
    inflates to `real_size`: declared-size checks pass, and zipfile's read() would inflate it all at once."""
    with zipfile.ZipFile(io.BytesIO(make_docx())) as source:
        parts = {info.filename: source.read(info.filename) for info in source.infolist()}
    parts["word/document.xml"] = b"<w:p/>" * (real_size // 6)
    data = bytearray(make_zip(parts))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        target, position = archive.getinfo("word/document.xml"), archive.start_dir
    struct.pack_into("<I", data, target.header_offset + 22, declared)  # local header: uncompressed size
    while True:  # walk the central directory to the entry and patch its uncompressed size too
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data, position + 28)
        if data[position + 46 : position + 46 + name_length] == b"word/document.xml":
            struct.pack_into("<I", data, position + 24, declared)
            return bytes(data)
        position += 46 + name_length + extra_length + comment_length


def test_an_entry_that_lies_about_its_size_is_refused_without_inflating_it() -> None:
    from sme_svc.ingest.parsing import ParseError, parse

    bomb = lying_docx(real_size=64 * 1024 * 1024)
    tracemalloc.start()
    try:
        assert reason_of(lambda: check_zip_safety(bomb)) == "UNSAFE_ARCHIVE"
        assert reason_of(lambda: detect_media_type(bomb, "lying.docx")) == "UNSAFE_ARCHIVE"
        with pytest.raises(ParseError, match="inflates beyond"):
            parse(bomb, MEDIA_DOCX)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024  # bounded steps, never the 64 MB it would inflate to


def test_real_office_files_pass_the_zip_checks() -> None:
    check_zip_safety(make_docx())
    check_zip_safety(make_pptx())
