"""orchestrator_svc's preferences and tutor, over in-memory fakes."""

from __future__ import annotations

import pytest

from lmw_common.auth import Principal
from lmw_common.errors import InvalidArgument, NotFound
from lmw_common.preferences import ALLOWED, DEFAULT_PREFERENCES, Preferences
from tests.fakes.orchestrator import Orchestrator

ADA = Principal("ada", "learner")
ALL = {dimension: values[-1] for dimension, values in ALLOWED.items()}  # none of them the default


async def test_preferences_are_the_defaults_until_the_learner_sets_some():
    o = Orchestrator()
    o.enrolled()
    assert await o.app.preferences.get(ADA, "c1") == (DEFAULT_PREFERENCES, True)
    assert await o.app.preferences.set(ADA, "c1", ALL, []) == Preferences(**ALL)
    assert await o.app.preferences.get(ADA, "c1") == (Preferences(**ALL), False)
    assert ("ada", "c1") in o.learners.changes


async def test_a_mask_sets_the_dimensions_it_names_and_only_those_need_a_value():
    o = Orchestrator()
    o.enrolled()
    await o.app.preferences.set(ADA, "c1", ALL, [])
    stored = await o.app.preferences.set(
        ADA, "c1", {"language": "balanced", "detail_level": ""}, ["language"]
    )
    assert stored == Preferences(**{**ALL, "language": "balanced"})


@pytest.mark.parametrize(
    ("values", "mask", "reason"),
    [
        (dict.fromkeys(ALL, ""), [], "NOTHING_TO_UPDATE"),  # no mask: the dimensions given are set
        ({"language": "loud"}, ["language"], "INVALID_PREFERENCE"),
        (ALL, ["preferences.language"], "INVALID_UPDATE_MASK"),
        (ALL, ["language"] * (len(ALL) + 1), "TOO_MANY"),
    ],
)
async def test_an_update_that_cannot_apply_changes_nothing(values, mask, reason):
    o = Orchestrator()
    o.enrolled()
    with pytest.raises(InvalidArgument) as refused:
        await o.app.preferences.set(ADA, "c1", values, mask)
    assert refused.value.reason == reason and not o.learners.preferences_set


async def test_the_tutor_hints_at_open_quiz_questions_and_keeps_the_conversation():
    o = Orchestrator()
    o.enrolled()
    quiz = await o.app.quizzes.quiz(ADA, "c1", "m1", retake=False)
    events = [e async for e in o.app.tutor.ask(ADA, "c1", "What is a median?", "m1")]
    assert events[0] == "An answer." and events[-1].text == "An answer." and events[-1].grounded
    assert o.sme.answer_requests[0]["protected"] == [i.question for i in quiz.items]
    [_ async for _ in o.app.tutor.ask(ADA, "c1", "And the mode?", "")]
    assert o.sme.answer_requests[1]["history"] == [("learner", "What is a median?"), ("tutor", "An answer.")]

    page, token = await o.app.tutor.history(ADA, "c1", 2, "")
    assert [m.text for m in page] == ["And the mode?", "An answer."] and token
    older, token = await o.app.tutor.history(ADA, "c1", 2, token)
    assert [m.text for m in older] == ["What is a median?", "An answer."] and not token
    assert (await o.app.standing.analytics(ADA, "", "c1")).tutor_question_count == 2


async def test_the_tutor_knows_only_modules_of_the_course():
    o = Orchestrator()
    o.enrolled()
    with pytest.raises(NotFound) as missing:
        [_ async for _ in o.app.tutor.ask(ADA, "c1", "Where am I?", "m9")]
    assert missing.value.reason == "MODULE_NOT_FOUND" and not o.sme.answer_requests
