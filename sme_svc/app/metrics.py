"""sme_svc's own metric families (lmw_common.metrics holds the registry and the shared ones). Labels are
bounded: a retrieval method, a generator backend and what it generated, a job's final state."""

from __future__ import annotations

from lmw_common.metrics import Metrics


class SmeMetrics:
    def __init__(self, metrics: Metrics | None = None) -> None:
        metrics = metrics or Metrics()  # unserved: use cases built without one (unit tests, benchmarks)
        self.retrieval_seconds = metrics.histogram(
            "lmw_retrieval_duration_seconds", "Time to retrieve a course's best passages", ["method"]
        )
        self.generation_seconds = metrics.histogram(
            "lmw_generation_duration_seconds",
            "Time a generation held a generator slot, by backend and what it generated",
            ["backend", "kind"],
        )
        self.generation_waiting = metrics.gauge(
            "lmw_generation_waiting", "Generations waiting for a free generator slot"
        )
        self.ingestion_jobs = metrics.counter(
            "lmw_ingestion_jobs", "Ingestion jobs finished, by final state", ["state"]
        )
        self.ingestion_seconds = metrics.histogram(
            "lmw_ingestion_job_duration_seconds", "Time from an ingestion job's start to its end", ["state"]
        )
        self.ingestion_queued = metrics.gauge(
            "lmw_ingestion_jobs_queued", "Ingestion jobs claimed by this replica, waiting for a slot"
        )
        self.ingestion_running = metrics.gauge("lmw_ingestion_jobs_running", "Ingestion jobs running now")
        self.embedding_seconds = metrics.histogram(
            "lmw_embedding_duration_seconds", "Time to embed and store one file's chunks"
        )
