"""Completing a module: once its quiz is passed, the module is completed, which unlocks the next one, whose
content is then generated in the background so it is ready when the learner opens it."""

from __future__ import annotations

import asyncio
import logging

from lmw_common import validation as v
from lmw_common.auth import Principal, require_role
from lmw_common.errors import FailedPrecondition
from orchestrator_svc.app.access import CourseAccess
from orchestrator_svc.app.content import LearnerState, ModuleContents, ModuleEvents
from orchestrator_svc.app.quizzes import Quizzes
from orchestrator_svc.domain import Course, Module

log = logging.getLogger(__name__)


class ModuleCompletion:
    def __init__(
        self,
        access: CourseAccess,
        quizzes: Quizzes,
        contents: ModuleContents,
        events: ModuleEvents,
        learners: LearnerState,
    ) -> None:
        self._access = access
        self._quizzes = quizzes
        self._contents = contents
        self._events = events
        self._learners = learners
        self._background: set[asyncio.Task] = set()

    async def complete(self, caller: Principal, course_id: str, module_id: str) -> tuple[str, bool]:
        """The next module's id ("" when none), and whether the course is completed."""
        learner = require_role(caller, "learner")
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        ctx = await self._access.module(learner, course_id, module_id, fresh=True)
        progress = ctx.progress.of(module_id)
        if not progress.completed:
            if not progress.passed and not await self._quizzes.passed(learner, module_id):
                raise FailedPrecondition("pass the module's quiz before completing it", "QUIZ_NOT_PASSED")
            await self._events.record_module_event(learner, course_id, module_id, completed=True)
            await self._learners.changed(learner, course_id)
        following = ctx.course.next_after(module_id)
        if following is None:
            return "", True
        self._warm(learner, ctx.course, following)
        return following.id, False

    def _warm(self, learner_id: str, course: Course, module: Module) -> None:
        task = asyncio.create_task(
            self._prepare(learner_id, course, module), name=f"warm {learner_id} {module.id}"
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _prepare(self, learner_id: str, course: Course, module: Module) -> None:
        """Generate the module's content ahead of the learner; a failure is only logged (opening the module
        tries again)."""
        try:
            preferences = await self._learners.preferences(learner_id, course.id)
            await self._contents.ensure(learner_id, course, module, preferences)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(
                "warming content failed: %s",
                exc,
                extra={"fields": {"learner_id": learner_id, "module_id": module.id}},
            )

    async def wait_background(self) -> None:
        """Wait until the content being prepared in the background is ready (orderly shutdowns, tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
