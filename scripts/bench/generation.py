"""What the CPU (extractive) generator writes, measured the way a teacher would judge it.

    .venv/bin/python scripts/bench/generation.py [--corpus DIR] [--uncovered FILE] [--json FILE] [--limit N]

The course: without --corpus, the sample course (scripts/sample_course/course.json: its modules and their files);
with --corpus DIR, every document under DIR is one module (title = its first heading) of one course. Every file is
parsed and chunked by sme_svc.ingest with its module, embedded by the service's embedder, and searched by the real
Retriever; every figure comes from sme_svc's generation use case (module scoping, quiz bank and tutor included).

Figures, per module and overall (no thresholds: the targets of issue 14 are printed beside them):
- objectives: coverage (when DIR or its parent has sections.jsonl with reference objectives: mean over reference
  objectives of the best all-MiniLM-L6-v2 cosine to a generated one), delivered share of the count asked for and
  whether a shortfall is explained, distinct verbs (per course and per module), defects (truncated or malformed
  objectives, judged by the rules below, independent of the generator's own validation);
- quiz: share of items citing only the module's own files, distractors of the same kind as the key (number,
  code, statement, term; terms also agree in number), items answerable by grammar (an article before the blank
  or a verb that agrees with only some options), item types, explanations that quote and cite, retake novelty
  (share of a retake's items the learner has not seen, drawn as the orchestrator draws it);
- content: share of citations from the module's own files (and course-wide ones), grounded share of cited
  sentences (validation.check_grounding), for four preference sets;
- tutor: on covered questions (DIR/questions.jsonl, asked from the module of their `file`): declined share, share
  citing the question's file, share quoting `answer_contains` where given; on uncovered questions (--uncovered,
  default DIR/uncovered.jsonl or scripts/sample_course/uncovered.jsonl): declined share.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from common import SAMPLE_COURSE, corpus_documents, print_table, write_json

from lmw_common.filetypes import detect_media_type
from lmw_common.preferences import Preferences
from sme_svc.app.generation import Generation
from sme_svc.app.retrieval import Search
from sme_svc.domain import Chunk, ObjectiveDrafts, StoredCourse
from sme_svc.generation.base import GenerationFailed
from sme_svc.generation.extractive import ExtractiveGenerator
from sme_svc.generation.validation import check_grounding
from sme_svc.ingest.chunking import chunk_sections, text_for_embedding
from sme_svc.ingest.parsing import parse
from sme_svc.retrieval.embedder import get_embedder
from sme_svc.retrieval.retriever import Retriever

COURSE_ID = "bench"
PREFERENCE_SETS = [
    Preferences("brief", "visual", "simple"),
    Preferences("moderate", "conceptual", "balanced"),
    Preferences("moderate", "examples", "balanced"),
    Preferences("detailed", "practical", "technical"),
]
TARGETS = {
    "objective_coverage": ">= 0.70",
    "quiz_items_own_module": "1.00",
    "content_citations_own_module": ">= 0.90",
    "uncovered_declined": ">= 0.90",
    "covered_declined": "<= 0.05",
    "objectives_defective": "0",
    "course_verbs": ">= 3",
}
SEEDS = (11, 12)


@dataclass
class Module:
    id: str
    title: str
    description: str
    files: list[Path]
    reference: list[str] = field(default_factory=list)  # reference objectives, when the corpus has them


# ------------------------------------------------------------------------------------------------ course


def load_sample_course() -> list[Module]:
    course = json.loads((SAMPLE_COURSE / "course.json").read_text())
    return [
        Module(
            f"m{n}", spec["title"], spec.get("description", ""), [SAMPLE_COURSE / f for f in spec["files"]]
        )
        for n, spec in enumerate(course["modules"], 1)
    ]


def load_corpus(corpus: Path) -> list[Module]:
    references = _reference_objectives(corpus)
    return [
        Module(f"m{n}", _title(path), "", [path], references.get(_relative(path, corpus), []))
        for n, path in enumerate(corpus_documents(corpus), 1)
    ]


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _reference_objectives(corpus: Path) -> dict[str, list[str]]:
    for candidate in (corpus / "sections.jsonl", corpus.parent / "sections.jsonl"):
        if candidate.exists():
            rows = [json.loads(line) for line in candidate.read_text().splitlines() if line.strip()]
            return {row["file"]: row.get("objectives", []) for row in rows}
    return {}


def _title(path: Path) -> str:
    if path.suffix.lower() in (".md", ".markdown", ".txt"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return re.sub(r"^[\d.\-_ ]+", "", path.stem).replace("-", " ").strip().capitalize() or path.stem


def chunk_file(path: Path, file_id: str, module_id: str) -> list[Chunk]:
    data = path.read_bytes()
    sections = parse(data, detect_media_type(data, path.name))
    return chunk_sections(
        sections,
        course_id=COURSE_ID,
        file_id=file_id,
        file_name=path.name,
        file_sha256="-",
        module_id=module_id,
    )


class MemoryChunks:
    """The course's chunks and embeddings in memory, as the Retriever reads them from MongoDB."""

    def __init__(self, chunks: list[Chunk], embeddings: np.ndarray, encoder_id: str) -> None:
        self._course = StoredCourse(1, chunks, embeddings, [encoder_id] * len(chunks))

    async def get_version(self, course_id: str) -> int:
        return 1

    async def load_course(self, course_id: str) -> StoredCourse:
        return self._course


