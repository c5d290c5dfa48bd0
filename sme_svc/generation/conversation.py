"""Tutor decisions shared by every backend: follow-up resolution, coverage, protected (quiz) questions.

The layer above retrieves with `contextualize_question(question, history)` so that a follow-up such as
"what about the second one?" retrieves for the item it refers to; the generators use the same function to
rank what they quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from sme_svc.generation.base import Encode
from sme_svc.generation.text import normalize, strip_inline

# all-MiniLM-L6-v2 cosines: on-topic questions reach 0.45-0.8 against some sentence of the retrieved chunks,
# off-topic ones stay under 0.25. Retrieval scores are not used: their scale depends on the method.
COVERAGE_THRESHOLD = 0.35
PROTECTED_THRESHOLD = 0.72
NOT_COVERED = (
    "The course materials do not cover this question, so I can't answer it from them. "
    "Try rephrasing it with the terms used in the module, or ask your instructor."
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
