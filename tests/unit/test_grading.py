"""Server-side grading: answer validation, scores, pass marks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lmw_common.errors import InvalidArgument
from orchestrator_svc.domain import QuizItem
from orchestrator_svc.grading import UNANSWERED, Answer, grade, validate_answers


def item(i: int, correct: int = 1, options: int = 4, objective: str = "lo1") -> QuizItem:
    return QuizItem(
        id=f"q{i}",
        objective_id=objective,
        question=f"Question {i}?",
        options=tuple(f"option {k}" for k in range(options)),
        correct_index=correct,
        explanation=f"Because {i}.",
    )


QUIZ = [item(1), item(2, correct=0), item(3, correct=3), item(4, correct=2), item(5)]


def test_all_correct_passes_with_full_score():
    answers = [Answer(q.id, q.correct_index) for q in QUIZ]
    result = grade(QUIZ, answers, 0.6)
    assert result.score == 1.0 and result.passed and result.correct_count == 5
    assert all(q.correct for q in result.questions)
    assert [q.explanation for q in result.questions] == [q.explanation for q in QUIZ]


def test_exactly_the_pass_mark_passes_despite_float_noise():
    answers = [Answer("q1", 1), Answer("q2", 0), Answer("q3", 3), Answer("q4", 0), Answer("q5", 0)]
    result = grade(QUIZ, answers, 0.6)
    assert result.score == pytest.approx(0.6) and result.passed
    assert not grade(QUIZ, answers, 0.61).passed


def test_unanswered_questions_are_graded_wrong():
    result = grade(QUIZ, [Answer("q1", 1)], 0.6)
    assert result.score == pytest.approx(0.2) and not result.passed
    unanswered = [q for q in result.questions if q.question_id != "q1"]
    assert all(q.selected_index == UNANSWERED and not q.correct for q in unanswered)
    assert [q.correct_index for q in unanswered] == [0, 3, 2, 1]


def test_results_follow_the_quiz_order_whatever_the_answer_order():
    answers = [Answer(q.id, 0) for q in reversed(QUIZ)]
    assert [q.question_id for q in grade(QUIZ, answers, 0.6).questions] == [q.id for q in QUIZ]


@pytest.mark.parametrize(
    ("answers", "reason"),
    [
        ([Answer("q1", 0), Answer("q1", 1)], "DUPLICATE_ANSWER"),
        ([Answer("nope", 0)], "UNKNOWN_QUESTION"),
        ([Answer("q1", 4)], "INDEX_OUT_OF_RANGE"),
        ([Answer("q1", -1)], "INDEX_OUT_OF_RANGE"),
        ([Answer(f"q{i % 5 + 1}", 0) for i in range(6)], "TOO_MANY_ANSWERS"),
    ],
)
def test_invalid_answers_are_refused(answers, reason):
    with pytest.raises(InvalidArgument) as error:
        grade(QUIZ, answers, 0.6)
    assert error.value.reason == reason


def test_an_empty_quiz_cannot_be_graded():
    with pytest.raises(InvalidArgument):
        grade([], [], 0.6)


quizzes = st.lists(
    st.tuples(st.integers(min_value=2, max_value=6), st.integers(min_value=0, max_value=5)),
    min_size=1,
    max_size=12,
).map(lambda spec: [item(i, correct=c % n, options=n) for i, (n, c) in enumerate(spec)])


@given(quizzes, st.data(), st.floats(min_value=0.05, max_value=1.0))
def test_score_is_the_fraction_of_correct_answers(quiz, data, pass_mark):
    answered = data.draw(st.lists(st.sampled_from(quiz), unique_by=lambda q: q.id))
    answers = [
        Answer(q.id, data.draw(st.integers(min_value=0, max_value=len(q.options) - 1))) for q in answered
    ]
    result = grade(quiz, answers, pass_mark)
    expected = sum(
        1 for a in answers if a.selected_index == next(q for q in quiz if q.id == a.question_id).correct_index
    )
    assert result.correct_count == expected
    assert result.score == pytest.approx(expected / len(quiz))
    assert 0.0 <= result.score <= 1.0
    assert result.passed == (expected / len(quiz) >= pass_mark - 1e-9)
    assert len(result.questions) == len(quiz)


def test_validate_answers_returns_the_choices():
    assert validate_answers(QUIZ, [Answer("q2", 3), Answer("q5", 0)]) == {"q2": 3, "q5": 0}
