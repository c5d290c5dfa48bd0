"""In-memory fakes of sme_svc's Protocols: an encoder without a model, and the ingestion runner's job store and
file source."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from lmw_common.jobs import JobState
from sme_svc.domain import DocumentItem, IngestJob

DIMENSION = 384


class WordEncoder:
    """An encoder without a model (TextEncoder and QueryEncoder): a text's vector is the normalized sum of a
    random vector per word, drawn from the word and the encoder id, so texts sharing words are close and two
    encoders' vectors have nothing in common. Counts every text it embeds."""

    def __init__(self, encoder_id: str = "words-a") -> None:
        self.encoder_id = encoder_id
        self.encoded: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += texts
        vectors = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                seed = int.from_bytes(
                    hashlib.sha256(f"{self.encoder_id}:{word}".encode()).digest()[:8], "big"
                )
                vectors[row] += np.random.default_rng(seed).standard_normal(DIMENSION)
            vectors[row] /= max(float(np.linalg.norm(vectors[row])), 1e-9)
        return vectors

    async def aencode(self, texts: Sequence[str], on_batch=None) -> np.ndarray:
        vectors = self.encode(list(texts))
        if on_batch is not None and texts:
            await _maybe_await(on_batch(len(texts), len(texts)))
        return vectors


async def _maybe_await(result) -> None:
    if result is not None:
        await result


class InMemoryJobs:
    """The ingestion runner's JobStore."""

    def __init__(self) -> None:
        self.jobs: dict[str, IngestJob] = {}
        self.owners: dict[str, str | None] = {}
        self.saved: list[list[tuple[str, JobState]]] = []  # the items' states at each save

    async def create(self, kind: str, course_id: str, items: list[DocumentItem]) -> IngestJob:
        now = datetime.now(UTC)
        job = IngestJob(uuid.uuid4().hex, kind, course_id, items=items, created_at=now, updated_at=now)
        self.jobs[job.id], self.owners[job.id] = job, None
        return job

    async def get(self, job_id: str) -> IngestJob | None:
        return self.jobs.get(job_id)

    async def claim(self, job_id: str, owner: str) -> IngestJob | None:
        job = self.jobs.get(job_id)
        if job is None or job.state is not JobState.QUEUED or self.owners[job_id] is not None:
            return None
        job.state, self.owners[job_id] = JobState.RUNNING, owner
        return job

    async def claim_stale(self, owner: str, stale_after_s: float) -> IngestJob | None:
        return None  # one runner per test: nothing goes stale

    async def heartbeat(self, job_id: str, owner: str) -> bool:
        return self.owners.get(job_id) == owner

    async def save(self, job: IngestJob, owner: str) -> None:
        if self.owners.get(job.id) == owner:
            self.saved.append([(item.id, item.state) for item in job.items])


class Files:
    """The runner's FileSource: bytes by file id."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    async def read(self, course_id: str, file_id: str) -> bytes:
        return self.files[file_id]