# ------------------------------------------------------------------------------------------------ judging

_DANGLING = frozenset(
    """a an the and or but nor of to with from for in on at by as that which who whose than into onto its their
    this these those such e.g i.e""".split()
)
_SETUP = re.compile(
    r"^(suppose|consider|imagine|given|assume|let|write a program|a programmer|ex\b)|\bex:|\?$|\bfor example\b",
    re.IGNORECASE,
)


_CLAUSE_START = frozenset("and or but so because although whereas which".split())


def objective_defect(text: str, verbs: frozenset[str], sources: str) -> str:
    """Why a teacher would reject the objective's form ("" when none): truncated (a dangling last word, or its
    last words cut out of a source sentence mid-clause), unbalanced, a worked example's set-up, markup left
    in, no action verb, too long."""
    words = text.split()
    if not words or words[0] not in verbs:
        return "no action verb"
    if words[-1].casefold().strip(".,;:") in _DANGLING or text.rstrip().endswith((",", ":", ";", "-")):
        return "truncated"
    if len(words) >= 7 and words[-1] not in ("is", "are") and _cut_from(" ".join(words[-4:]), sources):
        return "truncated"
    if any(text.count(a) != text.count(b) for a, b in ("()", "[]", "{}")) or text.count('"') % 2:
        return "unbalanced"
    if text.count("`") or "**" in text or "|" in text or re.search(r"\[\d+\]", text):
        return "markup"
    if _SETUP.search(text):
        return "set-up"
    if len(words) > 25:
        return "too long"
    return ""


def _cut_from(tail: str, sources: str) -> bool:
    """The tail occurs in the sources only with the sentence going on after it (not at a clause boundary)."""
    plain = re.sub(r"[ \t]+", " ", re.sub(r"[*`]", "", sources))
    found = [m.end() for m in re.finditer(re.escape(tail), plain, re.IGNORECASE)]
    if not found:
        return False
    for end in found:
        after = plain[end : end + 40]
        # A comma, a full stop, the end or a new line starting a capitalized word: the clause was whole.
        word = re.match(r"(?: |\n(?=[a-z]))([A-Za-z]+)", after)
        if not word or word.group(1).casefold() in _CLAUSE_START:
            return False
    return True


_NUMBER = re.compile(r"^[-+]?[\d.,]+\s*(%|percent|[a-zA-Z/]{1,6})?$")


def option_kind(option: str) -> str:
    text = option.strip().strip("`*").strip()
    if _NUMBER.match(text) or re.fullmatch(r"[-+]?\d[\d.,]*\s*\S*", text):
        return "number"
    if re.search(r"[()_.=\[\]]", text) and len(text.split()) <= 3:
        return "code"
    if len(text.split()) >= 4:
        return "statement"
    return "term-plural" if _plural(text) else "term"


def _plural(text: str) -> bool:
    last = text.split()[-1].casefold()
    return last.endswith("s") and not last.endswith(("ss", "us", "is"))


def grammar_cue(question: str, options: list[str], correct: str) -> bool:
    """The blank's grammar admits the key and rules some distractor out: "an ____" or "____ are"."""
    if "____" not in question:
        return False
    before = question.split("____")[0].split()
    after = question.split("____")[1].split()
    if before and before[-1].casefold() in ("a", "an"):
        return True
    if after and after[0].casefold() in ("is", "are", "was", "were", "has", "have"):
        return len({_plural(o) for o in options if o.split()}) > 1
    return False


