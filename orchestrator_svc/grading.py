"""Server-side grading of a quiz attempt: validation of the answers and the score (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lmw_common.errors import InvalidArgument
from orchestrator_svc.domain import GradedQuestion, QuizItem

UNANSWERED = -1
# Scores are fractions of whole questions; this absorbs float noise (e.g. 3/5 vs a pass mark of 0.6).
_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Answer:
    question_id: str
    selected_index: int


@dataclass(frozen=True, slots=True)
class Grade:
    score: float
    passed: bool
    questions: tuple[GradedQuestion, ...]

    @property
    def correct_count(self) -> int:
        return sum(q.correct for q in self.questions)


def validate_answers(items: Sequence[QuizItem], answers: Sequence[Answer]) -> dict[str, int]:
    """Each known question at most once, with an index among its options. Unanswered questions are allowed."""
    by_id = {item.id: item for item in items}
    if len(answers) > len(by_id):
        raise InvalidArgument(
            f"{len(answers)} answers for a quiz of {len(by_id)} questions",
            "TOO_MANY_ANSWERS",
            field="answers",
        )
    chosen: dict[str, int] = {}
    for answer in answers:
        item = by_id.get(answer.question_id)
        if item is None:
            raise InvalidArgument(
                f"unknown question id {answer.question_id[:64]!r}", "UNKNOWN_QUESTION", field="answers"
            )
        if answer.question_id in chosen:
            raise InvalidArgument(
                f"question {answer.question_id!r} is answered more than once",
                "DUPLICATE_ANSWER",
                field="answers",
            )
        if not 0 <= answer.selected_index < len(item.options):
            raise InvalidArgument(
                f"selected_index of question {answer.question_id!r} must be between 0 and "
                f"{len(item.options) - 1}",
                "INDEX_OUT_OF_RANGE",
                field="answers",
            )
        chosen[answer.question_id] = answer.selected_index
    return chosen


def grade(items: Sequence[QuizItem], answers: Sequence[Answer], pass_mark: float) -> Grade:
    """Grade every question of the quiz (unanswered ones are wrong); passed when score >= pass_mark."""
    if not items:
        raise InvalidArgument("the quiz has no questions", "EMPTY_QUIZ")
    chosen = validate_answers(items, answers)
    questions = []
    for item in items:
        selected = chosen.get(item.id, UNANSWERED)
        questions.append(
            GradedQuestion(
                question_id=item.id,
                objective_id=item.objective_id,
                selected_index=selected,
                correct_index=item.correct_index,
                correct=selected == item.correct_index,
                explanation=item.explanation_for(selected),
                citations=item.citations,
            )
        )
    score = sum(q.correct for q in questions) / len(questions)
    return Grade(score, score + _EPSILON >= pass_mark, tuple(questions))
