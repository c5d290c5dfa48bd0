"""Learning objectives: edit/approve/version/stale rules, generation jobs, and the publish preconditions.

The rules run with sme_svc down. Generation and a real publish run with sme_svc in-process (skipped until
`sme_svc.bootstrap` exists).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from devkit.databases import free_port
from lmw.common.v1 import common_pb2 as cpb
from lmw.instructor.v1 import instructor_service_pb2 as pb
from lmw.sme.v1 import sme_service_pb2 as spb
from lmw.sme.v1 import sme_service_pb2_grpc as spb_grpc
from lmw_common.auth import Principal
from lmw_common.errors import FailedPrecondition, from_rpc_error
from lmw_common.jobs import Job
from tests.integration.test_instructor_support import (
    auth,
    databases,
    expect,
    instructor_env,
    markdown,
    sme_available,
    sme_env,
)

INVALID, PRECONDITION = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION


@pytest.fixture(scope="module")
async def env(postgres, mongo, common_settings, tmp_path_factory):
    async with (
        databases(postgres, mongo) as (pg_url, mongo_url),
        instructor_env(pg_url, mongo_url, tmp_path_factory.mktemp("blobs"), common_settings) as e,
    ):
        yield e


def lo(text: str, oid: str = "") -> cpb.LearningObjective:
    return cpb.LearningObjective(id=oid, text=text)


async def update(env, token, course_id, module_id, objectives, expected_version=0):
    request = pb.UpdateLearningObjectivesRequest(
        course_id=course_id, module_id=module_id, objectives=objectives, expected_version=expected_version
    )
    return (await env.stub.UpdateLearningObjectives(request, metadata=auth(token))).objectives


async def approve(env, token, course_id, module_id, version):
    request = pb.ApproveLearningObjectivesRequest(course_id=course_id, module_id=module_id, version=version)
    return (await env.stub.ApproveLearningObjectives(request, metadata=auth(token))).objectives


async def listed(env, token, course_id, module_id=""):
    request = pb.ListLearningObjectivesRequest(course_id=course_id, module_id=module_id)
    return (await env.stub.ListLearningObjectives(request, metadata=auth(token))).modules


async def module_of(env, token, course_id, module_id) -> pb.Module:
    course = (await env.stub.GetCourse(pb.GetCourseRequest(course_id=course_id), metadata=auth(token))).course
    return next(m for m in course.modules if m.id == module_id)


async def test_update_replaces_the_list_with_versions_and_validation(env):
    _, token = await env.sign_up()
    course = await env.course(token, modules=1)
    mid = course.modules[0].id
    first = await update(
        env, token, course.id, mid, [lo("Explain loops"), lo("Write a for loop"), lo("Use range()")]
    )
    assert (first.version, first.approved, first.stale) == (1, False, False)
    ids = [o.id for o in first.objectives]
    assert len(set(ids)) == 3 and all(ids)

    # edit one, remove one, reorder, add one: kept ids stay, the new one gets a fresh id
    second = await update(
        env,
        token,
        course.id,
        mid,
        [lo("Use range() with a step", ids[2]), lo("Explain loops", ids[0]), lo("Nest two loops")],
        expected_version=1,
    )
    assert second.version == 2
    assert [o.id for o in second.objectives][:2] == [ids[2], ids[0]]
    assert second.objectives[2].id not in ids
    assert [o.text for o in second.objectives] == [
        "Use range() with a step",
        "Explain loops",
        "Nest two loops",
    ]

    bad = [
        ([lo("Tiny")], INVALID, "TOO_SHORT"),
        ([lo("x" * 301)], INVALID, "TOO_LONG"),
        ([lo(f"Objective number {i}") for i in range(21)], INVALID, "TOO_MANY"),
        ([lo("Explain loops", ids[0]), lo("Explain loops again", ids[0])], INVALID, "DUPLICATE_OBJECTIVE_ID"),
        ([lo("Bad control\x01 char")], INVALID, "INVALID_CHARACTERS"),
        ([lo("Not in this module", "someoneelse")], grpc.StatusCode.NOT_FOUND, "OBJECTIVE_NOT_FOUND"),
    ]
    for objectives, code, reason in bad:
        assert await expect(code, update(env, token, course.id, mid, objectives)) == reason
    stale_edit = update(env, token, course.id, mid, [lo("Lost update")], expected_version=1)
    assert await expect(PRECONDITION, stale_edit) == "VERSION_MISMATCH"
    unknown = update(env, token, course.id, "nope", [lo("Whatever it is")])
    assert await expect(grpc.StatusCode.NOT_FOUND, unknown) == "MODULE_NOT_FOUND"
    # none of the rejected edits wrote anything
    (current,) = await listed(env, token, course.id, mid)
    assert current.version == 2 and [o.id for o in current.objectives] == [o.id for o in second.objectives]
    # exactly 20 and exactly 5/300 characters are fine
    edge = [lo("a" * 5), lo("b" * 300)] + [lo(f"Objective no {i}") for i in range(18)]
    assert len((await update(env, token, course.id, mid, edge)).objectives) == 20


async def test_approval_rules(env):
    _, token = await env.sign_up()
    course = await env.course(token, modules=1)
    mid = course.modules[0].id
    assert await expect(PRECONDITION, approve(env, token, course.id, mid, 1)) == "VERSION_MISMATCH"
    drafted = await update(env, token, course.id, mid, [lo("Define a function"), lo("Call a function")])
    assert (
        await expect(PRECONDITION, approve(env, token, course.id, mid, drafted.version + 1))
        == "VERSION_MISMATCH"
    )
    assert await expect(INVALID, approve(env, token, course.id, mid, 0)) == "REQUIRED"
    approved = await approve(env, token, course.id, mid, drafted.version)
    assert approved.approved and approved.version == drafted.version
    module = await module_of(env, token, course.id, mid)
    assert (module.objectives_version, module.objectives_approved) == (1, True)
    # any edit voids the approval
    edited = await update(env, token, course.id, mid, [lo("Define a function well")], expected_version=1)
    assert (edited.version, edited.approved) == (2, False)
    # nothing to approve
    emptied = await update(env, token, course.id, mid, [], expected_version=2)
    assert emptied.objectives == [] and emptied.version == 3
    assert await expect(PRECONDITION, approve(env, token, course.id, mid, 3)) == "NO_OBJECTIVES"


async def test_material_changes_make_objectives_stale_and_block_publishing(env):
    _, token = await env.sign_up()
    course = await env.course(token, modules=2)
    m0, m1 = (m.id for m in course.modules)
    v0 = await update(env, token, course.id, m0, [lo("Read a CSV file")])
    await approve(env, token, course.id, m0, v0.version)
    # a module without objectives stays not stale (there is nothing to be stale)
    await env.upload(token, course.id, "csv.md", markdown("CSV files"))
    (listed0,) = await listed(env, token, course.id, m0)
    assert (listed0.approved, listed0.stale) == (True, True)
    assert not (await module_of(env, token, course.id, m1)).objectives_stale

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await env.stub.PublishCourse(pb.PublishCourseRequest(course_id=course.id), metadata=auth(token))
    assert err.value.code() == PRECONDITION
    missing = set(from_rpc_error(err.value).metadata["missing"].split(","))
    assert missing == {"OBJECTIVES_STALE", "OBJECTIVES_MISSING", "INDEX_NOT_READY"}
    assert "stale" in err.value.details() and "not indexed yet" in err.value.details()

    # re-approving confirms the objectives against the new materials
    again = await approve(env, token, course.id, m0, v0.version)
    assert (again.approved, again.stale) == (True, False)
    # an edit keeps the stale flag until approval
    await env.upload(token, course.id, "more.md", markdown("More CSV"))
    edited = await update(env, token, course.id, m0, [lo("Read and write CSV files")])
    assert (edited.stale, edited.approved) == (True, False)
    assert (await approve(env, token, course.id, m0, edited.version)).stale is False
    assert (await module_of(env, token, course.id, m0)).objectives_version == 2


async def test_who_may_read_objectives(env, tokens, service_token):
    _, owner = await env.sign_up()
    _, other = await env.sign_up("Other")
    learner = tokens.issue("learner-lo", "learner", 600)[0]
    course = await env.course(owner, modules=3)
    for m in course.modules:
        await update(env, owner, course.id, m.id, [lo(f"Objective of {m.title}")])
    assert await expect(grpc.StatusCode.NOT_FOUND, listed(env, learner, course.id)) == "COURSE_NOT_FOUND"
    assert await expect(grpc.StatusCode.PERMISSION_DENIED, listed(env, other, course.id)) == "NOT_OWNER"
    assert len(await listed(env, service_token, course.id)) == 3
    env.sql("UPDATE courses SET published = true, published_at = now() WHERE id = %s", course.id)
    assert [m.module_id for m in await listed(env, learner, course.id)] == [m.id for m in course.modules]
    env.sql("UPDATE courses SET published = false WHERE id = %s", course.id)
    # pages over modules, in course order
    request = pb.ListLearningObjectivesRequest(course_id=course.id, page_size=2)
    page = await env.stub.ListLearningObjectives(request, metadata=auth(owner))
    assert [m.module_id for m in page.modules] == [m.id for m in course.modules[:2]] and page.next_page_token
    request.page_token = page.next_page_token
    rest = await env.stub.ListLearningObjectives(request, metadata=auth(owner))
    assert [m.module_id for m in rest.modules] == [course.modules[2].id] and not rest.next_page_token
    one = await listed(env, owner, course.id, course.modules[1].id)
    assert [m.module_id for m in one] == [course.modules[1].id]
    assert one[0].objectives[0].text == "Objective of Module 1"
    assert (
        await expect(grpc.StatusCode.NOT_FOUND, listed(env, owner, course.id, "nope")) == "MODULE_NOT_FOUND"
    )


async def test_generation_requests_are_validated(env):
    _, token = await env.sign_up()
    empty = await env.course(token)
    generate = env.stub.GenerateLearningObjectives
    md = auth(token)
    request = pb.GenerateLearningObjectivesRequest(course_id=empty.id)
    assert await expect(PRECONDITION, generate(request, metadata=md)) == "NO_MODULES"
    course = await env.course(token, modules=1)
    request = pb.GenerateLearningObjectivesRequest(course_id=course.id)
    assert await expect(PRECONDITION, generate(request, metadata=md)) == "NO_MATERIALS"
    for bad, code, reason in [
        (pb.GenerateLearningObjectivesRequest(course_id=course.id, count=21), INVALID, "INVALID_COUNT"),
        (pb.GenerateLearningObjectivesRequest(course_id=course.id, count=-1), INVALID, "INVALID_COUNT"),
        (
            pb.GenerateLearningObjectivesRequest(course_id=course.id, module_ids=["nope"]),
            grpc.StatusCode.NOT_FOUND,
            "MODULE_NOT_FOUND",
        ),
    ]:
        assert await expect(code, generate(bad, metadata=md)) == reason
    assert await env.db["jobs"].count_documents({"course_id": course.id}) == 0


async def test_generation_fails_per_module_when_sme_is_down(env):
    _, token = await env.sign_up()
    course = await env.course(token, modules=2)
    await env.upload(token, course.id, "notes.md", markdown("Notes"))
    job = (
        await env.stub.GenerateLearningObjectives(
            pb.GenerateLearningObjectivesRequest(course_id=course.id), metadata=auth(token)
        )
    ).job
    assert (job.kind, job.state, job.items_total) == ("objectives", cpb.JOB_STATE_QUEUED, 2)
    seen = await env.watch(token, job.id)
    final = seen[-1]
    assert final.state == cpb.JOB_STATE_FAILED and final.end_time.seconds > 0
    assert [i.state for i in final.items] == [cpb.JOB_STATE_FAILED] * 2
    assert all("unavailable" in i.message for i in final.items)
    assert final.progress == pytest.approx(1.0) and final.items_done == 2
    got = (await env.stub.GetJob(pb.GetJobRequest(job_id=job.id), metadata=auth(token))).job
    assert got.state == cpb.JOB_STATE_FAILED
    for m in course.modules:  # nothing was stored
        assert (await module_of(env, token, course.id, m.id)).objectives_version == 0


async def test_a_job_left_running_by_a_dead_process_is_failed_on_startup(
    postgres, mongo, common_settings, tmp_path
):
    async with databases(postgres, mongo) as (pg_url, mongo_url):
        async with instructor_env(pg_url, mongo_url, tmp_path, common_settings) as first:
            _, token = await first.sign_up()
            course = await first.course(token, modules=1)
            old = datetime.now(UTC) - timedelta(minutes=5)
            item = {
                "id": course.modules[0].id,
                "name": "Module 0",
                "state": "RUNNING",
                "message": "",
                "chunk_count": 0,
            }
            for job_id, heartbeat in [("crashed", old), ("alive", datetime.now(UTC) + timedelta(minutes=5))]:
                await first.db["jobs"].insert_one(
                    {
                        "_id": job_id,
                        "kind": "objectives",
                        "course_id": course.id,
                        "state": "RUNNING",
                        "progress": 0.0,
                        "message": "generating",
                        "items": [item],
                        "created_at": old,
                        "updated_at": old,
                        "ended_at": None,
                        "heartbeat_at": heartbeat,
                    }
                )
        async with instructor_env(pg_url, mongo_url, tmp_path, common_settings) as second:
            crashed = await second.db["jobs"].find_one({"_id": "crashed"})  # read directly: no lazy check
            assert crashed["state"] == "FAILED"
            assert crashed["message"] == "interrupted by a restart; run it again"
            assert crashed["items"][0]["state"] == "FAILED" and crashed["ended_at"] is not None
            assert (await second.db["jobs"].find_one({"_id": "alive"}))["state"] == "RUNNING"
            job = (await second.stub.GetJob(pb.GetJobRequest(job_id="crashed"), metadata=auth(token))).job
            assert job.state == cpb.JOB_STATE_FAILED and "restart" in job.message


# With sme_svc running --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def mesh(postgres, mongo, common_settings, tmp_path_factory):
    if not sme_available():
        pytest.skip("sme_svc is not there yet")
    instructor_port = free_port()
    async with (
        databases(postgres, mongo) as (pg_url, mongo_url),
        sme_env(
            mongo_url.rsplit("/", 1)[0] + "/sme_" + mongo_url.rsplit("/", 1)[1],
            instructor_port,
            tmp_path_factory.mktemp("index"),
            common_settings,
        ) as sme,
        instructor_env(
            pg_url,
            mongo_url,
            tmp_path_factory.mktemp("blobs"),
            common_settings,
            port=instructor_port,
            sme_target=f"127.0.0.1:{sme.port}",
        ) as e,
    ):
        yield e


@pytest.mark.skipif(not sme_available(), reason="sme_svc is not there yet")
async def test_generate_approve_and_publish(mesh, tokens):
    env = mesh
    _, token = await env.sign_up()
    course = await env.course(token, "Python", modules=0)
    for title, description in [
        ("Loops", "for and while loops, iteration over lists"),
        ("Functions", "defining functions, parameters and return values"),
    ]:
        await env.stub.CreateModule(
            pb.CreateModuleRequest(course_id=course.id, title=title, description=description),
            metadata=auth(token),
        )
    await env.upload(token, course.id, "loops.md", markdown("Loops", 8))
    await env.upload(token, course.id, "functions.md", markdown("Functions", 8))
    status = await env.wait_indexed(token, course.id)
    assert status.state == pb.INDEX_STATE_READY

    job = (
        await env.stub.GenerateLearningObjectives(
            pb.GenerateLearningObjectivesRequest(course_id=course.id, count=3), metadata=auth(token)
        )
    ).job
    again = env.stub.GenerateLearningObjectives(
        pb.GenerateLearningObjectivesRequest(course_id=course.id), metadata=auth(token)
    )
    assert await expect(PRECONDITION, again) == "JOB_ALREADY_RUNNING"
    seen = await env.watch(token, job.id)
    assert seen[-1].state == cpb.JOB_STATE_SUCCEEDED, seen[-1]
    assert [round(j.progress, 2) for j in seen] == sorted(round(j.progress, 2) for j in seen)
    modules = await listed(env, token, course.id)
    for m in modules:
        assert (m.version, m.approved, m.stale) == (1, False, False)
        assert 1 <= len(m.objectives) <= 3
        assert all(5 <= len(o.text) <= 300 for o in m.objectives)
        assert any(o.citations for o in m.objectives)
    texts = [o.text for m in modules for o in m.objectives]
    assert len(texts) == len(set(texts))  # the second module avoided the first one's objectives

    publish = env.stub.PublishCourse(pb.PublishCourseRequest(course_id=course.id), metadata=auth(token))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await publish
    assert from_rpc_error(err.value).metadata["missing"] == "OBJECTIVES_NOT_APPROVED"
    for m in modules:
        await approve(env, token, course.id, m.module_id, m.version)
    published = (
        await env.stub.PublishCourse(pb.PublishCourseRequest(course_id=course.id), metadata=auth(token))
    ).course
    assert published.published
    catalog = await env.stub.ListPublishedCourses(pb.ListPublishedCoursesRequest())
    assert course.id in {c.id for c in catalog.courses}
    learner = tokens.issue("learner-pub", "learner", 600)[0]
    assert len(await listed(env, learner, course.id)) == 2

    # regenerating one module makes a new, unapproved version (publishing again would need approval)
    job = (
        await env.stub.GenerateLearningObjectives(
            pb.GenerateLearningObjectivesRequest(
                course_id=course.id, module_ids=[modules[0].module_id], count=2
            ),
            metadata=auth(token),
        )
    ).job
    assert (await env.watch(token, job.id))[-1].state == cpb.JOB_STATE_SUCCEEDED
    (regenerated,) = await listed(env, token, course.id, modules[0].module_id)
    assert (regenerated.version, regenerated.approved) == (2, False)


# One active job per course -----------------------------------------------------------------------------


class HeldGenerator(spb_grpc.SmeServiceServicer):
    """A stand-in sme_svc whose objective generation waits until released, so a job stays RUNNING for as long
    as a test needs. It refuses ingestion (uploaded files end FAILED) with a code that does not count against
    the circuit breaker, which would otherwise open and fail the generation calls fast."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def IngestDocuments(self, request, context):
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "not indexing in this test")

    async def GenerateLearningObjectives(self, request, context):
        await self.release.wait()
        return spb.GenerateLearningObjectivesResponse()  # nothing generated: the job ends FAILED


