"""The learner's path through the whole mesh: learner_svc, instructor_svc, sme_svc and orchestrator_svc as
real gRPC servers against real PostgreSQL and MongoDB, generating with the extractive backend on CPU.

The mesh and one published course are shared by the session (tests.integration.mesh); each test signs up
learners of its own.
"""

from __future__ import annotations

import asyncio
import time

import grpc
import psycopg
import pytest

pytest.importorskip("instructor_svc.bootstrap")
pytest.importorskip("sme_svc.bootstrap")
pytest.register_assert_rewrite("tests.integration.mesh")  # before the import below: it is a plugin too

from google.protobuf.field_mask_pb2 import FieldMask  # noqa: E402
from google.protobuf.message import Message  # noqa: E402

from devkit.inprocess import sign_up_learner  # noqa: E402
from lmw.common.v1 import common_pb2 as cpb  # noqa: E402
from lmw.instructor.v1 import instructor_service_pb2 as ipb  # noqa: E402
from lmw.learner.v1 import learner_service_pb2 as lpb  # noqa: E402
from lmw.orchestrator.v1 import orchestrator_service_pb2 as opb  # noqa: E402
from lmw.sme.v1 import sme_service_pb2 as spb  # noqa: E402
from lmw_common.errors import from_rpc_error  # noqa: E402
from tests.integration.mesh import BREAKER_FAIL_MAX, BREAKER_RESET_S  # noqa: E402

pytest_plugins = ("tests.integration.mesh",)


@pytest.fixture
def mesh(lmw_mesh):
    return lmw_mesh


@pytest.fixture
def course(lmw_course):
    return lmw_course


async def enrolled(mesh, course, name="Learner"):
    learner_id, token = await sign_up_learner(mesh, name)
    await mesh.learner_stub(token).Enroll(lpb.EnrollRequest(course_id=course.course_id))
    return learner_id, token, mesh.orchestrator_stub(token)


