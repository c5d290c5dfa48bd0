"""Text handling shared by the generators and the validators: Markdown blocks, sentences, normalization.

Sentences keep their inline Markdown (bold, code spans) so that they render as in the source; every check of
"does this text come from that chunk" goes through `normalize`, which drops markup and punctuation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sme_svc.domain import Chunk

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each either else every few for from further
    had has have having he her here hers him his how i if in into is it its itself just least less let like
    may me might more most much must my neither no nor not now of off often on once one only or other our
    ours out over own per same she should since so some such than that the their theirs them then there these
    they this those though through thus to too under until up upon us usually very via was we well were what
    when where whether which while who whom whose why will with within without would yet you your yours""".split()
)

_LABEL_WORDS = (
    "example",
    "table",
    "figure",
    "try it",
    "note",
    "checkpoint",
    "exercise",
    "concepts in",
    "step",
)
# Labels that open an exercise: what follows, up to the next heading or label, is a task for the reader.
_EXERCISE_LABELS = ("try it", "exercise", "checkpoint", "concepts in practice", "practice")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "ex.", "cf.", "approx.", "dr.", "mr.", "mrs.", "ms.", "fig.")
_BOUNDARY = re.compile(r"[.!?][\"')\]]*\s+(?=[A-Z0-9`\"'(*\[])")
_BOLD = re.compile(r"\*\*([^*\n]+?)\*\*")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_PROSE_START = re.compile(r"^[\"'(\[]?[A-Z0-9]")
# A sentence may open with a marked-up name in lower case: "`len()` returns ...", "**iloc[]** allows ...".
_CODE_SUBJECT = re.compile(r"^(?:\*\*)?`[^`\n]+`(?:\*\*)?\s+[a-z]|^\*\*[^*\n]+\*\*\s+[a-z]")
_PROSE_END = re.compile(r"[.!?][\"')\]]*$")
# "- `isnull()`: The `isnull()` function ..." (a glossary-style item): the label before a whole sentence.
_ITEM_LABEL = re.compile(r"^(?:`[^`\n]+`|[^:.!?`\n]){1,60}?:\s+(?=[A-Z`*])")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True, slots=True)
class Block:
    """One Markdown block of a chunk: heading | paragraph | item | code | table."""

    kind: str
    text: str
    heading: str = ""
    context: str = ""  # for code: the prose right before it (its caption); for items: the list's lead-in
    info: str = ""  # for code: the fence's info string (language)


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a chunk, with enough position to cite and order it."""

    text: str
    chunk_id: str
    order: int  # global reading order across the chunks given
    heading: str
    in_list: bool = False
    # Under an exercise label ("**Try it: ...**"): work for the reader, not teaching.
    in_exercise: bool = False

    @property
    def plain(self) -> str:
        return strip_inline(self.text)

    @property
    def words(self) -> int:
        return len(_WORD.findall(self.plain))


def normalize(text: str) -> str:
    """Lowercase words only: the form in which grounding and duplicate checks compare text."""
    return " ".join(_WORD.findall(strip_inline(text).casefold())).replace("'", " ")


def strip_inline(text: str) -> str:
    """Drop inline Markdown (bold, code spans, links) but keep their text."""
    text = _LINK.sub(r"\1", text)
    text = _CODE_SPAN.sub(r"\1", text)
    return text.replace("**", "")  # "__" stays: it is far more often a Python dunder than bold


def words_of(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(strip_inline(text))]


def stem(word: str) -> str:
    """A light suffix strip that folds "loops", "looping" and "looped" (and "categories" and "category")
    together; not a real stemmer."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> list[str]:
    return [w for w in words_of(text) if w not in STOPWORDS and len(w) > 1]


def is_label(text: str) -> bool:
    """Bold captions like "**Example:**", "**Table 1.** ..." or "**Try it: ...**" are layout, not content."""
    lowered = strip_inline(text).strip().casefold()
    return lowered.startswith(_LABEL_WORDS) or lowered.endswith((":", "."))


