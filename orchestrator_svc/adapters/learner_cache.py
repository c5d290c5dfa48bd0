"""What orchestrator_svc reads about one learner in one course, kept in process for a few seconds.

Every learner request needs the learner's progress in the course (enrollment, unlocks; learner_svc) and
their preferences (MongoDB); dashboards add recent quiz results (learner_svc) and mastery (PostgreSQL).
These change when the learner acts, and every such act but enrolling goes through orchestrator_svc, which
then calls `changed`: the entry is dropped here at once and, through the change feed, on every other
replica a few milliseconds after. An enrollment change (made in learner_svc) is seen within `ttl_s`.

Cached facts may grant but never deny: a caller refused on a cached value asks again with `fresh=True`.
"""

from __future__ import annotations

from lmw_common.change_feed import ChangeFeed
from lmw_common.preferences import DEFAULT_PREFERENCES, Preferences
from lmw_common.ttl_cache import TtlCache
from orchestrator_svc.adapters.clients import LearnerClient
from orchestrator_svc.adapters.mongo_stores import PreferenceStore
from orchestrator_svc.adapters.repository import OrchestratorRepository
from orchestrator_svc.domain import AttemptSummary, CourseProgress, Mastery

Key = tuple[str, str]  # (learner_id, course_id)


class LearnerCache:
    def __init__(
        self,
        learners: LearnerClient,
        preferences: PreferenceStore,
        repo: OrchestratorRepository,
        *,
        ttl_s: float,
        recent_results: int,
        feed: ChangeFeed | None = None,
        max_entries: int = 10_000,
    ) -> None:
        self._learners = learners
        self._preferences = preferences
        self._repo = repo
        self._recent = recent_results
        self._feed = feed
        self._progress: TtlCache[CourseProgress | None] = TtlCache(ttl_s, max_entries)
        self._prefs: TtlCache[Preferences | None] = TtlCache(ttl_s, max_entries)
        self._results: TtlCache[list[AttemptSummary]] = TtlCache(ttl_s, max_entries)
        self._mastery: TtlCache[dict[str, Mastery]] = TtlCache(ttl_s, max_entries)
        self._caches = (self._progress, self._prefs, self._results, self._mastery)

    def caches(self) -> dict[str, TtlCache]:
        """Its caches by name (for lmw_common.metrics)."""
        return {
            "learner_progress": self._progress,
            "learner_preferences": self._prefs,
            "learner_results": self._results,
            "learner_mastery": self._mastery,
        }

    async def progress(
        self, learner_id: str, course_id: str, *, fresh: bool = False
    ) -> CourseProgress | None:
        """None when the learner never enrolled in the course."""
        key = (learner_id, course_id)
        if fresh:
            self._progress.invalidate(key)
        return await self._progress.get(key, lambda: self._learners.course_progress(*key))

    async def stored_preferences(self, learner_id: str, course_id: str) -> Preferences | None:
        """The preferences the learner set (None until they set some)."""
        key = (learner_id, course_id)
        return await self._prefs.get(key, lambda: self._preferences.get(*key))

    async def preferences(self, learner_id: str, course_id: str) -> Preferences:
        return await self.stored_preferences(learner_id, course_id) or DEFAULT_PREFERENCES

    async def recent_results(self, learner_id: str, course_id: str) -> list[AttemptSummary]:
        key = (learner_id, course_id)
        return await self._results.get(key, lambda: self._learners.recent_attempts(*key, self._recent))

    async def mastery(self, learner_id: str, course_id: str) -> dict[str, Mastery]:
        key = (learner_id, course_id)
        return await self._mastery.get(key, lambda: self._repo.mastery(*key))

    async def changed(self, learner_id: str, course_id: str) -> None:
        """The learner's state in the course changed (call it once the change is stored)."""
        self._forget((learner_id, course_id))
        if self._feed is not None:
            await self._feed.publish(f"{learner_id}/{course_id}")

    def heard(self, notice: str) -> None:
        """A change notice from the feed (any replica's `changed`)."""
        learner_id, _, course_id = notice.rpartition("/")
        self._forget((learner_id, course_id))

    def clear(self) -> None:
        for cache in self._caches:
            cache.clear()

    def _forget(self, key: Key) -> None:
        for cache in self._caches:
            cache.invalidate(key)
