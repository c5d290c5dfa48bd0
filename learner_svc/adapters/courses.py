"""Asks instructor_svc whether a course can be enrolled in (exists and is published)."""

from __future__ import annotations

import grpc

from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.instructor.v1 import instructor_service_pb2_grpc as ipb_grpc
from lmw_common.errors import FailedPrecondition, from_rpc_error


class InstructorCourseCatalog:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = ipb_grpc.InstructorServiceStub(channel)

    async def ensure_enrollable(self, course_id: str) -> None:
        try:
            response = await self._stub.GetCourse(ipb.GetCourseRequest(course_id=course_id))
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from exc
        if not response.course.published:
            raise FailedPrecondition("the course is not published", "COURSE_NOT_PUBLISHED")
