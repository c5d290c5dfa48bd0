"""Composition root of sme_svc: MongoDB stores, embedder, retriever, ingestion runner, generator backend, the
use cases over them, and serving them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import faiss
from pymongo import uri_parser

from lmw_common.grpc_client import create_channel
from lmw_common.grpc_server import ServiceSpec
from lmw_common.mongo import create_mongo_client
from lmw_common.runtime import Runtime
from sme_svc.adapters.chunk_store import ChunkStore
from sme_svc.adapters.course_files import CourseFiles
from sme_svc.adapters.job_store import JobStore
from sme_svc.app import SmeApp
from sme_svc.app.documents import Documents
from sme_svc.app.generation import Generation
from sme_svc.app.ingestion import IngestionRunner
from sme_svc.app.metrics import SmeMetrics
from sme_svc.app.retrieval import Search
from sme_svc.config import SmeSettings
from sme_svc.generation.factory import create_generator
from sme_svc.ingest.indexer import Indexer
from sme_svc.retrieval.embedder import get_embedder
from sme_svc.retrieval.retriever import Retriever
from sme_svc.servicer import service_spec


def _generator(settings: SmeSettings, embedder):
    return create_generator(
        settings.generator_backend,
        encode=embedder.encode,
        vllm_model=settings.vllm_model or None,
        vllm_gpu_memory_utilization=settings.vllm_gpu_memory_utilization,
        openai_base_url=settings.openai_base_url or None,
        openai_model=settings.openai_model or None,
        openai_api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
        timeout_s=settings.generation_timeout_s,
    )


@asynccontextmanager
async def compose(settings: SmeSettings, runtime: Runtime) -> AsyncIterator[SmeApp]:
    """The use cases over their stores, engines and clients, open until the block exits."""
    mongo = create_mongo_client(settings.mongo_url, "sme_svc")
    db = mongo[uri_parser.parse_uri(settings.mongo_url)["database"] or "sme"]
    chunks, jobs = ChunkStore(db), JobStore(db)
    await chunks.ensure_indexes()
    await jobs.ensure_indexes()
    faiss.omp_set_num_threads(settings.faiss_threads)
    embedder = get_embedder(
        settings.embedding_model_path or None,
        settings.encoder,
        cache_dir=settings.encoder_cache_dir or None,
        max_threads=settings.encoder_threads or None,
    )
    await embedder.awarm_up()  # load the model (export it, the first time) before reporting SERVING
    channel = create_channel(
        settings.instructor_target,
        runtime.service_token,
        timeout_s=runtime.common.call_timeout_s,
        max_in_flight=runtime.common.max_in_flight_per_channel,
    )
    metrics = SmeMetrics(runtime.metrics)
    runner = IngestionRunner(
        jobs,
        CourseFiles(channel, settings.max_file_bytes),
        Indexer(chunks, embedder),
        settings.max_concurrent_jobs,
        settings.job_stale_after_s,
        settings.job_max_resumes,
        metrics,
    )
    retriever = Retriever(
        chunks, embedder, settings.index_dir, settings.max_loaded_courses, settings.hnsw_threshold
    )
    generator = _generator(settings, embedder)
    runtime.metrics.watch_caches(retriever.caches())
    search = Search(retriever, metrics)
    runner.start()
    try:
        yield SmeApp(
            documents=Documents(runner, jobs, chunks, retriever),
            search=search,
            generation=Generation(search, generator, embedder, settings.max_concurrent_generations, metrics),
        )
    finally:
        await runner.close()
        await generator.aclose()
        await channel.close()
        await mongo.close()


@asynccontextmanager
async def bootstrap(settings: SmeSettings, runtime: Runtime) -> AsyncIterator[list[ServiceSpec]]:
    async with compose(settings, runtime) as app:
        yield [service_spec(app)]
