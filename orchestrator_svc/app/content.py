"""A learner's module content: generated once for what it is built from (the learner's preferences, the
module's objectives, the course's materials), stored, and served from then on.

Opening a module starts it. Content is looked up in memory, then in the store; only when neither has it is it
generated, by one caller across every replica (single flight); the others wait for that caller's result.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from lmw_common import telemetry
from lmw_common import validation as v
from lmw_common.auth import Principal, require_role
from lmw_common.citations import Citation
from lmw_common.errors import FailedPrecondition, Unavailable
from lmw_common.preferences import Preferences
from lmw_common.ttl_cache import TtlCache
from orchestrator_svc.app.access import CourseAccess, ModuleContext, gather_in_order
from orchestrator_svc.domain import (
    ContentEvent,
    ContentInputs,
    Course,
    Mastery,
    MasteryRules,
    Module,
    ModuleContent,
    ModuleObjectives,
    Objective,
    approved,
)

log = logging.getLogger(__name__)

# Contents kept in memory (a few KiB each). A stored version never changes (other inputs make another
# digest), so what is kept needs no expiry.
CONTENT_CACHE_ENTRIES = 2048

T = TypeVar("T")


class ContentStore(Protocol):
    async def current_content(
        self, learner_id: str, module_id: str, inputs_hash: str
    ) -> ModuleContent | None: ...

    async def add_content(self, content_id: str, inputs_hash: str, content: ModuleContent) -> None: ...


class ContentWriter(Protocol):
    def generate_content(
        self,
        course_id: str,
        module: Module,
        objectives: Sequence[Objective],
        preferences: Preferences,
        recap: Sequence[Objective],
    ) -> AsyncIterator[ContentEvent]:
        """Markdown deltas, then one event with the whole Markdown and its citations."""
        ...


class ObjectiveCatalog(Protocol):
    async def objectives(self, course_id: str, module_id: str = "") -> dict[str, ModuleObjectives]:
        """The objectives of one module, or of every module of the course, by module id; always current."""
        ...


class MasteryStore(Protocol):
    async def mastery(self, learner_id: str, course_id: str) -> dict[str, Mastery]: ...


class SingleFlight(Protocol):
    async def run(
        self, key: str, lookup: Callable[[], Awaitable[T | None]], produce: Callable[[], Awaitable[T]]
    ) -> T:
        """What `lookup` finds, or what `produce` made: exactly one caller across replicas produces it."""
        ...


class LearnerState(Protocol):
    async def preferences(self, learner_id: str, course_id: str) -> Preferences: ...

    async def changed(self, learner_id: str, course_id: str) -> None: ...


class ModuleEvents(Protocol):
    async def record_module_event(
        self, learner_id: str, course_id: str, module_id: str, completed: bool
    ) -> None:
        """Tell learner_svc the learner started (or completed) the module."""
        ...


class ModuleContents:
    def __init__(
        self,
        access: CourseAccess,
        learners: LearnerState,
        events: ModuleEvents,
        store: ContentStore,
        writer: ContentWriter,
        objectives: ObjectiveCatalog,
        mastery: MasteryStore,
        flight: SingleFlight,
        rules: MasteryRules,
    ) -> None:
        self._access = access
        self._learners = learners
        self._events = events
        self._store = store
        self._writer = writer
        self._objectives = objectives
        self._mastery = mastery
        self._flight = flight
        self._rules = rules
        self._kept: TtlCache[ModuleContent] = TtlCache(math.inf, CONTENT_CACHE_ENTRIES)

    async def get(self, caller: Principal, course_id: str, module_id: str) -> ModuleContent:
        ctx, preferences = await self._open(caller, course_id, module_id)
        return await self.ensure(ctx.learner_id, ctx.course, ctx.module, preferences)

    async def stream(
        self, caller: Principal, course_id: str, module_id: str
    ) -> AsyncIterator[str | ModuleContent]:
        """Markdown deltas as sme_svc writes them (to the caller that generates; waiters and cache hits get the
        whole text in one delta), then the stored content."""
        ctx, preferences = await self._open(caller, course_id, module_id)
        deltas: asyncio.Queue[str] = asyncio.Queue()
        work = asyncio.ensure_future(
            self.ensure(ctx.learner_id, ctx.course, ctx.module, preferences, deltas.put_nowait)
        )
        streamed = False
        try:
            while not work.done():
                getter = asyncio.ensure_future(deltas.get())
                await asyncio.wait({getter, work}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    streamed = True
                    yield getter.result()
                else:
                    getter.cancel()
            while not deltas.empty():
                streamed = True
                yield deltas.get_nowait()
            content = work.result()
        finally:
            work.cancel()  # only this caller's wait: the generation itself is shielded
        if not streamed:
            yield content.markdown
        yield content

    async def ensure(
        self,
        learner_id: str,
        course: Course,
        module: Module,
        preferences: Preferences,
        emit: Callable[[str], Any] | None = None,
    ) -> ModuleContent:
        """The learner's content of the module for these preferences: kept, stored, or generated now (its
        deltas go to `emit` when this caller is the one that generates)."""
        digest = ContentInputs(
            course.id, module.id, preferences, module.objectives_version, course.materials_version
        ).digest()
        lookup = partial(self._store.current_content, learner_id, module.id, digest)
        produce = partial(self._generate, learner_id, course, module, preferences, digest, emit)
        key = f"content:{learner_id}:{module.id}:{digest[:32]}"
        with telemetry.span("orchestrator.module_content"):
            return await self._kept.get(
                (learner_id, module.id, digest), partial(self._flight.run, key, lookup, produce)
            )

    def caches(self) -> dict[str, TtlCache]:
        """Its caches by name (for lmw_common.metrics)."""
        return {"module_content": self._kept}

    async def _open(
        self, caller: Principal, course_id: str, module_id: str
    ) -> tuple[ModuleContext, Preferences]:
        """The module for its learner (opening it starts it), and the learner's preferences."""
        learner = require_role(caller, "learner")
        course_id = v.identifier(course_id, "course_id")
        module_id = v.identifier(module_id, "module_id")
        # The preferences are read beside the checks (one round trip less); the checks' errors come first.
        ctx, preferences = await gather_in_order(
            self._access.module(learner, course_id, module_id), self._learners.preferences(learner, course_id)
        )
        if not ctx.progress.of(module_id).started:
            await self._events.record_module_event(learner, course_id, module_id, completed=False)
            await self._learners.changed(learner, course_id)
        return ctx, preferences

    async def _generate(
        self,
        learner_id: str,
        course: Course,
        module: Module,
        preferences: Preferences,
        digest: str,
        emit: Callable[[str], Any] | None,
    ) -> ModuleContent:
        started = time.monotonic()
        objectives, mastery = await gather_in_order(
            self._objectives.objectives(course.id), self._mastery.mastery(learner_id, course.id)
        )
        own = approved(objectives, module)
        recap = self._rules.recap(course, module, objectives, mastery)
        markdown, citations = await self._write(course, module, own.objectives, preferences, recap, emit)
        content = ModuleContent(
            learner_id=learner_id,
            course_id=course.id,
            module_id=module.id,
            markdown=markdown,
            citations=citations,
            preferences=preferences,
            objectives_version=module.objectives_version,
            materials_version=course.materials_version,
            recap_objective_ids=tuple(o.id for o in recap),
            generated_at=datetime.now(UTC),
        )
        await self._store.add_content(uuid.uuid4().hex, digest, content)
        log.info(
            "generated module content",
            extra={
                "fields": {
                    "learner_id": learner_id,
                    "module_id": module.id,
                    "chars": len(markdown),
                    "recap": len(recap),
                    "seconds": round(time.monotonic() - started, 3),
                }
            },
        )
        return content

    async def _write(
        self,
        course: Course,
        module: Module,
        objectives: Sequence[Objective],
        preferences: Preferences,
        recap: Sequence[Objective],
        emit: Callable[[str], Any] | None,
    ) -> tuple[str, tuple[Citation, ...]]:
        """Have sme_svc write the content, passing its deltas on; the whole Markdown and its citations."""
        parts: list[str] = []
        final = None
        async for event in self._writer.generate_content(course.id, module, objectives, preferences, recap):
            if event.markdown is not None:
                final = event
            elif event.delta:
                parts.append(event.delta)
                if emit is not None:
                    emit(event.delta)
        if final is None:
            raise Unavailable(
                "content generation ended before it finished; try again", "GENERATION_INCOMPLETE"
            )
        markdown = final.markdown or "".join(parts)
        if not markdown.strip():
            raise FailedPrecondition(
                "no content could be generated from the course materials", "EMPTY_CONTENT"
            )
        return markdown, final.citations
