"""Text extraction: course files (PDF, DOCX, PPTX, HTML, Markdown, text) into located Sections.

Synchronous and CPU-bound: callers run `parse` in a worker thread. Every failure to read a file surfaces as a
`ParseError` with a message fit for the instructor.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser

from lmw_common.errors import InvalidArgument
from lmw_common.filetypes import (
    MEDIA_DOCX,
    MEDIA_HTML,
    MEDIA_MARKDOWN,
    MEDIA_PDF,
    MEDIA_PPTX,
    MEDIA_TEXT,
    check_zip_safety,
)
from sme_svc.domain import Section

log = logging.getLogger(__name__)

MAX_PDF_PAGES = 2000


class ParseError(ValueError):
    """The file can't be read as its media type (corrupt, encrypted, empty, unsupported)."""

    reason = "UNPARSABLE_FILE"


def parse(data: bytes, media_type: str, max_pdf_pages: int = MAX_PDF_PAGES) -> list[Section]:
    """Sections of a file in reading order; [] when the file holds no extractable text (e.g. a scan)."""
    if not data:
        raise ParseError("the file is empty")
    if media_type == MEDIA_PDF:
        return _parse_pdf(data, max_pdf_pages)
    parser = _PARSERS.get(media_type)
    if parser is None:
        raise ParseError(f"unsupported media type {media_type!r}")
    return parser(data)


# ---------------------------------------------------------------- text hygiene

_BAD_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def _decode(data: bytes) -> str:
    text = data.decode("utf-8-sig", errors="replace")
    return _BAD_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _tidy(text: str, collapse_spaces: bool = True) -> str:
    """Trailing spaces off each line, at most one blank line in a row; optionally runs of spaces to one
    (never for Markdown or text, where indentation carries meaning in code)."""
    text = _BAD_CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [
        _SPACES.sub(" ", line).strip() if collapse_spaces else line.rstrip() for line in text.split("\n")
    ]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip("\n")


class _HeadingPath:
    """The stack of open headings: a level-2 heading closes every open heading of level 2 or deeper."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, str]] = []

    def push(self, level: int, title: str) -> None:
        while self._stack and self._stack[-1][0] >= level:
            self._stack.pop()
        if title:
            self._stack.append((level, title))

    def __str__(self) -> str:
        return " > ".join(title for _, title in self._stack)


# ---------------------------------------------------------------- PDF


def _parse_pdf(data: bytes, max_pages: int) -> list[Section]:
    """One section per page and heading: a heading comes from the outline (bookmarks) when the PDF has one,
    else from the fonts (a line set larger than the body text, or a short bold or numbered line), so PDF
    chunks carry a heading path like Markdown ones."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError("the PDF is password-protected")
        pages = reader.pages
        page_count = len(pages)
    except ParseError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        raise ParseError(f"the PDF is damaged or not a PDF ({type(exc).__name__}: {exc})") from exc
    if page_count > max_pages:
        log.warning("PDF has %d pages; only the first %d are indexed", page_count, max_pages)
    read: list[_PdfPage] = []
    failures = 0
    for number in range(1, min(page_count, max_pages) + 1):
        try:
            read.append(_read_pdf_page(pages[number - 1], number))
        except Exception as exc:  # one unreadable page should not lose the whole document
            failures += 1
            log.warning("PDF page %d unreadable: %s", number, exc)
    if failures and not read:
        raise ParseError(f"no page of the PDF could be read ({failures} failed)")
    read = _without_running_lines(read)
    headings = _outline_headings(reader) or _font_headings(read)
    return _pdf_sections(read, headings)


@dataclass(frozen=True, slots=True)
class _PdfPage:
    number: int
    text: str
    runs: tuple[tuple[str, float, bool], ...]  # (text of a line, font size, bold)


def _read_pdf_page(page, number: int) -> _PdfPage:
    if "/Contents" not in page:  # a blank page: skip before running the text extractor
        return _PdfPage(number, "", ())
    runs: list[tuple[str, float, bool]] = []

    def visit(text, cm, tm, font, size) -> None:
        scale = abs(tm[0]) if tm and tm[0] else 1.0
        name = str((font or {}).get("/BaseFont", ""))
        for line in text.split("\n"):
            if line.strip():
                runs.append((" ".join(line.split()), round(size * scale, 1), "bold" in name.casefold()))

    text = page.extract_text(visitor_text=visit) or ""
    return _PdfPage(number, _tidy(text), tuple(runs))


