"""Client of learner_svc: every learner's progress and every quiz attempt of a course (analytics), and whether
one learner is enrolled (who may open a course file)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from instructor_svc.domain import AnswerFact, AttemptFact, LearnerFact, ModuleFact
from lmw.learner.v1 import learner_service_pb2 as lpb
from lmw.learner.v1 import learner_service_pb2_grpc as lpb_grpc
from lmw_common.errors import NotFound, from_rpc_error
from lmw_common.protoconv import from_timestamp

PAGE_SIZE = 200


class LearnerClient:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = lpb_grpc.LearnerServiceStub(channel)

    async def is_enrolled(self, learner_id: str, course_id: str) -> bool:
        try:
            response = await self._stub.GetCourseProgress(
                lpb.GetCourseProgressRequest(learner_id=learner_id, course_id=course_id)
            )
        except grpc.aio.AioRpcError as exc:
            error = from_rpc_error(exc)
            if isinstance(error, NotFound):  # NOT_ENROLLED: never enrolled
                return False
            raise error from exc
        return response.progress.enrollment.state == lpb.ENROLLMENT_STATE_ACTIVE

    async def course_progress(self, course_id: str) -> AsyncIterator[LearnerFact]:
        token = ""
        while True:
            try:
                response = await self._stub.BatchGetCourseProgress(
                    lpb.BatchGetCourseProgressRequest(
                        course_id=course_id, page_size=PAGE_SIZE, page_token=token
                    )
                )
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc) from exc
            for p in response.progress:
                yield LearnerFact(
                    learner_id=p.learner_id,
                    active=p.enrollment.state == lpb.ENROLLMENT_STATE_ACTIVE,
                    last_activity=from_timestamp(p.last_activity_time),
                    modules=tuple(
                        ModuleFact(m.module_id, from_timestamp(m.start_time), from_timestamp(m.complete_time))
                        for m in p.modules
                    ),
                )
            token = response.next_page_token
            if not token:
                return

    async def quiz_attempts(self, course_id: str) -> AsyncIterator[AttemptFact]:
        token = ""
        while True:
            try:
                response = await self._stub.ListQuizAttempts(
                    lpb.ListQuizAttemptsRequest(course_id=course_id, page_size=PAGE_SIZE, page_token=token)
                )
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc) from exc
            for a in response.attempts:
                yield AttemptFact(
                    learner_id=a.learner_id,
                    module_id=a.module_id,
                    score=a.score,
                    passed=a.passed,
                    submitted_at=from_timestamp(a.submit_time),
                    answers=tuple(AnswerFact(r.objective_id, r.correct) for r in a.results),
                )
            token = response.next_page_token
            if not token:
                return
