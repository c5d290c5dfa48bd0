"""instructor_svc core over real gRPC, PostgreSQL and MongoDB: accounts, courses, modules, catalog, publishing.

One server per module (its own databases); every test signs up its own instructors, so tests stay independent.
sme_svc is down here (nothing listens on its port): what needs it lives in the files/objectives tests.
"""

from __future__ import annotations

import uuid

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from lmw.instructor.v1 import instructor_service_pb2 as pb
from tests.integration.test_instructor_support import (
    PASSWORD,
    auth,
    databases,
    expect,
    instructor_env,
)

INVALID, NOT_FOUND, DENIED = (
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
)


@pytest.fixture(scope="module")
async def env(postgres, mongo, common_settings, tmp_path_factory):
    async with (
        databases(postgres, mongo) as (pg_url, mongo_url),
        instructor_env(pg_url, mongo_url, tmp_path_factory.mktemp("blobs"), common_settings) as e,
    ):
        yield e


async def test_sign_up_log_in_me(env):
    stub = env.stub
    email = f"Grace{uuid.uuid4().hex[:6]}@Example.ORG"
    created = await stub.SignUp(pb.SignUpRequest(email=email, password=PASSWORD, display_name="Grace"))
    assert created.instructor.email == email.lower()
    assert created.access_token.role == 2  # ROLE_INSTRUCTOR
    logged = await stub.LogIn(pb.LogInRequest(email=email.upper(), password=PASSWORD))
    me = await stub.GetMe(pb.GetMeRequest(), metadata=auth(logged.access_token.token))
    assert me.instructor.id == created.instructor.id
    again = pb.SignUpRequest(email=email.upper(), password=PASSWORD, display_name="G")
    await expect(grpc.StatusCode.ALREADY_EXISTS, stub.SignUp(again))
    for bad_email, password in [(email, "Wrong-pass-99"), ("nobody@example.org", PASSWORD)]:
        reason = await expect(
            grpc.StatusCode.UNAUTHENTICATED, stub.LogIn(pb.LogInRequest(email=bad_email, password=password))
        )
        assert reason == "BAD_CREDENTIALS"
    for request, reason in [
        (pb.SignUpRequest(email="nope", password=PASSWORD, display_name="X"), "INVALID_EMAIL"),
        (pb.SignUpRequest(email="x@example.org", password="short", display_name="X"), "WEAK_PASSWORD"),
        (pb.SignUpRequest(email="x@example.org", password=PASSWORD, display_name="x" * 121), "TOO_LONG"),
    ]:
        assert await expect(INVALID, stub.SignUp(request)) == reason


async def test_course_crud_with_field_mask(env):
    _, token = await env.sign_up()
    stub, md = env.stub, auth(token)
    created = (
        await stub.CreateCourse(
            pb.CreateCourseRequest(title=" Algebra ", description="Equations"), metadata=md
        )
    ).course
    assert (created.title, created.description, created.published) == ("Algebra", "Equations", False)
    assert created.materials_version == 0 and created.create_time.seconds > 0

    masked = pb.UpdateCourseRequest(
        course_id=created.id, title="Algebra I", description="", update_mask=FieldMask(paths=["title"])
    )
    course = (await stub.UpdateCourse(masked, metadata=md)).course
    assert (course.title, course.description) == ("Algebra I", "Equations")  # description untouched
    cleared = pb.UpdateCourseRequest(course_id=created.id, update_mask=FieldMask(paths=["description"]))
    course = (await stub.UpdateCourse(cleared, metadata=md)).course
    assert (course.title, course.description) == ("Algebra I", "")
    unmasked = pb.UpdateCourseRequest(course_id=created.id, description="Linear equations")
    course = (await stub.UpdateCourse(unmasked, metadata=md)).course
    assert (course.title, course.description) == ("Algebra I", "Linear equations")
    assert course.update_time.ToNanoseconds() >= created.update_time.ToNanoseconds()

    bad_mask = pb.UpdateCourseRequest(
        course_id=created.id, title="X", update_mask=FieldMask(paths=["published"])
    )
    assert await expect(INVALID, stub.UpdateCourse(bad_mask, metadata=md)) == "INVALID_UPDATE_MASK"
    nothing = pb.UpdateCourseRequest(course_id=created.id)
    assert await expect(INVALID, stub.UpdateCourse(nothing, metadata=md)) == "NOTHING_TO_UPDATE"

    await stub.DeleteCourse(pb.DeleteCourseRequest(course_id=created.id), metadata=md)
    get = stub.GetCourse(pb.GetCourseRequest(course_id=created.id), metadata=md)
    assert await expect(NOT_FOUND, get) == "COURSE_NOT_FOUND"
    again = stub.DeleteCourse(pb.DeleteCourseRequest(course_id=created.id), metadata=md)
    assert await expect(NOT_FOUND, again) == "COURSE_NOT_FOUND"


