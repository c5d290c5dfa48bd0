"""The quick version of scripts/soak.py: six simulated learners walk the whole path through GraphQL for about
20 seconds (sign up, enroll, preferences, content by query or subscription, quiz, submissions with unique
attempt ids, some sent twice at once, retakes, completion, dashboard), then learner_svc's and
orchestrator_svc's PostgreSQL and orchestrator_svc's MongoDB are counted against every acknowledged record.

Same invariants as the script: no unexpected GraphQL error, no answer that disagrees with another, no record
lost, extra, duplicated or mismatched. No timing assertions. It runs on the session's in-process mesh
(tests.integration.mesh) with the BFF served in-process (the script starts the real mesh as processes).
"""

from __future__ import annotations

import asyncio
import os
import uuid

import psycopg
import pytest

pytest.importorskip("instructor_svc.bootstrap")
pytest.importorskip("sme_svc.bootstrap")
pytestmark = pytest.mark.slow  # a soak run

from devkit import soak  # noqa: E402
from devkit.graphql import GraphQLClient  # noqa: E402
from devkit.graphql_checks import create_course, sample_modules, serve_bff, sign_up  # noqa: E402

pytest_plugins = ("tests.integration.mesh",)

LEARNERS = 6
SECONDS = 20.0
RETRIES = 12


@pytest.fixture(scope="module")
async def bff(lmw_mesh):
    settings = lmw_mesh.bff_settings()
    async with serve_bff(settings) as url:
        yield f"{url}/graphql"


@pytest.fixture(scope="module")
async def course(bff, tmp_path_factory):
    async with GraphQLClient(bff) as anonymous:
        teacher, _, _ = await sign_up(anonymous, "INSTRUCTOR", "Soak teacher")
        return await create_course(teacher, "Quick soak", sample_modules(2), tmp_path_factory.mktemp("soak"))


async def test_a_burst_of_retries_of_one_submission_gets_one_result(lmw_mesh, bff, course):
    """A client that retries a submission while the first try is still in flight (the same attempt id,
    many times at once) gets the first result every time, and one attempt is stored."""
    async with GraphQLClient(bff) as anonymous:
        learner, learner_id, _ = await sign_up(anonymous, "LEARNER", "Retrier")
        variables = {"c": course.id, "m": course.module_ids[0]}
        await learner.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": course.id})
        await learner.execute(soak.Q_CONTENT, variables)
        for _ in range(3):
            quiz = (await learner.execute(soak.Q_QUIZ, {**variables, "r": True}))["quiz"]
            answers = [{"questionId": q["id"], "selectedIndex": 0} for q in quiz["questions"]]
            submit = {**variables, "q": quiz["id"], "a": answers, "id": uuid.uuid4().hex}
            results = await asyncio.gather(
                *(learner.execute(soak.M_SUBMIT, submit) for _ in range(RETRIES)), return_exceptions=True
            )
            failures = [r for r in results if isinstance(r, BaseException)]
            assert not failures, failures[:3]
            assert all(r == results[0] for r in results)
            assert results[0]["submitQuiz"]["attemptId"] == submit["id"]

    def stored(url: str, statement: str) -> list[tuple]:
        with psycopg.connect(url, autocommit=True) as conn:
            return conn.execute(statement, (learner_id,)).fetchall()

    attempts = await asyncio.to_thread(
        stored,
        lmw_mesh.settings["learner"].database_url,
        "SELECT quiz_id FROM quiz_attempts WHERE learner_id = %s",
    )
    results = await asyncio.to_thread(
        stored,
        lmw_mesh.settings["orchestrator"].database_url,
        "SELECT quiz_id FROM quiz_results WHERE learner_id = %s",
    )
    assert len(attempts) == len(set(attempts)) == 3 and sorted(attempts) == sorted(results)


async def test_quick_soak_loses_no_record(lmw_mesh, bff, course):
    memory = soak.MemoryWatch({"test process": os.getpid()})  # reported, not asserted
    memory.start()

    async def halfway() -> None:
        memory.sample("middle")

    log = await soak.run_learners(bff, course.id, course.module_ids, LEARNERS, SECONDS, halfway=halfway)
    await memory.stop()

    stores = soak.Stores(
        lmw_mesh.settings["learner"].database_url,
        lmw_mesh.settings["orchestrator"].database_url,
        lmw_mesh.settings["orchestrator"].mongo_url,
    )
    verification = await asyncio.to_thread(soak.verify, log, stores)
    figures = soak.summary(log, verification, memory.rows())
    soak.print_report(figures, log, verification, None)

    assert not log.errors, log.errors[:10]
    assert not log.inconsistencies, log.inconsistencies[:10]
    assert verification.violations == 0, verification.problems[:20]
    assert figures["submissions_acknowledged"] > 0 and figures["submissions_unacknowledged"] == 0
    assert verification.checked >= figures["submissions_acknowledged"] * 2
    assert soak.violations(figures, None) == []

    # The check can fail: told of an attempt nobody stored, of a completion and of preferences that differ
    # from the databases, it reports them.
    journey = next(j for j in log.journeys if j.attempts and j.preferences)
    some = next(iter(journey.attempts.values()))
    journey.attempts["never-stored"] = soak.Attempt(some.module_id, some.quiz_id, some.score, some.passed)
    journey.completed ^= {course.module_ids[-1]}
    journey.preferences = {**journey.preferences, "language": "NOT_A_LANGUAGE"}
    tampered = await asyncio.to_thread(soak.verify, log, stores)
    assert tampered.lost >= 2 + (course.module_ids[-1] in journey.completed), tampered.problems
    assert tampered.mismatched == 1 and tampered.duplicated == 0, tampered.problems
