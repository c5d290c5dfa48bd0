"""Property-based fuzzing of EVERY RPC of the four services on one running mesh (tests/fuzzing.py).

A module-scoped mesh with a published tiny course, an enrolled learner, generated content, a quiz and a tutor
exchange, so that generated requests can carry real ids as well as random and boundary values. Every method
is called with each example under a service token and a learner token (and the course owner's instructor
token for instructor_svc). What must hold: no INTERNAL and no UNKNOWN status (every failure is a domain
code), no hang, no partial write (a failing mutating call leaves the row/document counts it could touch as
they were), the servers still SERVING afterwards, and the data invariants of `MeshProbe.invariants`.

Bounded and reproducible: `max_examples` per RPC, derandomized. `scripts/fuzz_rpcs.py` runs it longer.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

pytest.importorskip("instructor_svc.bootstrap")
pytest.importorskip("sme_svc.bootstrap")
pytestmark = pytest.mark.slow  # a fuzz run

from devkit import fuzzing  # noqa: E402
from devkit.inprocess import drop_pg_urls, fresh_pg_urls, running_mesh  # noqa: E402

EXAMPLES_PER_RPC = 15


@pytest.fixture(scope="module")
async def fuzz(postgres, mongo, tmp_path_factory, common_settings, tokens):
    urls = await asyncio.to_thread(fresh_pg_urls, postgres)
    try:
        async with running_mesh(
            urls,
            f"{mongo.uri.rstrip('/')}/fuzz_{uuid.uuid4().hex[:8]}",
            tmp_path_factory.mktemp("fuzz-mesh"),
            common_settings,
            instructor={"max_upload_bytes": 2 * 1024 * 1024},
            orchestrator={"sme_timeout_s": 60.0},
        ) as mesh:
            setup = await fuzzing.prepare(mesh, tokens)
            with fuzzing.fuzzing_session(mesh, setup) as (fuzzer, probe):
                yield fuzzer, probe
                print("\n" + fuzzer.report(reasons=True))
    finally:
        await asyncio.to_thread(drop_pg_urls, postgres, urls)


def _run(fuzzer: fuzzing.RpcFuzzer, rpcs: list[fuzzing.Rpc]) -> list[str]:
    violations: list[str] = []
    for rpc in rpcs:
        violations += fuzzer.run_rpc(rpc, EXAMPLES_PER_RPC, derandomize=True).violations
    return violations


# The instructor's methods change the course (new modules, edits): they go after the learner's side.
@pytest.mark.parametrize("service", ["orchestrator", "sme", "learner", "instructor"])
async def test_every_rpc_answers_random_requests_with_domain_codes(fuzz, service):
    fuzzer, _ = fuzz
    rpcs = [r for r in fuzzing.all_rpcs([service]) if r.name not in fuzzing.DESTRUCTIVE]
    violations = await asyncio.to_thread(_run, fuzzer, rpcs)
    assert not violations, "\n".join(violations[:20])
    for rpc in rpcs:  # every method was reached, and answered something
        assert fuzzer.tallies[rpc.name].calls > 0, rpc.name


async def test_destructive_rpcs_last(fuzz):
    fuzzer, _ = fuzz
    rpcs = [r for r in fuzzing.all_rpcs() if r.name in fuzzing.DESTRUCTIVE]
    violations = await asyncio.to_thread(_run, fuzzer, rpcs)
    assert not violations, "\n".join(violations[:20])


def _with_real_ids(rpc: fuzzing.Rpc, pool: fuzzing.IdPool, **values):
    """The request of `rpc` with a real id in every top-level id field, plus `values`."""
    fields = {}
    for f in rpc.method.input_type.fields:
        real = pool.for_field(f.name) if f.type == f.TYPE_STRING and not f.is_repeated else []
        if real and f.name != "page_token":
            fields[f.name] = real[0]
    return fuzzing.build_message(rpc.method.input_type, {**fields, **values})


async def test_every_list_rpc_refuses_page_tokens_past_the_integer_bounds(fuzz):
    """Deterministic sweep: every paginated RPC, every crafted page token, every role."""
    fuzzer, _ = fuzz
    paginated = [r for r in fuzzing.all_rpcs() if "page_token" in r.method.input_type.fields_by_name]
    assert len(paginated) >= 8

    def sweep() -> list[str]:
        tally = fuzzing.Tally()
        for rpc in paginated:
            for token in fuzzing.PAGE_TOKENS:
                fuzzer.exercise(rpc, _with_real_ids(rpc, fuzzer.pool, page_token=token, page_size=10), tally)
        return tally.violations

    violations = await asyncio.to_thread(sweep)
    assert not violations, "\n".join(violations[:20])


async def test_the_write_check_sees_writes(fuzz):
    """The partial-write check is not vacuous: a successful create changes the counts it watches."""
    fuzzer, probe = fuzz
    create = next(r for r in fuzzing.all_rpcs(["instructor"]) if r.method.name == "CreateCourse")
    before = await asyncio.to_thread(probe.snapshot, create.name)
    request = fuzzing.ipb.CreateCourseRequest(title="Counted", description="A course the check must see.")
    code, _ = await asyncio.to_thread(fuzzer.call, create, request, fuzzer.tokens["instructor"])
    assert code == "OK"
    after = await asyncio.to_thread(probe.snapshot, create.name)
    assert after["instructor:courses"] == before["instructor:courses"] + 1


async def test_servers_stay_up_and_nothing_half_written(fuzz):
    fuzzer, probe = fuzz
    every = {r.name for r in fuzzing.all_rpcs()}
    assert every <= set(fuzzer.tallies), sorted(every - set(fuzzer.tallies))
    assert await asyncio.to_thread(fuzzing.unhealthy_servers, fuzzer) == []
    total = fuzzer.summary()
    assert total.calls >= len(every) * EXAMPLES_PER_RPC
    assert not (fuzzing.FORBIDDEN_CODES & set(total.codes)), total.codes
    assert total.partial_writes == 0
    assert await asyncio.to_thread(probe.invariants) == []