async def test_bad_input_is_rejected_and_writes_nothing(env):
    _, token = await env.sign_up()
    stub, md = env.stub, auth(token)
    course = await env.course(token, modules=1)
    module = course.modules[0]
    cases = [
        (stub.CreateCourse, pb.CreateCourseRequest(title="x" * 201), "TOO_LONG"),
        (stub.CreateCourse, pb.CreateCourseRequest(title="ok", description="y" * 5001), "TOO_LONG"),
        (stub.CreateCourse, pb.CreateCourseRequest(title="   "), "REQUIRED"),
        (stub.CreateCourse, pb.CreateCourseRequest(title="bad\x07title"), "INVALID_CHARACTERS"),
        (stub.UpdateCourse, pb.UpdateCourseRequest(course_id=course.id, title="x" * 201), "TOO_LONG"),
        (stub.CreateModule, pb.CreateModuleRequest(course_id=course.id, title="x" * 201), "TOO_LONG"),
        (
            stub.CreateModule,
            pb.CreateModuleRequest(course_id=course.id, title="M", pass_mark=1.5),
            "INVALID_PASS_MARK",
        ),
        (
            stub.CreateModule,
            pb.CreateModuleRequest(course_id=course.id, title="M", pass_mark=-0.1),
            "INVALID_PASS_MARK",
        ),
        (
            stub.UpdateModule,
            pb.UpdateModuleRequest(course_id=course.id, module_id=module.id, description="d" * 5001),
            "TOO_LONG",
        ),
        (stub.GetCourse, pb.GetCourseRequest(course_id="../etc"), "INVALID_ID"),
        (stub.GetCourse, pb.GetCourseRequest(course_id="c" * 65), "INVALID_ID"),
        (stub.ListMyCourses, pb.ListMyCoursesRequest(page_size=-1), "INVALID_PAGE_SIZE"),
        (stub.ListMyCourses, pb.ListMyCoursesRequest(page_token="%%%"), "INVALID_PAGE_TOKEN"),
        (
            stub.ReorderModules,
            pb.ReorderModulesRequest(course_id=course.id, module_ids=[module.id] * 101),
            "TOO_MANY",
        ),
    ]
    for rpc, request, reason in cases:
        assert await expect(INVALID, rpc(request, metadata=md)) == reason, request
    unknown = [
        (stub.GetCourse, pb.GetCourseRequest(course_id="nope"), "COURSE_NOT_FOUND"),
        (stub.CreateModule, pb.CreateModuleRequest(course_id="nope", title="M"), "COURSE_NOT_FOUND"),
        (
            stub.UpdateModule,
            pb.UpdateModuleRequest(course_id=course.id, module_id="nope", title="T"),
            "MODULE_NOT_FOUND",
        ),
        (
            stub.DeleteModule,
            pb.DeleteModuleRequest(course_id=course.id, module_id="nope"),
            "MODULE_NOT_FOUND",
        ),
    ]
    for rpc, request, reason in unknown:
        assert await expect(NOT_FOUND, rpc(request, metadata=md)) == reason, request
    mine = await stub.ListMyCourses(pb.ListMyCoursesRequest(), metadata=md)
    assert [c.id for c in mine.courses] == [course.id]  # nothing else was created
    after = (await stub.GetCourse(pb.GetCourseRequest(course_id=course.id), metadata=md)).course
    assert after == course  # and nothing changed


