"""Searching a course's materials: for a caller (Retrieve), and to ground what is generated."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from lmw_common import validation as v
from lmw_common.errors import FailedPrecondition, InvalidArgument
from sme_svc.domain import Hit, Method

MAX_QUERY = 2_000
MAX_K = 50
DEFAULT_K = 5
MAX_FILE_IDS = 500


class CourseRetriever(Protocol):
    async def retrieve(
        self, course_id: str, query: str, k: int, file_ids: Sequence[str] | None, method: Method
    ) -> list[Hit]:
        """The `k` best chunks of the course for `query`, best first (limited to `file_ids` when given)."""
        ...


class Search:
    def __init__(self, retriever: CourseRetriever) -> None:
        self._retriever = retriever

    async def retrieve(
        self, course_id: str, query: str, k: int, file_ids: Sequence[str], method: Method
    ) -> list[Hit]:
        course_id = v.identifier(course_id, "course_id")
        query = v.text(query, "query", MAX_QUERY)
        if not 0 <= k <= MAX_K:
            raise InvalidArgument(f"k must be between 1 and {MAX_K}", "INVALID_K", field="k")
        ids = [v.identifier(f, "file_id") for f in v.bounded_list(file_ids, "file_ids", MAX_FILE_IDS)]
        return await self._retriever.retrieve(course_id, query, k or DEFAULT_K, ids or None, method)

    async def passages(self, course_id: str, query: str, k: int) -> list[Hit]:
        """The `k` passages most relevant to `query` (hybrid search over the whole course); may be none."""
        return await self._retriever.retrieve(course_id, query[:MAX_QUERY], k, None, Method.HYBRID)

    async def grounding(self, course_id: str, query: str, k: int) -> list[Hit]:
        """What a generation is grounded in: FAILED_PRECONDITION while the course has nothing indexed."""
        hits = await self.passages(course_id, query, k)
        if not hits:
            raise FailedPrecondition("the course has no indexed material yet", "INDEX_EMPTY")
        return hits
