"""orchestrator_svc's access rules, over in-memory fakes: who reaches a course and which modules are open."""

from __future__ import annotations

import pytest

from lmw_common.auth import Principal
from lmw_common.errors import FailedPrecondition, NotFound, PermissionDenied
from orchestrator_svc.domain import CourseProgress, ModuleProgress
from tests.fakes.orchestrator import Orchestrator, course

ADA = Principal("ada", "learner")


async def test_a_learner_who_is_not_enrolled_learns_nothing_about_the_course():
    o = Orchestrator()
    o.instructors.add(course("c1"))
    for course_id in ("c1", "no-such-course"):
        with pytest.raises(PermissionDenied) as refused:
            await o.app.contents.get(ADA, course_id, "m1")
        assert refused.value.reason == "NOT_ENROLLED"


async def test_only_a_learner_acts_for_themself():
    o = Orchestrator()
    o.enrolled()
    for caller in (Principal("svc", "service"), Principal("ian", "instructor")):
        with pytest.raises(PermissionDenied) as refused:
            await o.app.quizzes.quiz(caller, "c1", "m1", retake=False)
        assert refused.value.reason == "ROLE_NOT_ALLOWED"


async def test_a_dashboard_is_the_learners_own_or_a_services():
    o = Orchestrator()
    o.enrolled("ada")
    with pytest.raises(PermissionDenied) as refused:
        await o.app.standing.dashboard(Principal("bob", "learner"), "ada", "c1")
    assert refused.value.reason == "NOT_OWNER"
    assert (await o.app.standing.dashboard(ADA, "", "c1")).learner_id == "ada"
    assert (await o.app.standing.dashboard(Principal("svc", "service"), "ada", "c1")).learner_id == "ada"


async def test_a_refusal_on_a_cached_enrollment_is_checked_afresh():
    o = Orchestrator()
    o.enrolled()
    o.learners.stale[("ada", "c1")] = None  # the cache still says: never enrolled
    assert (await o.app.contents.get(ADA, "c1", "m1")).module_id == "m1"


async def test_a_module_opens_once_every_module_before_it_is_completed():
    o = Orchestrator()
    o.enrolled()
    with pytest.raises(FailedPrecondition) as locked:
        await o.app.contents.get(ADA, "c1", "m2")
    assert locked.value.reason == "MODULE_LOCKED" and locked.value.metadata == {"module_id": "m2"}
    o.learners.enroll("ada", "c1", completed=["m1"])
    assert (await o.app.contents.get(ADA, "c1", "m2")).module_id == "m2"


async def test_a_lock_seen_in_a_stale_cache_is_checked_afresh():
    o = Orchestrator()
    o.enrolled(completed=["m1"])
    o.learners.stale[("ada", "c1")] = CourseProgress(
        "ada", "c1", True, {"m1": ModuleProgress("m1", started=True)}
    )
    assert (await o.app.contents.get(ADA, "c1", "m2")).module_id == "m2"


async def test_a_module_of_another_course_is_not_found():
    o = Orchestrator()
    o.enrolled()
    with pytest.raises(NotFound) as missing:
        await o.app.quizzes.quiz(ADA, "c1", "m9", retake=False)
    assert missing.value.reason == "MODULE_NOT_FOUND"


async def test_an_unenrolled_learner_still_reads_what_they_have_but_changes_nothing():
    o = Orchestrator()
    o.enrolled(active=False)
    assert (await o.app.preferences.get(ADA, "c1"))[1]  # the defaults
    assert (await o.app.standing.dashboard(ADA, "", "c1")).course.id == "c1"
    for work in (
        o.app.preferences.set(ADA, "c1", {"language": "simple"}, ["language"]),
        o.app.contents.get(ADA, "c1", "m1"),
        o.app.completion.complete(ADA, "c1", "m1"),
    ):
        with pytest.raises(PermissionDenied) as refused:
            await work
        assert refused.value.reason == "NOT_ENROLLED"
