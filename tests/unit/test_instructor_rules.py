"""instructor_svc's rules over in-memory fakes: editing courses and modules, publishing, approving objectives,
and what an uploaded file must be."""

from __future__ import annotations

import asyncio

import pytest

from instructor_svc.domain import MAX_MODULES, FileState, Objective
from lmw_common.auth import Principal
from lmw_common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unavailable,
)
from lmw_common.jobs import JobState
from tests.fakes.instructor import MAX_UPLOAD_BYTES, Instructor, chunks

IAN = Principal("ian", "instructor")
EVE = Principal("eve", "instructor")
NOTES = b"# Loops\n\nA loop repeats a block of statements while a condition holds.\n"


async def course_with_modules(i: Instructor, count: int = 2):
    course = await i.course_cases.create(IAN, "Programming", "From zero.")
    for k in range(1, count + 1):
        await i.course_cases.create_module(IAN, course.id, f"Module {k}", "", 0)
    return await i.courses.get_course(course.id)


async def ready_to_publish(i: Instructor):
    """A course whose every module has approved objectives and whose one file is indexed."""
    course = await course_with_modules(i)
    upload = await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES))
    i.sme.finish(upload.job.id)
    await i.file_cases.reconcile(course.id)
    for module in course.modules:
        drafted = await i.objective_cases.update(
            IAN, course.id, module.id, [Objective("", "Explain loops")], 0
        )
        await i.objective_cases.approve(IAN, course.id, module.id, drafted.version)
    return course


# courses and modules


async def test_only_an_instructor_creates_courses_and_only_their_owner_changes_one():
    i = Instructor()
    with pytest.raises(PermissionDenied) as refused:
        await i.course_cases.create(Principal("ada", "learner"), "Mine", "")
    assert refused.value.reason == "ROLE_NOT_ALLOWED"
    course = await i.course_cases.create(IAN, "Mine", "")
    with pytest.raises(PermissionDenied) as refused:
        await i.course_cases.update(EVE, course.id, "Theirs", "", ["title"])
    assert refused.value.reason == "NOT_OWNER"
    with pytest.raises(NotFound):
        await i.course_cases.update(IAN, "nope", "Title", "", ["title"])


async def test_an_update_changes_what_its_mask_names_or_without_one_what_it_was_given():
    i = Instructor()
    course = await i.course_cases.create(IAN, "Title", "Description")
    cleared = await i.course_cases.update(IAN, course.id, "", "", ["description"])
    assert (cleared.title, cleared.description) == ("Title", "")
    renamed = await i.course_cases.update(IAN, course.id, "New title", "", [])
    assert (renamed.title, renamed.description) == ("New title", "")
    for mask, reason in ((["owner"], "INVALID_UPDATE_MASK"), ([], "NOTHING_TO_UPDATE")):
        with pytest.raises(InvalidArgument) as refused:
            await i.course_cases.update(IAN, course.id, "", "", mask)
        assert refused.value.reason == reason


async def test_a_modules_pass_mark_is_the_default_until_set_and_must_be_a_share():
    i = Instructor()
    course = await course_with_modules(i, 1)
    module = course.modules[0]
    assert module.pass_mark == 0.6
    assert (await i.course_cases.update_module(IAN, course.id, module.id, "", "", 0.8, [])).pass_mark == 0.8
    for mark in (1.5, -0.1, float("nan")):
        with pytest.raises(InvalidArgument) as refused:
            await i.course_cases.update_module(IAN, course.id, module.id, "", "", mark, ["pass_mark"])
        assert refused.value.reason == "INVALID_PASS_MARK"


