"""orchestrator_svc's module content, over in-memory fakes: generated once for what it is made from, then
served; generation shared by concurrent callers; what happens when it cannot be made."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from lmw_common.auth import Principal
from lmw_common.errors import FailedPrecondition, Unavailable
from lmw_common.preferences import Preferences
from orchestrator_svc.domain import Mastery
from tests.fakes.orchestrator import Orchestrator, course

ADA = Principal("ada", "learner")


async def test_content_is_generated_once_and_then_served_from_memory():
    o = Orchestrator()
    o.enrolled()
    first = await o.app.contents.get(ADA, "c1", "m1")
    lookups = o.content_store.lookups
    again = await o.app.contents.get(ADA, "c1", "m1")
    assert again == first and len(o.sme.content_requests) == 1
    assert o.content_store.lookups == lookups  # a kept version needs no store read
    assert first.markdown.startswith("# Module 1") and first.citations[0].file_name == "notes.md"


async def test_stored_content_is_served_without_generating():
    o = Orchestrator()
    o.enrolled()
    first = await o.app.contents.get(ADA, "c1", "m1")
    replica = Orchestrator()  # another replica: nothing in its memory, the same store
    replica.content_store.contents = o.content_store.contents
    replica.enrolled()
    assert await replica.app.contents.get(ADA, "c1", "m1") == first
    assert not replica.sme.content_requests


async def test_opening_a_module_starts_it_once():
    o = Orchestrator()
    o.enrolled()
    await o.app.contents.get(ADA, "c1", "m1")
    await o.app.contents.get(ADA, "c1", "m1")
    assert o.learners.events == [("ada", "c1", "m1", False)]


async def test_new_preferences_new_objectives_or_new_materials_make_new_content():
    o = Orchestrator()
    c = o.enrolled()
    first = await o.app.contents.get(ADA, "c1", "m1")
    await o.app.preferences.set(ADA, "c1", {"detail_level": "brief"}, ["detail_level"])
    brief = await o.app.contents.get(ADA, "c1", "m1")
    assert brief.preferences == Preferences(detail_level="brief") and brief.markdown != first.markdown
    module = dataclasses.replace(c.modules[0], objectives_version=2)
    o.instructors.courses["c1"] = dataclasses.replace(
        c, modules=(module, *c.modules[1:]), materials_version=2
    )
    await o.app.contents.get(ADA, "c1", "m1")
    assert len(o.sme.content_requests) == 3


async def test_concurrent_requests_share_one_generation():
    o = Orchestrator()
    o.enrolled()
    o.sme.gate = asyncio.Event()
    waiting = [asyncio.ensure_future(o.app.contents.get(ADA, "c1", "m1")) for _ in range(5)]
    while not o.sme.content_requests:
        await asyncio.sleep(0)
    o.sme.gate.set()
    results = await asyncio.gather(*waiting)
    assert len({r.generated_at for r in results}) == 1 and len(o.sme.content_requests) == 1


async def test_the_generating_caller_streams_deltas_and_a_cache_hit_gets_the_whole_text_at_once():
    o = Orchestrator()
    o.enrolled()
    streamed = [e async for e in o.app.contents.stream(ADA, "c1", "m1")]
    deltas, content = streamed[:-1], streamed[-1]
    assert len(deltas) == 3 and "".join(deltas) == content.markdown
    again = [e async for e in o.app.contents.stream(ADA, "c1", "m1")]
    assert again == [content.markdown, content]


async def test_content_needs_the_modules_objectives_approved():
    o = Orchestrator()
    o.instructors.add(course(), approved=False)
    o.learners.enroll("ada", "c1")
    with pytest.raises(FailedPrecondition) as refused:
        await o.app.contents.get(ADA, "c1", "m1")
    assert refused.value.reason == "OBJECTIVES_NOT_APPROVED" and not o.sme.content_requests


async def test_a_generation_cut_short_stores_nothing_and_the_next_request_tries_again():
    o = Orchestrator()
    o.enrolled()
    o.sme.cut_short = True
    with pytest.raises(Unavailable) as failed:
        await o.app.contents.get(ADA, "c1", "m1")
    assert failed.value.reason == "GENERATION_INCOMPLETE" and not o.content_store.contents
    o.sme.cut_short = False
    assert (await o.app.contents.get(ADA, "c1", "m1")).markdown
    assert len(o.sme.content_requests) == 2


async def test_weak_objectives_of_earlier_modules_are_recapped_weakest_first():
    o = Orchestrator()
    o.enrolled(completed=["m1"])
    o.quiz_store.mastery_of.update(
        {
            ("ada", "m1-o1"): Mastery("m1-o1", "m1", 0.4, 2),
            ("ada", "m1-o2"): Mastery("m1-o2", "m1", 0.1, 1),
        }
    )
    o.quiz_store.courses_of.update({("ada", "m1-o1"): "c1", ("ada", "m1-o2"): "c1"})
    content = await o.app.contents.get(ADA, "c1", "m2")
    assert content.recap_objective_ids == ("m1-o2", "m1-o1")
    assert o.sme.content_requests[0]["recap"] == ["m1-o2", "m1-o1"]
