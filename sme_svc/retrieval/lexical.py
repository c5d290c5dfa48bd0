"""Okapi BM25 over chunk texts, scored with numpy from precomputed postings (no extra dependency).

Each posting stores its document's term weight tf*(k1+1)/(tf + k1*(1-b+b*dl/avgdl)) once at build time, so a
query costs one vectorized add per query term.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

# A deliberately small list of function words. Words that double as programming keywords (for, while, if,
# with, as, from, in, is, not, and, or) are kept out: in a programming course they are the topic.
STOPWORDS = frozenset(
    {"a", "an", "are", "at", "be", "been", "but", "by", "can", "could", "did", "do", "does", "had", "has"}
    | {"have", "how", "i", "into", "it", "its", "may", "might", "must", "of", "on", "our", "shall"}
    | {"should", "so", "such", "than", "that", "the", "their", "them", "then", "there", "these", "they"}
    | {"this", "those", "to", "was", "we", "were", "what", "when", "where", "which", "who", "whom", "why"}
    | {"will", "would", "you", "your"}
)
_WORD = re.compile(r"\w+")


def _light_stem(word: str) -> str:
    """Fold the commonest English plural forms together (loops/loop, queries/query); nothing more."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased unicode word tokens, stopwords dropped, plurals folded."""
    return [_light_stem(word) for word in _WORD.findall(text.lower()) if word not in STOPWORDS]


class BM25:
    def __init__(self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.size = len(documents)
        counts = [Counter(tokenize(document)) for document in documents]
        lengths = np.array([sum(count.values()) for count in counts], dtype=np.float32)
        average_length = float(lengths.mean()) if self.size and lengths.mean() > 0 else 1.0
        norms = k1 * (1.0 - b + b * lengths / average_length)
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for doc, count in enumerate(counts):
            for term, tf in count.items():
                docs, tfs = postings.setdefault(term, ([], []))
                docs.append(doc)
                tfs.append(tf)
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._idf: dict[str, float] = {}
        for term, (docs, tfs) in postings.items():
            doc_ids = np.array(docs, dtype=np.int64)
            tf_array = np.array(tfs, dtype=np.float32)
            self._postings[term] = (doc_ids, tf_array * (k1 + 1.0) / (tf_array + norms[doc_ids]))
            # Lucene's idf: never negative, even for terms in more than half of the documents.
            self._idf[term] = float(np.log1p((self.size - len(docs) + 0.5) / (len(docs) + 0.5)))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for `query` (0 where no query term occurs)."""
        scores = np.zeros(self.size, dtype=np.float32)
        for term in set(tokenize(query)):
            posting = self._postings.get(term)
            if posting is not None:
                doc_ids, weights = posting
                scores[doc_ids] += self._idf[term] * weights
        return scores

    def top_k(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(document index, score) of the best `k` documents with a positive score, best first; `allowed`
        restricts the search to those document indexes."""
        scores = self.scores(query)
        candidates = allowed if allowed is not None else np.arange(self.size)
        return top_positive(candidates, scores[candidates], k)


def top_positive(candidates: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The `k` best (candidate, score) pairs with score > 0, best first, ties broken by candidate order."""
    positive = scores > 0
    candidates, scores = candidates[positive], scores[positive]
    if len(scores) > k:
        keep = np.argpartition(-scores, k - 1)[:k]
        candidates, scores = candidates[keep], scores[keep]
    order = np.lexsort((candidates, -scores))
    return [(int(candidates[i]), float(scores[i])) for i in order]
