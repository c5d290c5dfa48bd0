"""vLLM in process (the inference node's GPU backend). Only the transport lives here; prompts, parsing,
validation and regeneration are shared with the HTTP backend (`llm.LLMGenerator`).

vLLM is imported lazily in the constructor: it lives in its own environment (it pins its own torch) and is
never installed where the tests run. The code is defensive about the vLLM version: structured outputs are
`SamplingParams(structured_outputs=StructuredOutputsParams(json=...))` in current releases and
`SamplingParams(guided_decoding=GuidedDecodingParams(json=...))` in older ones.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator, Callable

from sme_svc.generation import prompts
from sme_svc.generation.base import Encode, GeneratorConfigError
from sme_svc.generation.llm import LLMGenerator


class VLLMGenerator(LLMGenerator):
    backend_name = "vllm"

    def __init__(
        self,
        encode: Encode,
        *,
        model: str,
        gpu_memory_utilization: float = 0.6,
        max_model_len: int | None = 8192,
        seed: int = 0,
        **options,
    ) -> None:
        super().__init__(encode, model=model, **options)
        try:
            from vllm import AsyncEngineArgs, AsyncLLMEngine, SamplingParams
        except ImportError as exc:  # pragma: no cover - exercised only where vLLM is missing
            raise GeneratorConfigError(
                f"the vllm backend needs the vllm package (GPU environment): {exc}"
            ) from exc
        args = AsyncEngineArgs(
            model=model, gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len, seed=seed
        )
        self._engine = AsyncLLMEngine.from_engine_args(args)
        self._sampling_params = SamplingParams
        self._constrain = structured_output_kwargs()
        self.seed = seed
        self._tokenizer = None

    async def aclose(self) -> None:
        shutdown = getattr(self._engine, "shutdown", None)
        if callable(shutdown):
            result = shutdown()
            if inspect.isawaitable(result):
                await result

    async def complete(self, messages: list[prompts.Message], *, schema: dict | None = None) -> str:
        return "".join([delta async for delta in self._generate(messages, schema)])

    async def stream(self, messages: list[prompts.Message]) -> AsyncIterator[str]:
        async for delta in self._generate(messages, None):
            yield delta

    async def _generate(self, messages: list[prompts.Message], schema: dict | None) -> AsyncIterator[str]:
        prompt = await self._chat_prompt(messages)
        extra = self._constrain(schema) if schema is not None else {}
        params = self._sampling_params(
            temperature=self.temperature, max_tokens=self.max_tokens, seed=self.seed, **extra
        )
        seen = ""
        async for output in self._engine.generate(prompt, params, request_id=uuid.uuid4().hex):
            text = output.outputs[0].text if output.outputs else ""
            # CUMULATIVE outputs (the default) grow; DELTA outputs are the new text only.
            delta = text[len(seen) :] if text.startswith(seen) else text
            seen = text if text.startswith(seen) else seen + text
            if delta:
                yield delta

    async def _chat_prompt(self, messages: list[prompts.Message]) -> str:
        if self._tokenizer is None:
            tokenizer = self._engine.get_tokenizer()
            self._tokenizer = await tokenizer if inspect.isawaitable(tokenizer) else tokenizer
        return self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def structured_output_kwargs() -> Callable[[dict], dict]:
    """SamplingParams keyword arguments that constrain the output to a JSON schema, for the installed vLLM."""
    try:
        from vllm.sampling_params import StructuredOutputsParams

        return lambda schema: {"structured_outputs": StructuredOutputsParams(json=schema)}
    except ImportError:
        pass
    try:
        from vllm.sampling_params import GuidedDecodingParams

        return lambda schema: {"guided_decoding": GuidedDecodingParams(json=schema)}
    except ImportError:
        # No constrained decoding: replies are still parsed, validated and regenerated when malformed.
        return lambda schema: {}
