"""What the LLM backends share: prompting, parsing, validation with bounded regeneration, tutor decisions.

A backend only implements the transport: `complete` (one reply, optionally JSON-schema constrained) and
`stream` (text deltas).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping, Sequence

from lmw_common.preferences import Preferences
from sme_svc.domain import Chunk, Generated, Hit, Objective, ObjectiveDrafts, QuizItem
from sme_svc.generation import prompts
from sme_svc.generation.base import Encode, GenerationFailed
from sme_svc.generation.conversation import (
    NOT_COVERED,
    contextualize_question,
    not_covered,
    passages_of,
    protected_match,
    support,
)
from sme_svc.generation.ranking import EmbeddingCache
from sme_svc.generation.text import bold_terms, chunk_sentences
from sme_svc.generation.validation import shortfall, validate_objectives, validate_quiz

log = logging.getLogger(__name__)


class LLMGenerator(ABC):
    backend_name = "llm"

    def __init__(
        self,
        encode: Encode,
        *,
        model: str,
        max_regenerations: int = 2,
        temperature: float = 0.2,
        max_tokens: int = 2048,
    ) -> None:
        self._embed = EmbeddingCache(encode)
        self.model = model
        self.max_regenerations = max_regenerations
        self.temperature = temperature
        self.max_tokens = max_tokens

    # ------------------------------------------------------------------ transport (backend-specific)

    @abstractmethod
    async def complete(self, messages: list[prompts.Message], *, schema: dict | None = None) -> str:
        """The whole reply; constrained to `schema` (JSON) when given."""

    @abstractmethod
    def stream(self, messages: list[prompts.Message]) -> AsyncIterator[str]:
        """The reply as text deltas."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        pass

    def info(self) -> dict[str, str]:
        return {"backend": self.backend_name, "model": self.model}

    # ------------------------------------------------------------------ objectives

    async def objectives(
        self,
        module_title: str,
        module_description: str,
        chunks: Sequence[Chunk],
        count: int = 5,
        avoid: Sequence[str] = (),
    ) -> ObjectiveDrafts:
        sources = prompts.number_sources(chunks)
        chunk_by_id = {s.chunk.id: s.chunk for s in sources}
        accepted: list[Objective] = []
        feedback: list[str] = []
        for _attempt in range(1 + self.max_regenerations):
            known = [*avoid, *(o.text for o in accepted)]
            messages = prompts.objectives_messages(
                module_title, module_description, sources, count - len(accepted), known, feedback
            )
            reply = await self.complete(messages, schema=prompts.OBJECTIVES_SCHEMA)
            try:
                drafts = prompts.parse_objectives(reply, sources, module_title)
            except ValueError as exc:
                feedback = [str(exc)]
                continue
            valid, feedback = await asyncio.to_thread(
                validate_objectives, drafts, chunk_by_id, self._embed, known
            )
            accepted += valid
            if len(accepted) >= count:
                break
        if not accepted:
            raise GenerationFailed(
                f"no acceptable objective after {1 + self.max_regenerations} attempts: {feedback[:3]}"
            )
        return ObjectiveDrafts(accepted[:count], shortfall(len(accepted[:count]), count, feedback))

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
        sources = prompts.number_sources([c for chunks in chunks_by_objective.values() for c in chunks])
        number_of = {s.chunk.id: s.number for s in sources}
        by_objective = {
            o: [number_of[c.id] for c in cs if c.id in number_of] for o, cs in chunks_by_objective.items()
        }
        chunk_by_id = {s.chunk.id: s.chunk for s in sources}
        objective_ids = [o.id for o in objectives]
        course_terms = list(dict.fromkeys(t for c in vocabulary for t in bold_terms(c.text)))[:40]
        accepted: list[QuizItem] = []
        feedback: list[str] = []
        for _attempt in range(1 + self.max_regenerations):
            asked = [i.question for i in accepted]
            messages = prompts.quiz_messages(
                module_title,
                objectives,
                sources,
                by_objective,
                count - len(accepted),
                focus_objective_ids,
                [
                    *asked,
                    *seen_questions[:50],
                ],  # the learner's earlier questions: the bank's unseen part first
                feedback,
                course_terms,
            )
            reply = await self.complete(messages, schema=prompts.QUIZ_SCHEMA)
            try:
                drafts = prompts.parse_quiz(reply, sources)
            except ValueError as exc:
                feedback = [str(exc)]
                continue
            valid, feedback = await asyncio.to_thread(
                validate_quiz, drafts, chunk_by_id, self._embed, objective_ids, asked
            )
            accepted += valid
            if len(accepted) >= count:
                break
        if not accepted:
            raise GenerationFailed(
                f"no valid quiz question after {1 + self.max_regenerations} attempts: {feedback[:3]}"
            )
        return accepted[:count]

    # ------------------------------------------------------------------ streaming content and answers

    async def content(
        self,
        module_title: str,
        module_description: str,
        objectives: Sequence[Objective],
        chunks: Sequence[Chunk],
        prefs: Preferences,
        recap: Sequence[Objective] = (),
    ) -> AsyncIterator[str | Generated]:
        sources = prompts.number_sources(chunks)
        messages = prompts.content_messages(
            module_title, module_description, objectives, sources, prefs, recap
        )
        async for item in self._streamed(messages, sources):
            yield item

    async def answer(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        hits: Sequence[Hit],
        protected_questions: Sequence[str] = (),
    ) -> AsyncIterator[str | Generated]:
        chunks = [h.chunk for h in hits]
        query = contextualize_question(question, history)
        decline, protected = await asyncio.to_thread(
            self._tutor_decision, query, question, chunks, protected_questions
        )
        if decline:
            yield decline
            yield Generated(markdown=decline, chunk_ids=[], grounded=False)
            return
        sources = prompts.number_sources(chunks)
        messages = prompts.answer_messages(question, history, sources, hint_for=protected)
        async for item in self._streamed(messages, sources):
            yield item

    def _tutor_decision(self, query: str, question: str, chunks: list[Chunk], protected: Sequence[str]):
        """(the decline when the materials do not cover the question, else "", and the protected question
        asked about or None), decided exactly as the extractive backend decides: no model call to decline."""
        sentences = chunk_sentences(chunks)
        found = support(query, sentences, passages_of(chunks), self._embed)
        if not found.covered:
            return not_covered(chunks), None
        return "", protected_match(question, protected, self._embed)

    async def _streamed(self, messages, sources) -> AsyncIterator[str | Generated]:
        """The model's reply as deltas, then its Generated; a reply that declines is not grounded."""
        parts: list[str] = []
        async for delta in self.stream(messages):
            if delta:
                parts.append(delta)
                yield delta
        markdown = "".join(parts)
        if not markdown.strip():
            raise GenerationFailed("the model returned an empty reply")
        chunk_ids, markers = prompts.citation_map(markdown, sources)
        grounded = not markdown.lstrip().startswith(NOT_COVERED)
        yield Generated(markdown=markdown, chunk_ids=chunk_ids, grounded=grounded, markers=markers)
