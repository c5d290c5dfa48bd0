"""The portal's speed, against the real mesh in Debian's Chromium, next to the GraphQL it waits on.

    .venv/bin/python scripts/bench/portal.py [--rounds N] [--json FILE] [--url http://127.0.0.1:8000]

Builds nothing: run `make web` first (the BFF serves web/dist). Starts the local mesh on free ports in a
temporary directory (or uses --url), publishes a one-module course from the sample materials, and per round
signs up two fresh learners. In the browser (web/bench/portal-browser.mjs), with the portal's files already
in the HTTP cache (a returning visitor):

- uncached module: from opening the module's URL to the first streamed delta on screen, against the same
  `moduleContentStream` subscription's first event over a raw graphql-transport-ws socket from the same page
  (another fresh learner, so it generates too), connection included;
- cached module: from opening it again to its first rendered paragraph, against the cached subscription's
  first event;
- the learner's first page (the catalog, empty cache): its JavaScript and CSS, gzipped as served.

Ratios are portal time over the GraphQL request's own time, measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from common import REPO_ROOT, SAMPLE_COURSE, print_table, write_json

from devkit.graphql import GraphQLClient
from devkit.launcher import Launcher, free_ports
from devkit.logs import Printer

WEB = REPO_ROOT / "web"
DIST = WEB / "dist"
PASSWORD = "Bench-passw0rd!"
MATERIAL = SAMPLE_COURSE / "01-describing-data.md"
OBJECTIVES = [
    "Choose between the mean and the median as a measure of center",
    "Explain how the standard deviation measures spread",
]


async def sign_up(client: GraphQLClient, role: str, name: str, n: int) -> dict:
    email = f"bench-{role.lower()}-{n}-{uuid.uuid4().hex[:10]}@bench.example.org"
    data = await client.execute(
        """mutation($r: Role!, $e: String!, $p: String!, $n: String!) {
          signUp(role: $r, email: $e, password: $p, name: $n) { token expiresAt user { id displayName } } }""",
        {"r": role, "e": email, "p": PASSWORD, "n": name},
    )
    s = data["signUp"]
    return {
        "token": s["token"],
        "role": role,
        "userId": s["user"]["id"],
        "name": s["user"]["displayName"],
        "email": email,
        "expiresAt": s["expiresAt"],
    }


async def prepare(url: str, rounds: int) -> dict:
    """A published one-module course and two fresh enrolled learners per round."""
    async with GraphQLClient(f"{url}/graphql") as anonymous:
        teacher = anonymous.as_user((await sign_up(anonymous, "INSTRUCTOR", "Bench Teacher", 0))["token"])
        course = (
            await teacher.execute(
                'mutation { createCourse(title: "Portal bench", description: "Bench") { id } }'
            )
        )["createCourse"]["id"]
        module = (
            await teacher.execute(
                'mutation($c: ID!) { createModule(courseId: $c, title: "Describing Data") { id } }',
                {"c": course},
            )
        )["createModule"]["id"]
        await teacher.upload(
            "mutation($c: ID!, $files: [Upload!]!) { uploadCourseFiles(courseId: $c, files: $files) { file { id } } }",
            {"c": course},
            [MATERIAL],
        )
        for _ in range(1200):
            status = (
                await teacher.execute(
                    "query($c: ID!) { indexingStatus(courseId: $c) { state } }", {"c": course}
                )
            )["indexingStatus"]
            if status["state"] == "READY":
                break
            await asyncio.sleep(0.1)
        else:
            raise SystemExit("the bench course was not indexed within two minutes")
        version = (
            await teacher.execute(
                """mutation($c: ID!, $m: ID!, $o: [LearningObjectiveInput!]!) {
                  updateLearningObjectives(courseId: $c, moduleId: $m, objectives: $o) { version } }""",
                {"c": course, "m": module, "o": [{"text": text} for text in OBJECTIVES]},
            )
        )["updateLearningObjectives"]["version"]
        await teacher.execute(
            "mutation($c: ID!, $m: ID!, $v: Int!) { approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }",
            {"c": course, "m": module, "v": version},
        )
        await teacher.execute(
            "mutation($c: ID!) { publishCourse(courseId: $c) { published } }", {"c": course}
        )
        plan_rounds = []
        for n in range(rounds):
            pair = {}
            for side in ("portal", "raw"):
                learner = await sign_up(anonymous, "LEARNER", f"Bench {side} {n}", n)
                await anonymous.as_user(learner["token"]).execute(
                    "mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": course}
                )
                pair[side] = {"session": learner, "token": learner["token"]}
            plan_rounds.append(pair)
    return {"url": url, "courseId": course, "moduleId": module, "rounds": plan_rounds}


def run_browser(plan: dict, scratch: Path) -> dict:
    plan_file = scratch / "plan.json"
    plan_file.write_text(json.dumps(plan))
    done = subprocess.run(
        ["node", str(WEB / "bench" / "portal-browser.mjs"), str(plan_file)],
        cwd=WEB,
        stdout=subprocess.PIPE,
        check=True,
    )
    return json.loads(done.stdout)


def gzipped_bytes(paths: list[str]) -> tuple[int, int]:
    """(raw, gzip) bytes of the portal's files at these URL paths, as the BFF serves them."""
    raw = zipped = 0
    for path in dict.fromkeys(paths):
        file = DIST / path.lstrip("/")
        raw += file.stat().st_size
        twin = file.with_name(file.name + ".gz")
        zipped += twin.stat().st_size if twin.exists() else file.stat().st_size
    return raw, zipped


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="fresh learners measured (default 5)")
    parser.add_argument("--url", help="a running BFF serving the built portal (default: start a mesh)")
    parser.add_argument("--json", metavar="FILE", help="write the figures as one JSON object")
    args = parser.parse_args()
    if not (DIST / "index.html").is_file():
        raise SystemExit("web/dist is missing: run `make web` first")

    scratch = Path(tempfile.mkdtemp(prefix="lmw-portal-bench-"))
    scratch.chmod(0o755)  # embedded PostgreSQL runs as its own user
    mesh = None
    try:
        url = args.url
        if not url:
            mesh = Launcher(scratch / "mesh", free_ports(), printer=Printer(sys.stderr, show_level="WARNING"))
            mesh.start()
            url = mesh.bff_url
        plan = asyncio.run(prepare(url, args.rounds))
        measured = run_browser(plan, scratch)
    finally:
        if mesh is not None:
            mesh.stop()
        shutil.rmtree(scratch, ignore_errors=True)

    rounds = measured["rounds"]
    rows, figures = [], {"rounds": len(rounds)}
    for label, key, raw_key in (
        ("uncached module: first streamed delta", "uncached", "rawUncached"),
        ("cached module: first rendered paragraph", "cached", "rawCached"),
    ):
        portal_median, portal_p90 = summary([r[key] for r in rounds])
        raw_median, raw_p90 = summary([r[raw_key] for r in rounds])
        ratios = [r[key] / r[raw_key] for r in rounds if r[raw_key] > 0]
        ratio = statistics.median(ratios) if ratios else float("nan")
        rows.append([label, portal_median, portal_p90, raw_median, raw_p90, ratio])
        figures[key] = {
            "portal_median_ms": portal_median,
            "portal_p90_ms": portal_p90,
            "graphql_median_ms": raw_median,
            "graphql_p90_ms": raw_p90,
            "median_ratio": ratio,
        }
    print_table(
        ["in Chromium, from opening the URL", "portal ms", "p90", "GraphQL ms", "p90", "ratio"],
        rows,
        f"The portal against the real mesh, {len(rounds)} rounds (medians; ratio: median of per-round ratios)",
    )
    js_raw, js_gzip = gzipped_bytes(measured["firstPageScripts"])
    css_raw, css_gzip = gzipped_bytes(measured["firstPageStyles"])
    print_table(
        ["the learner's first page (catalog)", "files", "raw KB", "gzip KB"],
        [
            ["JavaScript", len(set(measured["firstPageScripts"])), js_raw / 1024, js_gzip / 1024],
            ["CSS", len(set(measured["firstPageStyles"])), css_raw / 1024, css_gzip / 1024],
        ],
    )
    figures["first_page"] = {
        "js_files": sorted(set(measured["firstPageScripts"])),
        "js_bytes": js_raw,
        "js_gzip_bytes": js_gzip,
        "css_bytes": css_raw,
        "css_gzip_bytes": css_gzip,
    }
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
