"""Retrieval quality of sme_svc per method (dense, lexical, hybrid) on a labelled corpus.

    .venv/bin/python scripts/bench/retrieval.py [--corpus DIR] [--json FILE] [--k 10] [--encoders LIST]

DIR holds documents at any depth and DIR/questions.jsonl has `question`, `file` (relative to DIR) and
optionally `section` (a heading of the gold passage, or "page N" / "slide N") and `answer_contains`.
Every document is ingested through the real Indexer into a throwaway SecantusDB, and every question goes
through the real Retriever.

Metrics use the rank r of the FIRST relevant chunk in the top 10 (a chunk is relevant at file level when it
comes from the gold file; at section level when, in addition, its page/slide is the gold one or a component
of its heading path equals the gold section): recall@k = share of questions with r <= k, MRR@10 = mean 1/r,
nDCG@10 = mean 1/log2(r + 1) (one relevant item per question; 0 when none in the top 10).
`answer@5` = share of questions whose `answer_contains` phrase occurs in one of the top 5 chunks.

`--encoders torch,onnx-int8` (the default) measures each encoder in the same run, each over a store of its own,
and compares every one with the first: the int8 encoder must keep hybrid recall@1 and MRR@10 within
QUALITY_TOLERANCE of torch's.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import statistics
import tempfile
import time
from pathlib import Path

from common import (
    SAMPLE_COURSE,
    Stopwatch,
    corpus_documents,
    load_questions,
    mongo_database,
    print_table,
    write_json,
)

from lmw_common.filetypes import detect_media_type
from sme_svc.adapters.chunk_store import ChunkStore
from sme_svc.domain import Chunk, Method
from sme_svc.ingest.indexer import Indexer
from sme_svc.retrieval.embedder import get_embedder
from sme_svc.retrieval.retriever import Retriever

COURSE_ID = "bench-course"
CUTOFFS = (1, 5, 10)
QUALITY_TOLERANCE = 0.01
COMPARED = (("hybrid", "recall@1"), ("hybrid", "mrr@10"), ("dense", "recall@1"), ("dense", "mrr@10"))


def section_matches(chunk: Chunk, section: str) -> bool:
    located = re.fullmatch(r"\s*(page|slide)\s+(\d+)\s*", section, re.IGNORECASE)
    if located:
        kind, number = located.group(1).lower(), int(located.group(2))
        return (chunk.page if kind == "page" else chunk.slide) == number
    wanted = _normalize(section)
    return any(_normalize(part) == wanted for part in chunk.heading.split(" > "))


def _normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def first_relevant_rank(chunks: list[Chunk], question: dict, by_section: bool) -> int | None:
    for rank, chunk in enumerate(chunks, start=1):
        if chunk.file_id != question["file"]:
            continue
        if not by_section or section_matches(chunk, question["section"]):
            return rank
    return None


def summarize(ranks: list[int | None]) -> dict[str, float]:
    count = max(len(ranks), 1)
    figures = {f"recall@{k}": sum(1 for r in ranks if r is not None and r <= k) / count for k in CUTOFFS}
    figures["mrr@10"] = sum(1.0 / r for r in ranks if r is not None and r <= 10) / count
    figures["ndcg@10"] = sum(1.0 / math.log2(r + 1) for r in ranks if r is not None and r <= 10) / count
    return figures


def answer_found(chunks: list[Chunk], phrase: str) -> bool:
    wanted = _normalize(phrase)
    return any(wanted in _normalize(chunk.text) for chunk in chunks[:5])


async def ingest(indexer: Indexer, corpus: Path) -> tuple[int, int]:
    chunk_count = 0
    documents = corpus_documents(corpus)
    for path in documents:
        data = path.read_bytes()
        file_id = path.relative_to(corpus).as_posix()
        media_type = detect_media_type(data, path.name)
        chunk_count += await indexer.index_file(COURSE_ID, file_id, path.name, "", data, media_type)
    return len(documents), chunk_count


async def evaluate(retriever: Retriever, questions: list[dict], method: Method, k: int) -> dict:
    file_ranks, section_ranks, answers, latencies = [], [], [], []
    for question in questions:
        started = time.perf_counter()
        hits = await retriever.retrieve(COURSE_ID, question["question"], k=k, method=method)
        latencies.append(time.perf_counter() - started)
        chunks = [hit.chunk for hit in hits]
        file_ranks.append(first_relevant_rank(chunks, question, by_section=False))
        if question.get("section"):
            section_ranks.append(first_relevant_rank(chunks, question, by_section=True))
        if question.get("answer_contains"):
            answers.append(answer_found(chunks, question["answer_contains"]))
    result = {"file": summarize(file_ranks), "latency_ms_p50": 1000 * statistics.median(latencies)}
    if section_ranks:
        result["section"] = summarize(section_ranks)
    if answers:
        result["answer@5"] = sum(answers) / len(answers)
    return result


async def run(corpus: Path, k: int, encoder: str) -> dict:
    questions = load_questions(corpus)
    embedder = get_embedder(encoder=encoder)
    await embedder.awarm_up()
    async with mongo_database() as database:
        store = ChunkStore(database)
        await store.ensure_indexes()
        with Stopwatch() as ingest_time:
            documents, chunks = await ingest(Indexer(store, embedder), corpus)
        with tempfile.TemporaryDirectory() as cache_dir:
            retriever = Retriever(store, embedder, cache_dir)
            await retriever.course(COURSE_ID)  # load once so latencies measure queries, not the first load
            methods = {method.value: await evaluate(retriever, questions, method, k) for method in Method}
    return {
        "corpus": str(corpus),
        "documents": documents,
        "chunks": chunks,
        "questions": len(questions),
        "ingest_seconds": round(ingest_time.seconds, 2),
        "embedding_model": embedder.model_name,
        "encoder_id": embedder.encoder_id,
        "methods": methods,
    }


def report(figures: dict) -> None:
    print(
        f"\ncorpus {figures['corpus']}: {figures['documents']} documents, {figures['chunks']} chunks, "
        f"{figures['questions']} questions; encoder {figures['encoder_id']}; ingest {figures['ingest_seconds']} s"
    )
    headers = ["method", "level", "R@1", "R@5", "R@10", "MRR@10", "nDCG@10", "answer@5", "p50 ms"]
    rows = []
    for method, result in figures["methods"].items():
        for level in ("file", "section"):
            if level not in result:
                continue
            metrics = result[level]
            rows.append(
                [method, level]
                + [metrics[name] for name in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")]
                + [result.get("answer@5", "-") if level == "file" else "", round(result["latency_ms_p50"], 1)]
            )
    print_table(headers, rows, title="retrieval quality")


def compare(by_encoder: dict[str, dict]) -> list[dict]:
    """Each encoder against the first, file level, on the metrics of COMPARED."""
    reference_name, reference = next(iter(by_encoder.items()))
    rows = []
    for name, figures in list(by_encoder.items())[1:]:
        for method, metric in COMPARED:
            ours = figures["methods"][method]["file"][metric]
            base = reference["methods"][method]["file"][metric]
            rows.append(
                {
                    "encoder": name,
                    "reference": reference_name,
                    "method": method,
                    "metric": metric,
                    "value": ours,
                    "reference_value": base,
                    "delta": ours - base,
                    "within_tolerance": abs(ours - base)
                    <= QUALITY_TOLERANCE + 1e-9,  # 0.84 - 0.85 is not exact
                }
            )
    return rows


def report_comparison(rows: list[dict]) -> None:
    table = [
        [r["encoder"], r["method"], r["metric"], r["value"], r["reference_value"], f"{r['delta']:+.4f}"]
        + ["yes" if r["within_tolerance"] else "NO"]
        for r in rows
    ]
    headers = [
        "encoder",
        "method",
        "metric",
        "value",
        "reference",
        "delta",
        f"|delta| <= {QUALITY_TOLERANCE}",
    ]
    print_table(headers, table, title=f"against {rows[0]['reference']}, file level, same run")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=SAMPLE_COURSE)
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--k", type=int, default=10, help="results retrieved per question (metrics need 10)")
    parser.add_argument(
        "--encoders", default="torch,onnx-int8", help="encoders to measure, the first is the reference"
    )
    args = parser.parse_args()
    by_encoder = {
        encoder: asyncio.run(run(args.corpus.resolve(), args.k, encoder))
        for encoder in args.encoders.split(",")
    }
    for figures in by_encoder.values():
        report(figures)
    comparison = compare(by_encoder) if len(by_encoder) > 1 else []
    if comparison:
        report_comparison(comparison)
    write_json(args.json_path, {"encoders": by_encoder, "comparison": comparison})


if __name__ == "__main__":
    main()
