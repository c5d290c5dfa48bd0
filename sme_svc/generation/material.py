"""Analysis of a set of chunks that every extractive task starts from: sentences, embeddings, terms."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sme_svc.domain import Chunk
from sme_svc.generation.ranking import EmbeddingCache, centrality, cosine_matrix
from sme_svc.generation.terms import Definition, Term, extract_terms, find_definitions
from sme_svc.generation.text import Block, Sentence, chunk_sentences, code_blocks, words_of

_EXAMPLE_CUE = re.compile(r"(\bfor example\b|\bfor instance\b|\be\.g\.|\bex:)", re.IGNORECASE)
_STEP_CUE = re.compile(r"^(first|second|third|then|next|finally|after that|to [a-z]+\b.*,)", re.IGNORECASE)
_IMPERATIVE = frozenset(
    """add apply avoid build call check choose compare compute create define enter find follow initialize
    keep make move open pass press print read remember replace run save select set start stop test try type
    update use write""".split()
)


@dataclass(slots=True)
class Material:
    chunks: list[Chunk]
    sentences: list[Sentence]
    embeddings: np.ndarray  # one normalized row per sentence
    centrality: np.ndarray
    terms: list[Term]
    definitions: dict[str, Definition]  # term key -> definition
    code: list[tuple[Block, str]]  # (code block, chunk id)
    chunk_by_id: dict[str, Chunk] = field(default_factory=dict)

    def similarity(self, query_vectors: np.ndarray) -> np.ndarray:
        """(len(query_vectors), len(sentences)) cosine matrix."""
        return cosine_matrix(query_vectors, self.embeddings)


def analyze(chunks: Sequence[Chunk], embed: EmbeddingCache) -> Material:
    """Sentences, their embeddings and centrality, key terms and definitions, code blocks. CPU-bound."""
    ordered = sorted(dict.fromkeys(chunks), key=lambda c: (c.file_name, c.file_id, c.ordinal, c.id))
    sentences = chunk_sentences(ordered)
    embeddings = embed([s.plain for s in sentences]) if sentences else np.zeros((0, 384), dtype=np.float32)
    terms = extract_terms(ordered)
    return Material(
        chunks=ordered,
        sentences=sentences,
        embeddings=embeddings,
        centrality=centrality(embeddings),
        terms=terms,
        definitions=find_definitions(terms, sentences),
        code=code_blocks(ordered),
        chunk_by_id={c.id: c for c in ordered},
    )


def is_example(sentence: Sentence) -> bool:
    """An explicit example cue, numbers, or a code span with a call, a literal or an assignment."""
    text = sentence.plain
    code = "".join(re.findall(r"`([^`]+)`", sentence.text))
    return (
        bool(_EXAMPLE_CUE.search(text))
        or any(ch.isdigit() for ch in text)
        or bool(re.search(r"[(=\d\"']", code))
    )


def is_procedural(sentence: Sentence) -> bool:
    """An instruction or a step: imperative first word or an ordering cue ("First, ...", "To do X, ...")."""
    words = words_of(sentence.plain)
    return bool(words) and (words[0] in _IMPERATIVE or bool(_STEP_CUE.match(sentence.plain)))


def is_task(sentence: Sentence) -> bool:
    """An exercise given to the reader ("Write a program that ...")."""
    words = words_of(sentence.plain)
    return len(words) >= 6 and words[0] in {"write", "create", "build", "modify", "try", "change", "design"}