# A heading found in a PDF: its text, its level (1 = top) and the page it starts on (0: any page).
_PdfHeading = tuple[str, int, int]
_NUMBERED = re.compile(r"^(\d+(?:\.\d+){0,3})\.?\s+[A-Z]")
MAX_HEADING_WORDS = 14


def _without_running_lines(pages: list[_PdfPage]) -> list[_PdfPage]:
    """The pages without their running headers and footers: lines found on most pages (three or more)."""
    if len(pages) < 3:
        return pages
    counts: dict[str, int] = {}
    for page in pages:
        for line in {" ".join(line.split()) for line in page.text.split("\n") if line.strip()}:
            counts[line] = counts.get(line, 0) + 1
    running = {line for line, n in counts.items() if n > len(pages) / 2}
    if not running:
        return pages
    return [
        _PdfPage(
            page.number,
            "\n".join(line for line in page.text.split("\n") if " ".join(line.split()) not in running),
            tuple(run for run in page.runs if run[0] not in running),
        )
        for page in pages
    ]


def _outline_headings(reader) -> list[_PdfHeading]:
    """The bookmarks, by level, with their pages ([] when the PDF has none or they can't be read)."""
    found: list[_PdfHeading] = []

    def walk(items, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item) + 1
            except Exception as exc:  # a bookmark pointing nowhere: skipped
                log.debug("PDF bookmark without a page: %s", exc)
                continue
            title = " ".join(str(getattr(item, "title", "") or "").split())
            if title:
                found.append((title, level, page))

    try:
        walk(reader.outline, 1)
    except Exception as exc:  # a damaged outline is no reason to lose the text
        log.warning("PDF outline unreadable: %s", exc)
        return []
    return found


def _font_headings(pages: list[_PdfPage]) -> list[_PdfHeading]:
    """Lines set apart by their font: larger than the body text (levels by size, largest first), or short,
    bold or numbered ("2.1 Sampling") at body size."""
    sizes: dict[float, int] = {}
    for page in pages:
        for text, size, _ in page.runs:
            sizes[size] = sizes.get(size, 0) + len(text)
    if not sizes:
        return []
    body = max(sizes, key=sizes.get)
    larger = sorted({size for size in sizes if size >= body * 1.15}, reverse=True)
    candidates: list[_PdfHeading] = []
    for page in pages:
        for text, size, bold in page.runs:
            words = text.split()
            if not 1 <= len(words) <= MAX_HEADING_WORDS or text.endswith((".", ",", ";", ":")):
                continue
            numbered = _NUMBERED.match(text)
            if size in larger:
                level = larger.index(size) + 1
            elif (bold or numbered) and size >= body and (text[:1].isupper() or numbered):
                level = len(larger) + 1 + (numbered.group(1).count(".") if numbered else 0)
            else:
                continue
            candidates.append((text, level, page.number))
    return candidates


def _pdf_sections(pages: list[_PdfPage], headings: list[_PdfHeading]) -> list[Section]:
    """Cut each page's text at its headings' lines; the heading path carries over from page to page."""
    path = _HeadingPath()
    sections: list[Section] = []
    for page in pages:
        if not page.text:
            continue
        mine = [h for h in headings if h[2] == page.number]
        body: list[str] = []
        for line in page.text.split("\n"):
            match = next((h for h in mine if _same_line(line, h[0])), None)
            if match is None:
                body.append(line)
                continue
            _append_pdf_section(sections, body, page.number, str(path))
            body = []
            path.push(match[1], match[0])
            mine.remove(match)
        for heading in mine:  # a bookmark whose title is not a line of the page: it opens the page
            path.push(heading[1], heading[0])
        _append_pdf_section(sections, body, page.number, str(path))
    return sections


def _same_line(line: str, heading: str) -> bool:
    return " ".join(line.split()).casefold() == heading.casefold()


def _append_pdf_section(sections: list[Section], lines: list[str], page: int, heading: str) -> None:
    text = _tidy("\n".join(lines))
    if text:
        sections.append(Section(text=text, page=page, heading=heading))


# ---------------------------------------------------------------- DOCX

_DOCX_HEADING = re.compile(r"^heading (\d)$", re.IGNORECASE)


