"""orchestrator_svc's quizzes, over in-memory fakes: drawing, retakes, grading exactly once per attempt."""

from __future__ import annotations

import pytest

from lmw_common.auth import Principal
from lmw_common.errors import AlreadyExists, FailedPrecondition, NotFound
from orchestrator_svc.domain import QuizItem
from orchestrator_svc.grading import Answer
from tests.fakes.orchestrator import DEFAULT_PASS_MARK, Orchestrator, course

ADA = Principal("ada", "learner")


def answers(quiz, right: int) -> list[Answer]:
    """The first `right` questions answered right (option 0), the others wrong."""
    return [Answer(q.id, 0 if i < right else 1) for i, q in enumerate(quiz.items)]


async def submit(o: Orchestrator, quiz, attempt: str, right: int):
    return await o.app.quizzes.submit(ADA, "c1", quiz.module_id, quiz.id, attempt, answers(quiz, right))


async def test_the_current_quiz_is_kept_until_it_is_submitted():
    o = Orchestrator()
    o.enrolled()
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    assert await o.app.quizzes.quiz(ADA, "c1", "m1", retake=True) == quiz  # not submitted: no retake yet
    assert len(o.sme.quiz_requests) == 1 and [i.id for i in quiz.items] == ["q1", "q2"]
    assert quiz.pass_mark == DEFAULT_PASS_MARK and not quiz.submitted


async def test_a_retake_draws_a_new_quiz_that_favours_the_objectives_missed():
    o = Orchestrator()
    o.enrolled()
    first = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    await submit(o, first, "a1", right=1)
    assert (await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)).id == first.id  # shown as submitted
    second = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=True)
    assert second.id != first.id and second.ordinal == 1
    assert o.sme.quiz_requests[1]["focus"] == ["m1-o2"]
    assert o.sme.quiz_requests[0]["seed"] != o.sme.quiz_requests[1]["seed"]


async def test_a_retake_asks_for_items_the_learner_has_not_seen_most_recent_draw_first():
    o = Orchestrator()
    o.enrolled()
    first = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    assert o.sme.quiz_requests[0]["seen"] == []
    await submit(o, first, "a1", right=0)
    o.sme.quiz_items = [QuizItem("n1", "m1-o1", "A new question?", ("a", "b"), 0, "Why.")]
    second = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=True)
    assert o.sme.quiz_requests[1]["seen"] == [i.question for i in first.items]
    await submit(o, second, "a2", right=0)
    await o.app.quizzes.quiz(ADA, "c1", "m1", retake=True)
    assert o.sme.quiz_requests[2]["seen"] == ["A new question?", *(i.question for i in first.items)]


async def test_a_wrong_answer_is_told_why_the_chosen_option_is_wrong():
    o = Orchestrator()
    o.enrolled()
    notes = ("", "That is the mode, the most frequent value.")
    o.sme.quiz_items = [
        QuizItem(
            "g1",
            "m1-o1",
            "What is the median?",
            ("The middle", "The most frequent"),
            0,
            'The material says: "The median is the middle value."',
            (),
            notes,
        )
    ]
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    result = await o.app.quizzes.submit(ADA, "c1", "m1", quiz.id, "a1", [Answer(quiz.items[0].id, 1)])
    explanation = result.questions[0].explanation
    assert explanation.startswith("The material says") and explanation.endswith(
        "You chose \u201cThe most frequent\u201d: That is the mode, the most frequent value."
    )
    right = await submit(o, await o.app.quizzes.quiz(ADA, "c1", "m1", retake=True), "a2", right=1)
    assert "You chose" not in right.questions[0].explanation


MALFORMED = [
    QuizItem("x", "m1-o1", "  ", ("a", "b"), 0, ""),  # no question
    QuizItem("y", "m1-o1", "One option?", ("a",), 0, ""),
    QuizItem("z", "m1-o1", "Out of range?", ("a", "b"), 2, ""),
]


