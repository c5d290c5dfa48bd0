"""Client of sme_svc (ingestion, jobs, objective generation), every call through the circuit breaker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from instructor_svc.domain import CourseFile, Module, Objective
from lmw.sme.v1 import sme_service_pb2 as spb
from lmw.sme.v1 import sme_service_pb2_grpc as spb_grpc
from lmw_common.breaker import GuardedDependency
from lmw_common.citations import citation_from_pb
from lmw_common.jobs import Job, job_from_pb


class SmeClient:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        guard: GuardedDependency,
        *,
        objective_timeout_s: float,
        watch_timeout_s: float,
    ) -> None:
        self._stub = spb_grpc.SmeServiceStub(channel)
        self._guard = guard
        self._objective_timeout_s = objective_timeout_s
        self._watch_timeout_s = watch_timeout_s

    async def ingest(self, course_id: str, files: list[CourseFile], timeout_s: float | None = None) -> Job:
        request = spb.IngestDocumentsRequest(
            course_id=course_id,
            documents=[
                spb.DocumentRef(
                    file_id=f.id,
                    file_name=f.name,
                    sha256=f.sha256,
                    media_type=f.media_type,
                    module_id=f.module_id,
                )
                for f in files
            ],
        )
        response = await self._guard.call(lambda: self._stub.IngestDocuments(request, timeout=timeout_s))
        return job_from_pb(response.job, course_id)

    async def get_job(self, job_id: str, timeout_s: float | None = None) -> Job:
        request = spb.GetJobRequest(job_id=job_id)
        response = await self._guard.call(lambda: self._stub.GetJob(request, timeout=timeout_s))
        return job_from_pb(response.job)

    async def watch_job(self, job_id: str) -> AsyncIterator[Job]:
        request = spb.WatchJobRequest(job_id=job_id)
        async for response in self._guard.stream(
            lambda: self._stub.WatchJob(request, timeout=self._watch_timeout_s)
        ):
            yield job_from_pb(response.job)

    async def delete_documents(self, course_id: str, file_ids: list[str]) -> int:
        request = spb.DeleteDocumentsRequest(course_id=course_id, file_ids=file_ids)
        response = await self._guard.call(lambda: self._stub.DeleteDocuments(request))
        return response.deleted_chunk_count

    async def move_documents(self, course_id: str, file_ids: list[str], module_id: str) -> int:
        request = spb.MoveDocumentsRequest(course_id=course_id, file_ids=file_ids, module_id=module_id)
        response = await self._guard.call(lambda: self._stub.MoveDocuments(request))
        return response.moved_chunk_count

    async def delete_course_index(self, course_id: str) -> int:
        request = spb.DeleteCourseIndexRequest(course_id=course_id)
        response = await self._guard.call(lambda: self._stub.DeleteCourseIndex(request))
        return response.deleted_chunk_count

    async def generate_objectives(
        self, course_id: str, module: Module, count: int, avoid: list[str]
    ) -> tuple[list[Objective], str]:
        request = spb.GenerateLearningObjectivesRequest(
            course_id=course_id,
            module_title=module.title,
            module_description=module.description,
            count=count,
            avoid=avoid,
            module_id=module.id,
        )
        response = await self._guard.call(
            lambda: self._stub.GenerateLearningObjectives(request, timeout=self._objective_timeout_s)
        )
        objectives = [
            Objective(o.id, o.text, tuple(citation_from_pb(c) for c in o.citations))
            for o in response.objectives
        ]
        return objectives, response.shortfall