@asynccontextmanager
async def held_sme() -> AsyncIterator[tuple[HeldGenerator, int]]:
    servicer = HeldGenerator()
    server = grpc.aio.server()
    spb_grpc.add_SmeServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield servicer, port
    finally:
        servicer.release.set()
        await server.stop(0)


ROUNDS = 5


async def generate_job(env, token, course_id) -> cpb.Job:
    request = pb.GenerateLearningObjectivesRequest(course_id=course_id)
    return (await env.stub.GenerateLearningObjectives(request, metadata=auth(token))).job


async def one_job_from_concurrent_requests(env, caller: Principal, course_id: str) -> str:
    """Fire 8 generations at once; exactly one starts, the others are refused naming it. Returns its id."""
    # straight to the use case: gRPC's request handling would space the calls out and hide the race
    outcomes = await asyncio.gather(
        *(env.app.objectives.generate(caller, course_id, [], 0) for _ in range(8)), return_exceptions=True
    )
    started = [o for o in outcomes if isinstance(o, Job)]
    assert len(started) == 1, outcomes
    winner = started[0].id
    refused = [(e.reason, e.metadata.get("job_id")) for e in outcomes if isinstance(e, FailedPrecondition)]
    assert refused == [("JOB_ALREADY_RUNNING", winner)] * 7, outcomes
    assert await env.db["jobs"].count_documents({"course_id": course_id, "kind": "objectives"}) == 1
    return winner