async def test_modules_are_reordered_only_by_naming_each_exactly_once():
    i = Instructor()
    course = await course_with_modules(i, 3)
    a, b, c = (m.id for m in course.modules)
    reordered = await i.course_cases.reorder_modules(IAN, course.id, [c, a, b])
    assert [(m.id, m.position) for m in reordered.modules] == [(c, 0), (a, 1), (b, 2)]
    with pytest.raises(InvalidArgument) as refused:
        await i.course_cases.reorder_modules(IAN, course.id, [a, b])
    assert refused.value.reason == "MODULE_SET_MISMATCH"
    with pytest.raises(NotFound) as refused:
        await i.course_cases.reorder_modules(IAN, course.id, [a, b, "elsewhere"])
    assert refused.value.reason == "MODULE_NOT_FOUND"


async def test_deleting_a_module_renumbers_the_others():
    i = Instructor()
    course = await course_with_modules(i, 3)
    await i.course_cases.delete_module(IAN, course.id, course.modules[0].id)
    left = (await i.courses.get_course(course.id)).modules
    assert [(m.id, m.position) for m in left] == [(course.modules[1].id, 0), (course.modules[2].id, 1)]
    with pytest.raises(NotFound):
        await i.course_cases.delete_module(IAN, course.id, course.modules[0].id)


async def test_a_course_holds_a_bounded_number_of_modules():
    i = Instructor()
    course = await course_with_modules(i, MAX_MODULES)
    with pytest.raises(ResourceExhausted) as refused:
        await i.course_cases.create_module(IAN, course.id, "One too many", "", 0)
    assert refused.value.reason == "TOO_MANY_MODULES"


# publishing


async def test_publishing_names_every_unmet_precondition():
    i = Instructor()
    course = await course_with_modules(i)
    await i.objective_cases.update(IAN, course.id, course.modules[1].id, [Objective("", "Explain loops")], 0)
    with pytest.raises(FailedPrecondition) as refused:
        await i.course_cases.publish(IAN, course.id)
    assert refused.value.reason == "PUBLISH_PRECONDITIONS_NOT_MET"
    assert refused.value.metadata["missing"] == "NO_MATERIALS,OBJECTIVES_MISSING,OBJECTIVES_NOT_APPROVED"

    empty = await i.course_cases.create(IAN, "Empty", "")
    with pytest.raises(FailedPrecondition) as refused:
        await i.course_cases.publish(IAN, empty.id)
    assert refused.value.metadata["missing"] == "NO_MATERIALS,NO_MODULES"


async def test_a_course_publishes_once_its_objectives_are_approved_and_its_files_indexed():
    i = Instructor()
    course = await ready_to_publish(i)
    assert (await i.course_cases.publish(IAN, course.id)).published
    with pytest.raises(FailedPrecondition) as refused:
        await i.course_cases.delete(IAN, course.id)
    assert refused.value.reason == "COURSE_PUBLISHED"


async def test_new_materials_make_approved_objectives_stale_and_block_publishing():
    i = Instructor()
    course = await ready_to_publish(i)
    upload = await i.file_cases.upload(IAN, course.id, "more.md", 0, chunks(NOTES + b"More.\n"))
    with pytest.raises(FailedPrecondition) as refused:
        await i.course_cases.publish(IAN, course.id)
    assert refused.value.metadata["missing"] == "INDEX_NOT_READY,OBJECTIVES_STALE"
    i.sme.finish(upload.job.id)
    for module in course.modules:
        current = (await i.objective_cases.list(IAN, course.id, module.id, 0, ""))[0][0]
        await i.objective_cases.approve(IAN, course.id, module.id, current.version)
    assert (await i.course_cases.publish(IAN, course.id)).published


# objectives


async def test_objectives_are_approved_only_at_their_current_version():
    i = Instructor()
    course = await course_with_modules(i, 1)
    module = course.modules[0]
    with pytest.raises(FailedPrecondition) as refused:
        await i.objective_cases.approve(IAN, course.id, module.id, 1)  # nothing drafted yet: version 0
    assert refused.value.reason == "VERSION_MISMATCH"
    drafted = await i.objective_cases.update(IAN, course.id, module.id, [Objective("", "Explain loops")], 0)
    with pytest.raises(FailedPrecondition) as refused:
        await i.objective_cases.approve(IAN, course.id, module.id, drafted.version + 1)
    assert refused.value.reason == "VERSION_MISMATCH" and refused.value.metadata == {"current_version": "1"}
    approved = await i.objective_cases.approve(IAN, course.id, module.id, drafted.version)
    assert approved.approved and not approved.stale


