"""orchestrator_svc's progress rules, over in-memory fakes: completing modules, mastery, the dashboard."""

from __future__ import annotations

import pytest

from lmw_common.auth import Principal
from lmw_common.errors import FailedPrecondition
from orchestrator_svc.domain import Mastery, ModuleStatus, NextStepKind
from orchestrator_svc.grading import Answer
from tests.fakes.orchestrator import RULES, Orchestrator, course, objectives_of

ADA = Principal("ada", "learner")


async def pass_quiz(o: Orchestrator, module_id: str, attempt: str) -> None:
    quiz = await o.app.quizzes.quiz(ADA, "c1", module_id, retake=False)
    await o.app.quizzes.submit(ADA, "c1", module_id, quiz.id, attempt, [Answer(q.id, 0) for q in quiz.items])


async def test_a_module_is_completed_only_once_its_quiz_is_passed():
    o = Orchestrator()
    o.enrolled()
    with pytest.raises(FailedPrecondition) as refused:
        await o.app.completion.complete(ADA, "c1", "m1")
    assert refused.value.reason == "QUIZ_NOT_PASSED"
    await pass_quiz(o, "m1", "a1")
    assert await o.app.completion.complete(ADA, "c1", "m1") == ("m2", False)
    assert ("ada", "c1", "m1", True) in o.learners.events


async def test_completing_a_module_prepares_the_next_ones_content():
    o = Orchestrator()
    o.enrolled()
    await pass_quiz(o, "m1", "a1")
    await o.app.completion.complete(ADA, "c1", "m1")
    await o.app.wait_background()
    assert [r["module"] for r in o.sme.content_requests] == ["m2"]
    await o.app.contents.get(ADA, "c1", "m2")
    assert len(o.sme.content_requests) == 1  # ready when the learner opened it


async def test_a_pass_learner_svc_missed_still_completes_the_module():
    o = Orchestrator()
    o.enrolled()
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    o.learners.recording_fails = True
    with pytest.raises(ConnectionError):
        await o.app.quizzes.submit(ADA, "c1", "m1", quiz.id, "a1", [Answer(q.id, 0) for q in quiz.items])
    o.learners.recording_fails = False
    assert await o.app.completion.complete(ADA, "c1", "m1") == ("m2", False)
    assert [r.attempt_id for r in o.learners.recorded] == ["a1"]


async def test_completing_the_last_module_completes_the_course():
    o = Orchestrator()
    o.enrolled(c=course(modules=1))
    await pass_quiz(o, "m1", "a1")
    assert await o.app.completion.complete(ADA, "c1", "m1") == ("", True)
    assert await o.app.completion.complete(ADA, "c1", "m1") == ("", True)  # again: nothing changes
    assert [e for e in o.learners.events if e[3]] == [("ada", "c1", "m1", True)]


async def test_the_dashboard_shows_statuses_progress_results_and_the_next_step():
    o = Orchestrator()
    o.enrolled(c=course(modules=3))
    board = await o.app.standing.dashboard(ADA, "", "c1")
    assert [m.status for m in board.modules] == [
        ModuleStatus.AVAILABLE,
        ModuleStatus.LOCKED,
        ModuleStatus.LOCKED,
    ]
    assert board.next_step.kind is NextStepKind.READ and board.progress == 0.0
    assert len(board.mastery) == 6 and all(m.p_mastery == RULES.params.p_init for m in board.mastery)

    await pass_quiz(o, "m1", "a1")
    board = await o.app.standing.dashboard(ADA, "", "c1")
    assert (
        board.modules[0].status is ModuleStatus.IN_PROGRESS
        and board.next_step.kind is NextStepKind.COMPLETE_MODULE
    )
    await o.app.completion.complete(ADA, "c1", "m1")
    board = await o.app.standing.dashboard(ADA, "", "c1")
    assert [m.status for m in board.modules] == [
        ModuleStatus.COMPLETED,
        ModuleStatus.AVAILABLE,
        ModuleStatus.LOCKED,
    ]
    assert board.completed_module_count == 1 and board.progress == pytest.approx(1 / 3)
    assert [r.attempt_id for r in board.recent_results] == ["a1"]


async def test_learner_analytics_name_the_weak_objectives():
    o = Orchestrator()
    o.enrolled()
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    await o.app.quizzes.submit(ADA, "c1", "m1", quiz.id, "a1", [Answer("q1", 0), Answer("q2", 2)])
    analytics = await o.app.standing.analytics(ADA, "", "c1")
    assert analytics.attempt_count == 1 and analytics.average_score == 0.5
    assert analytics.weak_objective_ids == ("m1-o2",)


def test_mastery_view_lists_every_objective_in_course_order_then_those_no_longer_in_it():
    c = course()
    answered = {
        "m2-o1": Mastery("m2-o1", "m2", 0.99, 4),
        "gone": Mastery("gone", "m1", 0.3, 1),
    }
    view = RULES.view(c, objectives_of(c), answered)
    assert [m.objective_id for m in view] == ["m1-o1", "m1-o2", "m2-o1", "m2-o2", "gone"]
    assert view[2].mastered and view[2].text and not view[0].mastered and view[0].answer_count == 0
    assert view[-1].text == "" and RULES.is_weak(view[-1]) and not RULES.is_weak(view[0])


def test_a_recap_takes_at_most_the_configured_number_of_weak_objectives():
    c = course(modules=3)
    objectives = objectives_of(c, per_module=4)
    mastery = {f"m{m}-o{k}": Mastery(f"m{m}-o{k}", f"m{m}", 0.1 * k, 1) for m in (1, 2) for k in range(1, 5)}
    recap = RULES.recap(c, c.modules[2], objectives, mastery)
    assert len(recap) == RULES.max_recap_objectives
    assert [o.id for o in recap][:2] == ["m1-o1", "m2-o1"] and "m1-o4" not in [o.id for o in recap]