def item_type(question: str) -> str:
    if question.startswith("Fill in the blank"):
        return "cloze-number" if re.search(r"\d", question) else "cloze"
    if question.startswith("Which term"):
        return "term-for-definition"
    if question.startswith("Which statement is true"):
        return "true-statement"
    if question.startswith(("What is", "What are", "Which statement best describes")):
        return "definition"
    if re.search(r"\bcalculate|\bcompute|\bhow (much|many)\b", question, re.IGNORECASE):
        return "calculation"
    return "other"


# ------------------------------------------------------------------------------------------------ measuring


class Bench:
    def __init__(self, modules: list[Module], root: Path, parts: set[str]) -> None:
        self.modules = modules
        self.parts = parts
        self.root = root
        self.embedder = get_embedder()
        self.chunks: list[Chunk] = []
        self.file_module: dict[str, str] = {}
        self.file_of_path: dict[str, str] = {}
        for module in modules:
            for path in module.files:
                file_id = re.sub(r"[^A-Za-z0-9_-]", "-", _relative(path, root))[:64]
                self.file_module[file_id] = module.id
                self.file_of_path[_relative(path, root)] = file_id
                self.chunks += chunk_file(path, file_id, module.id)
        vectors = self.embedder.encode([text_for_embedding(c) for c in self.chunks])
        self.generator = ExtractiveGenerator(self.embedder.encode)
        retriever = Retriever(
            MemoryChunks(self.chunks, vectors, self.embedder.encoder_id), self.embedder, None
        )
        self.generation = Generation(Search(retriever), self.generator, self.embedder, 1)
        self.module_of_chunk = {c.id: c.module_id for c in self.chunks}
        self.chunk_text = {c.id: c.text for c in self.chunks}
        from sme_svc.generation.base import ACTION_VERBS

        self.verbs = ACTION_VERBS

    def sources(self, chunk_ids) -> str:
        return " ".join(self.chunk_text[c] for c in chunk_ids if c in self.chunk_text)

    def own(self, chunk_ids, module_id: str) -> bool:
        return all(self.module_of_chunk.get(c) == module_id for c in chunk_ids)

    async def module(self, module: Module, objectives: int, questions: int, avoid: list[str]) -> dict:
        row: dict = {"module": module.title, "chunks": sum(c.module_id == module.id for c in self.chunks)}
        started = time.perf_counter()
        try:
            cited = await self.generation.objectives(
                COURSE_ID, module.title, module.description, objectives, avoid, module_id=module.id
            )
            drafts: ObjectiveDrafts = cited.value
        except GenerationFailed as exc:
            drafts = ObjectiveDrafts([], str(exc))
        except Exception as exc:  # a domain error (no material): nothing delivered, never a crash
            drafts = ObjectiveDrafts([], f"{type(exc).__name__}: {exc}")
        row["objectives_s"] = time.perf_counter() - started
        goals = drafts.objectives
        texts = [o.text for o in goals]
        row["objectives"] = texts
        row["objectives_delivered"] = len(goals) / objectives
        row["shortfall"] = drafts.shortfall
        row["shortfall_explained"] = len(goals) >= objectives or bool(drafts.shortfall)
        row["objective_defects"] = {
            o.text: d for o in goals if (d := objective_defect(o.text, self.verbs, self.sources(o.chunk_ids)))
        }
        row["objective_verbs"] = [t.split()[0] for t in texts]
        row["objectives_own_module"] = _share([self.own(o.chunk_ids, module.id) for o in goals])
        if module.reference:
            row["objective_coverage"] = self.coverage(module.reference, texts)
        if not goals or self.parts == {"objectives"}:
            return row
        row["content"] = [await self.content(module, goals, prefs) for prefs in PREFERENCE_SETS]
        row.update(await self.quiz(module, goals, questions))
        return row

    def coverage(self, reference: list[str], texts: list[str]) -> float:
        if not texts:
            return 0.0
        sims = self.generator._embed(reference) @ self.generator._embed(texts).T
        return float(sims.max(axis=1).mean())

    async def content(self, module: Module, goals, prefs: Preferences) -> dict:
        final = None
        async for item in self.generation.content(
            COURSE_ID, module.title, module.description, goals, prefs, [], module_id=module.id
        ):
            final = item
        generated, chunks = final.value, final.chunks
        report = check_grounding(generated, chunks)
        cited = generated.chunk_ids
        return {
            "prefs": f"{prefs.detail_level}/{prefs.explanation_style}/{prefs.language}",
            "words": len(generated.markdown.split()),
            "citations": len(cited),
            "own": sum(self.module_of_chunk.get(c) == module.id for c in cited),
            "course_wide": sum(self.module_of_chunk.get(c) == "" for c in cited),
            "checked": report.checked,
            "grounded": report.grounded,
            "markdown": generated.markdown,
        }

    async def quiz(self, module: Module, goals, questions: int) -> dict:
        draws = []
        seen: list[str] = []
        for seed in SEEDS:
            try:
                cited = await self.generation.quiz(
                    COURSE_ID, module.title, goals, questions, [], seed, module_id=module.id, seen=seen
                )
                items = cited.value
            except Exception as exc:
                return {"quiz_error": str(exc)}
            draws.append(items)
            seen = [i.question for i in items] + seen
        first, retake = draws
        distractors = [
            option_kind(o) == option_kind(i.options[i.correct_index])
            for i in first
            for n, o in enumerate(i.options)
            if n != i.correct_index
        ]
        asked = {i.question for i in first}
        return {
            "quiz_items": len(first),
            "quiz_own_module": _share([self.own(i.chunk_ids, module.id) for i in first]),
            "distractor_kind_agreement": _share(distractors),
            "grammar_cues": sum(
                grammar_cue(i.question, list(i.options), i.options[i.correct_index]) for i in first
            ),
            "item_types": dict(Counter(item_type(i.question) for i in first)),
            "explanations_quote_and_cite": _share(
                ['"' in i.explanation and bool(i.chunk_ids) for i in first]
            ),
            "retake_novelty": _share([i.question not in asked for i in retake]),
            "quiz": [
                {
                    "question": i.question,
                    "options": list(i.options),
                    "answer": i.correct_index,
                    "why": i.explanation,
                    "notes": list(i.option_notes),
                }
                for i in first
            ],
        }

    async def tutor(self, question: str, module_id: str | None) -> tuple[bool, list[str], str]:
        final = None
        async for item in self.generation.answer(COURSE_ID, question, [], [], module_id=module_id):
            final = item
        answer = final.value
        files = [final.chunks[c].file_id for c in answer.chunk_ids if c in final.chunks]
        return not answer.grounded, files, answer.markdown


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


