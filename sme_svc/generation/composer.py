"""Extractive module content: the material's own sentences, selected per objective and laid out per preference.

Every sentence taken from a chunk is printed verbatim (or split at a clause boundary for plain language) on a
line that ends with its citation markers, so `validation.check_grounding` can attribute it. Template text
(headings, labels, transitions, the diagram) carries no markers.

Preferences:
- detail: how many sentences per objective; `detailed` adds "Going deeper" and a recap.
- style: the structure: `examples` leads with examples and code, `conceptual` with definitions, `practical`
  turns the material into steps, a "Try it" task and a checklist, `visual` uses a term table, an ASCII
  diagram and bullet lists.
- language: `simple` favours short sentences, splits long ones and adds a plain-words glossary; `technical`
  favours the longer precise sentences and keeps code; `balanced` sits in between.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lmw_common.preferences import Preferences
from sme_svc.domain import Generated, Objective
from sme_svc.generation.material import (
    Material,
    is_example,
    is_procedural,
    is_task,
    kinds_tree,
    ordered_steps,
)
from sme_svc.generation.ranking import EmbeddingCache, cosine_matrix, mmr
from sme_svc.generation.terms import Term, terms_in
from sme_svc.generation.text import Block, Sentence, clause, content_words, split_long_sentence, strip_inline

SENTENCES_PER_OBJECTIVE = {"brief": 2, "moderate": 4, "detailed": 6}
GOING_DEEPER_SENTENCES = 4
RELEVANCE_FLOOR = 0.2  # below this cosine a sentence is off the objective's topic
RELATIVE_WINDOW = 0.3
OWNERSHIP_MARGIN = 0.05
TASK_FLOOR = 0.35  # ... and so is one this far below the objective's best sentence
_DIAGRAM_WIDTH = 34


@dataclass(slots=True)
class Citations:
    """Numbers chunks in order of first citation: the `[n]` markers of the Markdown."""

    numbers: dict[str, int] = field(default_factory=dict)

    def mark(self, chunk_ids: Sequence[str]) -> str:
        for chunk_id in chunk_ids:
            self.numbers.setdefault(chunk_id, len(self.numbers) + 1)
        return "".join(f"[{self.numbers[c]}]" for c in dict.fromkeys(chunk_ids))

    def generated(self, markdown: str) -> Generated:
        ordered = sorted(self.numbers, key=self.numbers.__getitem__)
        return Generated(
            markdown=markdown, chunk_ids=ordered, markers={n: c for c, n in self.numbers.items()}
        )


@dataclass(slots=True)
class Section:
    """The material chosen for one objective."""

    objective: Objective
    sentences: list[Sentence]
    key_term: Term | None
    code: tuple[Block, str] | None


class Composer:
    def __init__(
        self,
        material: Material,
        embed: EmbeddingCache,
        title: str,
        description: str,
        objectives: Sequence[Objective],
        prefs: Preferences,
        recap: Sequence[Objective],
    ) -> None:
        self.material = material
        self.embed = embed
        self.title = title
        self.description = description
        self.objectives = list(objectives)
        self.prefs = prefs
        self.recap = list(recap)
        self.citations = Citations()

    # ------------------------------------------------------------------ selection

    def sections(self) -> list[Section]:
        """Per objective, the most relevant sentences (MMR), biased by style and language.

        Each sentence belongs to the objective it is closest to (ties: the earlier one), so an early objective
        cannot take the sentence that defines a later objective's term; near-ties may be shared once.
        """
        if not self.objectives or not self.material.sentences:
            return [Section(o, [], None, None) for o in self.objectives]
        sims = self.material.similarity(self.embed([o.text for o in self.objectives]))
        bonus = np.array(
            [
                [0.15 if s.chunk_id in o.chunk_ids else 0.0 for s in self.material.sentences]
                for o in self.objectives
            ]
        )
        affinity = sims + bonus
        owner = np.argmax(affinity, axis=0)
        used: set[int] = set()
        sections = []
        for index, objective in enumerate(self.objectives):
            own = affinity[index] >= affinity[owner, np.arange(len(owner))] - OWNERSHIP_MARGIN
            picked = self._pick(sims[index], affinity[index], own, objective, used)
            needed = self._definition_needed(objective)
            if needed is not None and needed not in picked and needed not in used:
                picked = [needed, *picked][: self._count()]  # every detail level keeps the definitions
            used.update(picked)
            sentences = [self.material.sentences[i] for i in picked]
            sections.append(Section(objective, sentences, self._key_term(objective, sentences), None))
        taken: set[int] = set()
        for section in sections:
            section.code = self._code_for(section, taken)
        return sections

    def _pick(
        self,
        similarity: np.ndarray,
        affinity: np.ndarray,
        own: np.ndarray,
        objective: Objective,
        used: set[int],
    ) -> list[int]:
        sentences = self.material.sentences
        best = float(np.max(similarity))
        closeness = np.clip(similarity / best, 0.0, 1.0) if best > 0 else np.zeros_like(similarity)
        # Style/language preferences re-rank sentences that are on topic; they never pull in off-topic ones.
        bias = np.array([self._bias(s) for s in sentences]) * closeness
        relevance = affinity + bias + 0.1 * self.material.centrality
        floor = max(RELEVANCE_FLOOR, best - RELATIVE_WINDOW)
        eligible = [i for i in range(len(sentences)) if i not in used and own[i] and similarity[i] >= floor]
        if not eligible:
            eligible = [i for i in np.argsort(-affinity, kind="stable")[:1] if i not in used]
        chosen = mmr(relevance[eligible], self.material.embeddings[eligible], self._count(), diversity=0.3)
        return [eligible[i] for i in chosen]

    def _definition_needed(self, objective: Objective) -> int | None:
        """The index of the sentence defining the first term the objective names, if the material has one."""
        for term in sorted(
            terms_in(objective.text, self.material.terms), key=lambda t: objective.text.casefold().find(t.key)
        ):
            definition = self.material.definitions.get(term.key)
            if definition is not None and definition.sentence in self.material.sentences:
                return self.material.sentences.index(definition.sentence)
        return None

    def _count(self) -> int:
        return SENTENCES_PER_OBJECTIVE[self.prefs.detail_level]

    def _bias(self, sentence: Sentence) -> float:
        bias = 0.0
        style = self.prefs.explanation_style
        if (
            style == "examples"
            and is_example(sentence)
            or style == "practical"
            and (is_procedural(sentence) or is_task(sentence))
            or style in ("conceptual", "visual")
            and self._is_definition(sentence)
        ):
            bias += 0.12
        if self.prefs.language == "simple":
            bias -= 0.012 * max(0, sentence.words - 14)
        elif self.prefs.language == "technical":
            bias += 0.004 * min(sentence.words, 35)
        return bias

    def _is_definition(self, sentence: Sentence) -> bool:
        return any(d.sentence == sentence for d in self.material.definitions.values())

    def _key_term(self, objective: Objective, sentences: list[Sentence]) -> Term | None:
        named = [t for t in terms_in(objective.text, self.material.terms) if t.kind != "phrase"]
        if named:
            return min(named, key=lambda t: objective.text.casefold().find(t.text.casefold()))
        mentioned = [t for s in sentences for t in terms_in(s.plain, self.material.terms)]
        return max(mentioned, key=lambda t: t.score, default=None)

    def _code_for(self, section: Section, taken: set[int]) -> tuple[Block, str] | None:
        """The unused code block sharing most words with the objective, from a chunk the section uses."""
        chunk_ids = {s.chunk_id for s in section.sentences} | set(section.objective.chunk_ids)
        words = set(content_words(section.objective.text))
        best, best_overlap = -1, 0
        for index, (block, chunk_id) in enumerate(self.material.code):
            if chunk_id not in chunk_ids or index in taken:
                continue
            overlap = len(words & set(content_words(block.text + " " + block.context))) + 1
            if overlap > best_overlap:
                best, best_overlap = index, overlap
        if best < 0:
            return None
        taken.add(best)
        return self.material.code[best]

    # ------------------------------------------------------------------ rendering

    def blocks(self) -> list[str]:
        """The document as Markdown blocks (each a streamable delta ending in a blank line)."""
        sections = self.sections()
        out = self._intro()
        if self.prefs.explanation_style == "visual":
            out += self._term_table(sections) + self._diagram(sections)
        for section in sections:
            out += self._section(section)
        if self.prefs.language == "simple" and self.prefs.explanation_style != "visual":
            out += self._glossary(sections)  # visual's term table already gives the plain meanings
        out += self._closing(sections)
        return [block.rstrip() + "\n\n" for block in out if block.strip()]

    def _intro(self) -> list[str]:
        out = [f"# {self.title}"]
        if self.description:
            out.append(self.description.strip())
        if self.recap:
            out.append("**Before you start, recall:**\n\n" + "\n".join(f"- {o.text}" for o in self.recap))
        if self.objectives:
            out.append("**In this module you will:**\n\n" + "\n".join(f"- {o.text}" for o in self.objectives))
        return out

    def _section(self, section: Section) -> list[str]:
        head = [f"## {section.objective.text}"]
        if not section.sentences:
            return head + ["The course materials say little about this objective yet."]
        render = {
            "examples": self._examples_first,
            "conceptual": self._concepts_first,
            "practical": self._practical,
            "visual": self._visual,
        }[self.prefs.explanation_style]
        return head + render(section)

    def _concepts_first(self, section: Section) -> list[str]:
        definitions = [s for s in section.sentences if self._is_definition(s)] or section.sentences[:1]
        key = section.key_term.key if section.key_term else ""
        definitions.sort(
            key=lambda s: (
                self.material.definitions.get(key) is None or self.material.definitions[key].sentence != s
            )
        )
        details = _in_reading_order([s for s in section.sentences if s not in definitions])
        out = [self._paragraph(definitions, label="**Key idea.**")]
        if details:
            out.append(self._paragraph(details))
        if section.code and self.prefs.language == "technical":
            out.append(self._code(section.code))
        return out

    def _examples_first(self, section: Section) -> list[str]:
        """Real examples of the objective's concept first (from the section, else the material's best one
        for it), then the idea; an objective the material gives no example for says so."""
        examples = self._examples_of(section)
        concepts = _in_reading_order([s for s in section.sentences if s not in examples])
        out = []
        if examples or section.code:
            out.append(self._paragraph(examples, label="**Example.**") if examples else "**Example.**")
            if section.code:
                out.append(self._code(section.code))
        else:
            out.append("*The material gives no worked example of this; here is the idea.*")
        if concepts:
            out.append(self._paragraph(concepts, label="**The idea behind it.**"))
        return out

    def _practical(self, section: Section) -> list[str]:
        tasks = [s for s in section.sentences if is_task(s)] or self._owned(section, is_task)
        steps = [s for s in section.sentences if is_procedural(s) and s not in tasks]
        context = [s for s in section.sentences if s not in steps and s not in tasks]
        lead, points = context[:1], _in_reading_order(context[1:])
        out = [self._paragraph(lead)] if lead else []
        if steps:
            numbered = [
                f"{i}. {self._sentence(s)} {self.citations.mark([s.chunk_id])}"
                for i, s in enumerate(steps, 1)
            ]
            out.append("**How to apply it**\n\n" + "\n".join(numbered))
        if points:
            bullets = [f"- {self._sentence(s)} {self.citations.mark([s.chunk_id])}" for s in points]
            out.append("**Keep in mind**\n\n" + "\n".join(bullets))
        if section.code:
            out.append(self._code(section.code))
        out.append(self._try_it(section, tasks))
        out.append(f"- [ ] I can {_lower_first(section.objective.text)}.")
        return out

    def _examples_of(self, section: Section) -> list[Sentence]:
        """Examples of the objective's own concept: from where its best sentence is, else among its
        sentences, else the material's example that fits the objective best."""
        if not section.sentences:
            return []
        top = section.sentences[0]
        near = [s for s in self.material.sentences if (s.chunk_id, s.heading) == (top.chunk_id, top.heading)]
        return (
            [s for s in near if is_example(s)][:2]
            or [s for s in section.sentences if is_example(s)]
            or self._owned(section, is_example)
        )

    def _owned(self, section: Section, kind: Callable[[Sentence], bool]) -> list[Sentence]:
        """The sentence of a kind (an exercise, an example) from anywhere in the material that fits this
        objective best, if it fits no other objective better and is close enough to it."""
        candidates = [i for i, s in enumerate(self.material.sentences) if kind(s)]
        if not candidates or not self.objectives:
            return []
        sims = self.material.similarity(self.embed([o.text for o in self.objectives]))[:, candidates]
        mine = self.objectives.index(section.objective)
        owned = [(sims[mine, k], -i) for k, i in enumerate(candidates) if int(np.argmax(sims[:, k])) == mine]
        best = max(owned, default=None)
        return [self.material.sentences[-best[1]]] if best and best[0] >= TASK_FLOOR else []

    def _try_it(self, section: Section, tasks: list[Sentence]) -> str:
        if tasks:
            return f"**Try it:** {self._sentence(tasks[0])} {self.citations.mark([tasks[0].chunk_id])}"
        topic = f"the {section.key_term.text}" if section.key_term else "this idea"
        return f"**Try it:** write a small example of your own that uses {topic}, then check it against the material above."

    def _visual(self, section: Section) -> list[str]:
        bullets = [f"- {self._sentence(s)} {self.citations.mark([s.chunk_id])}" for s in section.sentences]
        out = ["\n".join(bullets)]
        if section.code and self.prefs.detail_level != "brief":
            out.append(self._code(section.code))
        return out

    def _term_table(self, sections: list[Section]) -> list[str]:
        rows = []
        for term, definition in self._defined_terms(sections, limit=8):
            meaning = _table_cell(_meaning(definition))
            rows.append(
                f"| {term.text} | {meaning} | {self.citations.mark([definition.sentence.chunk_id])} |"
            )
        if not rows:
            return []
        title = "## Key terms at a glance" + (" (in plain words)" if self.prefs.language == "simple" else "")
        return [title, "| Term | What it means | Source |\n|---|---|---|\n" + "\n".join(rows)]

    def _diagram(self, sections: list[Section]) -> list[str]:
        """A diagram only of what the material lays out as a structure: its ordered steps (a flow) or a
        kind of thing and its types (a tree). Anything else is better served by the term table."""
        chunk_ids = {s.chunk_id for section in sections for s in section.sentences}
        steps = ordered_steps(self.material, chunk_ids)
        if steps:
            boxes = [_box(_wrap(f"{n}. {strip_inline(s.plain)}", 4)) for n, s in enumerate(steps, 1)]
            arrow = " " * (_DIAGRAM_WIDTH // 2) + "|\n" + " " * (_DIAGRAM_WIDTH // 2) + "v"
            citation = self.citations.mark(list(dict.fromkeys(s.chunk_id for s in steps)))
            flow = "```text\n" + f"\n{arrow}\n".join(boxes) + "\n```"
            return ["## The steps at a glance", flow, f"*Drawn from* {citation}"]  # a drawing, not a quote
        tree = kinds_tree(self.material, chunk_ids)
        if tree:
            root, kinds = tree
            branches = [f"{'└──' if i == len(kinds) - 1 else '├──'} {k.text}" for i, k in enumerate(kinds)]
            citation = self.citations.mark(list(dict.fromkeys(k.chunk_ids[0] for k in kinds)))
            drawing = "```text\n" + "\n".join([root, *branches]) + "\n```"
            return ["## The kinds at a glance", drawing, f"*Drawn from* {citation}"]
        return []

    def _glossary(self, sections: list[Section]) -> list[str]:
        entries = [
            f"- **{term.text}** \u2014 {_meaning(definition)} {self.citations.mark([definition.sentence.chunk_id])}"
            for term, definition in self._defined_terms(sections, limit=6)
        ]
        return ["## Glossary (in plain words)", "\n".join(entries)] if entries else []

    def _closing(self, sections: list[Section]) -> list[str]:
        detail = self.prefs.detail_level
        if detail == "brief":
            terms = [t.text for t, _ in self._defined_terms(sections, limit=6)]
            return ["## In short", f"Key terms: {', '.join(terms)}."] if len(terms) >= 2 else []
        if detail == "moderate":
            return self._recap(sections, "## Summary", labelled=False)
        return self._going_deeper(sections) + self._recap(sections, "## Recap", labelled=True)

    def _going_deeper(self, sections: list[Section]) -> list[str]:
        used = {s for section in sections for s in section.sentences}
        query = self.embed([f"{self.title}. {self.description}"])
        relevance = cosine_matrix(query, self.material.embeddings)[0] + 0.1 * self.material.centrality
        pool = [
            i
            for i, s in enumerate(self.material.sentences)
            if s not in used and relevance[i] >= RELEVANCE_FLOOR
        ]
        chosen = mmr(relevance[pool], self.material.embeddings[pool], GOING_DEEPER_SENTENCES, diversity=0.4)
        extra = _in_reading_order([self.material.sentences[pool[i]] for i in chosen])
        return ["## Going deeper", self._paragraph(extra)] if extra else []

    def _recap(self, sections: list[Section], title: str, labelled: bool) -> list[str]:
        """The key sentence of each objective, optionally labelled with the objective."""
        lines = []
        for section in sections:
            if not section.sentences:
                continue
            key = section.sentences[0]
            label = f"**{section.objective.text}.** " if labelled else ""
            lines.append(f"- {label}{self._sentence(key)} {self.citations.mark([key.chunk_id])}")
        return [title, "\n".join(lines)] if lines else []

    def _defined_terms(self, sections: list[Section], limit: int):
        """(term, definition) for the terms the chosen sentences mention, most important first."""
        text = " ".join(s.plain for section in sections for s in section.sentences)
        named = [t for t in terms_in(text, self.material.terms) if t.key in self.material.definitions]
        named.sort(key=lambda t: (-t.score, t.key))
        return [(t, self.material.definitions[t.key]) for t in named[:limit]]

    # ------------------------------------------------------------------ sentence-level helpers

    def _paragraph(self, sentences: list[Sentence], label: str = "") -> str:
        if not sentences:
            return label
        body = " ".join(self._sentence(s) for s in sentences)
        marks = self.citations.mark([s.chunk_id for s in sentences])
        return f"{label} {body} {marks}".strip()

    def _sentence(self, sentence: Sentence) -> str:
        if self.prefs.language == "simple":
            return " ".join(split_long_sentence(sentence.text))
        return sentence.text

    def _code(self, code: tuple[Block, str]) -> str:
        block, chunk_id = code
        return (
            f"```{block.info}\n{block.text}\n```\n*Code from the material* {self.citations.mark([chunk_id])}"
        )

    def markdown_blocks(self) -> tuple[list[str], Generated]:
        blocks = self.blocks()
        return blocks, self.citations.generated("".join(blocks))


def _meaning(definition) -> str:
    """What a term means, as a verbatim span of its defining sentence: "a loop inside ..." / "skips ..."."""
    predicate = clause(definition.predicate, max_words=24, whole=True)
    if not predicate:  # too long to show whole: the whole defining sentence instead
        return definition.sentence.text.rstrip(".")
    return predicate if definition.copular else f"{definition.verb} {predicate}"


def _in_reading_order(sentences: list[Sentence]) -> list[Sentence]:
    return sorted(sentences, key=lambda s: s.order)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _short(text: str, words: int) -> str:
    return " ".join(strip_inline(text).split()[:words])


def _table_cell(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("|", "\\|")).strip()


def _wrap(text: str, max_lines: int) -> list[str]:
    """Text in lines that fit a diagram box, the last one ending in "..." when it had to stop early."""
    width = _DIAGRAM_WIDTH - 4
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word[:width])
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 3] + "..."
    return lines


def _box(rows: list[str]) -> str:
    inner = _DIAGRAM_WIDTH - 4
    border = "+" + "-" * (inner + 2) + "+"
    body = [f"| {row[:inner].ljust(inner)} |" for row in rows]
    return "\n".join([border, *body, border])
