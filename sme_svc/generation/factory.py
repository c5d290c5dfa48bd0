"""Builds the configured generator backend."""

from __future__ import annotations

from sme_svc.generation.base import Encode, Generator, GeneratorConfigError

BACKENDS = ("extractive", "vllm", "openai")


def create_generator(
    backend: str,
    *,
    encode: Encode,
    vllm_model: str | None = None,
    vllm_gpu_memory_utilization: float = 0.6,
    openai_base_url: str | None = None,
    openai_model: str | None = None,
    openai_api_key: str | None = None,
    timeout_s: float = 60,
) -> Generator:
    """ "extractive" (CPU default, no weights), "vllm" (in process, GPU) or "openai" (OpenAI-compatible HTTP)."""
    name = (backend or "").strip().lower()
    if name == "extractive":
        from sme_svc.generation.extractive import ExtractiveGenerator

        return ExtractiveGenerator(encode)
    if name == "vllm":
        if not vllm_model:
            raise GeneratorConfigError("the vllm backend needs a model path or name (vllm_model)")
        if not 0 < vllm_gpu_memory_utilization <= 1:
            raise GeneratorConfigError("vllm_gpu_memory_utilization must be in (0, 1]")
        from sme_svc.generation.vllm_backend import VLLMGenerator

        return VLLMGenerator(encode, model=vllm_model, gpu_memory_utilization=vllm_gpu_memory_utilization)
    if name == "openai":
        missing = [
            n for n, v in (("openai_base_url", openai_base_url), ("openai_model", openai_model)) if not v
        ]
        if missing:
            raise GeneratorConfigError(f"the openai backend needs {' and '.join(missing)}")
        from sme_svc.generation.openai_backend import OpenAIGenerator

        return OpenAIGenerator(
            encode, base_url=openai_base_url, model=openai_model, api_key=openai_api_key, timeout_s=timeout_s
        )
    raise GeneratorConfigError(
        f"unknown generator backend {backend!r}; expected one of {', '.join(BACKENDS)}"
    )
