"""The generator interface shared by every backend (extractive, OpenAI-compatible HTTP, in-process vLLM).

Streaming protocol (`content` and `answer`): an async iterator that yields zero or more `str` Markdown deltas
and then exactly one `Generated` as its LAST item. Concatenating the deltas gives `Generated.markdown`.
Citation markers `[n]` in the Markdown resolve through `Generated.markers[n]` to a chunk id;
`Generated.chunk_ids` lists the cited chunks in order of first citation. Use `collect()` when you only want
the final result, or `iter_deltas()` to stream and keep the final object.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from lmw_common.preferences import Preferences
from sme_svc.domain import Chunk, Generated, Hit, Objective, ObjectiveDrafts, QuizItem

Encode = Callable[[list[str]], np.ndarray]
"""Sentence encoder: texts -> (n, dim) float32, L2-normalized rows (cosine = dot product)."""

# Bloom's taxonomy measurable verbs.
BLOOM_VERBS = frozenset(
    """Access Adapt Add Analyze Annotate Apply Arrange Assess Assign Build Calculate Categorize Choose Classify
    Collect Combine Compare Compose Compute Concatenate Configure Construct Contrast Convert Correct Count Create
    Debug Declare Define Demonstrate Derive Describe Design Determine Develop Diagnose Differentiate Discuss
    Display Distinguish Divide Draw Employ Estimate Evaluate Examine Explain Express Extract Find Format
    Formulate Generate Graph Handle Identify Illustrate Implement Import Index Initialize Install Interpret
    Investigate Iterate Justify Label List Locate Match Measure Modify Multiply Name Obtain Open Order Organize
    Outline Perform Plan Plot Predict Print Propose Prove Raise Read Recall Recognize Relate Represent Run
    Search Select Show Simplify Sketch Solve Sort State Store Subtract Summarize Test Trace Translate Use
    Validate Verify Visualize Write""".split()
)
# Accepted at the start of a learning objective: Bloom's verbs and the observable actions of practical
# subjects, which a section heading often names ("Calling a function", "Overloading operators").
ACTION_VERBS = BLOOM_VERBS | frozenset(
    """Append Call Check Clean Close Copy Decode Delete Encode Filter Inherit Insert Join Load Merge Overload
    Override Remove Rename Replace Return Reverse Save Slice Split Transform Update""".split()
)


class GenerationFailed(Exception):
    """No acceptable output could be produced (after bounded regeneration). Never replaced by a cached success."""


class BackendUnavailable(GenerationFailed):
    """The model server could not be reached or kept failing after bounded retries (maps to UNAVAILABLE)."""


class GeneratorConfigError(ValueError):
    """The backend was asked for with missing or contradictory configuration."""


ContentStream = AsyncIterator[str | Generated]


@runtime_checkable
class Generator(Protocol):
    """Grounded generation over already-retrieved course chunks. All methods are safe to call concurrently."""

    async def objectives(
        self,
        module_title: str,
        module_description: str,
        chunks: Sequence[Chunk],
        count: int = 5,
        avoid: Sequence[str] = (),
    ) -> ObjectiveDrafts:
        """`count` (or fewer) distinct measurable objectives, each citing supporting chunks, and when fewer,
        why (the shortfall a teacher reads in the job's per-module message).

        `avoid` holds objective texts that already exist (other modules, rejected drafts); near-duplicates of
        them are not returned. Raises GenerationFailed when none is acceptable.
        """
        ...

    def content(
        self,
        module_title: str,
        module_description: str,
        objectives: Sequence[Objective],
        chunks: Sequence[Chunk],
        prefs: Preferences,
        recap: Sequence[Objective] = (),
    ) -> ContentStream:
        """Personalized module Markdown: `str` deltas, then one `Generated` (see the module docstring).

        `recap` holds objectives of earlier modules worth revisiting first (e.g. low mastery).
        """
        ...

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
        """Up to `count` validated multiple-choice items (4 options, one correct), spread over the objectives,
        weighted towards `focus_objective_ids`. The same inputs and seed give the same quiz.

        The items that the material supports form the module's bank; questions in `seen_questions` (most
        recent first) are drawn again only when the unseen part of the bank cannot fill the quiz, the
        longest-unseen first. `vocabulary` holds passages from elsewhere in the course: their terms may be
        distractors, never keys or supporting sentences."""
        ...

    def answer(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        hits: Sequence[Hit],
        protected_questions: Sequence[str] = (),
    ) -> ContentStream:
        """Tutor answer: `str` deltas, then one `Generated`; `grounded=False` when the materials do not cover
        the question. `history` is (role, text) with role "user" | "assistant", oldest first. When the question
        matches one of `protected_questions` (open quiz questions) the answer is a hint, not the solution."""
        ...

    def info(self) -> dict[str, str]:
        """{"backend": ..., "model": ..., ...} for GetModelInfo."""
        ...

    async def aclose(self) -> None:
        """Release connections / engines."""
        ...


async def collect(stream: ContentStream) -> Generated:
    """Drain a content/answer stream and return its final `Generated` (checks the protocol)."""
    deltas: list[str] = []
    final: Generated | None = None
    async for item in stream:
        if final is not None:
            raise GenerationFailed("stream yielded after its final Generated")
        if isinstance(item, Generated):
            final = item
        else:
            deltas.append(item)
    if final is None:
        raise GenerationFailed("stream ended without a final Generated")
    if "".join(deltas) != final.markdown:
        raise GenerationFailed("streamed deltas do not add up to the final Markdown")
    return final
