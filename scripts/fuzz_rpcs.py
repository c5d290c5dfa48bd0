"""Fuzz every RPC of the four services for longer than the test suite does (the strategies of devkit/fuzzing.py).

    .venv/bin/python scripts/fuzz_rpcs.py --examples 200 --seconds 600
    .venv/bin/python scripts/fuzz_rpcs.py --examples 50 --seconds 120 --services sme,learner --seed 7

Starts its own embedded PostgreSQL, MongoDB-wire server and the whole mesh in-process (temp dirs), publishes a
tiny course, then calls each RPC with up to `--examples` generated requests under a service, a learner (and,
for instructor_svc, the owner's instructor) token; the destructive RPCs go last. The run is bounded by
`--seconds`: every RPC gets an equal share of what is left. Prints per RPC the examples, calls, slowest
call and status codes seen (with `--reasons`, the ErrorInfo reasons), then what held: INTERNAL/UNKNOWN
answers, hangs, servers not SERVING afterwards, partial writes, broken data invariants. Exits 1 when any
of them is not 0. `--json FILE` writes the figures as one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100, help="generated requests per RPC (at most)")
    parser.add_argument("--seconds", type=float, default=300.0, help="bound on the fuzzing time")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random, printed)")
    parser.add_argument("--services", default="orchestrator,sme,learner,instructor", help="comma-separated")
    parser.add_argument("--timeout", type=float, default=60.0, help="deadline of one call, seconds")
    parser.add_argument("--reasons", action="store_true", help="print the failure reasons per RPC")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    return parser.parse_args(argv)


async def fuzz(args: argparse.Namespace) -> dict:
    from devkit import fuzzing
    from devkit.databases import MongoWire, Postgres, dev_secret
    from devkit.inprocess import fresh_pg_urls, running_mesh
    from lmw_common.auth import TokenService
    from lmw_common.config import LmwSettings

    services = [s.strip() for s in args.services.split(",") if s.strip()]
    unknown = set(services) - set(fuzzing.SERVICES)
    if unknown:
        raise SystemExit(f"unknown services: {sorted(unknown)}")
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    # metrics_port=0: the four services share this process, each serves /metrics on a free port.
    common = LmwSettings(env="dev", jwt_secret=dev_secret(), log_level="ERROR", metrics_port=0)
    tokens = TokenService(common.signing_secret(), common.jwt_issuer, common.jwt_audience)

    with tempfile.TemporaryDirectory(prefix="lmw-fuzz-") as tmp:
        work = Path(tmp)
        postgres = await asyncio.to_thread(Postgres, work / "pg")
        mongo = await asyncio.to_thread(MongoWire, ":memory:")
        try:
            urls = await asyncio.to_thread(fresh_pg_urls, postgres)
            async with running_mesh(
                urls,
                f"{mongo.uri.rstrip('/')}/fuzz_{uuid.uuid4().hex[:8]}",
                work / "mesh",
                common,
                instructor={"max_upload_bytes": 2 * 1024 * 1024},
                orchestrator={"sme_timeout_s": args.timeout},
            ) as mesh:
                print("mesh up; publishing a tiny course ...", flush=True)
                setup = await fuzzing.prepare(mesh, tokens)
                print(
                    f"fuzzing {', '.join(services)}: up to {args.examples} examples per RPC, "
                    f"{args.seconds:.0f} s at most, seed {seed}",
                    flush=True,
                )
                with fuzzing.fuzzing_session(mesh, setup, timeout_s=args.timeout) as (fuzzer, probe):
                    rpcs = fuzzing.all_rpcs(services)
                    started = time.monotonic()

                    def run_all() -> None:
                        for index, rpc in enumerate(rpcs):
                            left = args.seconds - (time.monotonic() - started)
                            budget = max(left, 0.0) / (len(rpcs) - index)
                            tally = fuzzer.run_rpc(
                                rpc,
                                args.examples,
                                derandomize=False,
                                seed=seed + index,
                                budget_s=budget or 1e-9,
                            )
                            print(
                                f"  {rpc.name:40} {tally.examples:5} examples {tally.calls:6} calls "
                                f"{len(tally.violations):3} violations",
                                flush=True,
                            )

                    await asyncio.to_thread(run_all)
                    elapsed = time.monotonic() - started
                    unhealthy = await asyncio.to_thread(fuzzing.unhealthy_servers, fuzzer)
                    broken = await asyncio.to_thread(probe.invariants)
                    print()
                    print(fuzzer.report(reasons=args.reasons))
                    return summarize(fuzzer, fuzzing, services, seed, elapsed, unhealthy, broken)
        finally:
            await asyncio.to_thread(mongo.stop)
            await asyncio.to_thread(postgres.stop)


def summarize(fuzzer, fuzzing, services, seed, elapsed, unhealthy, broken) -> dict:
    total = fuzzer.summary()
    per_service = {
        name: sum(t.calls for rpc, t in fuzzer.tallies.items() if rpc.startswith(name + "."))
        for name in services
    }
    hangs = sum(1 for v in total.violations if "(hang)" in v)
    forbidden = {code: total.codes.get(code, 0) for code in sorted(fuzzing.FORBIDDEN_CODES)}
    return {
        "seed": seed,
        "seconds": round(elapsed, 1),
        "rpcs": len(fuzzer.tallies),
        "examples": total.examples,
        "calls": total.calls,
        "calls_per_service": per_service,
        "codes": dict(sorted(total.codes.items())),
        "forbidden_codes": forbidden,
        "hangs": hangs,
        "crashes": len(unhealthy),
        "unhealthy": unhealthy,
        "partial_writes": total.partial_writes,
        "broken_invariants": broken,
        "violations": total.violations,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    figures = asyncio.run(fuzz(args))
    print()
    print(
        f"seed {figures['seed']}: {figures['calls']} calls ({figures['examples']} examples) over "
        f"{figures['rpcs']} RPCs in {figures['seconds']} s; per service: "
        + ", ".join(f"{k}={v}" for k, v in figures["calls_per_service"].items())
    )
    print("codes seen: " + ", ".join(f"{k}={v}" for k, v in figures["codes"].items()))
    checks = {
        **{f"{code} answers": n for code, n in figures["forbidden_codes"].items()},
        "hangs": figures["hangs"],
        "crashes (server not SERVING)": figures["crashes"],
        "partial writes": figures["partial_writes"],
        "broken invariants": len(figures["broken_invariants"]),
    }
    for what, n in checks.items():
        print(f"  {what:32} {n:6}  {'ok' if n == 0 else 'VIOLATED'}")
    for line in figures["violations"][:50] + figures["broken_invariants"] + figures["unhealthy"]:
        print("  ! " + line[:400])
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    failed = any(checks.values()) or bool(figures["violations"])
    print("FAILED" if failed else "all held")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
