"""A learner's preferences in a course: read them (the defaults until they set some), set some or all of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from lmw_common import preferences as prefs
from lmw_common import validation as v
from lmw_common.auth import Principal, require_role
from lmw_common.preferences import DEFAULT_PREFERENCES, Preferences
from orchestrator_svc.app.access import CourseAccess


class PreferenceStore(Protocol):
    async def update(self, learner_id: str, course_id: str, changes: Mapping[str, str]) -> Preferences:
        """Set these dimensions in one atomic write (the others keep their stored values, or get the
        defaults); the preferences as stored."""
        ...


class StoredPreferences(Protocol):
    async def stored_preferences(self, learner_id: str, course_id: str) -> Preferences | None:
        """The preferences the learner set (None until they set some)."""
        ...

    async def changed(self, learner_id: str, course_id: str) -> None:
        """The learner's state in the course changed (called once the change is stored)."""
        ...


class PreferenceSettings:
    def __init__(self, access: CourseAccess, store: PreferenceStore, learners: StoredPreferences) -> None:
        self._access = access
        self._store = store
        self._learners = learners

    async def get(self, caller: Principal, course_id: str) -> tuple[Preferences, bool]:
        """The learner's preferences, and whether they are the defaults (never set)."""
        learner = require_role(caller, "learner")
        course_id = v.identifier(course_id, "course_id")
        await self._access.enrollment(learner, course_id, active=False)
        stored = await self._learners.stored_preferences(learner, course_id)
        return (stored, False) if stored else (DEFAULT_PREFERENCES, True)

    async def set(
        self, caller: Principal, course_id: str, values: Mapping[str, str], update_mask: Sequence[str]
    ) -> Preferences:
        """Set the dimensions `update_mask` names to `values` (the dimensions given when it names none)."""
        learner = require_role(caller, "learner")
        course_id = v.identifier(course_id, "course_id")
        changes = prefs.changes(values, update_mask)
        await self._access.enrollment(learner, course_id, active=True, fresh=True)
        stored = await self._store.update(learner, course_id, changes)
        await self._learners.changed(learner, course_id)
        return stored
