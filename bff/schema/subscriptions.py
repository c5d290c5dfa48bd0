"""Subscriptions (graphql-transport-ws and graphql-ws): each relays one gRPC server stream.

When the client unsubscribes or disconnects, Strawberry closes the generator and `server_stream` cancels
the gRPC call, so nothing keeps generating for nobody.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry
from strawberry.types import Info

from bff.clients import server_stream
from bff.schema.common import clients, context
from bff.schema.types import Job, JobState, ModuleContent, ModuleContentEvent, TutorAnswerEvent, TutorMessage
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.orchestrator.v1 import orchestrator_service_pb2 as opb

_TERMINAL = (JobState.SUCCEEDED, JobState.FAILED)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Progress of an ingestion or objectives job, until it ends.")
    async def job_progress(self, info: Info, id: strawberry.ID) -> AsyncGenerator[Job, None]:
        call = clients(info).instructor.WatchJob(
            ipb.WatchJobRequest(job_id=id), timeout=context(info).settings.stream_timeout_s
        )
        async with aclosing(server_stream(call)) as events:
            async for event in events:
                job = Job.from_pb(event.job)
                yield job
                if job.state in _TERMINAL:
                    return

    @strawberry.subscription(
        description="Personalized module content: Markdown deltas, then the whole content."
    )
    async def module_content_stream(
        self, info: Info, course_id: strawberry.ID, module_id: strawberry.ID
    ) -> AsyncGenerator[ModuleContentEvent, None]:
        call = clients(info).orchestrator.StreamModuleContent(
            opb.StreamModuleContentRequest(course_id=course_id, module_id=module_id),
            timeout=context(info).settings.stream_timeout_s,
        )
        async with aclosing(server_stream(call)) as events:
            async for event in events:
                if event.HasField("content"):
                    yield ModuleContentEvent(content=ModuleContent.from_pb(event.content))
                elif event.markdown_delta:
                    yield ModuleContentEvent(markdown_delta=event.markdown_delta)

    @strawberry.subscription(
        description="A tutor answer: text deltas, then the whole message with citations."
    )
    async def tutor_answer(
        self, info: Info, course_id: strawberry.ID, question: str, module_id: strawberry.ID | None = None
    ) -> AsyncGenerator[TutorAnswerEvent, None]:
        call = clients(info).orchestrator.AskTutor(
            opb.AskTutorRequest(course_id=course_id, question=question, module_id=module_id or ""),
            timeout=context(info).settings.stream_timeout_s,
        )
        async with aclosing(server_stream(call)) as events:
            async for event in events:
                if event.HasField("message"):
                    yield TutorAnswerEvent(message=TutorMessage.from_pb(event.message))
                elif event.text_delta:
                    yield TutorAnswerEvent(text_delta=event.text_delta)
