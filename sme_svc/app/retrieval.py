"""Searching a course's materials: for a caller (Retrieve), and to ground what is generated."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from lmw_common import telemetry
from lmw_common import validation as v
from lmw_common.errors import FailedPrecondition, InvalidArgument
from sme_svc.app.metrics import SmeMetrics
from sme_svc.domain import Hit, Method

MAX_QUERY = 2_000
MAX_K = 50
DEFAULT_K = 5
MAX_FILE_IDS = 500


class CourseRetriever(Protocol):
    async def retrieve(
        self,
        course_id: str,
        query: str,
        k: int,
        file_ids: Sequence[str] | None,
        method: Method,
        module_id: str | None = None,
    ) -> list[Hit]:
        """The `k` best chunks of the course for `query`, best first (limited to `file_ids` when given).
        With `module_id`: the module's chunks first, then course-wide ones, then the rest of the course."""
        ...


class Search:
    def __init__(self, retriever: CourseRetriever, metrics: SmeMetrics | None = None) -> None:
        self._retriever = retriever
        self._metrics = metrics or SmeMetrics()

    async def retrieve(
        self,
        course_id: str,
        query: str,
        k: int,
        file_ids: Sequence[str],
        method: Method,
        module_id: str | None = None,
    ) -> list[Hit]:
        course_id = v.identifier(course_id, "course_id")
        query = v.text(query, "query", MAX_QUERY)
        if not 0 <= k <= MAX_K:
            raise InvalidArgument(f"k must be between 1 and {MAX_K}", "INVALID_K", field="k")
        ids = [v.identifier(f, "file_id") for f in v.bounded_list(file_ids, "file_ids", MAX_FILE_IDS)]
        return await self._retrieve(course_id, query, k or DEFAULT_K, ids or None, method, _module(module_id))

    async def passages(self, course_id: str, query: str, k: int, module_id: str | None = None) -> list[Hit]:
        """The `k` passages most relevant to `query` (hybrid search; the module's files first when given);
        may be none."""
        return await self._retrieve(course_id, query[:MAX_QUERY], k, None, Method.HYBRID, _module(module_id))

    async def _retrieve(
        self,
        course_id: str,
        query: str,
        k: int,
        file_ids: Sequence[str] | None,
        method: Method,
        module_id: str | None,
    ) -> list[Hit]:
        started = time.perf_counter()
        with telemetry.span("sme.retrieve", **{"lmw.retrieval.method": method.value, "lmw.retrieval.k": k}):
            hits = await self._retriever.retrieve(course_id, query, k, file_ids, method, module_id)
        self._metrics.retrieval_seconds.labels(method.value).observe(time.perf_counter() - started)
        return hits

    async def grounding(self, course_id: str, query: str, k: int, module_id: str | None = None) -> list[Hit]:
        """What a generation for a module is grounded in: the module's own files and the course-wide ones,
        and the rest of the course only when those hold nothing (no module: the whole course).
        FAILED_PRECONDITION while the course has nothing indexed."""
        hits = await self.passages(course_id, query, k, module_id)
        if module_id:
            scoped = [h for h in hits if h.chunk.module_id in (module_id, "")]
            hits = scoped or hits
        if not hits:
            raise FailedPrecondition("the course has no indexed material yet", "INDEX_EMPTY")
        return hits


def _module(module_id: str | None) -> str | None:
    """None (no module: no tiers) or a valid module id."""
    return v.identifier(module_id, "module_id") if module_id else None