async def test_an_empty_list_cannot_be_approved():
    i = Instructor()
    course = await course_with_modules(i, 1)
    module = course.modules[0]
    emptied = await i.objective_cases.update(IAN, course.id, module.id, [], 0)
    with pytest.raises(FailedPrecondition) as refused:
        await i.objective_cases.approve(IAN, course.id, module.id, emptied.version)
    assert refused.value.reason == "NO_OBJECTIVES"


async def test_an_edit_voids_the_approval_keeps_citations_and_checks_the_version_it_was_made_from():
    i = Instructor()
    course = await course_with_modules(i, 1)
    module = course.modules[0]
    first = await i.objective_cases.update(IAN, course.id, module.id, [Objective("", "Explain loops")], 0)
    await i.objective_cases.approve(IAN, course.id, module.id, first.version)
    kept = first.objectives[0]
    edited = await i.objective_cases.update(
        IAN,
        course.id,
        module.id,
        [Objective(kept.id, "Explain for loops"), Objective("", "Trace a loop")],
        first.version,
    )
    assert not edited.approved and edited.version == first.version + 1
    assert [o.text for o in edited.objectives] == ["Explain for loops", "Trace a loop"]
    assert edited.objectives[0].id == kept.id
    with pytest.raises(FailedPrecondition) as refused:
        await i.objective_cases.update(IAN, course.id, module.id, [], first.version)
    assert refused.value.reason == "VERSION_MISMATCH"
    with pytest.raises(NotFound) as refused:
        await i.objective_cases.update(IAN, course.id, module.id, [Objective("elsewhere", "Explain it")], 0)
    assert refused.value.reason == "OBJECTIVE_NOT_FOUND"


@pytest.mark.parametrize(
    ("objectives", "reason"),
    [
        ([Objective("", "Hi")], "TOO_SHORT"),
        ([Objective("", "x" * 301)], "TOO_LONG"),
        ([Objective("o1", "Explain a"), Objective("o1", "Explain b")], "DUPLICATE_OBJECTIVE_ID"),
        ([Objective("", f"Explain idea {k}") for k in range(21)], "TOO_MANY"),
    ],
)
async def test_objectives_that_break_the_rules_are_refused_before_anything_changes(objectives, reason):
    i = Instructor()
    course = await course_with_modules(i, 1)
    with pytest.raises(InvalidArgument) as refused:
        await i.objective_cases.update(IAN, course.id, course.modules[0].id, objectives, 0)
    assert (
        refused.value.reason == reason
        and (await i.courses.get_course(course.id)).modules[0].objectives_version == 0
    )


async def test_objectives_are_drafted_from_materials_one_job_per_course_at_a_time():
    i = Instructor()
    course = await course_with_modules(i)
    with pytest.raises(FailedPrecondition) as refused:
        await i.objective_cases.generate(IAN, course.id, [], 0)
    assert refused.value.reason == "NO_MATERIALS"
    await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES))
    with pytest.raises(InvalidArgument) as refused:
        await i.objective_cases.generate(IAN, course.id, [], 21)
    assert refused.value.reason == "INVALID_COUNT"

    job = await i.objective_cases.generate(IAN, course.id, [], 0)
    with pytest.raises(FailedPrecondition) as refused:
        await i.objective_cases.generate(IAN, course.id, [], 0)
    assert refused.value.reason == "JOB_ALREADY_RUNNING" and refused.value.metadata == {"job_id": job.id}
    while not (await i.job_cases.get(IAN, job.id)).state.terminal:
        await asyncio.sleep(0)
    done = await i.job_cases.get(IAN, job.id)
    assert done.state is JobState.SUCCEEDED and done.progress == 1.0
    drafted = (await i.objective_cases.list(IAN, course.id, "", 0, ""))[0]
    assert all(len(m.objectives) == 2 and not m.approved for m in drafted)  # default count: 2


