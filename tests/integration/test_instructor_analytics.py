"""GetCourseAnalytics against a real learner_svc: facts recorded through learner_svc's RPCs (enrollment,
module events, quiz attempts), aggregated by instructor_svc over every page."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import psycopg
import pytest

from devkit.databases import free_port
from learner_svc.bootstrap import bootstrap as learner_bootstrap
from learner_svc.config import LearnerSettings
from lmw.instructor.v1 import instructor_service_pb2 as pb
from lmw.learner.v1 import learner_service_pb2 as lpb
from lmw.learner.v1 import learner_service_pb2_grpc as lpb_grpc
from lmw_common.runtime import serving
from tests.integration.test_instructor_support import PASSWORD, auth, databases, expect, instructor_env


@pytest.fixture(scope="module")
async def mesh(postgres, mongo, common_settings, tmp_path_factory):
    learner_port = free_port()
    async with (
        databases(postgres, mongo) as (pg_url, mongo_url),
        databases(postgres, mongo) as (learner_pg_url, _),
        instructor_env(
            pg_url,
            mongo_url,
            tmp_path_factory.mktemp("blobs"),
            common_settings,
            learner_target=f"127.0.0.1:{learner_port}",
        ) as env,
    ):
        settings = LearnerSettings(
            database_url=learner_pg_url,
            instructor_target=f"127.0.0.1:{env.port}",
            common=common_settings,
            port=learner_port,
            shutdown_grace_s=0,
        )
        async with serving("learner_svc", settings, learner_bootstrap):
            channel = grpc.aio.insecure_channel(f"127.0.0.1:{learner_port}")
            yield env, lpb_grpc.LearnerServiceStub(channel), learner_pg_url
            await channel.close()


async def test_course_analytics(mesh, service_token):
    env, learner_stub, learner_pg_url = mesh
    _, token = await env.sign_up()
    course = await env.course(token, "Statistics", modules=2)
    m0, m1 = (m.id for m in course.modules)
    objectives = {}
    for module_id, texts in [(m0, ["Compute a mean", "Compute a median"]), (m1, ["Explain variance"])]:
        result = await env.stub.UpdateLearningObjectives(
            pb.UpdateLearningObjectivesRequest(
                course_id=course.id,
                module_id=module_id,
                objectives=[{"text": t} for t in texts],
            ),
            metadata=auth(token),
        )
        objectives.update({o.text: o.id for o in result.objectives.objectives})
    mean, median, variance = (
        objectives["Compute a mean"],
        objectives["Compute a median"],
        objectives["Explain variance"],
    )
    # published directly (publishing for real needs sme_svc; see the objectives tests)
    env.sql("UPDATE courses SET published = true, published_at = now() WHERE id = %s", course.id)

    learners = {}
    for name in ["struggling", "finisher", "idle", "leaver"]:
        signed = await learner_stub.SignUp(
            lpb.SignUpRequest(
                email=f"{name}{uuid.uuid4().hex[:6]}@example.org", password=PASSWORD, display_name=name
            )
        )
        await learner_stub.Enroll(
            lpb.EnrollRequest(course_id=course.id), metadata=auth(signed.access_token.token)
        )
        learners[name] = (signed.learner.id, signed.access_token.token)
    await learner_stub.Unenroll(
        lpb.UnenrollRequest(course_id=course.id), metadata=auth(learners["leaver"][1])
    )
    svc = auth(service_token)

    async def event(who, module_id, kind):
        await learner_stub.RecordModuleEvent(
            lpb.RecordModuleEventRequest(
                learner_id=learners[who][0], course_id=course.id, module_id=module_id, type=kind
            ),
            metadata=svc,
        )

    async def attempt(who, module_id, score, passed, answers):
        results = [
            lpb.QuestionResult(question_id=f"q{i}", objective_id=oid, selected_index=0, correct=ok)
            for i, (oid, ok) in enumerate(answers)
        ]
        await learner_stub.RecordQuizAttempt(
            lpb.RecordQuizAttemptRequest(
                attempt=lpb.QuizAttempt(
                    id=uuid.uuid4().hex,
                    learner_id=learners[who][0],
                    course_id=course.id,
                    module_id=module_id,
                    quiz_id="quiz",
                    score=score,
                    passed=passed,
                    results=results,
                )
            ),
            metadata=svc,
        )

    started, completed = lpb.MODULE_EVENT_TYPE_STARTED, lpb.MODULE_EVENT_TYPE_COMPLETED
    await event("struggling", m0, started)
    await attempt("struggling", m0, 0.2, False, [(mean, False), (median, False)])
    await attempt("struggling", m0, 0.4, False, [(mean, False), (median, True)])
    await event("finisher", m0, started)
    await attempt("finisher", m0, 0.9, True, [(mean, True), (median, True)])
    await event("finisher", m0, completed)
    await event("finisher", m1, started)
    await attempt("finisher", m1, 1.0, True, [(variance, True)])
    await event("finisher", m1, completed)
    with psycopg.connect(learner_pg_url, autocommit=True) as conn:  # "idle" enrolled 10 days ago, did nothing
        conn.execute(
            "UPDATE enrollments SET enrolled_at = now() - interval '10 days' WHERE learner_id = %s",
            (learners["idle"][0],),
        )

    report = await env.stub.GetCourseAnalytics(
        pb.GetCourseAnalyticsRequest(course_id=course.id), metadata=auth(token)
    )
    assert (report.course_id, report.enrollment_count, report.active_enrollment_count) == (course.id, 4, 3)
    first, second = report.modules
    assert (first.module_id, first.title, first.started_count, first.completed_count) == (
        m0,
        "Module 0",
        2,
        1,
    )
    assert first.completion_rate == pytest.approx(0.25)
    assert (first.attempt_count, first.average_score) == (3, pytest.approx(0.5))
    assert (first.passed_attempt_count, second.passed_attempt_count) == (1, 1)
    assert (second.started_count, second.completed_count, second.attempt_count) == (1, 1, 1)
    assert second.average_score == pytest.approx(1.0)
    assert [b.count for b in report.score_distribution] == [0, 0, 1, 0, 1, 0, 0, 0, 0, 2]
    assert (report.score_distribution[0].lower, report.score_distribution[-1].upper) == (0.0, 1.0)
    weakest = [(o.objective_id, o.text, o.module_id, o.answer_count) for o in report.weakest_objectives]
    assert weakest[0] == (mean, "Compute a mean", m0, 3)
    assert report.weakest_objectives[0].correct_rate == pytest.approx(1 / 3)
    assert weakest[1][0] == median and report.weakest_objectives[1].correct_rate == pytest.approx(2 / 3)
    assert report.weakest_objectives[-1].correct_rate == pytest.approx(1.0)
    stuck = {(s.learner_id, s.module_id): s for s in report.stuck_learners}
    assert set(stuck) == {(learners["struggling"][0], m0), (learners["idle"][0], m0)}
    assert stuck[(learners["struggling"][0], m0)].failed_attempts == 2
    assert stuck[(learners["idle"][0], m0)].failed_attempts == 0
    assert stuck[(learners["idle"][0], m0)].last_activity_time.seconds > 0

    # owner only: not another instructor, not a service
    _, other = await env.sign_up("Other")
    request = pb.GetCourseAnalyticsRequest(course_id=course.id)
    await expect(
        grpc.StatusCode.PERMISSION_DENIED, env.stub.GetCourseAnalytics(request, metadata=auth(other))
    )
    await expect(grpc.StatusCode.PERMISSION_DENIED, env.stub.GetCourseAnalytics(request, metadata=svc))


async def test_analytics_of_an_empty_course_and_paging(mesh, service_token):
    env, learner_stub, _ = mesh
    _, token = await env.sign_up()
    course = await env.course(token, modules=1)
    report = await env.stub.GetCourseAnalytics(
        pb.GetCourseAnalyticsRequest(course_id=course.id), metadata=auth(token)
    )
    assert report.enrollment_count == 0 and report.modules[0].completion_rate == 0
    assert sum(b.count for b in report.score_distribution) == 0 and not report.stuck_learners
    # more attempts than one page of learner_svc's ListQuizAttempts (200)
    env.sql("UPDATE courses SET published = true, published_at = now() WHERE id = %s", course.id)
    signed = await learner_stub.SignUp(
        lpb.SignUpRequest(email=f"p{uuid.uuid4().hex[:6]}@example.org", password=PASSWORD, display_name="P")
    )
    await learner_stub.Enroll(
        lpb.EnrollRequest(course_id=course.id), metadata=auth(signed.access_token.token)
    )

    async def record(i: int) -> None:
        await learner_stub.RecordQuizAttempt(
            lpb.RecordQuizAttemptRequest(
                attempt=lpb.QuizAttempt(
                    id=uuid.uuid4().hex,
                    learner_id=signed.learner.id,
                    course_id=course.id,
                    module_id=course.modules[0].id,
                    quiz_id="q",
                    score=(i % 10) / 10,
                    passed=i % 10 >= 6,
                )
            ),
            metadata=auth(service_token),
        )

    for start in range(0, 205, 41):
        await asyncio.gather(*(record(i) for i in range(start, start + 41)))
    report = await env.stub.GetCourseAnalytics(
        pb.GetCourseAnalyticsRequest(course_id=course.id), metadata=auth(token)
    )
    assert report.modules[0].attempt_count == 205  # more than one page of ListQuizAttempts
    assert [b.count for b in report.score_distribution] == [21] * 5 + [20] * 5
