"""Upload validation shared by instructor_svc (upload) and sme_svc (ingest): content sniffing, file-name
sanitizing and zip-bomb checks. Every refusal is an `InvalidArgument` with a stable `reason`.

The media type is decided by the bytes, never by the extension alone; the extension may only choose between
types the content allows (Markdown vs plain text) and is refused when it contradicts the content.
"""

from __future__ import annotations

import codecs
import io
import re
import struct
import unicodedata
import zipfile
import zlib

from lmw_common.errors import InvalidArgument

MEDIA_PDF = "application/pdf"
MEDIA_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MEDIA_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MEDIA_HTML = "text/html"
MEDIA_MARKDOWN = "text/markdown"
MEDIA_TEXT = "text/plain"
SUPPORTED_MEDIA_TYPES = frozenset({MEDIA_PDF, MEDIA_DOCX, MEDIA_PPTX, MEDIA_HTML, MEDIA_MARKDOWN, MEDIA_TEXT})

UNSUPPORTED_FILE_TYPE = "UNSUPPORTED_FILE_TYPE"
INVALID_FILE_NAME = "INVALID_FILE_NAME"
UNSAFE_ARCHIVE = "UNSAFE_ARCHIVE"

MAX_FILE_NAME_CHARS = 200
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ARCHIVE_ENTRIES = 10_000

_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
_HTML_MARKER = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_HTML_SNIFF_BYTES = 1024
_UTF8_BOM = codecs.BOM_UTF8

