"""Structure-aware chunking bounded in tokens of the embedding model's own tokenizer.

Each section is cut into blocks (paragraphs; a fenced code block is one block), blocks into sentences
(code into lines), and over-long sentences into word-aligned token windows. Those units are packed greedily
up to `max_tokens`; a chunk closes at the last paragraph boundary when one lies past `min_fill` of the
budget, and a chunk that had to end inside a paragraph hands its last sentences (up to `overlap_tokens`) to
the next. Every chunk is an exact span of its section's text, so a citation can point at it.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sme_svc.domain import Chunk, Section

MAX_HEADING_CHARS = 200


@dataclass(frozen=True, slots=True)
class ChunkingConfig:
    max_tokens: int = 200  # all-MiniLM-L6-v2 embeds at most 256 word pieces; leave room for the heading
    overlap_tokens: int = 40
    min_fill: float = 0.5  # close at a paragraph boundary only once the chunk is this full


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    paragraph: int  # index of the block it belongs to: a change of index is a paragraph boundary


class TokenCounter:
    """Counts word pieces of spans of a text with one tokenizer pass (a Rust `tokenizers` tokenizer)."""

    def __init__(self, tokenizer) -> None:
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    @classmethod
    def from_model_path(cls, model_path: str | Path | None = None) -> TokenCounter:
        from tokenizers import Tokenizer

        from sme_svc.retrieval.embedder import default_model_path

        return cls(Tokenizer.from_file(str(Path(model_path or default_model_path()) / "tokenizer.json")))

    def token_starts(self, text: str) -> list[int]:
        """Character offset where each word piece of `text` starts (special tokens excluded)."""
        encoding = self._tokenizer.encode(text, add_special_tokens=False)
        return [start for start, _ in encoding.offsets]

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


_default_counter: TokenCounter | None = None
_default_counter_lock = threading.Lock()


def default_token_counter() -> TokenCounter:
    """The tokenizer of the default embedding model, loaded once per process (a few milliseconds)."""
    global _default_counter
    with _default_counter_lock:
        if _default_counter is None:
            _default_counter = TokenCounter.from_model_path()
        return _default_counter


def chunk_id(course_id: str, file_id: str, file_sha256: str, ordinal: int) -> str:
    """Deterministic: re-ingesting the same bytes as the same file yields the same ids. The file id is in
    the key so the same document uploaded twice to one course does not collide."""
    return hashlib.sha256(f"{course_id}:{file_id}:{file_sha256}:{ordinal}".encode()).hexdigest()[:24]


def text_for_embedding(chunk: Chunk) -> str:
    """What gets embedded and BM25-indexed: the heading path gives a chunk its context, but it stays out
    of `Chunk.text`, which must be exactly the span a citation points at."""
    heading = chunk.heading[-MAX_HEADING_CHARS:]
    return f"{heading}\n\n{chunk.text}" if heading else chunk.text


def content_hash(chunk: Chunk) -> str:
    """The digest of what gets embedded, stored beside the embedding: a chunk whose digest and encoder are
    both unchanged reuses its stored embedding instead of being embedded again."""
    return hashlib.sha256(text_for_embedding(chunk).encode()).hexdigest()


def chunk_sections(
    sections: Iterable[Section],
    *,
    course_id: str,
    file_id: str,
    file_name: str,
    file_sha256: str,
    module_id: str = "",
    config: ChunkingConfig | None = None,
    counter: TokenCounter | None = None,
) -> list[Chunk]:
    """Chunks of all sections of one file, numbered in reading order from 0. The chunk ids do not depend on
    `module_id`, so moving a file to another module keeps them."""
    config = config or ChunkingConfig()
    counter = counter or default_token_counter()
    chunks: list[Chunk] = []
    for section in sections:
        for start, end in split_section(section.text, config, counter):
            ordinal = len(chunks)
            chunks.append(
                Chunk(
                    id=chunk_id(course_id, file_id, file_sha256, ordinal),
                    course_id=course_id,
                    file_id=file_id,
                    file_name=file_name,
                    ordinal=ordinal,
                    text=section.text[start:end],
                    page=section.page,
                    slide=section.slide,
                    heading=section.heading,
                    char_start=start,
                    char_end=end,
                    module_id=module_id,
                )
            )
    return chunks


def split_section(text: str, config: ChunkingConfig, counter: TokenCounter) -> list[tuple[int, int]]:
    """(char_start, char_end) spans of the chunks of one section's text."""
    if not text.strip():
        return []
    tokens = _TokenSpans(counter.token_starts(text))
    units = list(_units(text, tokens, config.max_tokens))
    return [(group[0].start, group[-1].end) for group in _pack(units, tokens, config)]


class _TokenSpans:
    """Token counts of arbitrary spans from the token start offsets of the whole text (word pieces never
    cross whitespace, so a span cut at a word boundary tokenizes the same on its own)."""

    def __init__(self, starts: list[int]) -> None:
        self.starts = starts

    def count(self, start: int, end: int) -> int:
        return bisect.bisect_left(self.starts, end) - bisect.bisect_left(self.starts, start)

    def offsets_between(self, start: int, end: int) -> list[int]:
        return self.starts[bisect.bisect_left(self.starts, start) : bisect.bisect_left(self.starts, end)]


# ---------------------------------------------------------------- units

