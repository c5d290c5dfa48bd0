"""Every LearnerService RPC against every kind of caller: exactly the expected allow or deny."""

from __future__ import annotations

import time
import uuid

import grpc
import jwt
import pytest

from lmw.learner.v1 import learner_service_pb2 as pb
from lmw_common.auth import TokenService
from tests.integration.test_learner_svc import PASSWORD, PUBLISHED, catalog, learner  # noqa: F401 (fixtures)

OK, UNAUTH, DENIED = "ok", grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED
CALLERS = [
    "anonymous",
    "learner_a",
    "learner_b",
    "instructor",
    "service",
    "expired",
    "tampered",
    "foreign_key",
]


def requests(target: str, email: str) -> dict[str, object]:
    """One request per RPC, addressed at learner `target`'s data where the RPC takes a learner."""
    return {
        "SignUp": pb.SignUpRequest(
            email=f"{uuid.uuid4().hex[:8]}@example.org", password=PASSWORD, display_name="X"
        ),
        "LogIn": pb.LogInRequest(email=email, password=PASSWORD),
        "GetMe": pb.GetMeRequest(),
        "Enroll": pb.EnrollRequest(course_id=PUBLISHED),
        "Unenroll": pb.UnenrollRequest(course_id=PUBLISHED),
        "ListEnrollments": pb.ListEnrollmentsRequest(learner_id=target),
        "RecordModuleEvent": pb.RecordModuleEventRequest(
            learner_id=target, course_id=PUBLISHED, module_id="m1", type=pb.MODULE_EVENT_TYPE_STARTED
        ),
        "GetCourseProgress": pb.GetCourseProgressRequest(learner_id=target, course_id=PUBLISHED),
        "RecordQuizAttempt": pb.RecordQuizAttemptRequest(
            attempt=pb.QuizAttempt(
                id=uuid.uuid4().hex,
                learner_id=target,
                course_id=PUBLISHED,
                module_id="m1",
                quiz_id="q1",
                score=0.5,
            )
        ),
        "ListQuizAttempts": pb.ListQuizAttemptsRequest(learner_id=target, course_id=PUBLISHED),
        "BatchGetCourseProgress": pb.BatchGetCourseProgressRequest(course_id=PUBLISHED),
    }


BAD_TOKEN = {"expired": UNAUTH, "tampered": UNAUTH, "foreign_key": UNAUTH}
PUBLIC = {"anonymous": OK, "learner_a": OK, "learner_b": OK, "instructor": OK, "service": OK, **BAD_TOKEN}
LEARNER_SELF = {
    "anonymous": UNAUTH,
    "learner_a": OK,
    "learner_b": DENIED,
    "instructor": DENIED,
    "service": OK,
    **BAD_TOKEN,
}
LEARNER_ONLY = {**LEARNER_SELF, "learner_b": OK, "service": DENIED}  # acts on the caller, no target
INTERNAL = {
    "anonymous": UNAUTH,
    "learner_a": DENIED,
    "learner_b": DENIED,
    "instructor": DENIED,
    "service": OK,
    **BAD_TOKEN,
}
EXPECTED = {
    "SignUp": PUBLIC,
    "LogIn": PUBLIC,
    "GetMe": LEARNER_ONLY,
    "Enroll": LEARNER_ONLY,
    "Unenroll": LEARNER_ONLY,
    "ListEnrollments": LEARNER_SELF,
    "GetCourseProgress": LEARNER_SELF,
    "ListQuizAttempts": LEARNER_SELF,
    "RecordModuleEvent": INTERNAL,
    "RecordQuizAttempt": INTERNAL,
    "BatchGetCourseProgress": INTERNAL,
}


def test_matrix_covers_every_rpc():
    assert set(EXPECTED) == set(pb.DESCRIPTOR.services_by_name["LearnerService"].methods_by_name)


@pytest.fixture
async def callers(learner, tokens: TokenService, common_settings, service_token):  # noqa: F811
    a = await learner.SignUp(
        pb.SignUpRequest(email=f"a{uuid.uuid4().hex[:6]}@example.org", password=PASSWORD, display_name="A")
    )
    b = await learner.SignUp(
        pb.SignUpRequest(email=f"b{uuid.uuid4().hex[:6]}@example.org", password=PASSWORD, display_name="B")
    )
    await learner.Enroll(
        pb.EnrollRequest(course_id=PUBLISHED), metadata=[("authorization", f"Bearer {a.access_token.token}")]
    )
    valid = a.access_token.token
    head, body, signature = valid.split(".")
    claims = {
        "sub": a.learner.id,
        "role": "learner",
        "iat": int(time.time()) - 7200,
        "exp": int(time.time()) - 3600,
        "iss": common_settings.jwt_issuer,
        "aud": common_settings.jwt_audience,
        "jti": "x",
    }
    secret = common_settings.signing_secret()
    tokens_by_caller = {
        "anonymous": None,
        "learner_a": valid,
        "learner_b": b.access_token.token,
        "instructor": tokens.issue("some-instructor", "instructor", 600)[0],
        "service": service_token,
        "expired": jwt.encode(claims, secret, algorithm="HS256"),
        "tampered": f"{head}.{body[:-4]}AAAA.{signature}",
        "foreign_key": jwt.encode(
            {**claims, "exp": int(time.time()) + 600}, "another-key-" * 4, algorithm="HS256"
        ),
    }
    return a.learner, tokens_by_caller


@pytest.mark.parametrize("rpc", sorted(EXPECTED))
async def test_authorization(learner, callers, rpc):  # noqa: F811
    target, tokens_by_caller = callers
    for caller in CALLERS:
        token = tokens_by_caller[caller]
        metadata = [("authorization", f"Bearer {token}")] if token else []
        request = requests(target.id, target.email)[rpc]
        expected = EXPECTED[rpc][caller]
        try:
            await getattr(learner, rpc)(request, metadata=metadata)
            outcome = OK
        except grpc.aio.AioRpcError as err:
            outcome = err.code() if err.code() in (UNAUTH, DENIED) else OK  # other errors: allowed through
        assert outcome == expected, f"{rpc} as {caller}: got {outcome}, expected {expected}"
