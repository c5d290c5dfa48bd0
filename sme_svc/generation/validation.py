"""Validation of generated objectives, quizzes and content, applied to every backend's output before return.

Each validator returns (valid items, dropped reasons). Callers regenerate a bounded number of times or give up
with `GenerationFailed`; they never fall back to a cached success.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from sme_svc.domain import Chunk, Generated, Objective, QuizItem
from sme_svc.generation.base import ACTION_VERBS, Encode
from sme_svc.generation.text import content_words, normalize, split_sentences, stem, strip_inline

OBJECTIVE_MIN_WORDS = 2  # "Define recursion"
OBJECTIVE_MAX_WORDS = 25
OBJECTIVE_MAX_CHARS = 200
OBJECTIVE_DUPLICATE_COSINE = 0.9
QUESTION_DUPLICATE_COSINE = 0.92
OPTIONS_PER_QUESTION = 4
BLANK = "____"
_MARKER = re.compile(r"\[(\d+)\]")
_TRAILING_MARKERS = re.compile(r"(?:\s*\[\d+\])+\s*(?:\|\s*)?$")  # "... [1][2]" or "| [1] |" at line end
_LEADING_LABEL = re.compile(r"^\s*(?:\*\*[^*]+\*\*|\*[^*]+\*)\s*(?:[:.\u2014-]\s*)?")
_LIST_PREFIX = re.compile(r"^\s*(?:[-*+]\s+(?:\[[ xX]\]\s+)?|\d+[.)]\s+|>\s*)")


def option_key(option: str) -> str:
    """Options compare case- and whitespace-insensitively (and ignoring inline markup)."""
    return " ".join(strip_inline(option).split()).casefold().rstrip(".")


def supports(chunk_text: str, answer: str) -> bool:
    """The answer's key text occurs in the chunk (normalized). Long answers (>= 4 content words) may
    paraphrase slightly: then 75% of their content words must occur in the chunk."""
    body = normalize(chunk_text)
    needle = normalize(answer)
    if needle and f" {needle} " in f" {body} ":
        return True
    words = [w for w in content_words(answer)]
    if len(words) < 4:
        return False
    vocabulary = set(body.split())
    return sum(w in vocabulary for w in words) / len(words) >= 0.75


def validate_quiz(
    items: Sequence[QuizItem],
    chunks_by_id: Mapping[str, Chunk],
    encode: Encode | None = None,
    objective_ids: Sequence[str] | None = None,
    existing_questions: Sequence[str] = (),
) -> tuple[list[QuizItem], list[str]]:
    """Schema, one correct key in range, 4 distinct options, explanation, a citation that supports the
    answer, and no duplicate questions (normalized equality or embedding cosine > 0.92)."""
    valid: list[QuizItem] = []
    dropped: list[str] = []
    for item in items:
        reason = quiz_item_problem(item, chunks_by_id, objective_ids)
        if reason:
            dropped.append(f"{item.id or '?'}: {reason}")
        else:
            valid.append(item)
    kept, duplicates = _drop_duplicates(
        valid, lambda i: i.question, existing_questions, encode, QUESTION_DUPLICATE_COSINE
    )
    return kept, dropped + [f"{i.id}: duplicate question" for i in duplicates]


def quiz_item_problem(
    item: QuizItem, chunks_by_id: Mapping[str, Chunk], objective_ids: Sequence[str] | None = None
) -> str | None:
    """The first rule the item breaks, or None."""
    if not isinstance(item.question, str) or len(item.question.strip()) < 10:
        return "question missing or too short"
    if not item.objective_id or (objective_ids is not None and item.objective_id not in objective_ids):
        return "unknown objective"
    options = tuple(item.options) if isinstance(item.options, (list, tuple)) else ()
    if len(options) != OPTIONS_PER_QUESTION or not all(isinstance(o, str) and o.strip() for o in options):
        return f"needs {OPTIONS_PER_QUESTION} non-empty options"
    if len({option_key(o) for o in options}) != OPTIONS_PER_QUESTION:
        return "options not distinct"
    if not isinstance(item.correct_index, int) or not 0 <= item.correct_index < OPTIONS_PER_QUESTION:
        return "correct_index out of range"
    if not isinstance(item.explanation, str) or not item.explanation.strip():
        return "empty explanation"
    cited = [chunks_by_id[c] for c in item.chunk_ids if c in chunks_by_id]
    if not item.chunk_ids or len(cited) != len(item.chunk_ids):
        return "citation missing or unknown"
    answer = options[item.correct_index]
    if not any(supports(chunk.text, answer) for chunk in cited):
        return "cited chunk does not support the answer"
    return None


def validate_objectives(
    objectives: Sequence[Objective],
    chunks_by_id: Mapping[str, Chunk],
    encode: Encode | None = None,
    avoid: Sequence[str] = (),
) -> tuple[list[Objective], list[str]]:
    """Action verb first, length bounds, cited chunks that mention the objective's content words, distinct
    from each other and from `avoid` (normalized equality or embedding cosine > 0.9)."""
    valid: list[Objective] = []
    dropped: list[str] = []
    for objective in objectives:
        reason = objective_problem(objective, chunks_by_id)
        if reason:
            dropped.append(f"{objective.text!r}: {reason}")
        else:
            valid.append(objective)
    kept, duplicates = _drop_duplicates(valid, lambda o: o.text, avoid, encode, OBJECTIVE_DUPLICATE_COSINE)
    return kept, dropped + [f"{o.text!r}: duplicate objective" for o in duplicates]


def shortfall(delivered: int, requested: int, dropped: Sequence[str], topics: Sequence[str] = ()) -> str:
    """Why fewer objectives than asked for, in words for the instructor ("" when the count was met)."""
    if delivered >= requested:
        return ""
    text = f"{delivered} of {requested} objectives: the module's material supports only {delivered} distinct ones"
    if topics:
        text += f" (it covers {', '.join(topics[:6])})"
    reasons: dict[str, int] = {}
    for reason in dropped:
        why = reason.rsplit(": ", 1)[-1]
        reasons[why] = reasons.get(why, 0) + 1
    if reasons:
        text += "; drafts left out: " + ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
    return text + ". Upload more material for this module or write the missing objectives yourself."


def objective_problem(objective: Objective, chunks_by_id: Mapping[str, Chunk]) -> str | None:
    text = objective.text.strip() if isinstance(objective.text, str) else ""
    words = text.split()
    if not words or words[0].strip(",:") not in ACTION_VERBS:
        return "does not start with an action verb"
    if not OBJECTIVE_MIN_WORDS <= len(words) <= OBJECTIVE_MAX_WORDS or len(text) > OBJECTIVE_MAX_CHARS:
        return "length out of bounds"
    cited = [chunks_by_id[c] for c in objective.chunk_ids if c in chunks_by_id]
    if not objective.chunk_ids or len(cited) != len(objective.chunk_ids):
        return "citation missing or unknown"
    if not objective_supported(text, cited):
        return "cited chunks do not mention what the objective is about"
    return None


def objective_supported(text: str, chunks: Sequence[Chunk]) -> bool:
    """At least half of the objective's content words (after the verb) occur in the cited chunks (their text
    or their heading)."""
    words = [w for w in content_words(" ".join(text.split()[1:])) if w not in _OBJECTIVE_FILLER]
    if not words:
        return False
    vocabulary = set(normalize(" ".join(f"{c.heading} {c.text}" for c in chunks)).split())
    stems = {stem(w) for w in vocabulary}
    return sum(w in vocabulary or stem(w) in stems for w in words) / len(words) >= 0.5


_OBJECTIVE_FILLER = frozenset({"explain", "describe", "use", "identify", "example", "give", "role", "used"})


def _drop_duplicates(items, text_of, prior_texts: Sequence[str], encode: Encode | None, threshold: float):
    """Keep items in order unless equal (normalized) or too similar (cosine) to an earlier one or a prior."""
    keys = [normalize(t) for t in prior_texts]
    texts = [text_of(i) for i in items]
    vectors = _vectors(encode, list(prior_texts) + texts)
    anchors = list(range(len(prior_texts)))
    kept, duplicates = [], []
    for offset, item in enumerate(items):
        index = len(prior_texts) + offset
        key = normalize(texts[offset])
        similar = (
            vectors is not None and anchors and float(np.max(vectors[anchors] @ vectors[index])) > threshold
        )
        if key in keys or similar:
            duplicates.append(item)
            continue
        keys.append(key)
        anchors.append(index)
        kept.append(item)
    return kept, duplicates


def _vectors(encode: Encode | None, texts: list[str]) -> np.ndarray | None:
    if encode is None or not texts:
        return None
    return np.asarray(encode([strip_inline(t) for t in texts]), dtype=np.float32)


# ---------------------------------------------------------------------------------------------- grounding


@dataclass(slots=True)
class GroundingReport:
    """How much of a Markdown text is attributable to the chunks it cites.

    Rule: a line carrying citation markers `[n]` is content. Its list bullet, a leading bold/italic label
    ("**Example.**", "**term** \u2014") and the markers are template; every remaining sentence (or table cell
    of three words or more) must occur, normalized, in one of the cited chunks. A fenced code block followed by
    a line that carries markers must occur in a cited chunk as a whole. Lines without markers are template
    (headings, transitions, diagrams) and are only counted.
    """

    checked: int = 0
    grounded: int = 0
    failures: list[str] = field(default_factory=list)
    cited_words: int = 0
    template_words: int = 0
    unknown_markers: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.grounded / self.checked if self.checked else 0.0


def check_grounding(generated: Generated, chunks_by_id: Mapping[str, Chunk]) -> GroundingReport:
    report = GroundingReport()
    lines = generated.markdown.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.strip().startswith("```"):
            index = _check_code(lines, index, generated, chunks_by_id, report)
            continue
        body, markers = trailing_markers(line)
        if markers:
            _check_line(body, markers, generated, chunks_by_id, report)
        elif not line.lstrip().startswith("#"):
            report.template_words += len(strip_inline(line).split())
        index += 1
    return report


def _check_code(lines, start, generated, chunks_by_id, report: GroundingReport) -> int:
    end = start + 1
    while end < len(lines) and not lines[end].strip().startswith("```"):
        end += 1
    following = lines[end + 1] if end + 1 < len(lines) else ""
    markers = trailing_markers(following)[1]
    code = "\n".join(lines[start + 1 : end])
    if markers and not following.strip().startswith("```"):
        _check_piece(code, markers, generated, chunks_by_id, report)
    else:
        report.template_words += len(code.split())
    return end + 1


def trailing_markers(line: str) -> tuple[str, list[int]]:
    """Split "text [1][2]" into ("text", [1, 2]); markers count only at the end of a line (or table row), so
    an index like `names[1]` inside the text is never taken for a citation."""
    match = _TRAILING_MARKERS.search(line)
    if not match:
        return line, []
    return line[: match.start()], [int(n) for n in _MARKER.findall(match.group(0))]


def _check_line(body, markers, generated, chunks_by_id, report: GroundingReport) -> None:
    if body.lstrip().startswith("|"):
        pieces = [c for c in body.strip().strip("|").split("|") if len(c.split()) >= 3]
    else:
        body = _LEADING_LABEL.sub("", _LIST_PREFIX.sub("", body), count=1)
        pieces = split_sentences(body.strip())
    for piece in pieces:
        if len(normalize(piece).split()) >= 2:
            _check_piece(piece, markers, generated, chunks_by_id, report)


def _check_piece(piece: str, markers: list[int], generated: Generated, chunks_by_id, report) -> None:
    report.checked += 1
    report.cited_words += len(strip_inline(piece).split())
    sources = []
    for marker in markers:
        chunk_id = generated.markers.get(marker)
        if chunk_id is None or chunk_id not in chunks_by_id:
            report.unknown_markers.append(marker)
        else:
            sources.append(normalize(chunks_by_id[chunk_id].text))
    needle = normalize(piece)
    if any(f" {needle} " in f" {source} " for source in sources):
        report.grounded += 1
    else:
        report.failures.append(piece.strip()[:160])


__all__ = [
    "BLANK",
    "GroundingReport",
    "check_grounding",
    "option_key",
    "shortfall",
    "supports",
    "validate_objectives",
    "validate_quiz",
]
