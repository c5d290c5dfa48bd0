"""Tutor decisions shared by every backend: follow-up resolution, coverage, protected (quiz) questions.

The layer above retrieves with `contextualize_question(question, history)` so that a follow-up such as
"what about the second one?" retrieves for the item it refers to; the generators use the same function to
rank what they quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sme_svc.domain import Chunk
from sme_svc.generation.base import BLOOM_VERBS, Encode
from sme_svc.generation.text import Sentence, content_words, normalize, stem, strip_inline

# How well the retrieved passages support an answer (see `Support`), calibrated with all-MiniLM-L6-v2 on the
# covered and uncovered questions of two unrelated courses (scripts/bench/generation.py, docs/generation.md):
# at these values 3% of covered questions were declined and 92-100% of uncovered ones.
SUPPORT_THRESHOLD = 0.56
LEXICAL_WEIGHT = 0.2
MISSING_WEIGHT = 0.3
RANGE_BONUS = 0.3  # a sentence whose range holds the question's number answers "which category" questions
PROTECTED_THRESHOLD = 0.72
NOT_COVERED = "The course materials don't cover this, so I can't answer it from them."
# Words that ask rather than name a topic: a question's topic words are what is left.
_ASKING = frozenset(v.casefold() for v in BLOOM_VERBS) | frozenset(
    """what how why which when where who whom whose explain describe difference differences mean means meaning
    example examples use used using way ways work works does do did make get give name kind kinds type types
    good important ability impact necessary happen happens tell know need want please""".split()
)
_RANGE = re.compile(
    r"(?:between\s+)?(?P<low>\d+(?:\.\d+)?)\s*(?:-|–|to|and)\s*(?P<high>\d+(?:\.\d+)?)"
    r"|(?P<op>less than|under|below|more than|over|above|at least|at most)\s+(?P<bound>\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
HINT_INTRO = "This looks like one of your open quiz questions, so here is a hint rather than the answer."

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "1st": 1,
    "2nd": 2,
    "3rd": 3,
    "last": -1,
}
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|so|what about|how about|why|what if|also|then|same)\b|\b(it|that|this|they|them|those|these|"
    r"one|ones|former|latter)\b",
    re.IGNORECASE,
)
_LIST_LINE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_MARKERS = re.compile(r"\s*\[\d+\]")


def is_follow_up(question: str) -> bool:
    """Short questions that lean on an earlier turn ("what about the second one?", "why is that?")."""
    return len(question.split()) <= 12 and bool(_FOLLOW_UP.search(question))


def contextualize_question(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A self-contained query: a follow-up gets the item it points at and the previous question."""
    if not history or not is_follow_up(question):
        return question
    last_user = next((text for role, text in reversed(history) if role == "user"), "")
    last_answer = next((text for role, text in reversed(history) if role == "assistant"), "")
    referent = referenced_item(question, last_answer)
    parts = [referent, question] if referent else [question, last_user]
    return " ".join(p.strip() for p in parts if p.strip())


def referenced_item(question: str, previous_answer: str) -> str:
    """For "the second one", the second list item (or bold term) of the previous answer; "" if none."""
    ordinal = next((n for word, n in _ORDINALS.items() if re.search(rf"\b{word}\b", question, re.I)), 0)
    if not ordinal:
        return ""
    items = [
        _MARKERS.sub("", m.group(1)).strip()
        for line in previous_answer.splitlines()
        if (m := _LIST_LINE.match(line))
    ]
    if not items:
        items = re.findall(r"\*\*([^*]+)\*\*", previous_answer)
    if not items:
        return ""
    index = ordinal - 1 if ordinal > 0 else len(items) - 1
    if index >= len(items):
        return ""
    named = re.findall(r"\*\*([^*]+)\*\*", items[index])  # the item's bold term names it best
    return strip_inline(named[0] if named else " ".join(items[index].split()[:8]))


@dataclass(frozen=True, slots=True)
class Support:
    """How well a set of sentences answers a question.

    `scores`: per sentence, its cosine to the question plus LEXICAL_WEIGHT times the share of the question's
    topic words it or its heading contains (stems), plus a bonus where the question names a number that a range in the
    sentence contains ("150 mg/L: which category?" finds "121 to 180 mg/L is hard"). `missing`: the share of
    the question's topic words that no passage contains at all (a question about "decorators" to a course
    that never says "decorator"). The question is covered when the best cosine plus LEXICAL_WEIGHT times the
    best overlap, less MISSING_WEIGHT times `missing`, reaches SUPPORT_THRESHOLD.
    """

    scores: np.ndarray
    cosine: float
    overlap: float
    missing: float

    @property
    def covered(self) -> bool:
        value = self.cosine + LEXICAL_WEIGHT * self.overlap - MISSING_WEIGHT * self.missing
        return len(self.scores) > 0 and value >= SUPPORT_THRESHOLD


