"""Parsing keeps locations (pages, slides, heading paths); chunks are bounded, exact spans, stable ids."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from lmw_common.filetypes import (
    MEDIA_DOCX,
    MEDIA_HTML,
    MEDIA_MARKDOWN,
    MEDIA_PDF,
    MEDIA_PPTX,
    MEDIA_TEXT,
    detect_media_type,
)
from sme_svc.domain import Section
from sme_svc.ingest.chunking import (
    ChunkingConfig,
    chunk_sections,
    default_token_counter,
    split_section,
    text_for_embedding,
)
from sme_svc.ingest.parsing import ParseError, parse

SAMPLE_COURSE = Path(__file__).resolve().parents[2] / "scripts" / "sample_course"


def pdf_pages(*pages: str) -> bytes:
    """A PDF with one page per argument; an empty string makes a blank page."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for text in pages:
        for line_number, line in enumerate(text.split("\n")):
            pdf.drawString(72, 720 - 14 * line_number, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def chunks_of(sections: list[Section], **overrides):
    identity = {"course_id": "c1", "file_id": "f1", "file_name": "f.md", "file_sha256": "abc"} | overrides
    return chunk_sections(sections, **identity)


# ---------------------------------------------------------------- parsing


def test_pdf_sections_carry_page_numbers_and_skip_blank_pages() -> None:
    sections = parse(pdf_pages("First page about means.", "", "Third page about medians."), MEDIA_PDF)
    assert [section.page for section in sections] == [1, 3]
    assert "medians" in sections[1].text


def test_pptx_sections_carry_slide_numbers_titles_and_notes() -> None:
    import pptx

    presentation = pptx.Presentation()
    layout = presentation.slide_layouts[1]  # title and content
    for title, body in [
        ("Variance", "Spread around the mean."),
        ("Only a title", None),
        ("Median", "Middle value."),
    ]:
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = title
        if body is None:
            slide.placeholders[1].element.getparent().remove(slide.placeholders[1].element)
        else:
            slide.placeholders[1].text_frame.text = body
    presentation.slides[2].notes_slide.notes_text_frame.text = "Speaker notes on the median."
    buffer = io.BytesIO()
    presentation.save(buffer)

    sections = parse(buffer.getvalue(), MEDIA_PPTX)
    assert [(section.slide, section.heading) for section in sections] == [(1, "Variance"), (3, "Median")]
    assert sections[0].text == "Spread around the mean."
    assert "Speaker notes on the median." in sections[1].text
    assert "Median" not in sections[1].text.split("\n")[0]  # the title is the heading, not the text


def test_docx_heading_styles_build_the_heading_path() -> None:
    import docx

    document = docx.Document()
    document.add_heading("Statistics", level=1)
    document.add_paragraph("Intro paragraph.")
    document.add_heading("Spread", level=2)
    document.add_paragraph("Variance and standard deviation.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "range", "max - min"
    document.add_heading("Probability", level=1)
    document.add_paragraph("Events and outcomes.")
    buffer = io.BytesIO()
    document.save(buffer)

    sections = parse(buffer.getvalue(), MEDIA_DOCX)
    assert [section.heading for section in sections] == ["Statistics", "Statistics > Spread", "Probability"]
    assert sections[1].text == "Variance and standard deviation.\n\nrange | max - min"


def test_markdown_headings_build_the_path_and_code_blocks_stay_whole() -> None:
    markdown = (
        "# Loops\n\nIntro.\n\n## While\n\nA while loop.\n\n```python\n# not a heading\n\nwhile x:\n"
        "    x -= 1\n```\n\n### Details\n\nMore.\n\n## For\n\nA for loop.\n"
    )
    sections = parse(markdown.encode(), MEDIA_MARKDOWN)
    assert [section.heading for section in sections] == [
        "Loops",
        "Loops > While",
        "Loops > While > Details",
        "Loops > For",
    ]
    code = "```python\n# not a heading\n\nwhile x:\n    x -= 1\n```"
    assert code in sections[1].text
    chunks = chunks_of(sections)
    assert any(code in chunk.text for chunk in chunks)  # the blank line inside the fence did not split it


def test_html_headings_build_the_path_and_boilerplate_is_dropped() -> None:
    html = b"""<!doctype html><html><head><title>T</title><style>p{color:red}</style></head><body>
    <nav><a href="/">Home</a> <a href="/x">Menu item</a></nav>
    <h1>Correlation</h1><p>Two variables <b>move</b> together.</p>
    <script>var secret = "drop me";</script>
    <h2>Pearson r</h2><ul><li>between -1 and 1</li><li>no units</li></ul>
    <pre>r = cov(x, y)
    / (sx * sy)</pre>
    <h2>Causation</h2><p>Not implied.</p></body></html>"""
    sections = parse(html, MEDIA_HTML)
    assert [section.heading for section in sections] == [
        "Correlation",
        "Correlation > Pearson r",
        "Correlation > Causation",
    ]
    everything = " ".join(section.text for section in sections)
    assert "Two variables move together." in everything
    for dropped in ("Menu item", "drop me", "color:red"):
        assert dropped not in everything
    assert "- between -1 and 1" in sections[1].text
    assert "r = cov(x, y)\n    / (sx * sy)" in sections[1].text


def test_plain_text_is_one_section() -> None:
    assert parse(b"line one\nline two\n", MEDIA_TEXT) == [Section(text="line one\nline two")]


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (b"%PDF-1.7\n this is not really a pdf", MEDIA_PDF),
        (pdf_pages("cut short")[:300], MEDIA_PDF),
        (b"PK\x03\x04 not a docx", MEDIA_DOCX),
        (b"PK\x03\x04 not a pptx", MEDIA_PPTX),
        (b"", MEDIA_TEXT),
        (b"", MEDIA_PDF),
        (b"hello", "application/x-msdownload"),
    ],
)
def test_unreadable_files_raise_a_parse_error(data: bytes, media_type: str) -> None:
    with pytest.raises(ParseError):
        parse(data, media_type)