async def measure_tutor(bench: Bench, covered: list[dict], uncovered: list[dict]) -> dict:
    rows = []
    for question in covered:
        file_id = bench.file_of_path.get(question["file"], question["file"])
        declined, files, text = await bench.tutor(question["question"], bench.file_module.get(file_id))
        wanted = question.get("answer_contains")
        rows.append(
            {
                "declined": declined,
                "cites_file": file_id in files,
                "answer_found": (wanted.casefold() in text.casefold()) if wanted else None,
            }
        )
    declines = []
    examples = []
    module_ids = [m.id for m in bench.modules]
    for n, question in enumerate(uncovered):
        declined, _, text = await bench.tutor(question["question"], module_ids[n % len(module_ids)])
        declines.append(declined)
        if not declined:
            examples.append({"question": question["question"], "answer": text[:300]})
    answers = [r["answer_found"] for r in rows if r["answer_found"] is not None]
    return {
        "covered_questions": len(rows),
        "covered_declined": _share([r["declined"] for r in rows]),
        "covered_cites_file": _share([r["cites_file"] for r in rows]),
        "covered_answer_found": _share(answers) if answers else None,
        "uncovered_questions": len(uncovered),
        "uncovered_declined": _share(declines),
        "uncovered_answered_examples": examples[:5],
    }


# ------------------------------------------------------------------------------------------------ report


def summarize(rows: list[dict], tutor: dict) -> dict:
    measured = [r for r in rows if "content" in r]
    content = [c for r in measured for c in r["content"]]
    citations = sum(c["citations"] for c in content)
    checked = sum(c["checked"] for c in content)
    verbs = Counter(v for r in rows for v in r["objective_verbs"])
    total_objectives = sum(verbs.values())
    quizzed = [r for r in measured if "quiz_items" in r]
    summary = {
        "modules": len(rows),
        "objective_coverage": _mean(r["objective_coverage"] for r in rows if "objective_coverage" in r),
        "objectives_delivered": _mean(r["objectives_delivered"] for r in rows),
        "shortfalls_explained": _mean(float(r["shortfall_explained"]) for r in rows),
        "objectives_defective": sum(len(r["objective_defects"]) for r in rows),
        "objectives_own_module": _mean(r["objectives_own_module"] for r in rows if r["objective_verbs"]),
        "course_verbs": len(verbs),
        "module_verbs_mean": _mean(len(set(r["objective_verbs"])) for r in rows if r["objective_verbs"]),
        "top_verb_share": verbs.most_common(1)[0][1] / total_objectives if total_objectives else None,
        "quiz_items_own_module": _mean(r["quiz_own_module"] for r in quizzed),
        "distractor_kind_agreement": _mean(r["distractor_kind_agreement"] for r in quizzed),
        "grammar_cues": sum(r["grammar_cues"] for r in quizzed),
        "explanations_quote_and_cite": _mean(r["explanations_quote_and_cite"] for r in quizzed),
        "retake_novelty": _mean(r["retake_novelty"] for r in quizzed),
        "quiz_failures": len(measured) - len(quizzed),
        "content_citations_own_module": sum(c["own"] for c in content) / citations if citations else None,
        "content_citations_own_or_course_wide": (
            sum(c["own"] + c["course_wide"] for c in content) / citations if citations else None
        ),
        "content_grounded": sum(c["grounded"] for c in content) / checked if checked else None,
        **{k: v for k, v in tutor.items() if not isinstance(v, list)},
        "verbs": dict(verbs.most_common()),
        "quizzes_of_several_kinds": _mean(float(len(r["item_types"]) >= 2) for r in quizzed),
        "item_types": dict(sum((Counter(r["item_types"]) for r in quizzed), Counter())),
    }
    return summary