async def test_malformed_generated_questions_are_left_out_and_unknown_objectives_dropped():
    o = Orchestrator()
    o.enrolled()
    o.sme.quiz_items = [
        *MALFORMED,
        QuizItem("g1", "m1-o2", "Fine?", ("a", "b"), 1, ""),
        QuizItem("g2", "elsewhere", "Fine too?", ("a", "b"), 0, ""),
    ]
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    assert [(i.id, i.objective_id, i.question) for i in quiz.items] == [
        ("q1", "m1-o2", "Fine?"),
        ("q2", "", "Fine too?"),
    ]


async def test_no_usable_question_means_no_quiz():
    o = Orchestrator()
    o.enrolled()
    o.sme.quiz_items = MALFORMED
    with pytest.raises(FailedPrecondition) as refused:
        await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    assert refused.value.reason == "QUIZ_GENERATION_EMPTY" and not o.quiz_store.quizzes
    o.sme.quiz_items = None
    assert (await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)).items  # the next request tries again


async def test_grading_applies_the_modules_own_pass_mark_and_records_the_attempt():
    o = Orchestrator()
    o.enrolled(c=course(pass_mark=1.0))
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    assert quiz.pass_mark == 1.0
    result = await submit(o, quiz, "a1", right=1)
    assert result.score == 0.5 and not result.passed and result.pass_mark == 1.0
    assert [r.attempt_id for r in o.learners.recorded] == ["a1"] and await o.quiz_store.is_recorded("a1")
    assert ("ada", "c1") in o.learners.changes


async def test_mastery_moves_with_each_answer():
    o = Orchestrator()
    o.enrolled()
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    result = await submit(o, quiz, "a1", right=1)
    by_objective = {m.objective_id: m for m in result.mastery}
    assert by_objective["m1-o1"].p_mastery > 0.2 > by_objective["m1-o2"].p_mastery
    assert all(m.answer_count == 1 and m.text for m in result.mastery)


async def test_a_resubmitted_attempt_gets_its_first_result_and_is_graded_once():
    o = Orchestrator()
    o.enrolled()
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    first = await submit(o, quiz, "a1", right=2)
    again = await submit(o, quiz, "a1", right=0)  # what was sent the second time does not matter
    assert again == first and first.passed and len(o.learners.recorded) == 1


async def test_an_attempt_learner_svc_missed_is_recorded_when_it_is_resubmitted():
    o = Orchestrator()
    o.enrolled()
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    o.learners.recording_fails = True
    with pytest.raises(ConnectionError):
        await submit(o, quiz, "a1", right=2)
    assert not await o.quiz_store.is_recorded("a1") and ("ada", "c1") in o.learners.changes
    o.learners.recording_fails = False
    assert (await submit(o, quiz, "a1", right=2)).passed
    assert [r.attempt_id for r in o.learners.recorded] == ["a1"] and await o.quiz_store.is_recorded("a1")


async def test_a_submitted_quiz_takes_no_other_attempt():
    o = Orchestrator()
    o.enrolled()
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    await submit(o, quiz, "a1", right=2)
    with pytest.raises(FailedPrecondition) as refused:
        await submit(o, quiz, "a2", right=2)
    assert refused.value.reason == "QUIZ_ALREADY_SUBMITTED"


async def test_an_attempt_id_is_one_attempt_only():
    o = Orchestrator()
    o.enrolled(completed=["m1"])
    first = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    await submit(o, first, "a1", right=2)
    other = await o.app.quizzes.quiz(ADA, "c1", "m2", retake=False)
    with pytest.raises(AlreadyExists) as refused:
        await submit(o, other, "a1", right=2)
    assert refused.value.reason == "ATTEMPT_ID_IN_USE"


async def test_someone_elses_quiz_is_not_found():
    o = Orchestrator()
    o.enrolled("ada")
    o.learners.enroll("bob", "c1")
    quiz = await o.app.quizzes.quiz(Principal("bob", "learner"), "c1", "m1", retake=False)
    with pytest.raises(NotFound) as missing:
        await submit(o, quiz, "a1", right=2)
    assert missing.value.reason == "QUIZ_NOT_FOUND"
