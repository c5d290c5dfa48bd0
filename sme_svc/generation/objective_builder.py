"""Extractive learning objectives: Bloom-verb templates filled from defining sentences, contrasts and tasks."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sme_svc.domain import Objective
from sme_svc.generation.base import ACTION_VERBS
from sme_svc.generation.material import Material, is_task
from sme_svc.generation.ranking import EmbeddingCache, cosine_matrix, mmr
from sme_svc.generation.terms import Definition, Term, terms_in
from sme_svc.generation.text import strip_inline, words_of

_CONTRAST = re.compile(
    r"\b(unlike|whereas|but|instead of|compared|difference|rather than|versus|vs\.?)\b", re.I
)
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
    {"a", "an", "the", "and", "or", "but", "of", "to", "with", "that", "which", "so", "as", "its"}
)
MAX_PREDICATE_WORDS = 12


@dataclass(frozen=True, slots=True)
class Candidate:
    text: str
    chunk_ids: tuple[str, ...]
    prior: float  # 0..1: how central the underlying term or sentence is


def build_objectives(
    material: Material,
    module_query: str,
    count: int,
    avoid: Sequence[str],
    embed: EmbeddingCache,
    module_key: str,
) -> list[Objective]:
    """Rank template candidates by relevance to the module and prior, then pick diverse ones with MMR."""
    candidates = _dedupe(_candidates(material, module_key))
    if not candidates or count <= 0:
        return []
    vectors = embed([c.text for c in candidates])
    query = embed([module_query])
    relevance = cosine_matrix(query, vectors)[0]
    scores = 0.55 * relevance + 0.45 * np.array([c.prior for c in candidates])
    avoid_vectors = embed(list(avoid)) if avoid else np.zeros((0, vectors.shape[1]), dtype=np.float32)
    picked = _pick(scores, vectors, avoid_vectors, count)
    return [_objective(candidates[i], module_key) for i in picked]


def _pick(scores: np.ndarray, vectors: np.ndarray, avoid_vectors: np.ndarray, count: int) -> list[int]:
    """MMR over candidates, with the texts to avoid as pre-selected anchors (near-duplicates > 0.9 drop)."""
    stacked = np.vstack([avoid_vectors, vectors]) if len(avoid_vectors) else vectors
    offset = len(avoid_vectors)
    relevance = np.concatenate([np.full(offset, -1.0), scores]) if offset else scores
    picked = mmr(relevance, stacked, count, diversity=0.35, max_similarity=0.9, preselected=range(offset))
    return [i - offset for i in picked]


def _objective(candidate: Candidate, module_key: str) -> Objective:
    digest = hashlib.sha1(f"{module_key}\n{candidate.text}".encode(), usedforsecurity=False).hexdigest()
    return Objective(id=f"lo-{digest[:10]}", text=candidate.text, chunk_ids=candidate.chunk_ids)


def _candidates(material: Material, title: str = "") -> list[Candidate]:
    top = max((t.score for t in material.terms), default=1.0)
    out = [from_definition(d, d.term.score / top, i) for i, d in enumerate(material.definitions.values())]
    out += _comparisons(material, top)
    out += [c for s in material.sentences if is_task(s) or _starts_with_verb(s.plain) if (c := _from_task(s))]
    if len(out) < 3:  # unmarked material (e.g. PDF text): fall back to frequent multi-word phrases
        phrases = [t for t in material.terms if len(t.key.split()) >= 2][:10]
        out += [_role_of(t, t.score / top, title) for t in phrases]
    if not out:  # nothing term-like at all: one objective per section heading
        out += _from_headings(material)
    return out


def _from_headings(material: Material) -> list[Candidate]:
    headings: dict[str, list[str]] = {}
    for chunk in material.chunks:
        last = chunk.heading.split(" > ")[-1].strip() if chunk.heading else ""
        if 2 <= len(last.split()) <= 8:
            headings.setdefault(last, []).append(chunk.id)
    return [
        Candidate(_finish(f"Describe {h[:1].lower() + h[1:]}"), tuple(ids[:2]), 0.3)
        for h, ids in headings.items()
    ]


def from_definition(definition: Definition, prior: float, variant: int = 0) -> Candidate:
    """ "A for loop iterates over ..." -> "Explain how a for loop iterates over ..."."""
    subject = _lower_article(strip_inline(definition.subject))
    if definition.term.kind == "phrase":  # RAKE phrases are lowercase; "Power grows" -> "power grows"
        subject = subject.casefold()
    verb = definition.verb.casefold()
    predicate = clause(definition.predicate)
    if definition.copular:
        text = f"Define {subject}" if variant % 2 else f"Explain what {subject} {verb}"
    elif verb == "uses" and (purpose := re.search(r"\bto (\w.*)$", predicate)):
        text = f"Use {subject} to {purpose.group(1)}"
    elif predicate.casefold().startswith("when "):
        text = f"Identify when {subject} {verb}"
    else:
        text = f"Explain how {subject} {verb} {predicate}"
    return Candidate(_finish(text), (definition.sentence.chunk_id,), prior)


def _comparisons(material: Material, top: float) -> list[Candidate]:
    """A sentence contrasting two terms of the same group -> "Compare the X and the Y"."""
    out: list[Candidate] = []
    for sentence in material.sentences:
        if not _CONTRAST.search(sentence.plain):
            continue
        pair = _two_terms(terms_in(sentence.plain, material.terms))
        if pair is None:
            continue
        first, second = sorted(pair, key=lambda t: sentence.plain.casefold().find(t.aliases[-1].casefold()))
        verb = "Compare" if len(out) % 2 == 0 else "Distinguish between"
        text = f"{verb} the {first.text} and the {second.text}"
        out.append(Candidate(text, (sentence.chunk_id,), min(first.score, second.score) / top))
    return out


def _two_terms(terms: list[Term]) -> tuple[Term, Term] | None:
    """Two peer terms: marked up, same head noun ("for loop" / "while loop"), neither containing the other."""
    for i, first in enumerate(terms):
        for second in terms[i + 1 :]:
            if (
                "phrase" in (first.kind, second.kind)
                or len(first.key.split()) < 2
                or len(second.key.split()) < 2
            ):
                continue
            if (
                first.key.split()[-1] != second.key.split()[-1]
                or first.key in second.key
                or second.key in first.key
            ):
                continue
            return first, second
    return None


def _from_task(sentence) -> Candidate | None:
    """An exercise or instruction of the material that already reads as an objective."""
    text = strip_inline(sentence.plain).rstrip(".!:")
    if not 5 <= len(words_of(text)) <= 20 or not _starts_with_verb(text):
        return None
    return Candidate(_finish(text), (sentence.chunk_id,), 0.3)


def _role_of(term: Term, prior: float, title: str) -> Candidate:
    scope = f" in {title.casefold()}" if title else ""
    return Candidate(_finish(f"Explain the role of the {term.text}{scope}"), term.chunk_ids[:2], prior * 0.8)


def _starts_with_verb(text: str) -> bool:
    first = text.split(maxsplit=1)[0] if text.split() else ""
    return first in ACTION_VERBS


def clause(predicate: str, max_words: int = MAX_PREDICATE_WORDS, whole: bool = False) -> str:
    """The first clause of a predicate, at most `max_words` words, without dangling stopwords.
    With `whole`, a clause longer than `max_words` gives "" instead of being cut mid-phrase."""
    text = strip_inline(predicate).strip().rstrip(".")
    for brk in _CLAUSE_BREAKS:
        cut = text.find(brk)
        if cut > 0 and len(text[:cut].split()) >= 3:
            text = text[:cut]
    if whole and len(text.split()) > max_words:
        return ""
    words = text.split()[:max_words]
    while words and words[-1].casefold().strip(",;") in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(",;")


def _lower_article(subject: str) -> str:
    first, _, rest = subject.partition(" ")
    return f"{first.casefold()} {rest}" if first.casefold() in ("a", "an", "the") and rest else subject


def _finish(text: str) -> str:
    text = " ".join(text.split()).rstrip(" .,;:")
    return text[:1].upper() + text[1:]


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    seen: set[str] = set()
    out = []
    for candidate in candidates:
        key = candidate.text.casefold()
        if key not in seen:
            seen.add(key)
            out.append(candidate)
    return out