def _mean(values) -> float | None:
    values = list(values)
    return statistics.mean(values) if values else None


def report(rows: list[dict], summary: dict) -> None:
    headers = ["module", "chunks", "LO cov", "LO deliv", "verbs", "defects", "quiz own", "kind agr", "novel"]
    table = [
        [
            r["module"][:36],
            r["chunks"],
            r.get("objective_coverage", "-"),
            r["objectives_delivered"],
            len(set(r["objective_verbs"])),
            len(r["objective_defects"]),
            r.get("quiz_own_module", "-"),
            r.get("distractor_kind_agreement", "-"),
            r.get("retake_novelty", "-"),
        ]
        for r in rows
    ]
    print_table(headers, table, "Per module")
    figures = [
        [k, "-" if v is None else v, TARGETS.get(k, "")]
        for k, v in summary.items()
        if not isinstance(v, dict)
    ]
    print_table(["figure", "value", "target"], figures, "Summary")
    print("\nverbs:", summary["verbs"])
    print("item types:", summary["item_types"])


async def run(modules: list[Module], root: Path, args) -> tuple[list[dict], dict]:
    bench = Bench(modules, root, args.parts)
    rows, avoid = [], []
    for module in modules:
        row = await bench.module(module, args.objectives, args.questions, avoid[-200:])
        avoid += row["objectives"]
        rows.append(row)
    if "tutor" not in args.parts:
        return rows, {}
    covered = _jsonl(args.questions_file) if args.questions_file else []
    covered = [q for q in covered if q["file"] in bench.file_of_path]
    uncovered = _jsonl(args.uncovered) if args.uncovered else []
    tutor = await measure_tutor(bench, covered, uncovered)
    await bench.generator.aclose()
    return rows, tutor


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, help="documents folder: one module per document")
    parser.add_argument("--uncovered", type=Path, help="questions the course does not answer (JSONL)")
    parser.add_argument("--json", help="write the figures as one JSON object to this file")
    parser.add_argument("--limit", type=int, default=0, help="at most this many modules")
    parser.add_argument(
        "--parts", default="all", help="'objectives' (objectives only), 'no-tutor' or 'all' (the default)"
    )
    parser.add_argument("--objectives", type=int, default=5)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    args.parts = {"all": {"objectives", "rest", "tutor"}, "no-tutor": {"objectives", "rest"}}.get(
        args.parts, {args.parts}
    )
    root = args.corpus.resolve() if args.corpus else SAMPLE_COURSE
    modules = load_corpus(root) if args.corpus else load_sample_course()
    modules = modules[: args.limit] if args.limit else modules
    args.questions_file = root / "questions.jsonl" if (root / "questions.jsonl").exists() else None
    if args.uncovered is None and (root / "uncovered.jsonl").exists():
        args.uncovered = root / "uncovered.jsonl"
    started = time.perf_counter()
    rows, tutor = asyncio.run(run(modules, root, args))
    summary = summarize(rows, tutor)
    summary["total_s"] = time.perf_counter() - started
    report(rows, summary)
    if tutor.get("uncovered_answered_examples"):
        print("\nuncovered questions answered (first 5):")
        for example in tutor["uncovered_answered_examples"]:
            print(f"  Q: {example['question']}\n     {example['answer'][:160]!r}")
    write_json(args.json, {"corpus": str(root), "summary": summary, "tutor": tutor, "modules": rows})


if __name__ == "__main__":
    main()
