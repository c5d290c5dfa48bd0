"""The default CPU backend: objectives, content, quizzes and tutor answers built from the chunks themselves
by selection (sentence embeddings, centrality, MMR) and templates. No model weights beyond the embedder.

Deterministic: the same inputs (and quiz seed) give the same output; ties break by reading order.
CPU-heavy work runs on a small thread pool, never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from lmw_common.preferences import Preferences
from sme_svc.domain import Chunk, Generated, Hit, Objective, ObjectiveDrafts, QuizItem
from sme_svc.generation.base import Encode, GenerationFailed
from sme_svc.generation.composer import Citations, Composer
from sme_svc.generation.conversation import (
    HINT_INTRO,
    contextualize_question,
    not_covered,
    passages_of,
    protected_match,
    referenced_item,
    support,
    where,
)
from sme_svc.generation.material import Material, analyze
from sme_svc.generation.objective_builder import build_objectives, concepts
from sme_svc.generation.quiz_builder import candidate_drafts, draw, shuffled_window
from sme_svc.generation.ranking import EmbeddingCache, mmr
from sme_svc.generation.text import Sentence
from sme_svc.generation.validation import shortfall, validate_objectives, validate_quiz

log = logging.getLogger(__name__)
T = TypeVar("T")
ANSWER_SENTENCES = 3
ANSWER_WINDOW = 0.85  # sentences scoring at least this share of the best one may join it
OVERGENERATE = 3  # objective candidates considered per requested objective


class ExtractiveGenerator:
    def __init__(
        self, encode: Encode, *, max_workers: int = 2, embedder_name: str = "all-MiniLM-L6-v2"
    ) -> None:
        self._embed = EmbeddingCache(encode)
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="extractive")
        self._embedder_name = embedder_name

    def info(self) -> dict[str, str]:
        return {"backend": "extractive", "model": self._embedder_name}

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _offload(self, fn: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, functools.partial(fn, *args))

    # ------------------------------------------------------------------ objectives

    async def objectives(
        self,
        module_title: str,
        module_description: str,
        chunks: Sequence[Chunk],
        count: int = 5,
        avoid: Sequence[str] = (),
    ) -> ObjectiveDrafts:
        return await self._offload(
            self._objectives, module_title, module_description, list(chunks), count, list(avoid)
        )

    def _objectives(self, title: str, description: str, chunks: list[Chunk], count: int, avoid: list[str]):
        material = analyze(chunks, self._embed)
        query = f"{title}. {description}".strip()
        drafts = build_objectives(material, query, count * OVERGENERATE, avoid, self._embed, module_key=title)
        valid, dropped = validate_objectives(drafts, material.chunk_by_id, self._embed, avoid)
        if dropped:
            log.info("objective drafts dropped", extra={"dropped": dropped})
        if not valid:
            raise GenerationFailed(f"no acceptable objective for module {title!r}: {dropped[:3]}")
        topics = [c.name for c in concepts(material)]
        return ObjectiveDrafts(valid[:count], shortfall(len(valid[:count]), count, dropped, topics))

    # ------------------------------------------------------------------ content

    async def content(
        self,
        module_title: str,
        module_description: str,
        objectives: Sequence[Objective],
        chunks: Sequence[Chunk],
        prefs: Preferences,
        recap: Sequence[Objective] = (),
    ) -> AsyncIterator[str | Generated]:
        if not chunks:
            raise GenerationFailed("no course material to build the module from")
        blocks, final = await self._offload(
            self._content,
            module_title,
            module_description,
            list(objectives),
            list(chunks),
            prefs,
            list(recap),
        )
        for block in blocks:
            yield block
        yield final

    def _content(self, title, description, objectives, chunks, prefs: Preferences, recap):
        material = analyze(chunks, self._embed)
        composer = Composer(material, self._embed, title, description, objectives, prefs.known(), recap)
        return composer.markdown_blocks()

    # ------------------------------------------------------------------ quiz

    async def quiz(
        self,
        module_title: str,
        objectives: Sequence[Objective],
        chunks_by_objective: Mapping[str, Sequence[Chunk]],
        count: int = 5,
        focus_objective_ids: Sequence[str] = (),
        seed: int = 0,
        seen_questions: Sequence[str] = (),
        vocabulary: Sequence[Chunk] = (),
    ) -> list[QuizItem]:
        return await self._offload(
            self._quiz,
            list(objectives),
            dict(chunks_by_objective),
            count,
            list(focus_objective_ids),
            seed,
            list(seen_questions),
            list(vocabulary),
        )

    def _quiz(
        self, objectives, chunks_by_objective, count, focus_ids, seed, seen, vocabulary
    ) -> list[QuizItem]:
        all_chunks = [c for chunks in chunks_by_objective.values() for c in chunks]
        if not objectives or not all_chunks:
            raise GenerationFailed("a quiz needs objectives and course material")
        # Keys and their sentences come from each objective's chunks (candidate_drafts); distractors may be
        # terms from anywhere in this material, the course's vocabulary included.
        material = analyze(all_chunks + list(vocabulary), self._embed)
        bank = {
            o.id: shuffled_window(
                candidate_drafts(material, o, chunks_by_objective.get(o.id, ()), self._embed), seed, window=4
            )
            for o in objectives
        }
        ids = [o.id for o in objectives]

        def accept(item: QuizItem, kept: list[QuizItem]) -> bool:
            valid, _ = validate_quiz(
                [item], material.chunk_by_id, self._embed, ids, [i.question for i in kept]
            )
            return bool(valid)

        items = draw(bank, objectives, focus_ids, count, seed, seen, accept)
        if not items:
            raise GenerationFailed("no valid quiz question could be built from the material")
        return items

    # ------------------------------------------------------------------ tutor

    async def answer(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        hits: Sequence[Hit],
        protected_questions: Sequence[str] = (),
    ) -> AsyncIterator[str | Generated]:
        blocks, final = await self._offload(
            self._answer, question, list(history), list(hits), list(protected_questions)
        )
        for block in blocks:
            yield block
        yield final

    def _answer(self, question, history, hits: list[Hit], protected) -> tuple[list[str], Generated]:
        query = contextualize_question(question, history)
        material = analyze([h.chunk for h in hits], self._embed)
        found = support(query, material.sentences, passages_of(material.chunks), self._embed)
        if not found.covered:
            return _single(not_covered(_closest_chunks(material, found.scores)), grounded=False)
        if protected_match(question, protected, self._embed):
            return _hint(material, found.scores)
        return _quote(material, found.scores, referenced_item(question, _last_answer(history)))


def _quote(material: Material, scores: np.ndarray, referent: str) -> tuple[list[str], Generated]:
    """The sentences that best answer the question (the best one, and up to two more close to it and not
    repeating it), grouped per source chunk in reading order, then the source list."""
    best = float(np.max(scores))
    eligible = [i for i in range(len(scores)) if scores[i] >= ANSWER_WINDOW * best]
    chosen = [
        eligible[i] for i in mmr(scores[eligible], material.embeddings[eligible], ANSWER_SENTENCES, 0.3)
    ]
    sentences = sorted((material.sentences[i] for i in chosen), key=lambda s: s.order)
    citations = Citations()
    blocks = [f"About **{referent}**:" if referent else "Here is what the course materials say:"]
    for chunk_id in dict.fromkeys(s.chunk_id for s in sentences):
        group = [s.text for s in sentences if s.chunk_id == chunk_id]
        blocks.append(f"{' '.join(group)} {citations.mark([chunk_id])}")
    blocks.append("**Sources:** " + "; ".join(_source(material, c, n) for c, n in citations.numbers.items()))
    return _finish(blocks, citations)


def _hint(material: Material, sims: np.ndarray) -> tuple[list[str], Generated]:
    """Point at the passage and the idea to think about, without quoting the answer-bearing sentence."""
    top: Sentence = material.sentences[int(np.argmax(sims))]
    chunk = material.chunk_by_id[top.chunk_id]
    citations = Citations()
    marker = citations.mark([top.chunk_id])
    # Name the broad section only: the sub-heading or the key term may be the answer itself.
    section = top.heading.split(" > ")[0] if " > " in top.heading else ""
    place = f"the part on **{section}**" if section else "the relevant passage"
    blocks = [
        HINT_INTRO,
        f"- Re-read {place} in *{chunk.file_name}* {marker}\n"
        "- Put the idea in your own words first, then compare each option with what the passage says and rule "
        "out the ones it contradicts.",
    ]
    return _finish(blocks, citations)


def _closest_chunks(material: Material, scores: np.ndarray) -> list[Chunk]:
    """The chunks in order of their best sentence's score."""
    best: dict[str, float] = {}
    for sentence, score in zip(material.sentences, scores, strict=True):
        best[sentence.chunk_id] = max(best.get(sentence.chunk_id, -1.0), float(score))
    return [material.chunk_by_id[c] for c in sorted(best, key=lambda c: -best[c])]


def _source(material: Material, chunk_id: str, number: int) -> str:
    return f"[{number}] {where(material.chunk_by_id[chunk_id])}"


def _last_answer(history: Sequence[tuple[str, str]]) -> str:
    return next((text for role, text in reversed(history) if role == "assistant"), "")


def _single(text: str, grounded: bool) -> tuple[list[str], Generated]:
    return [text], Generated(markdown=text, chunk_ids=[], grounded=grounded)


def _finish(blocks: list[str], citations: Citations) -> tuple[list[str], Generated]:
    deltas = [b.rstrip() + "\n\n" for b in blocks]
    return deltas, citations.generated("".join(deltas))