async def test_modules_keep_stable_ids_and_dense_positions(env):
    _, token = await env.sign_up()
    stub, md = env.stub, auth(token)
    course = await env.course(token, modules=3)
    first, second, third = course.modules
    assert [m.position for m in course.modules] == [0, 1, 2]
    assert all(m.pass_mark == pytest.approx(0.6) for m in course.modules)

    await stub.DeleteModule(pb.DeleteModuleRequest(course_id=course.id, module_id=second.id), metadata=md)
    fourth = (
        await stub.CreateModule(
            pb.CreateModuleRequest(course_id=course.id, title="Late", pass_mark=0.8), metadata=md
        )
    ).module
    assert fourth.id not in {first.id, second.id, third.id}
    assert (fourth.position, fourth.pass_mark) == (2, pytest.approx(0.8))
    course = (await stub.GetCourse(pb.GetCourseRequest(course_id=course.id), metadata=md)).course
    assert [(m.id, m.position) for m in course.modules] == [(first.id, 0), (third.id, 1), (fourth.id, 2)]

    order = [fourth.id, first.id, third.id]
    course = (
        await stub.ReorderModules(
            pb.ReorderModulesRequest(course_id=course.id, module_ids=order), metadata=md
        )
    ).course
    assert [m.id for m in course.modules] == order
    assert [m.position for m in course.modules] == [0, 1, 2]
    for ids, code, reason in [
        ([fourth.id, first.id], INVALID, "MODULE_SET_MISMATCH"),  # one missing
        ([fourth.id, first.id, first.id], INVALID, "MODULE_SET_MISMATCH"),  # twice
        ([fourth.id, first.id, second.id], NOT_FOUND, "MODULE_NOT_FOUND"),  # deleted one
    ]:
        request = pb.ReorderModulesRequest(course_id=course.id, module_ids=ids)
        assert await expect(code, stub.ReorderModules(request, metadata=md)) == reason
    unchanged = (await stub.GetCourse(pb.GetCourseRequest(course_id=course.id), metadata=md)).course
    assert [m.id for m in unchanged.modules] == order

    masked = pb.UpdateModuleRequest(
        course_id=course.id,
        module_id=first.id,
        title="",
        pass_mark=0.75,
        update_mask=FieldMask(paths=["pass_mark"]),
    )
    module = (await stub.UpdateModule(masked, metadata=md)).module
    assert (module.title, module.pass_mark, module.position) == (first.title, pytest.approx(0.75), 1)
    renamed = pb.UpdateModuleRequest(course_id=course.id, module_id=first.id, title="Renamed")
    module = (await stub.UpdateModule(renamed, metadata=md)).module
    assert (module.title, module.pass_mark) == ("Renamed", pytest.approx(0.75))
    # a module id of another course is unknown in this one
    other = await env.course(token, modules=1)
    moved = pb.DeleteModuleRequest(course_id=course.id, module_id=other.modules[0].id)
    assert await expect(NOT_FOUND, stub.DeleteModule(moved, metadata=md)) == "MODULE_NOT_FOUND"


async def test_ownership_and_visibility(env, service_token, tokens):
    _, owner = await env.sign_up()
    _, other = await env.sign_up("Other")
    learner = tokens.issue("learner-1", "learner", 600)[0]
    stub = env.stub
    course = await env.course(owner, modules=1)
    get = pb.GetCourseRequest(course_id=course.id)
    assert (await stub.GetCourse(get, metadata=auth(service_token))).course.id == course.id
    assert await expect(DENIED, stub.GetCourse(get, metadata=auth(other))) == "NOT_OWNER"
    assert await expect(NOT_FOUND, stub.GetCourse(get, metadata=auth(learner))) == "COURSE_NOT_FOUND"
    await expect(grpc.StatusCode.UNAUTHENTICATED, stub.GetCourse(get))
    missing = pb.GetCourseRequest(course_id=uuid.uuid4().hex)
    assert await expect(NOT_FOUND, stub.GetCourse(missing, metadata=auth(other))) == "COURSE_NOT_FOUND"
    for rpc, request in [
        (stub.UpdateCourse, pb.UpdateCourseRequest(course_id=course.id, title="Mine now")),
        (stub.DeleteCourse, pb.DeleteCourseRequest(course_id=course.id)),
        (stub.CreateModule, pb.CreateModuleRequest(course_id=course.id, title="Intruder")),
        (stub.DeleteModule, pb.DeleteModuleRequest(course_id=course.id, module_id=course.modules[0].id)),
        (stub.PublishCourse, pb.PublishCourseRequest(course_id=course.id)),
    ]:
        assert await expect(DENIED, rpc(request, metadata=auth(other))) == "NOT_OWNER"
    mine = await stub.ListMyCourses(pb.ListMyCoursesRequest(), metadata=auth(other))
    assert list(mine.courses) == []

    env.sql("UPDATE courses SET published = true, published_at = now() WHERE id = %s", course.id)
    assert (await stub.GetCourse(get, metadata=auth(learner))).course.published
    env.sql("UPDATE courses SET published = false WHERE id = %s", course.id)
    after = (await stub.GetCourse(get, metadata=auth(owner))).course
    assert after.title == course.title and len(after.modules) == 1


