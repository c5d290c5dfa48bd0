"""Every InstructorService RPC against every kind of caller: exactly the expected allow or deny.

"ok" means the call got past authentication and authorization (any code but UNAUTHENTICATED and
PERMISSION_DENIED: e.g. publishing an incomplete course is FAILED_PRECONDITION, deleting a file while
sme_svc is down is UNAVAILABLE); any other entry is the exact status code expected.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import grpc
import jwt
import pytest

from lmw.common.v1 import common_pb2 as cpb
from lmw.instructor.v1 import instructor_service_pb2 as pb
from lmw_common.auth import TokenService
from tests.integration.test_instructor_support import (
    PASSWORD,
    auth,
    databases,
    instructor_env,
    markdown,
    upload_requests,
)

OK = "ok"
UNAUTH, DENIED, NOT_FOUND = (
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND,
)
# The owner goes last: some allowed calls delete what the others are tried against.
CALLERS = [
    "anonymous",
    "learner",
    "other_instructor",
    "service",
    "expired",
    "tampered",
    "foreign_key",
    "owner",
]
SERVICE = pb.DESCRIPTOR.services_by_name["InstructorService"]

BAD_TOKEN = {"expired": UNAUTH, "tampered": UNAUTH, "foreign_key": UNAUTH}
PUBLIC = {c: OK for c in CALLERS} | BAD_TOKEN
INSTRUCTOR_SELF = {  # acts on the calling instructor, no target course
    "anonymous": UNAUTH,
    "learner": DENIED,
    "other_instructor": OK,
    "service": DENIED,
    "owner": OK,
    **BAD_TOKEN,
}
OWNER = {**INSTRUCTOR_SELF, "other_instructor": DENIED}
OWNER_OR_SERVICE = {**OWNER, "service": OK}
# Learners see published courses only: this one is a draft, so it does not exist for them.
READABLE = {**OWNER_OR_SERVICE, "learner": NOT_FOUND}
EXPECTED = {
    "SignUp": PUBLIC,
    "LogIn": PUBLIC,
    "ListPublishedCourses": PUBLIC,
    "GetMe": INSTRUCTOR_SELF,
    "CreateCourse": INSTRUCTOR_SELF,
    "ListMyCourses": INSTRUCTOR_SELF,
    "GetCourse": READABLE,
    "ListLearningObjectives": READABLE,
    "UpdateCourse": OWNER,
    "DeleteCourse": OWNER,
    "PublishCourse": OWNER,
    "UnpublishCourse": OWNER,
    "CreateModule": OWNER,
    "UpdateModule": OWNER,
    "DeleteModule": OWNER,
    "ReorderModules": OWNER,
    "UploadCourseFile": OWNER,
    "DeleteCourseFile": OWNER,
    "MoveCourseFile": OWNER,
    "GenerateLearningObjectives": OWNER,
    "UpdateLearningObjectives": OWNER,
    "ApproveLearningObjectives": OWNER,
    "GetCourseAnalytics": OWNER,
    "ListCourseFiles": OWNER_OR_SERVICE,
    "GetIndexingStatus": OWNER_OR_SERVICE,
    "GetJob": OWNER_OR_SERVICE,
    "WatchJob": OWNER_OR_SERVICE,
    # Learners enrolled in the published course too (tests/integration/test_course_file_reading.py).
    "ReadCourseFile": READABLE,
}


def test_matrix_covers_every_rpc():
    assert set(EXPECTED) == set(SERVICE.methods_by_name)
    assert all(set(row) == set(CALLERS) for row in EXPECTED.values())


@pytest.fixture(scope="module")
async def env(postgres, mongo, common_settings, tmp_path_factory):
    async with (
        databases(postgres, mongo) as (pg_url, mongo_url),
        instructor_env(pg_url, mongo_url, tmp_path_factory.mktemp("blobs"), common_settings) as e,
    ):
        yield e


@pytest.fixture(scope="module")
async def callers(env, tokens: TokenService, common_settings, service_token):
    email = f"owner{uuid.uuid4().hex[:8]}@example.org"
    owner = await env.stub.SignUp(pb.SignUpRequest(email=email, password=PASSWORD, display_name="Owner"))
    _, other = await env.sign_up("Other")
    valid = owner.access_token.token
    head, body, signature = valid.split(".")
    claims = {
        "sub": owner.instructor.id,
        "role": "instructor",
        "iat": int(time.time()) - 7200,
        "exp": int(time.time()) - 3600,
        "iss": common_settings.jwt_issuer,
        "aud": common_settings.jwt_audience,
        "jti": uuid.uuid4().hex,
    }
    tokens_by_caller = {
        "anonymous": None,
        "learner": tokens.issue("some-learner", "learner", 600)[0],
        "other_instructor": other,
        "service": service_token,
        "expired": jwt.encode(claims, common_settings.signing_secret(), algorithm="HS256"),
        "tampered": f"{head}.{body[:-4]}AAAA.{signature}",
        "foreign_key": jwt.encode(
            {**claims, "exp": int(time.time()) + 600}, "another-key-" * 4, algorithm="HS256"
        ),
        "owner": valid,
    }
    return email, tokens_by_caller


@pytest.fixture
async def world(env, callers):
    """A fresh draft course of the owner with a module, objectives, a file and a finished job."""
    email, tokens_by_caller = callers
    owner = tokens_by_caller["owner"]
    course = await env.course(owner, modules=1)
    module = course.modules[0]
    await env.stub.UpdateLearningObjectives(
        pb.UpdateLearningObjectivesRequest(
            course_id=course.id,
            module_id=module.id,
            objectives=[cpb.LearningObjective(text="Explain things")],
        ),
        metadata=auth(owner),
    )
    file = (await env.upload(owner, course.id, "notes.md", markdown(f"Topic {uuid.uuid4().hex}"))).file
    now = datetime.now(UTC)
    job_id = uuid.uuid4().hex
    await env.db["jobs"].insert_one(
        {
            "_id": job_id,
            "kind": "objectives",
            "course_id": course.id,
            "state": "SUCCEEDED",
            "progress": 1.0,
            "message": "done",
            "items": [],
            "created_at": now,
            "updated_at": now,
            "ended_at": now,
            "heartbeat_at": now,
        }
    )
    return email, course, module, file, job_id


def requests(email: str, course: pb.Course, module: pb.Module, file: pb.CourseFile, job_id: str) -> dict:
    """One request per RPC (a factory of a fresh stream for the client-streaming one)."""
    c, m = course.id, module.id
    return {
        "SignUp": pb.SignUpRequest(
            email=f"{uuid.uuid4().hex[:8]}@example.org", password=PASSWORD, display_name="X"
        ),
        "LogIn": pb.LogInRequest(email=email, password=PASSWORD),
        "GetMe": pb.GetMeRequest(),
        "CreateCourse": pb.CreateCourseRequest(title="Another course"),
        "GetCourse": pb.GetCourseRequest(course_id=c),
        "UpdateCourse": pb.UpdateCourseRequest(course_id=c, title="Renamed"),
        "DeleteCourse": pb.DeleteCourseRequest(course_id=c),
        "ListMyCourses": pb.ListMyCoursesRequest(),
        "ListPublishedCourses": pb.ListPublishedCoursesRequest(),
        "PublishCourse": pb.PublishCourseRequest(course_id=c),
        "UnpublishCourse": pb.UnpublishCourseRequest(course_id=c),
        "CreateModule": pb.CreateModuleRequest(course_id=c, title="Extra"),
        "UpdateModule": pb.UpdateModuleRequest(course_id=c, module_id=m, title="Renamed"),
        "DeleteModule": pb.DeleteModuleRequest(course_id=c, module_id=m),
        "ReorderModules": pb.ReorderModulesRequest(course_id=c, module_ids=[m]),
        "UploadCourseFile": lambda: upload_requests(c, "more.md", markdown(uuid.uuid4().hex)),
        "ListCourseFiles": pb.ListCourseFilesRequest(course_id=c),
        "DeleteCourseFile": pb.DeleteCourseFileRequest(course_id=c, file_id=file.id),
        "MoveCourseFile": pb.MoveCourseFileRequest(course_id=c, file_id=file.id, module_id=m),
        "ReadCourseFile": pb.ReadCourseFileRequest(course_id=c, file_id=file.id),
        "GetIndexingStatus": pb.GetIndexingStatusRequest(course_id=c),
        "GenerateLearningObjectives": pb.GenerateLearningObjectivesRequest(course_id=c),
        "ListLearningObjectives": pb.ListLearningObjectivesRequest(course_id=c),
        "UpdateLearningObjectives": pb.UpdateLearningObjectivesRequest(
            course_id=c, module_id=m, objectives=[cpb.LearningObjective(text="Explain more things")]
        ),
        "ApproveLearningObjectives": pb.ApproveLearningObjectivesRequest(course_id=c, module_id=m, version=1),
        "GetJob": pb.GetJobRequest(job_id=job_id),
        "WatchJob": pb.WatchJobRequest(job_id=job_id),
        "GetCourseAnalytics": pb.GetCourseAnalyticsRequest(course_id=c),
    }


async def invoke(stub, rpc: str, request, metadata) -> None:
    method = SERVICE.methods_by_name[rpc]
    call = getattr(stub, rpc)
    if method.client_streaming:
        await call(request(), metadata=metadata)
    elif method.server_streaming:
        async for _ in call(request, metadata=metadata, timeout=60):
            pass
    else:
        await call(request, metadata=metadata)


@pytest.mark.parametrize("rpc", sorted(EXPECTED))
async def test_authorization(env, callers, world, rpc):
    _, tokens_by_caller = callers
    for caller in CALLERS:
        request = requests(*world)[rpc]
        expected = EXPECTED[rpc][caller]
        try:
            await invoke(env.stub, rpc, request, auth(tokens_by_caller[caller]))
            outcome = OK
        except grpc.aio.AioRpcError as err:
            outcome = err.code()
            if expected is OK and outcome not in (UNAUTH, DENIED):
                outcome = OK  # allowed through; failed for another reason
        assert outcome == expected, f"{rpc} as {caller}: got {outcome}, expected {expected}"