# files


async def test_an_upload_is_named_safely_recorded_and_sent_to_indexing():
    i = Instructor()
    course = await course_with_modules(i, 1)
    result = await i.file_cases.upload(
        IAN, course.id, "../../etc/notes.md", len(NOTES), chunks(NOTES[:10], NOTES[10:])
    )
    assert result.file.name == "notes.md" and result.file.media_type == "text/markdown"
    assert result.file.size_bytes == len(NOTES) and not result.duplicate and result.job is not None
    assert (await i.courses.get_course(course.id)).materials_version == 1
    assert i.blobs.blobs[(course.id, result.file.id)] == NOTES and i.blobs.staged == 0


async def test_the_same_content_twice_is_one_file():
    i = Instructor()
    course = await course_with_modules(i, 1)
    first = await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES))
    again = await i.file_cases.upload(IAN, course.id, "copy.md", 0, chunks(NOTES))
    assert again.duplicate and again.file.id == first.file.id and again.job is None
    assert len(i.files.records) == 1 and (await i.courses.get_course(course.id)).materials_version == 1


@pytest.mark.parametrize(
    ("declared", "parts", "error", "reason"),
    [
        (0, [b""], InvalidArgument, "EMPTY_FILE"),
        (MAX_UPLOAD_BYTES + 1, [b"x"], ResourceExhausted, "FILE_TOO_LARGE"),
        (0, [b"x" * 600, b"x" * 600], ResourceExhausted, "FILE_TOO_LARGE"),
        (5, [NOTES], InvalidArgument, "SIZE_MISMATCH"),
        (-1, [NOTES], InvalidArgument, "INVALID_SIZE"),
    ],
)
async def test_an_upload_that_breaks_the_rules_leaves_nothing_behind(declared, parts, error, reason):
    i = Instructor()
    course = await course_with_modules(i, 1)
    with pytest.raises(error) as refused:
        await i.file_cases.upload(IAN, course.id, "notes.md", declared, chunks(*parts))
    assert refused.value.reason == reason
    assert not i.files.records and not i.blobs.blobs and i.blobs.staged == 0


async def test_only_the_owner_uploads_to_a_course():
    i = Instructor()
    course = await course_with_modules(i, 1)
    with pytest.raises(PermissionDenied) as refused:
        await i.file_cases.upload(EVE, course.id, "notes.md", 0, chunks(NOTES))
    assert refused.value.reason == "NOT_OWNER" and not i.blobs.blobs


async def test_a_file_uploaded_while_sme_is_down_waits_and_is_sent_once_it_is_back():
    i = Instructor()
    course = await course_with_modules(i, 1)
    i.sme.down = True
    result = await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES))
    assert (
        result.job is None
        and result.file.state is FileState.PENDING
        and "waiting" in result.file.state_message
    )
    i.sme.down = False
    status = await i.file_cases.indexing_status(IAN, course.id)
    assert status.file_count == 1 and len(i.sme.jobs) == 1
    i.sme.finish(next(iter(i.sme.jobs)))
    status = await i.file_cases.indexing_status(IAN, course.id)
    assert status.indexed_file_count == 1 and status.chunk_count == 3


async def test_a_deleted_file_leaves_the_index_the_records_and_the_blobs():
    i = Instructor()
    course = await course_with_modules(i, 1)
    result = await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES))
    await i.file_cases.delete(IAN, course.id, result.file.id)
    assert i.sme.deleted == [(course.id, [result.file.id])]
    assert not i.files.records and not i.blobs.blobs
    assert (await i.courses.get_course(course.id)).materials_version == 2
    with pytest.raises(NotFound) as missing:
        await i.file_cases.delete(IAN, course.id, result.file.id)
    assert missing.value.reason == "FILE_NOT_FOUND"