def support(question: str, sentences: Sequence[Sentence], passages: Sequence[str], encode: Encode) -> Support:
    """Score `sentences` (of the retrieved `passages`, whose text and headings count as theirs) as answers."""
    if not sentences:
        return Support(np.zeros(0, dtype=np.float32), 0.0, 0.0, 1.0)
    vectors = np.asarray(encode([strip_inline(question), *(s.plain for s in sentences)]), dtype=np.float32)
    cosines = vectors[1:] @ vectors[0]
    topic = topic_words(question)
    overlap = np.array([_overlap(topic, f"{s.heading} {s.plain}") for s in sentences], dtype=np.float32)
    known = {stem(w) for text in passages for w in normalize(text).split()}
    missing = sum(w not in known for w in topic) / len(topic) if topic else 0.0
    numbers = [float(n) for n in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", question)]
    bonus = np.array(
        [RANGE_BONUS if _in_range(numbers, s.plain) else 0.0 for s in sentences], dtype=np.float32
    )
    return Support(
        cosines + LEXICAL_WEIGHT * overlap + bonus, float(cosines.max()), float(overlap.max()), missing
    )


def passages_of(chunks: Sequence[Chunk]) -> list[str]:
    """What a passage says, for `support`: its heading path and its text."""
    return [f"{c.heading}\n{c.text}" for c in chunks]


def where(chunk: Chunk) -> str:
    """A chunk's place for a reader: file, page or slide, section ("notes.pdf, page 3, Inference > Tests")."""
    parts = [chunk.file_name]
    if chunk.page:
        parts.append(f"page {chunk.page}")
    if chunk.slide:
        parts.append(f"slide {chunk.slide}")
    if chunk.heading:
        parts.append(chunk.heading)
    return ", ".join(parts)


def not_covered(chunks: Sequence[Chunk], limit: int = 3) -> str:
    """The decline, pointing to the nearest topics the course does cover (the sections of the passages that
    came closest, best first)."""
    topics = list(dict.fromkeys(c.heading.split(" > ")[-1] for c in chunks if c.heading))[:limit]
    if not topics:
        return NOT_COVERED + " Try rephrasing it with the words the course uses, or ask your instructor."
    listed = (
        ", ".join(f"**{t}**" for t in topics[:-1])
        + (" and " if len(topics) > 1 else "")
        + f"**{topics[-1]}**"
    )
    return f"{NOT_COVERED} The closest topics it does cover: {listed}. Ask about one of those, or ask your instructor."


def topic_words(question: str) -> list[str]:
    """The stems of the words that name what a question is about (not the words that ask)."""
    return list(dict.fromkeys(stem(w) for w in content_words(question) if w not in _ASKING))


def _overlap(topic: list[str], text: str) -> float:
    if not topic:
        return 0.0
    words = {stem(w) for w in normalize(text).split()}
    return sum(w in words for w in topic) / len(topic)


def _in_range(numbers: list[float], text: str) -> bool:
    for match in _RANGE.finditer(text):
        if match.group("low"):
            low, high = float(match.group("low")), float(match.group("high"))
            if any(low <= n <= high for n in numbers) and low < high:
                return True
        else:
            bound, op = float(match.group("bound")), match.group("op").casefold()
            above = op in ("more than", "over", "above", "at least")
            if any((n >= bound) if above else (n <= bound) for n in numbers):
                return True
    return False


def protected_match(
    question: str, protected_questions: Sequence[str], encode: Encode, threshold: float = PROTECTED_THRESHOLD
) -> str | None:
    """The open quiz question the learner is asking about (normalized containment or cosine), if any."""
    if not protected_questions:
        return None
    asked = normalize(question)
    cleaned = [_quiz_core(q) for q in protected_questions]
    for original, core in zip(protected_questions, cleaned, strict=True):
        if core and (core in asked or (len(asked.split()) >= 4 and asked in core)):
            return original
    vectors = np.asarray(encode([strip_inline(question), *cleaned]), dtype=np.float32)
    sims = vectors[1:] @ vectors[0]
    best = int(np.argmax(sims))
    return protected_questions[best] if float(sims[best]) >= threshold else None


def _quiz_core(quiz_question: str) -> str:
    """ "Fill in the blank: A ____ repeats ..." -> "a repeats ..." (no instruction, no blank)."""
    text = re.sub(r"^\s*fill in the blank:\s*", "", quiz_question, flags=re.IGNORECASE)
    return normalize(text.replace("____", " "))