def parse_blocks(markdown: str) -> list[Block]:
    """Split Markdown into blocks, tracking the heading path each block sits under."""
    blocks: list[Block] = []
    heading = ""
    prose: list[str] = []
    code: list[str] | None = None
    info = ""
    table: list[str] = []

    def flush() -> None:
        if prose:
            blocks.append(Block("paragraph", " ".join(prose).strip(), heading))
            prose.clear()
        if table:
            blocks.append(Block("table", "\n".join(table), heading))
            table.clear()

    for line in markdown.splitlines():
        stripped = line.strip()
        if code is not None:
            if stripped.startswith("```"):
                blocks.append(Block("code", "\n".join(code), heading, _last_prose(blocks), info))
                code = None
            else:
                code.append(line.rstrip())
            continue
        if stripped.startswith("```"):
            flush()
            code, info = [], stripped.strip("`").strip()
            continue
        heading_match = _HEADING.match(stripped)
        if heading_match:
            flush()
            heading = strip_inline(heading_match.group(2))
            blocks.append(Block("heading", heading, heading))
        elif stripped.startswith("|"):
            if prose:
                flush()
            table.append(stripped)
        elif item := _LIST_ITEM.match(line):
            flush()
            blocks.append(Block("item", item.group(1).strip(), heading, _last_prose(blocks)))
        elif not stripped:
            flush()
        elif _looks_like_heading(stripped, prose):
            flush()
            heading = stripped
            blocks.append(Block("heading", heading, heading))
        else:
            if table:
                flush()
            prose.append(stripped)
    flush()
    if code:  # unterminated fence: keep the code rather than lose it
        blocks.append(Block("code", "\n".join(code), heading, _last_prose(blocks)))
    return blocks


def _looks_like_heading(line: str, prose: list[str]) -> bool:
    """Text extracted from PDFs keeps headings as plain lines: short, capitalized, unpunctuated, and right
    after the end of a sentence (a wrapped line inside a sentence never follows a full stop)."""
    words = line.split()
    after_sentence = not prose or prose[-1].rstrip().endswith((".", "!", "?", ":"))
    return (
        after_sentence
        and 1 <= len(words) <= 8
        and line[:1].isupper()
        and not line.rstrip().endswith((".", "!", "?", ":", ";", ","))
        and not line.startswith(("**", "`"))
    )


def _last_prose(blocks: list[Block]) -> str:
    for block in reversed(blocks):
        if block.kind in ("paragraph", "item"):
            return block.text
        if block.kind == "heading":
            return ""
    return ""


