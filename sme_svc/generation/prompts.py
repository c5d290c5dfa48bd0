"""Prompt building and response parsing shared by the LLM backends (OpenAI-compatible HTTP, in-process vLLM).

Sources are numbered chunks `[1] ...`; models cite by number and `citation_map` turns the numbers back into
chunk ids. Objectives and quizzes are requested as JSON constrained by the schemas below.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lmw_common.preferences import Preferences
from sme_svc.domain import Chunk, Objective, QuizItem
from sme_svc.generation.conversation import NOT_COVERED

Message = dict[str, str]
MAX_SOURCE_CHARS = 1800
_MARKER = re.compile(r"\[(\d+)\]")

OBJECTIVES_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "objectives": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "sources": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["text", "sources"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["objectives"],
    "additionalProperties": False,
}

QUIZ_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "questions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "objective_id": {"type": "string"},
                    "question": {"type": "string"},
                    "options": {"type": "array", "items": {"type": "string"}, "minItems": 4, "maxItems": 4},
                    "correct_index": {"type": "integer", "minimum": 0, "maximum": 3},
                    "explanation": {"type": "string"},
                    "option_notes": {
                        "type": "array",
                        "items": {"type": "string"},
                        "minItems": 4,
                        "maxItems": 4,
                    },
                    "sources": {"type": "array", "items": {"type": "integer"}},
                },
                "required": [
                    "objective_id",
                    "question",
                    "options",
                    "correct_index",
                    "explanation",
                    "option_notes",
                    "sources",
                ],
                "additionalProperties": False,
            },
        }
    },
    "required": ["questions"],
    "additionalProperties": False,
}

_GROUNDING_RULES = (
    "Use only the numbered sources below; never add facts they do not contain. "
    "Cite the sources you use by their number in square brackets, like [2], right after the sentence."
)
# The rules the extractive generator follows, stated for a model (issue 14).
OBJECTIVE_RULES = (
    "Choose each verb by what its source does: a definition -> Define or Identify; a mechanism or a process "
    "-> Explain or Describe; a formula, a quantity or a worked example -> Calculate or Apply; a contrast -> "
    "Compare or Distinguish; a classification -> Classify. Use at least three different verbs when the "
    "sources allow. Each objective is one complete, measurable sentence about one distinct concept: never "
    "cut off mid-phrase, never the set-up of a worked example or an exercise ('Suppose ...', 'Write a "
    "program that ...'). The sources are this module's own material: take objectives from them only. When "
    "they support fewer distinct objectives than asked for, return fewer rather than padding."
)
QUIZ_RULES = (
    "Every question comes from the sources (this module's material). Mix item types: which term matches a "
    "definition, which statement is true, fill in a blank, and a calculation where the sources give the "
    "formula and the values. Distractors are of the same kind as the correct option (a term for a term, a "
    "function for a function, a quantity in the same unit for a quantity, a statement for a statement), "
    "plausible, taken from the course's own terms, never a paraphrase of the correct option; no option may "
    "be ruled in or out by grammar (articles, singular or plural, length, wording copied from the question). "
    "The explanation quotes the source sentence that supports the answer; option_notes give, for each "
    "option in order, why it is wrong where the sources say so ('' for the correct one)."
)
TUTOR_RULES = (
    "Answer with the sentences of the sources that answer the question itself (for 'which category' name "
    'the category). If the sources do not answer it, reply exactly: "' + NOT_COVERED + '" and then name '
    "the closest topics the sources do cover; never answer from general knowledge."
)
DETAIL_INSTRUCTIONS = {
    "brief": "Be brief: one or two key sentences per objective and a two-line summary.",
    "moderate": "Use a moderate level of detail: a short paragraph per objective and a summary.",
    "detailed": "Be detailed: several paragraphs per objective, a 'Going deeper' section and a recap.",
}
STYLE_INSTRUCTIONS = {
    "examples": "Lead every objective with a real example of the same concept from the sources (a worked "
    "example, a 'for example', numbers or code they give), then the concept; where the sources give no "
    "example, say so instead of inventing one.",
    "conceptual": "Lead every objective with the definitions and concepts, then the details.",
    "practical": "For every objective give 'How to apply it' numbered steps, a 'Try it' task and a checklist.",
    "visual": "Use a Markdown table of key terms (term | what it means | source) and bullet lists. Draw an "
    "ASCII diagram (in a ```text block) only where the sources describe ordered steps or a hierarchy of "
    "kinds; never connect unrelated terms.",
}
LANGUAGE_INSTRUCTIONS = {
    "simple": "Use short, plain sentences and add a glossary of the technical terms in plain words. Split a "
    "long sentence only where both parts stay complete sentences; never leave a fragment.",
    "balanced": "Use clear language and introduce each technical term when it first appears.",
    "technical": "Use precise technical terminology and keep code exact.",
}


@dataclass(frozen=True, slots=True)
class Source:
    number: int
    chunk: Chunk


def number_sources(chunks: Sequence[Chunk], limit: int = 24) -> list[Source]:
    """Deduplicated chunks numbered from 1, in the order given (the retrieval order)."""
    unique = list(dict.fromkeys(chunks))[:limit]
    return [Source(i, c) for i, c in enumerate(unique, 1)]


def format_sources(sources: Sequence[Source]) -> str:
    parts = []
    for source in sources:
        chunk = source.chunk
        where = f"{chunk.file_name}" + (f" \u2014 {chunk.heading}" if chunk.heading else "")
        parts.append(f"[{source.number}] ({where})\n{chunk.text[:MAX_SOURCE_CHARS].strip()}")
    return "\n\n".join(parts)


def _system(role: str) -> Message:
    return {"role": "system", "content": f"{role} {_GROUNDING_RULES}"}


def objectives_messages(
    title: str,
    description: str,
    sources: Sequence[Source],
    count: int,
    avoid: Sequence[str],
    feedback: Sequence[str] = (),
) -> list[Message]:
    avoid_text = "\n".join(f"- {a}" for a in avoid) or "(none)"
    user = (
        f"Module: {title}\nDescription: {description}\n\nSources:\n{format_sources(sources)}\n\n"
        f"Write {count} distinct, measurable learning objectives for this module. Each starts with a Bloom "
        "action verb, is one sentence of 2 to 20 words, and lists the numbers of the sources that support it.\n"
        f"{OBJECTIVE_RULES}\n"
        f"Do not repeat or paraphrase these existing objectives:\n{avoid_text}\n"
        'Answer with JSON: {"objectives": [{"text": "...", "sources": [1]}]}'
    )
    return [
        _system("You are an instructional designer."),
        {"role": "user", "content": user + _feedback(feedback)},
    ]


def content_messages(
    title: str,
    description: str,
    objectives: Sequence[Objective],
    sources: Sequence[Source],
    prefs: Preferences,
    recap: Sequence[Objective] = (),
) -> list[Message]:
    prefs = prefs.known()
    goals = "\n".join(f"- {o.text}" for o in objectives)
    recap_text = (
        ("\nBriefly recall these earlier objectives first:\n" + "\n".join(f"- {o.text}" for o in recap))
        if recap
        else ""
    )
    user = (
        f"Module: {title}\nDescription: {description}\nLearning objectives:\n{goals}{recap_text}\n\n"
        f"Sources:\n{format_sources(sources)}\n\n"
        "Write the module as Markdown: a '# title', then one '## section' per objective.\n"
        f"{DETAIL_INSTRUCTIONS[prefs.detail_level]}\n{STYLE_INSTRUCTIONS[prefs.explanation_style]}\n"
        f"{LANGUAGE_INSTRUCTIONS[prefs.language]}\nKeep the definitions the objectives need at every level of "
        "detail. Every paragraph ends with its source numbers, like [1]."
    )
    return [
        _system("You are a tutor writing course material for one learner."),
        {"role": "user", "content": user},
    ]


def quiz_messages(
    title: str,
    objectives: Sequence[Objective],
    sources: Sequence[Source],
    sources_by_objective: Mapping[str, Sequence[int]],
    count: int,
    focus_ids: Sequence[str] = (),
    avoid_questions: Sequence[str] = (),
    feedback: Sequence[str] = (),
    course_terms: Sequence[str] = (),
) -> list[Message]:
    lines = []
    for o in objectives:
        focus = " (focus: ask more about this one)" if o.id in focus_ids else ""
        numbers = ", ".join(str(n) for n in sources_by_objective.get(o.id, ())) or "any"
        lines.append(f"- id {o.id}: {o.text} [sources {numbers}]{focus}")
    avoid_text = (
        ("\nDo not repeat these questions:\n" + "\n".join(f"- {q}" for q in avoid_questions))
        if avoid_questions
        else ""
    )
    if course_terms:
        avoid_text += "\nTerms used elsewhere in the course (distractors only): " + ", ".join(course_terms)
    user = (
        f"Module: {title}\nObjectives:\n" + "\n".join(lines) + f"\n\nSources:\n{format_sources(sources)}\n\n"
        f"Write {count} multiple-choice questions that test these objectives. Each has exactly 4 distinct "
        "options, exactly one correct (correct_index 0-3), an explanation that quotes the source, the source "
        "numbers that contain the correct answer, and the objective id it tests. The correct option must be "
        f"stated in its cited source.\n{QUIZ_RULES}{avoid_text}\n"
        'Answer with JSON: {"questions": [{"objective_id": "...", "question": "...", "options": ["...", "...", '
        '"...", "..."], "correct_index": 0, "explanation": "...", "option_notes": ["", "...", "...", "..."], '
        '"sources": [1]}]}'
    )
    return [
        _system("You are an examiner writing a fair quiz."),
        {"role": "user", "content": user + _feedback(feedback)},
    ]


def answer_messages(
    question: str, history: Sequence[tuple[str, str]], sources: Sequence[Source], hint_for: str | None = None
) -> list[Message]:
    rules = (
        "You are a patient tutor for this course. Answer from the sources only, in a few short paragraphs. "
        f"{TUTOR_RULES} Resolve references such as 'the second one' using the conversation."
    )
    if hint_for:
        rules += (
            f" The learner is asking about an open quiz question ({hint_for!r}): give a hint that points to the "
            "right source and idea, but do NOT state the answer or which option is correct."
        )
    messages: list[Message] = [_system(rules)]
    messages += [
        {"role": "assistant" if role == "assistant" else "user", "content": text}
        for role, text in history[-8:]
    ]
    messages.append(
        {"role": "user", "content": f"Sources:\n{format_sources(sources)}\n\nQuestion: {question}"}
    )
    return messages


def _feedback(dropped: Sequence[str]) -> str:
    if not dropped:
        return ""
    return "\n\nYour previous answer had problems; fix them:\n" + "\n".join(f"- {d}" for d in dropped[:10])


# ------------------------------------------------------------------------------------------------ parsing


def parse_json(text: str) -> dict:
    """The JSON object in a reply, tolerating code fences or prose around it. ValueError if there is none."""
    cleaned = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
    try:
        data = json.loads(cleaned)
    except json.JSONDecodeError:
        start, end = cleaned.find("{"), cleaned.rfind("}")
        if start < 0 or end <= start:
            raise ValueError("reply is not JSON") from None
        try:
            data = json.loads(cleaned[start : end + 1])
        except json.JSONDecodeError as exc:
            raise ValueError(f"reply is not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise ValueError("reply is not a JSON object")
    return data


def source_ids(numbers: object, sources: Sequence[Source]) -> tuple[str, ...]:
    """Source numbers -> chunk ids (unknown numbers dropped, order kept)."""
    by_number = {s.number: s.chunk.id for s in sources}
    if not isinstance(numbers, list):
        return ()
    return tuple(dict.fromkeys(by_number[n] for n in numbers if isinstance(n, int) and n in by_number))


def parse_objectives(text: str, sources: Sequence[Source], module_key: str) -> list[Objective]:
    data = parse_json(text)
    rows = data.get("objectives")
    if not isinstance(rows, list):
        raise ValueError('missing "objectives" list')
    out = []
    for row in rows:
        if isinstance(row, dict) and isinstance(row.get("text"), str):
            body = " ".join(row["text"].split()).rstrip(".")
            out.append(
                Objective(
                    id=_id("lo", module_key, body),
                    text=body,
                    chunk_ids=source_ids(row.get("sources"), sources),
                )
            )
    return out


def parse_quiz(text: str, sources: Sequence[Source]) -> list[QuizItem]:
    data = parse_json(text)
    rows = data.get("questions")
    if not isinstance(rows, list):
        raise ValueError('missing "questions" list')
    out = []
    for row in rows:
        if not isinstance(row, dict):
            continue
        options = row.get("options")
        index = row.get("correct_index")
        notes = row.get("option_notes")
        out.append(
            QuizItem(
                id=_id("q", str(row.get("objective_id", "")), str(row.get("question", ""))),
                objective_id=str(row.get("objective_id", "")),
                question=str(row.get("question", "")).strip(),
                options=tuple(str(o).strip() for o in options) if isinstance(options, list) else (),
                correct_index=index if isinstance(index, int) and not isinstance(index, bool) else -1,
                explanation=str(row.get("explanation", "")).strip(),
                chunk_ids=source_ids(row.get("sources"), sources),
                option_notes=tuple(str(n).strip() for n in notes) if isinstance(notes, list) else (),
            )
        )
    return out


def citation_map(markdown: str, sources: Sequence[Source]) -> tuple[list[str], dict[int, str]]:
    """Chunk ids cited by `[n]` markers (order of first citation) and the marker -> chunk id map."""
    by_number = {s.number: s.chunk.id for s in sources}
    markers: dict[int, str] = {}
    for match in _MARKER.finditer(markdown):
        number = int(match.group(1))
        if number in by_number:
            markers.setdefault(number, by_number[number])
    return list(dict.fromkeys(markers.values())), markers


def _id(prefix: str, scope: str, text: str) -> str:
    digest = hashlib.sha1(f"{scope}\n{text}".encode(), usedforsecurity=False).hexdigest()
    return f"{prefix}-{digest[:10]}"