_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)
# A sentence ends at . ! ? (closing quotes/brackets included) followed by whitespace, or at a line that
# ends with a colon or starts a list item.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+|:\n|\n(?=\s*(?:[-*+]|\d+[.)])\s)")


def _units(text: str, tokens: _TokenSpans, max_tokens: int) -> Iterator[_Unit]:
    for paragraph, (start, end, is_code) in enumerate(_blocks(text)):
        if tokens.count(start, end) <= max_tokens:
            yield _Unit(start, end, paragraph)
            continue
        pieces = _lines(text, start, end) if is_code else _sentences(text, start, end)
        for piece_start, piece_end in pieces:
            if tokens.count(piece_start, piece_end) <= max_tokens:
                yield _Unit(piece_start, piece_end, paragraph)
                continue
            for window in _token_windows(text, piece_start, piece_end, tokens, max_tokens):
                yield _Unit(*window, paragraph)


def _blocks(text: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is_code) of paragraphs: runs of text between blank lines, a fenced block whole."""
    position = 0
    for fence_start, fence_end in _fenced_spans(text):
        yield from _paragraphs(text, position, fence_start)
        yield fence_start, fence_end, True
        position = fence_end
    yield from _paragraphs(text, position, len(text))


def _fenced_spans(text: str) -> Iterator[tuple[int, int]]:
    search_from = 0
    while match := _FENCE.search(text, search_from):
        marker = match.group(1)
        closing = re.compile(rf"^ {{0,3}}{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$", re.MULTILINE)
        line_end = text.find("\n", match.end())
        close = closing.search(text, line_end + 1) if line_end != -1 else None
        end = close.end() if close else len(text)
        yield match.start(), end
        search_from = end
        if end >= len(text):
            return


def _paragraphs(text: str, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    position = start
    for separator in [*_BLANK_LINES.finditer(text, start, end), None]:
        separator_start, separator_end = (separator.start(), separator.end()) if separator else (end, end)
        for span_start, span_end in _trimmed(text, position, separator_start):
            yield span_start, span_end, False
        position = separator_end


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The span without surrounding whitespace, if anything is left of it."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    position = start
    for boundary in _SENTENCE_END.finditer(text, start, end):
        yield from _trimmed(text, position, boundary.end())
        position = boundary.end()
    yield from _trimmed(text, position, end)


def _lines(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    position = start
    while position < end:
        newline = text.find("\n", position, end)
        line_end = end if newline == -1 else newline
        if line_end > position and text[position:line_end].strip():
            yield position, line_end
        position = line_end + 1


def _token_windows(
    text: str, start: int, end: int, tokens: _TokenSpans, max_tokens: int
) -> Iterator[tuple[int, int]]:
    """Cut a span with no usable sentence boundary into windows of at most `max_tokens`, preferring to cut
    where a word starts (after whitespace) rather than inside a word."""
    offsets = tokens.offsets_between(start, end)
    first = 0
    while first < len(offsets):
        last = min(first + max_tokens, len(offsets))
        if last < len(offsets):
            last = _word_start_before(text, offsets, first, last)
        window_end = offsets[last] if last < len(offsets) else end
        yield from _trimmed(text, offsets[first], window_end)
        first = last


def _word_start_before(text: str, offsets: list[int], first: int, last: int) -> int:
    for candidate in range(last, first + max(1, (last - first) // 2), -1):
        if text[offsets[candidate] - 1].isspace():
            return candidate
    return last


# ---------------------------------------------------------------- packing


def _pack(units: list[_Unit], tokens: _TokenSpans, config: ChunkingConfig) -> Iterator[list[_Unit]]:
    current: list[_Unit] = []
    for unit in units:
        if not current or tokens.count(current[0].start, unit.end) <= config.max_tokens:
            current.append(unit)
            continue
        closed, current = _close(current, unit, tokens, config)
        yield closed
        while current and tokens.count(current[0].start, unit.end) > config.max_tokens:
            current.pop(0)  # only overlap can be too long here: it must leave room for the new unit
        current.append(unit)
    if current:
        yield current


def _close(
    current: list[_Unit], incoming: _Unit, tokens: _TokenSpans, config: ChunkingConfig
) -> tuple[list[_Unit], list[_Unit]]:
    """Split a full chunk (that `incoming` does not fit in) into (closed chunk, units starting the next)."""
    budget = config.min_fill * config.max_tokens
    for cut in range(len(current) - 1, 0, -1):
        at_paragraph_boundary = current[cut].paragraph != current[cut - 1].paragraph
        if (
            at_paragraph_boundary
            and tokens.count(current[0].start, current[cut - 1].end) >= budget
            and tokens.count(current[cut].start, incoming.end) <= config.max_tokens
        ):
            return current[:cut], current[cut:]
    if incoming.paragraph != current[-1].paragraph:
        return current, []
    return current, _overlap_tail(current, tokens, config.overlap_tokens)


def _overlap_tail(current: list[_Unit], tokens: _TokenSpans, overlap_tokens: int) -> list[_Unit]:
    """The last sentences of the closed chunk, within `overlap_tokens`, restricted to its last paragraph
    (overlap only helps when a chunk ends mid-paragraph)."""
    tail: list[_Unit] = []
    for unit in reversed(current[1:]):
        if unit.paragraph != current[-1].paragraph:
            break
        if tokens.count(unit.start, current[-1].end) > overlap_tokens:
            break
        tail.insert(0, unit)
    return tail