async def test_a_file_survives_a_deletion_sme_could_not_take():
    i = Instructor()
    course = await course_with_modules(i, 1)
    result = await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES))
    i.sme.down = True
    with pytest.raises(Unavailable):
        await i.file_cases.delete(IAN, course.id, result.file.id)
    assert [f.id for f in await i.files.all_of_course(course.id)] == [result.file.id]
    assert i.blobs.blobs


# files and modules


async def test_a_file_uploaded_for_a_module_belongs_to_it_and_its_index_knows():
    i = Instructor()
    course = await course_with_modules(i)
    first = course.modules[0]
    upload = await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES), first.id)
    assert upload.file.module_id == first.id and i.sme.modules[upload.file.id] == first.id
    shared = await i.file_cases.upload(IAN, course.id, "syllabus.md", 0, chunks(b"# Syllabus\n\nWeekly."))
    assert shared.file.module_id == ""  # no module: the whole course's
    with pytest.raises(NotFound) as refused:
        await i.file_cases.upload(IAN, course.id, "x.md", 0, chunks(b"# X\n\nText."), "not-a-module")
    assert refused.value.reason == "MODULE_NOT_FOUND" and len(i.files.records) == 2


async def test_moving_a_file_moves_its_index_first_and_makes_drafted_objectives_stale():
    i = Instructor()
    course = await course_with_modules(i)
    first, second = course.modules
    upload = await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES), first.id)
    with pytest.raises(FailedPrecondition) as refused:
        await i.file_cases.move(IAN, course.id, upload.file.id, second.id)
    assert refused.value.reason == "FILE_INDEXING"  # its chunks are still being written for the first module
    i.sme.finish(upload.job.id)
    await i.file_cases.reconcile(course.id)
    version = (await i.courses.get_course(course.id)).materials_version
    i.sme.down = True
    with pytest.raises(Unavailable):
        await i.file_cases.move(IAN, course.id, upload.file.id, second.id)
    assert (await i.files.get(course.id, upload.file.id)).module_id == first.id  # nothing changed
    i.sme.down = False
    moved = await i.file_cases.move(IAN, course.id, upload.file.id, second.id)
    assert moved.module_id == second.id and i.sme.modules[upload.file.id] == second.id
    assert (await i.courses.get_course(course.id)).materials_version == version + 1
    shared = await i.file_cases.move(IAN, course.id, upload.file.id, "")
    assert shared.module_id == "" and i.sme.modules[upload.file.id] == ""
    with pytest.raises(PermissionDenied):
        await i.file_cases.move(EVE, course.id, upload.file.id, first.id)
    with pytest.raises(NotFound):
        await i.file_cases.move(IAN, course.id, upload.file.id, "not-a-module")


async def test_a_deleted_modules_files_stay_for_the_whole_course():
    i = Instructor()
    course = await course_with_modules(i)
    upload = await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES), course.modules[0].id)
    i.sme.finish(upload.job.id)
    await i.file_cases.reconcile(course.id)
    await i.course_cases.delete_module(IAN, course.id, course.modules[0].id)
    kept = await i.files.get(course.id, upload.file.id)
    assert kept is not None and kept.module_id == "" and i.sme.modules[upload.file.id] == ""


async def test_an_objectives_job_asks_for_each_module_and_says_why_a_module_got_fewer():
    i = Instructor()
    course = await course_with_modules(i)
    await i.file_cases.upload(IAN, course.id, "notes.md", 0, chunks(NOTES), course.modules[0].id)
    job = await i.objective_cases.generate(IAN, course.id, [], 5)
    while not (await i.job_cases.get(IAN, job.id)).state.terminal:
        await asyncio.sleep(0)
    done = await i.job_cases.get(IAN, job.id)
    assert i.sme.objective_requests == [m.id for m in course.modules]
    assert all(item.message == "3 of 5 objectives: too little material" for item in done.items)
