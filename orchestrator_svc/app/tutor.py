"""The tutor: a learner's questions about a course, answered from its materials with citations (streamed),
and the conversation so far. Questions of the learner's open quizzes get hints, not answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Protocol

from lmw_common import validation as v
from lmw_common.auth import Principal, require_role
from lmw_common.errors import InvalidArgument, NotFound, Unavailable
from lmw_common.pagination import decode_token, encode_token, page_size
from orchestrator_svc.app.access import CourseAccess, gather_in_order
from orchestrator_svc.domain import AnswerEvent, Quiz, TutorMessage


class TutorLog(Protocol):
    async def recent(
        self, learner_id: str, course_id: str, limit: int, before_seq: int | None = None
    ) -> list[tuple[int, TutorMessage]]:
        """Up to `limit` messages older than `before_seq`, newest first, with their sequence number."""
        ...

    async def add_exchange(
        self, learner_id: str, course_id: str, question: TutorMessage, answer: TutorMessage
    ) -> None: ...


class TutorModel(Protocol):
    def answer(
        self,
        course_id: str,
        question: str,
        history: Sequence[tuple[str, str]],
        protected_questions: Sequence[str],
        module_id: str,
    ) -> AsyncIterator[AnswerEvent]:
        """Text deltas, then one final event with the whole answer, its citations and whether it is grounded.
        Asked from a module ("" for none), its material comes first."""
        ...


class OpenQuizzes(Protocol):
    async def unsubmitted_quizzes(self, learner_id: str, course_id: str) -> list[Quiz]: ...


class Tutor:
    def __init__(
        self,
        access: CourseAccess,
        log: TutorLog,
        model: TutorModel,
        quizzes: OpenQuizzes,
        *,
        max_question_chars: int,
        history_messages: int,
    ) -> None:
        self._access = access
        self._log = log
        self._model = model
        self._quizzes = quizzes
        self._max_question_chars = max_question_chars
        self._history_messages = history_messages

    async def ask(
        self, caller: Principal, course_id: str, question: str, module_id: str
    ) -> AsyncIterator[str | TutorMessage]:
        """Text deltas, then the stored answer. Both turns are stored once the answer is complete."""
        learner = require_role(caller, "learner")
        course_id = v.identifier(course_id, "course_id")
        question = v.text(question, "question", self._max_question_chars)
        module_id = v.identifier(module_id, "module_id") if module_id else ""
        course, _ = await self._access.course(learner, course_id, active=True)
        if module_id and course.module(module_id) is None:
            raise NotFound("module not found in this course", "MODULE_NOT_FOUND")
        history, open_quizzes = await gather_in_order(
            self._log.recent(learner, course_id, self._history_messages)
            if self._history_messages
            else _nothing(),
            self._quizzes.unsubmitted_quizzes(learner, course_id),
        )
        turns = [(m.role, m.text) for _, m in reversed(history)]
        protected = [item.question for quiz in open_quizzes for item in quiz.items]
        asked_at = datetime.now(UTC)
        final = None
        async for event in self._model.answer(course_id, question, turns, protected, module_id):
            if event.final:
                final = event
            elif event.delta:
                yield event.delta
        if final is None:
            raise Unavailable("the tutor stopped before answering; try again", "GENERATION_INCOMPLETE")
        asked = TutorMessage(uuid.uuid4().hex, "learner", question, (), False, module_id, asked_at)
        answer = TutorMessage(
            uuid.uuid4().hex,
            "tutor",
            final.text,
            final.citations,
            final.grounded,
            module_id,
            datetime.now(UTC),
        )
        await self._log.add_exchange(learner, course_id, asked, answer)
        yield answer

    async def history(
        self, caller: Principal, course_id: str, size: int, token: str
    ) -> tuple[list[TutorMessage], str]:
        """A page of the conversation, oldest first within the page; pages go back in time."""
        learner = require_role(caller, "learner")
        course_id = v.identifier(course_id, "course_id")
        size = page_size(size)
        before = decode_token(token).get("before")
        if before is not None and (not isinstance(before, int) or not 0 < before < 2**63):  # MongoDB: int64
            raise InvalidArgument("page_token is not valid", "INVALID_PAGE_TOKEN")
        await self._access.enrollment(learner, course_id, active=False)
        rows = await self._log.recent(learner, course_id, size + 1, before)
        page = rows[:size]
        next_token = encode_token({"before": page[-1][0]}) if len(rows) > size else ""
        return [m for _, m in reversed(page)], next_token


async def _nothing() -> list:
    return []
