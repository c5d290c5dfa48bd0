"""ReadCourseFile beyond services: the course's owner and a learner actively enrolled in the published course
open a course file (the portal's cited-source viewer); a learner who is not enrolled, or no longer, and
another instructor are refused before any file is looked up.

Runs on the session's shared mesh (tests.integration.mesh): the four services in-process, real databases."""

from __future__ import annotations

import grpc
import pytest

from devkit import PASSWORD, SAMPLE_COURSE
from devkit.inprocess import sign_up_learner
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.learner.v1 import learner_service_pb2 as lpb

pytest.importorskip("orchestrator_svc.bootstrap")

pytest_plugins = ("tests.integration.mesh",)


async def read(stub, course_id: str, file_id: str) -> tuple[ipb.CourseFile, bytes]:
    messages = [
        m async for m in stub.ReadCourseFile(ipb.ReadCourseFileRequest(course_id=course_id, file_id=file_id))
    ]
    return messages[0].file, b"".join(m.data for m in messages)


async def refusal(awaitable) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await awaitable
    return failure.value.code(), failure.value.details() or ""


@pytest.fixture(scope="module")
async def course_file(lmw_mesh, lmw_course) -> ipb.CourseFile:
    owner = lmw_mesh.instructor_stub(lmw_course.instructor_token)
    files = await owner.ListCourseFiles(ipb.ListCourseFilesRequest(course_id=lmw_course.course_id))
    return next(f for f in files.files if f.name.endswith(".md"))


async def test_an_enrolled_learner_opens_a_course_file_until_unenrolled(lmw_mesh, lmw_course, course_file):
    _, token = await sign_up_learner(lmw_mesh, "Reader")
    learner = lmw_mesh.learner_stub(token)
    instructor = lmw_mesh.instructor_stub(token)
    code, _ = await refusal(read(instructor, lmw_course.course_id, course_file.id))
    assert code == grpc.StatusCode.PERMISSION_DENIED  # not enrolled yet

    await learner.Enroll(lpb.EnrollRequest(course_id=lmw_course.course_id))
    meta, data = await read(instructor, lmw_course.course_id, course_file.id)
    assert meta.id == course_file.id and data == (SAMPLE_COURSE / course_file.name).read_bytes()
    code, _ = await refusal(read(instructor, lmw_course.course_id, "no-such-file"))
    assert code == grpc.StatusCode.NOT_FOUND

    await learner.Unenroll(lpb.UnenrollRequest(course_id=lmw_course.course_id))
    code, _ = await refusal(read(instructor, lmw_course.course_id, course_file.id))
    assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_the_owner_opens_its_files_and_other_instructors_cannot(lmw_mesh, lmw_course, course_file):
    meta, data = await read(
        lmw_mesh.instructor_stub(lmw_course.instructor_token), lmw_course.course_id, course_file.id
    )
    assert meta.sha256 == course_file.sha256 and len(data) == course_file.size_bytes

    anonymous = lmw_mesh.instructor_stub()
    other = await anonymous.SignUp(
        ipb.SignUpRequest(
            email=f"other-{course_file.id[:8]}@example.org", password=PASSWORD, display_name="O"
        )
    )
    code, _ = await refusal(
        read(lmw_mesh.instructor_stub(other.access_token.token), lmw_course.course_id, course_file.id)
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _ = await refusal(read(anonymous, lmw_course.course_id, course_file.id))
    assert code == grpc.StatusCode.UNAUTHENTICATED
