"""What the portal asks of the BFF beyond the GraphQL operations every client uses, end to end over the
session's in-process mesh (real services and databases) and the BFF served by uvicorn:

- /api/course-files/{course}/{file}: the bytes of a course file for its owner and for a learner enrolled in
  the published course (the source viewer behind citation chips), refused to everyone else with the
  GraphQL-style error the portal turns into a sentence;
- `quizAttempts`: the learner's own attempt history, newest first.
"""

from __future__ import annotations

import httpx
import pytest

pytest.importorskip("instructor_svc.bootstrap")
pytest.importorskip("sme_svc.bootstrap")

from bff.config import BffSettings  # noqa: E402
from devkit.graphql import GraphQLClient  # noqa: E402
from devkit.graphql_checks import create_course, sample_modules, serve_bff, sign_up  # noqa: E402

pytest_plugins = ("tests.integration.mesh",)


@pytest.fixture(scope="module")
async def bff(lmw_mesh, common_settings):
    settings = BffSettings(
        learner_target=lmw_mesh.targets["learner"],
        instructor_target=lmw_mesh.targets["instructor"],
        orchestrator_target=lmw_mesh.targets["orchestrator"],
        common=common_settings,
    )
    async with serve_bff(settings) as url, GraphQLClient(f"{url}/graphql") as anonymous:
        yield url, anonymous


@pytest.fixture(scope="module")
async def course(bff, tmp_path_factory):
    _, anonymous = bff
    owner, _, _ = await sign_up(anonymous, "INSTRUCTOR", "Owner")
    created = await create_course(owner, "Portal files", sample_modules(1), tmp_path_factory.mktemp("portal"))
    return owner, created


async def get_file(url: str, client: GraphQLClient | None, course_id: str, file_id: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {client.token}"} if client and client.token else {}
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.get(f"{url}/api/course-files/{course_id}/{file_id}", headers=headers)


def refusal(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["errors"][0]
    return response.status_code, error["extensions"]["code"], error["extensions"]["reason"]


async def test_course_files_open_for_the_owner_and_enrolled_learners_only(bff, course):
    url, anonymous = bff
    owner, created = course
    course_id, file_id = created.id, created.file_ids[0]
    expected = sample_modules(1)[0].file.read_bytes()

    mine = await get_file(url, owner, course_id, file_id)
    assert mine.status_code == 200 and mine.content == expected
    assert mine.headers["content-type"].startswith("text/markdown")
    assert mine.headers["content-disposition"].startswith("attachment;")
    assert mine.headers["content-security-policy"].startswith("sandbox")
    assert mine.headers["x-content-type-options"] == "nosniff"
    assert mine.headers["cache-control"] == "private, no-store"

    learner, _, _ = await sign_up(anonymous, "LEARNER", "Lena")
    assert refusal(await get_file(url, learner, course_id, file_id)) == (403, "FORBIDDEN", "NOT_ENROLLED")
    await learner.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": course_id})
    enrolled = await get_file(url, learner, course_id, file_id)
    assert enrolled.status_code == 200 and enrolled.content == expected

    other, _, _ = await sign_up(anonymous, "INSTRUCTOR", "Other")
    assert refusal(await get_file(url, other, course_id, file_id)) == (403, "FORBIDDEN", "NOT_OWNER")
    assert refusal(await get_file(url, None, course_id, file_id)) == (401, "UNAUTHENTICATED", "AUTH_REQUIRED")
    assert refusal(await get_file(url, learner, course_id, "no-such-file"))[:2] == (404, "NOT_FOUND")
    assert refusal(await get_file(url, learner, course_id, "bad%20id"))[:2] == (404, "NOT_FOUND")


async def test_quiz_attempts_list_the_learners_own_attempts_newest_first(bff, course):
    _, anonymous = bff
    _, created = course
    learner, _, _ = await sign_up(anonymous, "LEARNER", "Quinn")
    variables = {"c": created.id, "m": created.module_ids[0]}
    await learner.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": created.id})
    scores = []
    for retake in (False, True):
        quiz = (
            await learner.execute(
                "query($c: ID!, $m: ID!, $r: Boolean!) { quiz(courseId: $c, moduleId: $m, retake: $r) { id questions { id } } }",
                {**variables, "r": retake},
            )
        )["quiz"]
        answers = [{"questionId": q["id"], "selectedIndex": i % 2} for i, q in enumerate(quiz["questions"])]
        result = (
            await learner.execute(
                """mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!) {
                  submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a) { score passed quizId } }""",
                {**variables, "q": quiz["id"], "a": answers},
            )
        )["submitQuiz"]
        scores.append((result["quizId"], result["score"], result["passed"], len(answers)))

    attempts = (
        await learner.execute(
            """query($c: ID!, $m: ID!) { quizAttempts(courseId: $c, moduleId: $m) { edges { node {
              moduleId quizId score passed correctCount questionCount submitTime } } } }""",
            variables,
        )
    )["quizAttempts"]["edges"]
    listed = [
        (a["node"]["quizId"], a["node"]["score"], a["node"]["passed"], a["node"]["questionCount"])
        for a in attempts
    ]
    assert listed == list(reversed(scores))
    for attempt in attempts:
        node = attempt["node"]
        assert node["moduleId"] == created.module_ids[0] and node["submitTime"]
        assert node["correctCount"] == round(node["score"] * node["questionCount"])

    stranger, _, _ = await sign_up(anonymous, "LEARNER", "Stranger")
    none = await stranger.execute(
        "query($c: ID!) { quizAttempts(courseId: $c) { edges { node { id } } } }", {"c": created.id}
    )
    assert none["quizAttempts"]["edges"] == []
