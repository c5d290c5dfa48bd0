"""Fetches course file bytes from instructor_svc by stream (no shared filesystem between services)."""

from __future__ import annotations

import grpc

from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.instructor.v1 import instructor_service_pb2_grpc as ipb_grpc
from lmw_common.errors import InvalidArgument, from_rpc_error


class CourseFiles:
    def __init__(self, channel: grpc.aio.Channel, max_bytes: int, timeout_s: float = 120.0) -> None:
        self._stub = ipb_grpc.InstructorServiceStub(channel)
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s

    async def read(self, course_id: str, file_id: str) -> bytes:
        parts: list[bytes] = []
        size = 0
        try:
            stream = self._stub.ReadCourseFile(
                ipb.ReadCourseFileRequest(course_id=course_id, file_id=file_id), timeout=self._timeout_s
            )
            async for message in stream:
                size += len(message.data)
                if size > self._max_bytes:
                    stream.cancel()
                    raise InvalidArgument(f"file is larger than {self._max_bytes} bytes", "FILE_TOO_LARGE")
                parts.append(message.data)
        except grpc.aio.AioRpcError as exc:
            raise from_rpc_error(exc) from exc
        return b"".join(parts)
