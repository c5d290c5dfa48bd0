"""Shared helpers of the sme benchmarks: corpus loading, a throwaway MongoDB-wire server, tables, JSON."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a plain script: make the project packages importable
    sys.path.insert(0, str(REPO_ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from devkit import SAMPLE_COURSE  # noqa: E402, F401 (the benchmarks' default corpus)

# The public evaluation corpora beside the checkout (../shared/eval), when present.
OPENSTAX_CORPUS = REPO_ROOT.parent / "shared" / "eval" / "openstax-python" / "corpus"
DOCUMENT_EXTENSIONS = frozenset({".pdf", ".docx", ".pptx", ".html", ".htm", ".md", ".markdown", ".txt"})


def corpus_documents(corpus: Path) -> list[Path]:
    """Documents at any depth under `corpus`, in a stable order (scripts, JSON and JSONL are not documents)."""
    return sorted(
        path for path in corpus.rglob("*") if path.is_file() and path.suffix.lower() in DOCUMENT_EXTENSIONS
    )


def load_questions(corpus: Path) -> list[dict]:
    path = corpus / "questions.jsonl"
    if not path.exists():
        raise SystemExit(f"{path} not found: a corpus needs questions.jsonl")
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def print_table(headers: list[str], rows: list[list[object]], title: str = "") -> None:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(header), *(len(row[i]) for row in cells)) for i, header in enumerate(headers)]
    if title:
        print(f"\n{title}")
    print("  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print("  ".join(value.rjust(width) for value, width in zip(row, widths, strict=True)))


def _cell(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def write_json(path: str | None, figures: dict) -> None:
    if path:
        Path(path).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
        print(f"\nfigures written to {path}")


@contextlib.asynccontextmanager
async def mongo_database(name: str = "bench") -> AsyncIterator[object]:
    """A fresh database on a throwaway in-memory SecantusDB server (real MongoDB wire protocol)."""
    from pymongo import AsyncMongoClient

    from devkit.databases import MongoWire

    server = MongoWire(":memory:")
    client = AsyncMongoClient(server.uri)
    try:
        yield client[name]
    finally:
        await client.close()
        server.stop()


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.seconds = time.perf_counter() - self.start
