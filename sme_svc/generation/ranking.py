"""Embedding-based ranking: a memoizing encoder, centrality and maximal marginal relevance (MMR)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from sme_svc.generation.base import Encode


class EmbeddingCache:
    """Memoizes an `Encode` per text (bounded LRU, thread-safe).

    Missing texts are encoded sorted and deduplicated, so a batch's composition depends only on which texts
    are missing: the same calls give bit-identical vectors, which keeps rankings deterministic.
    """

    def __init__(self, encode: Encode, max_entries: int = 50_000) -> None:
        self._encode = encode
        self._max_entries = max_entries
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        with self._lock:
            missing = sorted({t for t in texts if t not in self._vectors})
        if missing:
            vectors = np.asarray(self._encode(missing), dtype=np.float32)
            with self._lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._vectors[text] = vector
                self._evict()
        with self._lock:
            rows = []
            for text in texts:
                self._vectors.move_to_end(text)
                rows.append(self._vectors[text])
        return np.stack(rows)

    def _evict(self) -> None:
        while len(self._vectors) > self._max_entries:
            self._vectors.popitem(last=False)


def cosine_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows are normalized, so cosine is the dot product (rounded so ties break the same way every run)."""
    if a.size == 0 or b.size == 0:
        return np.zeros((len(a), len(b)), dtype=np.float32)
    return np.round(a @ b.T, 6)


def centrality(embeddings: np.ndarray) -> np.ndarray:
    """Mean similarity of each row to the others: how typical a sentence is of the material."""
    n = len(embeddings)
    if n < 2:
        return np.ones(n, dtype=np.float32)
    sims = cosine_matrix(embeddings, embeddings)
    return (sims.sum(axis=1) - np.diag(sims)) / (n - 1)


def mmr(
    relevance: np.ndarray,
    embeddings: np.ndarray,
    k: int,
    diversity: float = 0.3,
    max_similarity: float = 0.9,
    preselected: Sequence[int] = (),
) -> list[int]:
    """Pick up to k indices maximizing (1-diversity)*relevance - diversity*max_sim_to_picked.

    Candidates more similar than `max_similarity` to anything picked (or preselected) are skipped outright.
    Ties break towards the lower index (reading order).
    """
    picked: list[int] = []
    anchors = list(preselected)
    candidates = [i for i in range(len(relevance)) if i not in set(anchors)]
    sims = cosine_matrix(embeddings, embeddings)
    while candidates and len(picked) < k:
        best, best_score = -1, -np.inf
        for i in candidates:
            redundancy = max((sims[i, j] for j in anchors), default=0.0)
            if redundancy > max_similarity:
                continue
            score = (1 - diversity) * relevance[i] - diversity * redundancy
            if score > best_score + 1e-9:
                best, best_score = i, score
        if best < 0:
            break
        picked.append(best)
        anchors.append(best)
        candidates.remove(best)
    return picked