def split_sentences(text: str) -> list[str]:
    """Sentence split that survives abbreviations (e.g., Ex.), decimals and periods inside code spans."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + 1
        if _inside_code_span(text, end) or _ends_with_abbreviation(text[start:end]):
            continue
        piece = text[start : match.end()].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _inside_code_span(text: str, position: int) -> bool:
    return text.count("`", 0, position) % 2 == 1


def _ends_with_abbreviation(piece: str) -> bool:
    lowered = piece.casefold().rstrip("\"')]")
    last = lowered.rsplit(None, 1)[-1].lstrip("(\"'[*") if lowered.split() else ""
    # A whole word: "items." ends with "ms." but is no abbreviation.
    return last in _ABBREVIATIONS or (len(last) == 2 and last[0].isalpha())  # or an initial such as "J."


def chunk_sentences(
    chunks: list[Chunk] | tuple[Chunk, ...], min_words: int = 5, max_words: int = 60
) -> list[Sentence]:
    """Prose sentences (paragraphs and list items) of the chunks, in reading order."""
    out: list[Sentence] = []
    exercise, previous = False, None
    for chunk in chunks:
        # An exercise runs on across a chunk boundary, up to the next heading.
        exercise = exercise and previous == (chunk.file_id, chunk.heading)
        previous = (chunk.file_id, chunk.heading)
        for block in parse_blocks(chunk.text):
            if block.kind == "heading":
                exercise = False
            if block.kind not in ("paragraph", "item"):
                continue
            if block.kind == "paragraph" and is_label(block.text) and _bold_only(block.text):
                exercise = strip_inline(block.text).strip().casefold().startswith(_EXERCISE_LABELS)
                continue
            heading = block.heading or chunk.heading
            text = _ITEM_LABEL.sub("", block.text, count=1) if block.kind == "item" else block.text
            for piece in split_sentences(text):
                candidate = Sentence(piece, chunk.id, len(out), heading, block.kind == "item", exercise)
                # A sentence ending in ":" introduces code or a list: it cannot stand alone.
                standalone = _is_prose(piece) and not _is_caption(piece)
                if min_words <= candidate.words <= max_words and standalone:
                    out.append(candidate)
    return out


def _is_prose(piece: str) -> bool:
    """A real sentence: starts like one, ends with a full stop (not ":" which introduces code or a list),
    and is mostly words. Code that a chunk boundary cut out of its fence fails this."""
    plain = strip_inline(piece).strip()
    starts = _PROSE_START.match(plain) or _CODE_SUBJECT.match(piece.strip())
    if not starts or not _PROSE_END.search(piece.strip()):
        return False
    wordy = sum(ch.isalnum() or ch.isspace() for ch in plain)  # "121 to 180 mg/L" is prose too
    return wordy >= 0.8 * len(plain)


def _bold_only(text: str) -> bool:
    """A paragraph that is one bold span ("**Try it: Help on modules**")."""
    return bool(re.fullmatch(r"\*\*[^*]+\*\*:?", text.strip()))


def _is_caption(piece: str) -> bool:
    """A sentence that is only a bold label ("**Table 1.** Using range().") is a caption, not content."""
    bold = _BOLD.match(piece.strip())
    return bool(bold) and is_label(bold.group(1))


def code_blocks(chunks: list[Chunk] | tuple[Chunk, ...]) -> list[tuple[Block, str]]:
    """(code block, chunk id) pairs, in reading order."""
    return [(b, c.id) for c in chunks for b in parse_blocks(c.text) if b.kind == "code" and b.text.strip()]


_CLAUSE_BREAKS = (
    ", such as",
    ", which",
    ", so ",
    ", and ",
    ", but",
    "; ",
    " (",
    ": ",
    ", because",
    ", for instance",
    ", for example",
)
_DANGLING = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "with",
        "that",
        "which",
        "so",
        "as",
        "its",
        "from",
        "for",
    }
    | {"in", "on", "at", "by", "into", "than", "their", "this", "these", "those"}
)


def clause(predicate: str, max_words: int = 12, whole: bool = False) -> str:
    """The first clause of a predicate (up to a clause break such as ", which" or "; "), without dangling
    stopwords. With `whole`, a clause longer than `max_words` gives "" instead of being cut mid-phrase;
    without it the clause is cut to `max_words` words."""
    text = strip_inline(predicate).strip().rstrip(".")
    for brk in _CLAUSE_BREAKS:
        cut = text.find(brk)
        if brk in (", and ", ", but") and "," in text[:cut]:
            continue  # "the keywords, symbols, and punctuation": a list, not the end of a clause
        if cut > 0 and len(text[:cut].split()) >= 2:
            text = text[:cut]
    if whole and len(text.split()) > max_words:
        return ""
    words = text.split()[:max_words]
    while words and words[-1].casefold().strip(",;") in _DANGLING:
        if whole:
            return ""
        words.pop()
    return " ".join(words).rstrip(",;")


def split_long_sentence(text: str, max_words: int = 18) -> list[str]:
    """Plain-language rendering: a long sentence cut at "; " or at ", but" / ", and" / ", so" into shorter
    sentences, only where every piece is a sentence of its own (a subject and a verb, five words or more:
    "..., and scaling and are usually ..." stays whole). "and" is dropped at the cut, "but" and "so" open the
    new sentence. Every piece stays a verbatim span of the original, so it remains attributable."""
    if len(_WORD.findall(strip_inline(text))) <= max_words:
        return [text]
    parts = re.split(r";\s+|,\s+(?=(?:but|and|so)\s)", text.strip())
    pieces: list[str] = []
    for index, part in enumerate(parts):
        part = part.strip().rstrip(".;,")
        if index and part.startswith("and "):
            part = part[4:]
        if not is_clause(part, first=index == 0):
            return [text]
        pieces.append(_sentence_case(part) + ".")
    return pieces if len(pieces) > 1 else [text]


_SUBJECT_START = frozenset(
    """a an the this that these those it its they their we our you your he she his her there each every some
    most many all no one both either neither such another other any but so""".split()
)
_VERB_WORDS = frozenset(
    """is are was were be been being has have had can could will would may might must should shall does do did
    means""".split()
)


def is_clause(text: str, first: bool = True) -> bool:
    """Whether text can stand as a sentence: five words or more, with a verb; one that follows a cut must also
    open with a subject ("the mean moves", "it is"; not "scaling and are")."""
    words = [w.casefold() for w in _WORD.findall(strip_inline(text))]
    if len(words) < 5:
        return False
    has_verb = any(w in _VERB_WORDS or (len(w) > 3 and w.endswith(("s", "ed"))) for w in words[1:])
    if words[0] in ("but", "so"):
        words = words[1:]
    # A subject: a determiner or pronoun, a capital, or a noun phrase ("water with 61 mg/L is ...") whose
    # verb comes within eight words; not a participle, a preposition or a conjunction ("scaling and are"),
    # nor a verb taking its object ("draws a bar ...").
    noun_phrase = (
        not words[0].endswith(("ing", "ed", "ly"))
        and words[0] not in STOPWORDS
        and (len(words) < 2 or words[1] not in _SUBJECT_START)
        and any(w in _VERB_WORDS for w in words[1:8])
    )
    opens_with_subject = words[0] in _SUBJECT_START or text.lstrip("*`")[:1].isupper() or noun_phrase
    return has_verb and (first or opens_with_subject)


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1].isalpha() else text


def bold_terms(text: str) -> list[str]:
    return [m.group(1).strip() for m in _BOLD.finditer(text) if not is_label(m.group(1))]


def code_spans(text: str) -> list[str]:
    return [m.group(1).strip() for m in _CODE_SPAN.finditer(text)]


def contains_phrase(haystack_normalized: str, phrase: str) -> bool:
    """Whole-word containment of `phrase` in an already-normalized text."""
    needle = normalize(phrase)
    return bool(needle) and f" {needle} " in f" {haystack_normalized} "