async def test_concurrent_generation_requests_start_exactly_one_job(
    postgres, mongo, common_settings, tmp_path
):
    async with (
        held_sme() as (sme, sme_port),
        databases(postgres, mongo) as (pg_url, mongo_url),
        # no heartbeat during the test: the stale takeover below must not race a beat of the held job
        instructor_env(
            pg_url,
            mongo_url,
            tmp_path,
            common_settings,
            sme_target=f"127.0.0.1:{sme_port}",
            job_heartbeat_s=3600,
        ) as env,
    ):
        instructor, token = await env.sign_up()
        caller = Principal(instructor.id, "instructor")
        for _ in range(ROUNDS):  # a fresh course each round: every round is another chance for the race
            course = await env.course(token, modules=1)
            await env.upload(token, course.id, "notes.md", markdown("Notes"))
            winner = await one_job_from_concurrent_requests(env, caller, course.id)

        # a job whose runner stopped beating is taken over, and the new one blocks in turn
        dead = datetime.now(UTC) - timedelta(minutes=5)
        await env.db["jobs"].update_one({"_id": winner}, {"$set": {"heartbeat_at": dead}})
        successor = (await generate_job(env, token, course.id)).id
        taken_over = await env.db["jobs"].find_one({"_id": winner})
        assert (taken_over["state"], taken_over["message"]) == (
            "FAILED",
            "interrupted by a restart; run it again",
        )
        again = env.stub.GenerateLearningObjectives(
            pb.GenerateLearningObjectivesRequest(course_id=course.id), metadata=auth(token)
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await again
        refusal = from_rpc_error(err.value)
        assert (refusal.reason, refusal.metadata["job_id"]) == ("JOB_ALREADY_RUNNING", successor)

        # a finished job does not block the next one
        sme.release.set()
        assert (await env.watch(token, successor))[-1].state == cpb.JOB_STATE_FAILED
        assert (await generate_job(env, token, course.id)).id not in (winner, successor)