_BINARY_TYPES = frozenset({MEDIA_PDF, MEDIA_DOCX, MEDIA_PPTX})
_EXTENSIONS = {
    MEDIA_PDF: {".pdf"},
    MEDIA_DOCX: {".docx"},
    MEDIA_PPTX: {".pptx"},
    MEDIA_HTML: {".html", ".htm"},
    MEDIA_MARKDOWN: {".md", ".markdown"},
}
# Text content under one of these names is a disguise (or a mistake): refuse rather than guess.
_NON_TEXT_EXTENSIONS = frozenset(
    {".pdf", ".docx", ".pptx", ".doc", ".ppt", ".xls", ".xlsx", ".odt", ".odp", ".ods", ".epub", ".rtf"}
    | {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".ico", ".svgz"}
    | {".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".tar", ".jar"}
    | {".exe", ".dll", ".so", ".dylib", ".bin", ".o", ".a", ".class", ".pyc", ".wasm"}
    | {".mp3", ".mp4", ".wav", ".ogg", ".avi", ".mov", ".mkv", ".webm", ".flac"}
)
# C0 control characters that never appear in real text (tab, newlines, form feed and ESC are allowed).
_BAD_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_MAX_CONTROL_FRACTION = 0.01
_CONTROL_SAMPLE_CHARS = 1 << 20


def detect_media_type(data: bytes, file_name: str) -> str:
    """The media type of an upload, decided by its content; raises InvalidArgument(UNSUPPORTED_FILE_TYPE).

    Pass the WHOLE file: DOCX and PPTX are told apart (and zip bombs refused) by reading the zip's central
    directory at the end of the file. PDF, HTML, Markdown and text are decided from the first bytes, so a
    caller may pass a prefix for those, but a truncated DOCX/PPTX is refused.
    """
    extension = file_extension(file_name)
    media_type = _sniff(data, extension)
    if media_type in _BINARY_TYPES and extension not in _EXTENSIONS[media_type]:
        raise _unsupported(
            f"the content is {media_type} but the file is named {extension or 'without extension'}"
        )
    return media_type


def file_extension(file_name: str) -> str:
    """The lower-cased last extension with its dot ("" when none)."""
    base = re.split(r"[/\\]", file_name)[-1]
    dot = base.rfind(".")
    return base[dot:].lower() if dot > 0 else ""


def _sniff(data: bytes, extension: str) -> str:
    if not data:
        raise _unsupported("the file is empty")
    if data.startswith(_PDF_MAGIC):
        return MEDIA_PDF
    if data.startswith(_ZIP_MAGIC):
        return _office_type(data)
    text_type = _text_type(data, extension)
    if text_type is None:
        raise _unsupported("the content is neither PDF, DOCX, PPTX, HTML, Markdown nor UTF-8 text")
    return text_type


def _office_type(data: bytes) -> str:
    check_zip_safety(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
    if "[Content_Types].xml" not in names:
        raise _unsupported("a zip archive that is not an Office document")
    if any(name.startswith("word/") for name in names):
        return MEDIA_DOCX
    if any(name.startswith("ppt/") for name in names):
        return MEDIA_PPTX
    raise _unsupported("an Office archive that is neither DOCX nor PPTX")


def _text_type(data: bytes, extension: str) -> str | None:
    """Markdown, HTML or plain text when `data` is UTF-8 text with no NULs; None otherwise."""
    if not _looks_like_utf8_text(data):
        return None
    if extension in _NON_TEXT_EXTENSIONS:
        raise _unsupported(f"text content named {extension}")
    if extension in _EXTENSIONS[MEDIA_MARKDOWN]:
        return MEDIA_MARKDOWN
    looks_html = _HTML_MARKER.search(data[: _HTML_SNIFF_BYTES + len(_UTF8_BOM)]) is not None
    if extension in _EXTENSIONS[MEDIA_HTML]:
        if not looks_html:
            raise _unsupported(f"a {extension} file without an HTML document start")
        return MEDIA_HTML
    # A .txt (or any other text name) that holds HTML stays plain text: the name says what the author meant.
    return MEDIA_HTML if looks_html and extension == "" else MEDIA_TEXT


def _looks_like_utf8_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    # An incremental decoder tolerates a multi-byte character cut at the end of a prefix.
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        text = decoder.decode(data.removeprefix(_UTF8_BOM), final=False)
    except UnicodeDecodeError:
        return False
    sample = text[:_CONTROL_SAMPLE_CHARS]
    return len(_BAD_CONTROLS.findall(sample)) <= _MAX_CONTROL_FRACTION * max(len(sample), 1)


def _unsupported(why: str) -> InvalidArgument:
    return InvalidArgument(f"unsupported file type: {why}", reason=UNSUPPORTED_FILE_TYPE)


def check_zip_safety(
    data: bytes,
    max_uncompressed: int = MAX_UNCOMPRESSED_BYTES,
    max_ratio: float = MAX_COMPRESSION_RATIO,
    max_entries: int = MAX_ARCHIVE_ENTRIES,
) -> None:
    """Refuse zip bombs before any parser inflates the archive; raises InvalidArgument(UNSAFE_ARCHIVE).

    The declared sizes are checked first (cheap), then each entry is inflated once in bounded steps to prove
    it really stops at its declared size: zipfile's `read()` (what python-docx and python-pptx call) inflates
    a whole entry in one go and only then cuts it to the declared size, so a lying header could otherwise
    blow up memory.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise _unsupported(f"a damaged zip archive ({exc})") from exc
    if len(entries) > max_entries:
        raise _unsafe(f"{len(entries)} entries (limit {max_entries})")
    uncompressed = sum(entry.file_size for entry in entries)
    compressed = sum(entry.compress_size for entry in entries)
    if uncompressed > max_uncompressed:
        raise _unsafe(f"{uncompressed} bytes uncompressed (limit {max_uncompressed})")
    # Tiny archives can have high ratios harmlessly (a few KB of repetitive XML).
    if uncompressed > 1024 * 1024 and uncompressed > max_ratio * max(compressed, 1):
        raise _unsafe(f"compression ratio above {max_ratio}")
    for entry in entries:
        _check_entry_inflates_as_declared(data, entry)


_INFLATE_STEP = 1024 * 1024
_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_HEADER_SIZE = 30


def _check_entry_inflates_as_declared(data: bytes, entry: zipfile.ZipInfo) -> None:
    if entry.compress_type == zipfile.ZIP_STORED:
        if entry.compress_size != entry.file_size:
            raise _unsafe(f"{entry.filename!r} declares inconsistent sizes")
        return
    if entry.compress_type != zipfile.ZIP_DEFLATED:  # Office files only ever use stored or deflated
        raise _unsafe(f"{entry.filename!r} uses compression method {entry.compress_type}")
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    pending = _compressed_bytes(data, entry)
    produced = 0
    while not inflater.eof:
        try:
            chunk = inflater.decompress(pending, _INFLATE_STEP)
        except zlib.error as exc:
            raise _unsupported(f"a damaged zip archive ({entry.filename!r}: {exc})") from exc
        produced += len(chunk)
        if produced > entry.file_size:
            raise _unsafe(f"{entry.filename!r} inflates beyond its declared {entry.file_size} bytes")
        pending = inflater.unconsumed_tail
        if not chunk and not pending:
            return  # a truncated stream: damaged rather than dangerous; the parser reports it


def _compressed_bytes(data: bytes, entry: zipfile.ZipInfo) -> bytes:
    offset = entry.header_offset
    if data[offset : offset + 4] != _LOCAL_HEADER:
        raise _unsupported(f"a damaged zip archive (no local header for {entry.filename!r})")
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + _LOCAL_HEADER_SIZE + name_length + extra_length
    return data[start : start + entry.compress_size]


def _unsafe(why: str) -> InvalidArgument:
    return InvalidArgument(f"unsafe archive: {why}", reason=UNSAFE_ARCHIVE)


_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}
)
_MAX_EXTENSION_CHARS = 16


def sanitize_file_name(name: str) -> str:
    """A display- and storage-safe file name: no directories, no control characters, NFC, at most 200
    characters with the extension kept; raises InvalidArgument(INVALID_FILE_NAME) when nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(_safe_char(char) for char in name if unicodedata.category(char) not in ("Cc", "Cf"))
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"_{2,}", "_", name)
    name = name.lstrip(". ").rstrip(". ")
    if not any(unicodedata.category(char)[0] in "LN" for char in name):
        raise InvalidArgument("the file name is empty once sanitized", reason=INVALID_FILE_NAME)
    stem, extension = _split_extension(name)
    if stem.lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    stem = stem[: MAX_FILE_NAME_CHARS - len(extension)].rstrip(". ")
    return stem + extension


def _safe_char(char: str) -> str:
    if char in " ._-()" or unicodedata.category(char)[0] in "LNM":
        return char
    return " " if char.isspace() else "_"


def _split_extension(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    extension = name[dot:] if dot > 0 else ""
    if not extension or len(extension) > _MAX_EXTENSION_CHARS or not extension[1:].isalnum():
        return name, ""
    return name[:dot], extension