def test_files_without_text_give_no_sections() -> None:
    assert parse(pdf_pages("", ""), MEDIA_PDF) == []
    assert parse(b"\n\n   \n", MEDIA_TEXT) == []
    assert parse(b"# Only a heading\n", MEDIA_MARKDOWN) == []


# ---------------------------------------------------------------- chunking


LONG_PARAGRAPH = " ".join(
    f"Sentence number {i} explains how a sample statistic estimates a population parameter."
    for i in range(120)
)


def test_chunks_are_token_bounded_exact_spans() -> None:
    sections = [
        Section(text=LONG_PARAGRAPH + "\n\nA short closing paragraph.", heading="Inference"),
        Section(text="Tiny one.\n\nTiny two.\n\nTiny three.", page=4),
    ]
    counter = default_token_counter()
    chunks = chunks_of(sections)
    assert len(chunks) > 5
    for chunk in chunks:
        section = sections[0] if chunk.heading else sections[1]
        assert section.text[chunk.char_start : chunk.char_end] == chunk.text
        assert counter.count(chunk.text) <= ChunkingConfig().max_tokens
        assert chunk.text == chunk.text.strip()
    assert [chunk.ordinal for chunk in chunks] == list(range(len(chunks)))
    assert chunks[-1].text == "Tiny one.\n\nTiny two.\n\nTiny three."  # small paragraphs are merged
    assert chunks[-1].page == 4


def test_chunks_split_inside_a_paragraph_overlap_at_sentence_boundaries() -> None:
    spans = split_section(LONG_PARAGRAPH, ChunkingConfig(), default_token_counter())
    for (_, previous_end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start < previous_end  # overlap
        assert LONG_PARAGRAPH[start:].startswith("Sentence number")  # begins at a sentence


def test_overlong_sentences_and_code_lines_are_cut_to_the_bound() -> None:
    counter = default_token_counter()
    words = " ".join(f"word{i}" for i in range(2000))
    code = "```\n" + "\n".join(f"value_{i} = compute({i})" for i in range(300)) + "\n```"
    for text in (words, code, "x" * 5000 + " tail"):
        for start, end in split_section(text, ChunkingConfig(), counter):
            assert counter.count(text[start:end]) <= ChunkingConfig().max_tokens


def test_chunk_ids_are_deterministic_and_unique() -> None:
    sections = [Section(text=LONG_PARAGRAPH)]
    first, again = chunks_of(sections), chunks_of(sections)
    assert [chunk.id for chunk in first] == [chunk.id for chunk in again]
    assert len({chunk.id for chunk in first}) == len(first)
    other_content = chunks_of(sections, file_sha256="def")
    other_file = chunks_of(sections, file_id="f2")
    assert not {chunk.id for chunk in first} & {chunk.id for chunk in other_content + other_file}


def test_heading_goes_into_the_embedded_text_only() -> None:
    chunk = chunks_of([Section(text="Body text.", heading="Unit > Topic")])[0]
    assert chunk.text == "Body text."
    assert text_for_embedding(chunk) == "Unit > Topic\n\nBody text."


def test_sample_course_gold_phrases_lie_in_their_gold_sections() -> None:
    """The benchmark labels stay true to the documents (e.g. after an edit of the sample course)."""
    sections_by_file = {}
    for path in SAMPLE_COURSE.iterdir():
        if path.suffix in (".md", ".html", ".pdf"):
            data = path.read_bytes()
            sections_by_file[path.name] = parse(data, detect_media_type(data, path.name))
    questions = [json.loads(line) for line in (SAMPLE_COURSE / "questions.jsonl").read_text().splitlines()]
    assert 20 <= len(questions) <= 30
    for question in questions:
        gold = [s for s in sections_by_file[question["file"]] if _in_section(s, question["section"])]
        assert gold, question
        phrase = " ".join(question["answer_contains"].split()).lower()
        assert any(phrase in " ".join(s.text.split()).lower() for s in gold), question


def _in_section(section: Section, label: str) -> bool:
    page = re.fullmatch(r"page (\d+)", label)
    if page:
        return section.page == int(page.group(1))
    return label in section.heading.split(" > ")