def sql(mesh, statement: str, *params) -> list[tuple]:
    with psycopg.connect(mesh.settings["orchestrator"].database_url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


async def stored_items(mesh, quiz_id: str) -> list[dict]:
    """The quiz as the server keeps it (answers included) — the test reads the database to know them."""
    rows = await asyncio.to_thread(sql, mesh, "SELECT items FROM quizzes WHERE id = %s", quiz_id)
    return rows[0][0]


async def expect(code: grpc.StatusCode, call) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, f"{err.value.code()}: {err.value.details()}"
    return from_rpc_error(err.value).reason


async def generation_count(mesh, service_token) -> int:
    info = await mesh.sme_stub(service_token).GetModelInfo(spb.GetModelInfoRequest())
    return info.request_counts.get("GenerateModuleContent", 0)


def content_request(course, module=0):
    return opb.GetModuleContentRequest(course_id=course.course_id, module_id=course.module_ids[module])


async def pass_quiz(mesh, o, course, module: int, attempt_id: str, retake=False) -> opb.QuizResult:
    quiz = (
        await o.GetQuiz(
            opb.GetQuizRequest(course_id=course.course_id, module_id=course.module_ids[module], retake=retake)
        )
    ).quiz
    items = await stored_items(mesh, quiz.id)
    answers = [opb.QuizAnswer(question_id=i["id"], selected_index=i["correct_index"]) for i in items]
    return (
        await o.SubmitQuiz(
            opb.SubmitQuizRequest(
                course_id=course.course_id,
                module_id=course.module_ids[module],
                quiz_id=quiz.id,
                attempt_id=attempt_id,
                answers=answers,
            )
        )
    ).result


async def test_the_whole_learner_path(mesh, course):
    learner_id, token, o = await enrolled(mesh, course, "Grace")
    c, (m1, m2) = course.course_id, course.module_ids

    board = (await o.GetDashboard(opb.GetDashboardRequest(course_id=c))).dashboard
    assert board.learner_id == learner_id and board.progress == 0.0 and not board.recent_quiz_results
    assert [m.status for m in board.modules] == [opb.MODULE_STATUS_AVAILABLE, opb.MODULE_STATUS_LOCKED]
    assert board.next_step.kind == opb.NEXT_STEP_KIND_READ and board.next_step.module_id == m1
    assert board.mastery and all(
        m.answer_count == 0 and m.p_mastery == pytest.approx(0.2) for m in board.mastery
    )

    # preferences: defaults first, then the learner's own
    got = await o.GetPreferences(opb.GetPreferencesRequest(course_id=c))
    assert got.is_default and got.preferences.detail_level == cpb.DETAIL_LEVEL_MODERATE
    mine = cpb.Preferences(
        detail_level=cpb.DETAIL_LEVEL_DETAILED,
        explanation_style=cpb.EXPLANATION_STYLE_EXAMPLES,
        language=cpb.LANGUAGE_LEVEL_SIMPLE,
    )
    assert (
        await o.SetPreferences(opb.SetPreferencesRequest(course_id=c, preferences=mine))
    ).preferences == mine
    got = await o.GetPreferences(opb.GetPreferencesRequest(course_id=c))
    assert not got.is_default and got.preferences == mine
    # no mask: the dimensions given are set (AIP-134's implied mask), the others keep their values
    brief = cpb.Preferences(detail_level=cpb.DETAIL_LEVEL_BRIEF)
    got = await o.SetPreferences(opb.SetPreferencesRequest(course_id=c, preferences=brief))
    assert got.preferences.detail_level == cpb.DETAIL_LEVEL_BRIEF
    assert got.preferences.language == mine.language
    got = await o.SetPreferences(opb.SetPreferencesRequest(course_id=c, preferences=mine))
    assert got.preferences == mine
    reason = await expect(
        grpc.StatusCode.INVALID_ARGUMENT,
        o.SetPreferences(opb.SetPreferencesRequest(course_id=c, preferences=cpb.Preferences())),
    )
    assert reason == "NOTHING_TO_UPDATE"

    # reading: streamed as it is generated, then cached
    events = [
        e async for e in o.StreamModuleContent(opb.StreamModuleContentRequest(course_id=c, module_id=m1))
    ]
    deltas = [e.markdown_delta for e in events if e.WhichOneof("event") == "markdown_delta"]
    final = events[-1].content
    assert deltas and events[-1].WhichOneof("event") == "content"
    assert final.markdown.strip() and final.citations and final.preferences == mine
    assert final.objectives_version >= 1 and final.module_id == m1
    cached = (await o.GetModuleContent(content_request(course))).content
    assert cached.markdown == final.markdown and cached.generate_time == final.generate_time
    assert await expect(
        grpc.StatusCode.FAILED_PRECONDITION, o.GetModuleContent(content_request(course, 1))
    ) == ("MODULE_LOCKED")
    assert await expect(
        grpc.StatusCode.FAILED_PRECONDITION, o.GetQuiz(opb.GetQuizRequest(course_id=c, module_id=m2))
    ) == ("MODULE_LOCKED")

    board = (await o.GetDashboard(opb.GetDashboardRequest(course_id=c))).dashboard
    assert board.modules[0].status == opb.MODULE_STATUS_IN_PROGRESS  # opening the content started it
    assert board.next_step.kind == opb.NEXT_STEP_KIND_TAKE_QUIZ and board.next_step.message

    # the quiz: the same one until it is submitted; completing needs a pass
    quiz = (await o.GetQuiz(opb.GetQuizRequest(course_id=c, module_id=m1))).quiz
    assert quiz.questions and quiz.pass_mark == pytest.approx(0.6) and not quiz.submitted
    assert (await o.GetQuiz(opb.GetQuizRequest(course_id=c, module_id=m1, retake=True))).quiz.id == quiz.id
    assert await expect(
        grpc.StatusCode.FAILED_PRECONDITION,
        o.CompleteModule(opb.CompleteModuleRequest(course_id=c, module_id=m1)),
    ) == ("QUIZ_NOT_PASSED")

    # a failed attempt, graded on the server, idempotent per attempt id
    items = await stored_items(mesh, quiz.id)
    wrong = [
        opb.QuizAnswer(question_id=i["id"], selected_index=(i["correct_index"] + 1) % len(i["options"]))
        for i in items
    ]
    submit = opb.SubmitQuizRequest(
        course_id=c, module_id=m1, quiz_id=quiz.id, attempt_id="first-try", answers=wrong
    )
    failed = (await o.SubmitQuiz(submit)).result
    assert not failed.passed and failed.score == 0.0 and failed.pass_mark == pytest.approx(0.6)
    assert [q.correct_index for q in failed.questions] == [i["correct_index"] for i in items]
    assert all(q.explanation for q in failed.questions) and all(not q.correct for q in failed.questions)
    assert failed.mastery and all(m.p_mastery < 0.2 and m.text and not m.mastered for m in failed.mastery)
    again = (await o.SubmitQuiz(submit)).result
    assert again == failed
    attempts = await mesh.learner_stub(token).ListQuizAttempts(lpb.ListQuizAttemptsRequest(course_id=c))
    assert [a.id for a in attempts.attempts] == ["first-try"]
    assert await expect(
        grpc.StatusCode.FAILED_PRECONDITION,
        o.SubmitQuiz(
            opb.SubmitQuizRequest(
                course_id=c, module_id=m1, quiz_id=quiz.id, attempt_id="second", answers=wrong
            )
        ),
    ) == ("QUIZ_ALREADY_SUBMITTED")
    submitted = (await o.GetQuiz(opb.GetQuizRequest(course_id=c, module_id=m1))).quiz
    assert submitted.id == quiz.id and submitted.submitted

    board = (await o.GetDashboard(opb.GetDashboardRequest(course_id=c))).dashboard
    assert board.next_step.kind == opb.NEXT_STEP_KIND_RETAKE_QUIZ and board.next_step.module_id == m1
    assert [m.status for m in board.modules] == [opb.MODULE_STATUS_IN_PROGRESS, opb.MODULE_STATUS_LOCKED]

    # a retake draws a fresh quiz, favouring what was missed; passing it allows completion
    passed = await pass_quiz(mesh, o, course, 0, "second-try", retake=True)
    assert passed.quiz_id != quiz.id and passed.passed and passed.score == 1.0
    raised = {m.objective_id: m.p_mastery for m in passed.mastery}
    lowered = {m.objective_id: m.p_mastery for m in failed.mastery}
    assert all(raised[k] > lowered[k] for k in raised.keys() & lowered.keys())
    board = (await o.GetDashboard(opb.GetDashboardRequest(course_id=c))).dashboard
    assert board.next_step.kind == opb.NEXT_STEP_KIND_COMPLETE_MODULE

    done = await o.CompleteModule(opb.CompleteModuleRequest(course_id=c, module_id=m1))
    assert done.next_module_id == m2 and not done.course_completed
    # the next module's content was warmed in the background: opening it generates nothing
    await mesh.orchestrator.wait_background()
    warmed = await asyncio.to_thread(
        sql,
        mesh,
        "SELECT count(*) FROM module_content WHERE learner_id = %s AND module_id = %s",
        learner_id,
        m2,
    )
    assert warmed == [(1,)]
    second = (await o.GetModuleContent(content_request(course, 1))).content
    assert second.markdown.strip() and set(second.recap_objective_ids) <= {
        m.objective_id for m in failed.mastery
    }
    assert await asyncio.to_thread(
        sql,
        mesh,
        "SELECT count(*) FROM module_content WHERE learner_id = %s AND module_id = %s",
        learner_id,
        m2,
    ) == [(1,)]

    # the tutor answers (streamed) and remembers
    events = [
        e
        async for e in o.AskTutor(
            opb.AskTutorRequest(
                course_id=c, module_id=m2, question="What does the standard deviation measure?"
            )
        )
    ]
    answer = events[-1].message
    assert events[-1].WhichOneof("event") == "message" and answer.role == opb.TUTOR_ROLE_TUTOR and answer.text
    history = (await o.GetTutorHistory(opb.GetTutorHistoryRequest(course_id=c))).messages
    assert [m.role for m in history] == [opb.TUTOR_ROLE_LEARNER, opb.TUTOR_ROLE_TUTOR]
    assert history[1].id == answer.id and history[0].text.startswith("What does")

    # the last module, then the course is done
    assert (await pass_quiz(mesh, o, course, 1, "module-two")).passed
    finished = await o.CompleteModule(opb.CompleteModuleRequest(course_id=c, module_id=m2))
    assert finished.course_completed and not finished.next_module_id

    board = (await o.GetDashboard(opb.GetDashboardRequest(course_id=c))).dashboard
    assert board.course_title and board.progress == 1.0 and board.completed_module_count == 2
    assert [m.status for m in board.modules] == [opb.MODULE_STATUS_COMPLETED] * 2
    assert [m.module_id for m in board.modules] == [m1, m2] and board.modules[0].best_score == 1.0
    assert board.next_step.kind == opb.NEXT_STEP_KIND_COURSE_COMPLETED
    assert board.preferences == mine
    assert {r.attempt_id for r in board.recent_quiz_results} == {"first-try", "second-try", "module-two"}
    assert board.mastery and all(m.text and m.module_id in (m1, m2) for m in board.mastery)

    analytics = await o.GetLearnerAnalytics(opb.GetLearnerAnalyticsRequest(course_id=c))
    assert analytics.learner_id == learner_id and analytics.attempt_count == 3
    assert analytics.average_score == pytest.approx(2 / 3) and analytics.tutor_question_count == 1


async def test_fifty_first_requests_generate_once(mesh, course, service_token):
    learner_id, _, o = await enrolled(mesh, course, "Crowd")
    await mesh.orchestrator.wait_background()
    before = await generation_count(mesh, service_token)

    async def unary():
        return (await o.GetModuleContent(content_request(course))).content.markdown

    async def streamed():
        events = [
            e
            async for e in o.StreamModuleContent(
                opb.StreamModuleContentRequest(course_id=course.course_id, module_id=course.module_ids[0])
            )
        ]
        assert events[-1].WhichOneof("event") == "content"
        assert "".join(e.markdown_delta for e in events[:-1]).strip()
        return events[-1].content.markdown

    results = await asyncio.gather(*(unary() if i % 2 else streamed() for i in range(50)))
    assert len(set(results)) == 1 and results[0].strip()
    rows = await asyncio.to_thread(
        sql, mesh, "SELECT count(*) FROM module_content WHERE learner_id = %s", learner_id
    )
    assert rows == [(1,)]
    claims = await asyncio.to_thread(
        sql, mesh, "SELECT state, attempt FROM generation_claims WHERE key LIKE %s", f"content:{learner_id}:%"
    )
    assert claims == [("done", 1)]
    assert await generation_count(mesh, service_token) - before == 1


def _walk(message: Message, path: str = ""):
    """Every set field of a message, recursively: (path, field name, value)."""
    for field, value in message.ListFields():
        here = f"{path}.{field.name}"
        values = value if field.is_repeated else [value]
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            values = list(value.values())
        for item in values:
            if isinstance(item, Message):
                yield from _walk(item, here)
            else:
                yield here, field.name, item


async def test_answers_never_leave_the_server_before_submission(mesh, course):
    _, _, o = await enrolled(mesh, course, "Curious")
    c, m1 = course.course_id, course.module_ids[0]
    responses = [
        await o.GetModuleContent(content_request(course)),
        *[e async for e in o.StreamModuleContent(opb.StreamModuleContentRequest(course_id=c, module_id=m1))],
        await o.GetQuiz(opb.GetQuizRequest(course_id=c, module_id=m1)),
        await o.GetQuiz(opb.GetQuizRequest(course_id=c, module_id=m1, retake=True)),
        await o.GetDashboard(opb.GetDashboardRequest(course_id=c)),
        await o.GetLearnerAnalytics(opb.GetLearnerAnalyticsRequest(course_id=c)),
    ]
    quiz = responses[-4].quiz
    items = await stored_items(mesh, quiz.id)
    secrets = {i["explanation"] for i in items if len(i["explanation"]) > 20}
    assert len(items) == len(quiz.questions)
    for response in responses:
        for path, name, value in _walk(response):
            assert name not in ("correct_index", "explanation", "correct"), f"{path} leaks an answer"
            if isinstance(value, str):
                assert not any(s in value for s in secrets), f"{path} leaks an explanation"
    # and structurally: the quiz messages have no place for an answer
    for descriptor in (opb.Quiz.DESCRIPTOR, opb.QuizQuestion.DESCRIPTOR):
        assert not {"correct_index", "explanation"} & set(descriptor.fields_by_name)


async def test_changing_preferences_regenerates_and_keeps_the_old_version(mesh, course, service_token):
    learner_id, _, o = await enrolled(mesh, course, "Changer")
    c = course.course_id
    first = (await o.GetModuleContent(content_request(course))).content
    brief = cpb.Preferences(
        detail_level=cpb.DETAIL_LEVEL_BRIEF,
        explanation_style=cpb.EXPLANATION_STYLE_PRACTICAL,
        language=cpb.LANGUAGE_LEVEL_TECHNICAL,
    )
    await o.SetPreferences(opb.SetPreferencesRequest(course_id=c, preferences=brief))
    before = await generation_count(mesh, service_token)
    second = (await o.GetModuleContent(content_request(course))).content
    assert second.preferences == brief and second.generate_time != first.generate_time
    assert await generation_count(mesh, service_token) - before == 1
    count = "SELECT count(*) FROM module_content WHERE learner_id = %s"
    assert await asyncio.to_thread(sql, mesh, count, learner_id) == [(2,)]
    # going back to the defaults finds the first version again, without generating
    await o.SetPreferences(opb.SetPreferencesRequest(course_id=c, preferences=first.preferences))
    third = (await o.GetModuleContent(content_request(course))).content
    assert third.generate_time == first.generate_time and third.markdown == first.markdown
    assert await generation_count(mesh, service_token) - before == 1


async def test_an_update_mask_sets_only_the_preferences_it_names(mesh, course):
    """SetPreferences with an update_mask (AIP-134): the dimensions it names change, the others keep their
    values (the defaults before any were set), and updates of different dimensions at once both land."""
    _, _, o = await enrolled(mesh, course, "Masked")
    c = course.course_id

    def setting(**values) -> opb.SetPreferencesRequest:
        return opb.SetPreferencesRequest(
            course_id=c, preferences=cpb.Preferences(**values), update_mask=FieldMask(paths=list(values))
        )

    first = await o.SetPreferences(setting(language=cpb.LANGUAGE_LEVEL_TECHNICAL))
    assert first.preferences == cpb.Preferences(
        detail_level=cpb.DETAIL_LEVEL_MODERATE,
        explanation_style=cpb.EXPLANATION_STYLE_CONCEPTUAL,
        language=cpb.LANGUAGE_LEVEL_TECHNICAL,
    )
    await asyncio.gather(
        o.SetPreferences(setting(detail_level=cpb.DETAIL_LEVEL_BRIEF)),
        o.SetPreferences(setting(explanation_style=cpb.EXPLANATION_STYLE_VISUAL)),
    )
    got = await o.GetPreferences(opb.GetPreferencesRequest(course_id=c))
    assert not got.is_default and got.preferences == cpb.Preferences(
        detail_level=cpb.DETAIL_LEVEL_BRIEF,
        explanation_style=cpb.EXPLANATION_STYLE_VISUAL,
        language=cpb.LANGUAGE_LEVEL_TECHNICAL,
    )

    unset = opb.SetPreferencesRequest(course_id=c, update_mask=FieldMask(paths=["language"]))
    assert await expect(grpc.StatusCode.INVALID_ARGUMENT, o.SetPreferences(unset)) == "INVALID_PREFERENCE"
    unknown = setting(language=cpb.LANGUAGE_LEVEL_SIMPLE)
    unknown.update_mask.paths.append("preferences.language")  # paths are relative to Preferences
    assert await expect(grpc.StatusCode.INVALID_ARGUMENT, o.SetPreferences(unknown)) == "INVALID_UPDATE_MASK"
    assert (await o.GetPreferences(opb.GetPreferencesRequest(course_id=c))).preferences == got.preferences


async def test_when_sme_is_down_cached_work_is_served_and_the_rest_fails_fast(mesh, course, service_token):
    """Stops and restarts sme_svc (the shared mesh is whole again when it ends)."""
    learner_id, _, o = await enrolled(mesh, course, "Patient")
    c, m1 = course.course_id, course.module_ids[0]
    cached = (await o.GetModuleContent(content_request(course))).content
    quiz = (await o.GetQuiz(opb.GetQuizRequest(course_id=c, module_id=m1))).quiz
    await mesh.orchestrator.wait_background()

    await mesh.stop_sme()
    try:
        assert (await o.GetModuleContent(content_request(course))).content == cached
        assert (await o.GetQuiz(opb.GetQuizRequest(course_id=c, module_id=m1))).quiz == quiz
        # new preferences: the content is not cached and cannot be generated
        await o.SetPreferences(
            opb.SetPreferencesRequest(
                course_id=c,
                preferences=cpb.Preferences(
                    detail_level=cpb.DETAIL_LEVEL_BRIEF,
                    explanation_style=cpb.EXPLANATION_STYLE_VISUAL,
                    language=cpb.LANGUAGE_LEVEL_SIMPLE,
                ),
            )
        )
        for _ in range(BREAKER_FAIL_MAX):  # the breaker counts these failures
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await o.GetModuleContent(content_request(course))
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            refusal = from_rpc_error(err.value)
            assert "sme_svc" in err.value.details() and refusal.reason == "DEPENDENCY_UNAVAILABLE"
        # open now: refused at once, without trying to reach sme_svc; nothing was cached
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await o.GetModuleContent(content_request(course))
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert from_rpc_error(err.value).metadata.get("circuit") == "open"
        rows = await asyncio.to_thread(
            sql, mesh, "SELECT count(*) FROM module_content WHERE learner_id = %s", learner_id
        )
        assert rows == [(1,)]
    finally:
        await mesh.start_sme()

    # recovered: after the reset timeout a trial call goes through and closes the breaker (the channel may
    # first have to wait out its reconnect backoff, so give it a few rounds)
    deadline = asyncio.get_running_loop().time() + 120
    while True:
        await asyncio.sleep(BREAKER_RESET_S + 0.1)
        try:
            recovered = (await o.GetModuleContent(content_request(course))).content
            break
        except grpc.aio.AioRpcError as err:
            assert err.code() == grpc.StatusCode.UNAVAILABLE
            assert asyncio.get_running_loop().time() < deadline, "sme_svc did not come back"
    assert (
        recovered.markdown.strip() and recovered.preferences.explanation_style == cpb.EXPLANATION_STYLE_VISUAL
    )


async def test_course_changes_reach_learners_within_the_course_cache_ttl(mesh, course):
    """orchestrator_svc reuses a course's structure for ORCHESTRATOR_COURSE_CACHE_TTL_S: an instructor's change
    is not seen by an answer given within the TTL of the structure's read, and is seen by a request made
    once the TTL has passed since the change. (Both bounds follow from the clock; neither races it.)"""
    _, token, _ = await enrolled(mesh, course, "Cached")
    ttl = mesh.settings["orchestrator"].course_cache_ttl_s
    assert ttl > 0
    board = opb.GetDashboardRequest(course_id=course.course_id)
    instructor = mesh.instructor_stub(course.instructor_token)

    async def rename(new_title: str) -> None:
        await instructor.UpdateModule(
            ipb.UpdateModuleRequest(
                course_id=course.course_id, module_id=course.module_ids[0], title=new_title
            )
        )

    async with mesh.orchestrator_replica() as port:  # a cache of its own: its first read is a fresh one
        o = mesh.orchestrator_stub(token, port)
        read_at = time.monotonic()
        title = (await o.GetDashboard(board)).dashboard.modules[0].title
        await rename("Renamed while cached")
        changed_at = time.monotonic()
        try:
            shown = (await o.GetDashboard(board)).dashboard.modules[0].title
            if time.monotonic() - read_at < ttl:  # answered while the structure read first was still fresh
                assert shown == title
            await asyncio.sleep(max(0.0, changed_at + ttl - time.monotonic()))  # what was read before expired
            assert (await o.GetDashboard(board)).dashboard.modules[0].title == "Renamed while cached"
        finally:
            await rename(title)


async def eventually(probe, what: str, within_s: float = 60.0):
    deadline = time.monotonic() + within_s
    while not (result := await probe()):
        assert time.monotonic() < deadline, f"{what} did not happen within {within_s} s"
        await asyncio.sleep(0.05)
    return result


async def test_replicas_show_each_others_changes_at_once(mesh, course):
    """Two more orchestrator replicas that keep what they read about a learner for a minute: what the learner
    changes through one of them, the other shows at once (the change feed), and no refusal rests on what a
    replica kept (a learner refused before enrolling is let in as soon as they enroll)."""
    _, token = await sign_up_learner(mesh, "Replicated")
    c, (m1, m2) = course.course_id, course.module_ids
    board = opb.GetDashboardRequest(course_id=c)
    async with (
        # What they keep would be reused for an hour: only the change feed can show a change in time.
        mesh.orchestrator_replica(learner_cache_ttl_s=3600) as port_a,
        mesh.orchestrator_replica(learner_cache_ttl_s=3600) as port_b,
    ):
        a, b = mesh.orchestrator_stub(token, port_a), mesh.orchestrator_stub(token, port_b)
        assert await expect(grpc.StatusCode.PERMISSION_DENIED, b.GetDashboard(board)) == "NOT_ENROLLED"
        await mesh.learner_stub(token).Enroll(lpb.EnrollRequest(course_id=c))
        before = (await b.GetDashboard(board)).dashboard
        assert before.preferences.detail_level == cpb.DETAIL_LEVEL_MODERATE and not before.recent_quiz_results

        mine = cpb.Preferences(
            detail_level=cpb.DETAIL_LEVEL_BRIEF,
            explanation_style=cpb.EXPLANATION_STYLE_PRACTICAL,
            language=cpb.LANGUAGE_LEVEL_TECHNICAL,
        )
        await a.SetPreferences(opb.SetPreferencesRequest(course_id=c, preferences=mine))

        async def preferences_shown():
            return (await b.GetDashboard(board)).dashboard.preferences == mine

        await eventually(preferences_shown, "replica B showing the preferences set through A")

        passed = await pass_quiz(mesh, a, course, 0, "replicated-pass")
        await a.CompleteModule(opb.CompleteModuleRequest(course_id=c, module_id=m1))

        async def completion_shown():
            shown = (await b.GetDashboard(board)).dashboard
            return [r.attempt_id for r in shown.recent_quiz_results] == [passed.attempt_id] and [
                m.status for m in shown.modules
            ] == [opb.MODULE_STATUS_COMPLETED, opb.MODULE_STATUS_AVAILABLE]

        await eventually(completion_shown, "replica B showing the module completed through A")
        unlocked = (await b.GetModuleContent(content_request(course, 1))).content
        assert unlocked.module_id == m2 and unlocked.preferences == mine
