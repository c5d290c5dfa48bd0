"""A course's FAISS index: inner product on normalized vectors (= cosine), exact below a size threshold and
HNSW above; on the GPU when faiss has one (exact indexes only). The index file on local disk is a derived
cache stamped with the course's index version; MongoDB stays the source of truth.

Cache layout: `<cache_dir>/<course dir>/<version>.faiss` plus `<version>.json` holding the chunk-id order and
the id of the encoder whose vectors it indexes (JSON, never pickle): a file of another encoder is rebuilt,
never searched with this encoder's queries. Files of older versions are removed when a newer one is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np

log = logging.getLogger(__name__)

DEFAULT_HNSW_THRESHOLD = 20_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 64

_gpu_resources = None
_gpu_lock = threading.Lock()


def gpu_available() -> bool:
    get_num_gpus = getattr(faiss, "get_num_gpus", None)
    return bool(get_num_gpus and get_num_gpus() > 0)


def _gpu_resources_singleton():
    """One StandardGpuResources per process: each holds a scratch allocation on the device."""
    global _gpu_resources
    with _gpu_lock:
        if _gpu_resources is None:
            _gpu_resources = faiss.StandardGpuResources()
        return _gpu_resources


def build_cpu_index(embeddings: np.ndarray, hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD) -> faiss.Index:
    """Exact inner product below `hnsw_threshold` vectors, HNSW (approximate, sub-linear) from there on."""
    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    dimension = vectors.shape[1]
    if len(vectors) < hnsw_threshold:
        index = faiss.IndexFlatIP(dimension)
    else:
        index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    index.add(vectors)
    return index


class VectorIndex:
    """A built FAISS index, moved to the GPU when one is present and the index is exact (HNSW has no GPU
    implementation in faiss). `search` is safe to call from several threads."""

    def __init__(self, cpu_index: faiss.Index, use_gpu: bool | None = None) -> None:
        self.exact = not isinstance(cpu_index, faiss.IndexHNSWFlat)
        self.on_gpu = (gpu_available() if use_gpu is None else use_gpu) and self.exact
        self._index = (
            faiss.index_cpu_to_gpu(_gpu_resources_singleton(), 0, cpu_index) if self.on_gpu else cpu_index
        )
        # FAISS GPU indexes are not safe for concurrent calls; CPU searches are.
        self._search_lock = threading.Lock() if self.on_gpu else contextlib.nullcontext()

    @classmethod
    def build(
        cls, embeddings: np.ndarray, hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD, use_gpu: bool | None = None
    ) -> VectorIndex:
        return cls(build_cpu_index(embeddings, hnsw_threshold), use_gpu)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def kind(self) -> str:
        return "flat-ip" if self.exact else "hnsw-ip"

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, positions) of the `k` nearest vectors of one query; positions are -1 past the end."""
        k = min(k, self.size)
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        vector = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        with self._search_lock:
            scores, positions = self._index.search(vector, k)
        keep = positions[0] >= 0
        return scores[0][keep], positions[0][keep]


class IndexCache:
    """Version-stamped index files of each course under `cache_dir`, written atomically."""

    def __init__(self, cache_dir: str | Path) -> None:
        self.cache_dir = Path(cache_dir)

    def course_dir(self, course_id: str) -> Path:
        # Course ids are opaque: anything that is not a plain token is hashed so it can't escape cache_dir.
        if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", course_id):
            return self.cache_dir / course_id
        return self.cache_dir / hashlib.sha256(course_id.encode()).hexdigest()[:32]

    def load(
        self, course_id: str, version: int, chunk_ids: Sequence[str], encoder: str
    ) -> faiss.Index | None:
        """The cached index of exactly this version, chunk order and encoder, or None (missing, old, of
        another encoder, or damaged)."""
        index_path, meta_path = self._paths(course_id, version)
        try:
            meta = json.loads(meta_path.read_text())
            if (
                meta.get("version") != version
                or meta.get("chunk_ids") != list(chunk_ids)
                or meta.get("encoder", "") != encoder
            ):
                return None
            index = faiss.read_index(str(index_path))
        except (OSError, ValueError, RuntimeError):
            return None
        return index if index.ntotal == len(chunk_ids) else None

    def save(
        self, course_id: str, version: int, chunk_ids: Sequence[str], index: faiss.Index, encoder: str
    ) -> None:
        index_path, meta_path = self._paths(course_id, version)
        index_path.parent.mkdir(parents=True, exist_ok=True)
        suffix = f".tmp-{os.getpid()}-{threading.get_ident()}"
        faiss.write_index(index, str(index_path) + suffix)
        os.replace(str(index_path) + suffix, index_path)
        meta = {"version": version, "encoder": encoder, "count": len(chunk_ids), "chunk_ids": list(chunk_ids)}
        meta_path.with_name(meta_path.name + suffix).write_text(json.dumps(meta))
        os.replace(meta_path.with_name(meta_path.name + suffix), meta_path)
        self._remove_older(course_id, version)

    def remove(self, course_id: str) -> None:
        directory = self.course_dir(course_id)
        for path in directory.glob("*"):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            directory.rmdir()

    def _paths(self, course_id: str, version: int) -> tuple[Path, Path]:
        directory = self.course_dir(course_id)
        return directory / f"{version}.faiss", directory / f"{version}.json"

    def _remove_older(self, course_id: str, version: int) -> None:
        for path in self.course_dir(course_id).iterdir():
            stem = path.name.split(".", 1)[0]
            if stem.isdigit() and int(stem) < version:
                path.unlink(missing_ok=True)


def load_or_build(
    cache: IndexCache | None,
    course_id: str,
    version: int,
    chunk_ids: Sequence[str],
    embeddings: np.ndarray,
    encoder: str,
    hnsw_threshold: int = DEFAULT_HNSW_THRESHOLD,
) -> VectorIndex:
    """The course's index from the cache when it matches this version, chunk order and encoder (the one that
    made `embeddings`); else built and cached. Blocking (run it in a worker thread)."""
    cached = cache.load(course_id, version, chunk_ids, encoder) if cache is not None else None
    if cached is not None:
        if isinstance(cached, faiss.IndexHNSWFlat):
            cached.hnsw.efSearch = HNSW_EF_SEARCH
        return VectorIndex(cached)
    cpu_index = build_cpu_index(embeddings, hnsw_threshold)
    if cache is not None:
        try:
            cache.save(course_id, version, chunk_ids, cpu_index, encoder)
        except OSError as exc:  # a read-only or full disk costs a rebuild next time, nothing more
            log.warning("could not write the index cache: %s", exc)
    return VectorIndex(cpu_index)