def _parse_docx(data: bytes) -> list[Section]:
    import docx

    _check_archive(data)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception as exc:
        raise ParseError(f"the DOCX is damaged or not a DOCX ({type(exc).__name__}: {exc})") from exc
    builder = _SectionBuilder()
    for block in blocks:
        if hasattr(block, "rows"):
            builder.add_paragraph(_docx_table_text(block))
            continue
        level = _docx_heading_level(block)
        if level is None:
            builder.add_paragraph(_tidy(_docx_paragraph_text(block)))
        else:
            builder.start_heading(level, _tidy(block.text))
    return builder.finish()


def _docx_heading_level(paragraph) -> int | None:
    style_name = paragraph.style.name if paragraph.style is not None else ""
    if style_name == "Title":
        return 0
    match = _DOCX_HEADING.match(style_name)
    return int(match.group(1)) if match else None


def _docx_paragraph_text(paragraph) -> str:
    style_name = paragraph.style.name if paragraph.style is not None else ""
    return (
        f"- {paragraph.text}" if style_name.startswith("List") and paragraph.text.strip() else paragraph.text
    )


def _docx_table_text(table) -> str:
    rows = [" | ".join(_tidy(cell.text) for cell in row.cells) for row in table.rows]
    return "\n".join(row for row in rows if row.strip(" |"))


# ---------------------------------------------------------------- PPTX


def _parse_pptx(data: bytes) -> list[Section]:
    import pptx

    _check_archive(data)
    try:
        slides = list(pptx.Presentation(io.BytesIO(data)).slides)
    except Exception as exc:
        raise ParseError(f"the PPTX is damaged or not a PPTX ({type(exc).__name__}: {exc})") from exc
    sections = []
    for number, slide in enumerate(slides, start=1):
        title_shape = slide.shapes.title
        title = _tidy(title_shape.text_frame.text) if title_shape is not None else ""
        title_id = title_shape.shape_id if title_shape is not None else None
        texts = [_tidy(text) for text in _slide_texts(slide.shapes, skip_shape_id=title_id)]
        if slide.has_notes_slide:
            texts.append(_tidy(slide.notes_slide.notes_text_frame.text))
        body = "\n\n".join(text for text in texts if text)
        if body:  # a title-only slide ("Questions?") carries nothing to retrieve
            sections.append(Section(text=body, slide=number, heading=title))
    return sections


def _slide_texts(shapes, skip_shape_id: int | None) -> Iterator[str]:
    """Texts of the shapes in reading order (top to bottom, then left to right), groups included."""
    ordered = sorted(shapes, key=lambda shape: (shape.top or 0, shape.left or 0))
    for shape in ordered:
        if shape.shape_id == skip_shape_id:
            continue
        if hasattr(shape, "shapes"):  # a group shape
            yield from _slide_texts(shape.shapes, skip_shape_id)
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text
        elif getattr(shape, "has_table", False) and shape.has_table:
            yield "\n".join(" | ".join(cell.text for cell in row.cells) for row in shape.table.rows)


def _check_archive(data: bytes) -> None:
    try:
        check_zip_safety(data)
    except InvalidArgument as exc:
        raise ParseError(exc.message) from exc


# ---------------------------------------------------------------- HTML


class _SectionBuilder:
    """Accumulates paragraphs under the current heading path and cuts a Section at each heading."""

    def __init__(self) -> None:
        self._path = _HeadingPath()
        self._heading = ""
        self._paragraphs: list[str] = []
        self.sections: list[Section] = []

    def add_paragraph(self, text: str) -> None:
        if text.strip():
            self._paragraphs.append(text)

    def start_heading(self, level: int, title: str) -> None:
        self._flush()
        self._path.push(level, title)
        self._heading = str(self._path)

    def finish(self) -> list[Section]:
        self._flush()
        return self.sections

    def _flush(self) -> None:
        if self._paragraphs:
            self.sections.append(Section(text="\n\n".join(self._paragraphs), heading=self._heading))
        self._paragraphs = []


_HTML_SKIPPED = frozenset(
    {"script", "style", "nav", "noscript", "template", "svg", "head", "iframe", "object"}
)
_HTML_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "ul", "ol", "dl"}
    | {"li", "dt", "dd", "table", "tr", "figure", "figcaption", "details", "summary", "form", "fieldset"}
    | {"address", "hr", "body", "html"}
)
_HTML_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_HTML_VOID = frozenset(
    {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}
)