async def test_my_courses_pagination(env):
    _, token = await env.sign_up()
    md = auth(token)
    created = [
        (await env.stub.CreateCourse(pb.CreateCourseRequest(title=f"Course {i}"), metadata=md)).course.id
        for i in range(5)
    ]
    seen, page_token, pages = [], "", 0
    while True:
        page = await env.stub.ListMyCourses(
            pb.ListMyCoursesRequest(page_size=2, page_token=page_token), metadata=md
        )
        assert len(page.courses) <= 2
        seen += [c.id for c in page.courses]
        pages += 1
        page_token = page.next_page_token
        if not page_token:
            break
    assert pages == 3
    assert seen == list(reversed(created))  # newest first, each exactly once


async def test_catalog_is_anonymous_and_lists_published_only(env):
    _, token = await env.sign_up()
    draft = await env.course(token, "Draft")
    published = [await env.course(token, f"Public {i}", modules=1) for i in range(3)]
    for course in published:
        env.sql("UPDATE courses SET published = true, published_at = now() WHERE id = %s", course.id)
    ids, page_token = [], ""
    while True:
        page = await env.stub.ListPublishedCourses(
            pb.ListPublishedCoursesRequest(page_size=2, page_token=page_token)
        )
        ids += [c.id for c in page.courses]
        assert all(c.published for c in page.courses)
        page_token = page.next_page_token
        if not page_token:
            break
    assert set(c.id for c in published) <= set(ids)
    assert draft.id not in ids
    assert len(ids) == len(set(ids))
    listed = {
        c.id: c for c in (await env.stub.ListPublishedCourses(pb.ListPublishedCoursesRequest())).courses
    }
    assert len(listed[published[0].id].modules) == 1  # modules come with the catalog


async def test_publish_preconditions_and_unpublish(env):
    _, token = await env.sign_up()
    stub, md = env.stub, auth(token)
    empty = await env.course(token)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.PublishCourse(pb.PublishCourseRequest(course_id=empty.id), metadata=md)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "no modules" in err.value.details() and "no course materials" in err.value.details()
    from lmw_common.errors import from_rpc_error

    info = from_rpc_error(err.value)
    assert info.reason == "PUBLISH_PRECONDITIONS_NOT_MET"
    assert set(info.metadata["missing"].split(",")) == {"NO_MODULES", "NO_MATERIALS"}

    course = await env.course(token, modules=2)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.PublishCourse(pb.PublishCourseRequest(course_id=course.id), metadata=md)
    assert "Module 0" in err.value.details() and "Module 1" in err.value.details()
    assert "OBJECTIVES_MISSING" in from_rpc_error(err.value).metadata["missing"]
    assert not (await stub.GetCourse(pb.GetCourseRequest(course_id=course.id), metadata=md)).course.published

    # a published course (set up directly: publishing for real needs sme_svc, see the objectives tests)
    env.sql("UPDATE courses SET published = true, published_at = now() WHERE id = %s", course.id)
    delete = stub.DeleteCourse(pb.DeleteCourseRequest(course_id=course.id), metadata=md)
    assert await expect(grpc.StatusCode.FAILED_PRECONDITION, delete) == "COURSE_PUBLISHED"
    unpublished = (
        await stub.UnpublishCourse(pb.UnpublishCourseRequest(course_id=course.id), metadata=md)
    ).course
    assert not unpublished.published
    await stub.DeleteCourse(pb.DeleteCourseRequest(course_id=course.id), metadata=md)