class _HtmlSections(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = _SectionBuilder()
        self._skip_depth = 0
        self._inline: list[str] = []
        self._heading_level = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_SKIPPED:
            self._skip_depth += 1
        elif self._skip_depth:
            return
        elif tag in _HTML_HEADINGS:
            self._end_paragraph()
            self._heading_level = _HTML_HEADINGS[tag]
        elif tag == "pre":
            self._end_paragraph()
            self._pre_depth += 1
        elif tag == "br":
            self._inline.append("\n")
        elif tag in _HTML_BLOCKS:
            self._end_paragraph()
            if tag == "li":
                self._inline.append("- ")
        elif tag in ("td", "th"):
            self._inline.append(" | ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_SKIPPED:  # a self-closed <script/> must not open a skipped region
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_SKIPPED:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif self._skip_depth or tag in _HTML_VOID:
            return
        elif tag in _HTML_HEADINGS and self._heading_level:
            title = _SPACES.sub(" ", "".join(self._inline).replace("\n", " ")).strip()
            self._inline = []
            self.builder.start_heading(self._heading_level, title)
            self._heading_level = 0
        elif tag == "pre" and self._pre_depth:
            self._pre_depth -= 1
            self.builder.add_paragraph("".join(self._inline).strip("\n").rstrip())
            self._inline = []
        elif tag in _HTML_BLOCKS:
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._inline.append(data)

    def _end_paragraph(self) -> None:
        if self._pre_depth or self._heading_level:
            return
        text = "".join(self._inline)
        self._inline = []
        lines = (_collapse_inline(line) for line in text.split("\n"))
        self.builder.add_paragraph("\n".join(line for line in lines if line))

    def close(self) -> None:
        super().close()
        self._heading_level = 0
        self._pre_depth = 0
        self._end_paragraph()


def _collapse_inline(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip(" |") if text.strip(" |\t") else ""


def _parse_html(data: bytes) -> list[Section]:
    parser = _HtmlSections()
    try:
        parser.feed(_decode(data))
        parser.close()
    except Exception as exc:  # html.parser is lenient; anything raised here is a genuinely broken file
        raise ParseError(f"the HTML could not be read ({exc})") from exc
    return parser.builder.finish()


# ---------------------------------------------------------------- Markdown and text

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _parse_markdown(data: bytes) -> list[Section]:
    lines = _strip_front_matter(_decode(data).split("\n"))
    path = _HeadingPath()
    heading = ""
    body: list[str] = []
    sections: list[Section] = []
    for line, is_code in _lines_with_fence_state(lines):
        match = None if is_code else _ATX_HEADING.match(line)
        if match is None:
            body.append(line)
            continue
        _append_text_section(sections, body, heading)
        body = []
        path.push(len(match.group(1)), (match.group(2) or "").strip())
        heading = str(path)
    _append_text_section(sections, body, heading)
    return sections


def _lines_with_fence_state(lines: list[str]) -> Iterator[tuple[str, bool]]:
    """Each line with whether it lies in a fenced code block (fence lines included), so `# comment` in
    code is never taken for a heading."""
    fence = ""
    for line in lines:
        match = _FENCE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
            yield line, True
        elif match:
            fence = match.group(1)
            yield line, True
        else:
            yield line, False


def _strip_front_matter(lines: list[str]) -> list[str]:
    if not lines or lines[0].strip() != "---":
        return lines
    for index in range(1, min(len(lines), 100)):
        if lines[index].strip() in ("---", "..."):
            return lines[index + 1 :]
    return lines


def _append_text_section(sections: list[Section], lines: list[str], heading: str) -> None:
    text = _tidy("\n".join(lines), collapse_spaces=False)
    if text.strip():
        sections.append(Section(text=text, heading=heading))


def _parse_text(data: bytes) -> list[Section]:
    text = _tidy(_decode(data), collapse_spaces=False)
    return [Section(text=text)] if text.strip() else []


_PARSERS: dict[str, Callable[[bytes], list[Section]]] = {
    MEDIA_DOCX: _parse_docx,
    MEDIA_PPTX: _parse_pptx,
    MEDIA_HTML: _parse_html,
    MEDIA_MARKDOWN: _parse_markdown,
    MEDIA_TEXT: _parse_text,
}
