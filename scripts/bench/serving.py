"""Serving benchmark: throughput and latency of the hot read paths, end to end through the real mesh.

    .venv/bin/python scripts/bench/serving.py [--json FILE] [--connections 16] [--duration 6] [--rounds 3]

Starts the real mesh (`devkit.launcher.Launcher`: embedded PostgreSQL, the MongoDB-wire server, the four services and
the BFF as `python -m bff`, i.e. its production uvicorn settings) in a temporary data dir on free ports,
prepares data through GraphQL (an instructor publishes a two-module Markdown course; learners enroll, read
module 1 once so its content is cached, and take its quiz so the dashboard has results), then drives each
path with a load generator in a separate process (`wrk` with a Lua script, else `hey`; gRPC with `h2load`):

- GraphQL through the BFF: `{ __typename }` (the BFF's own schema, extensions and server), `catalog` first
  page (anonymous), cached `moduleContent`, `dashboard(learnerId, courseId)` (with `course`);
- gRPC directly: learner_svc `GetCourseProgress` with a learner token (full interceptor stack + database),
  and an echo RPC behind the project's server factory (interceptor, JWT, access check) with a token;
- baselines, measured in the same run with the same server settings: a stock Strawberry schema without
  extensions, the same schema with Strawberry's ParserCache and ValidationCache only, and a bare Starlette
  JSON endpoint (all on uvicorn with the BFF's settings), and a bare grpc.aio echo RPC.

Every path runs once per round, the rounds one after the other; figures are the medians of the rounds, and
each ratio to a baseline is the median of the per-round ratios (a path and its baseline measured minutes apart
at most). Then isolation, in as many rounds: cached `moduleContent` idle, and again while a background loop
forces content generation for other learners (preferences changed, then read: a cache miss that goes through
sme_svc); the p99 ratio is printed. `--json FILE` writes every figure, every round's too, as one JSON object.
Figures on a shared machine are noisy: compare the ratios of one run, and look at the load average printed.

`--telemetry` measures the cost of telemetry instead (scripts/bench/serving_telemetry.py): the same mesh with
no telemetry, with tracing off (the default) and with tracing on at a sampler ratio of 0.1, as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # run as a plain script: make the project packages importable
    sys.path.insert(0, str(REPO_ROOT))

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

import grpc  # noqa: E402

from devkit import SAMPLE_COURSE  # noqa: E402
from devkit.databases import free_port  # noqa: E402
from devkit.graphql import GraphQLClient  # noqa: E402
from devkit.launcher import Launcher, free_ports  # noqa: E402
from devkit.logs import Printer  # noqa: E402
from lmw.learner.v1 import learner_service_pb2 as lpb  # noqa: E402

HERE = Path(__file__).resolve().parent
PASSWORD = "Bench-passw0rd!"
ECHO_METHOD = "/lmw.bench.v1.EchoService/Echo"
PROGRESS_METHOD = "/lmw.learner.v1.LearnerService/GetCourseProgress"

Q_TRIVIAL = "{ __typename }"
Q_CATALOG = """query Catalog { catalog(first: 20) { edges { cursor node { id title description published
  modules { id title position } } } pageInfo { hasNextPage endCursor } } }"""
Q_CONTENT = """query Content($c: ID!, $m: ID!) { moduleContent(courseId: $c, moduleId: $m) {
  courseId moduleId markdown citations { fileName heading page snippet }
  preferences { detailLevel explanationStyle language } objectivesVersion generateTime } }"""
Q_DASHBOARD = """query Dashboard($l: ID!, $c: ID!) { dashboard(learnerId: $l, courseId: $c) {
  course { id title modules { id title } } progress completedModuleCount
  preferences { detailLevel explanationStyle language }
  modules { moduleId title status bestScore attemptCount }
  recentQuizResults { score passed submitTime } mastery { objectiveId text pMastery mastered }
  nextStep { kind moduleId message } } }"""

# Preference combinations the isolation loop cycles through (each one a cache miss for its learner).
DETAIL = ("BRIEF", "MODERATE", "DETAILED")
STYLE = ("EXAMPLES", "CONCEPTUAL", "PRACTICAL", "VISUAL")
LANGUAGE = ("SIMPLE", "BALANCED", "TECHNICAL")


# ------------------------------------------------------------------------------------------ tools


def find_tools() -> dict[str, str | None]:
    return {name: shutil.which(name) for name in ("wrk", "hey", "h2load")}


def require_tools(tools: dict[str, str | None], http_tool: str) -> str:
    missing = []
    if http_tool == "auto":
        http_tool = "wrk" if tools["wrk"] else "hey" if tools["hey"] else ""
        if not http_tool:
            missing.append("wrk (or hey)")
    elif not tools[http_tool]:
        missing.append(http_tool)
    if not tools["h2load"]:
        missing.append("h2load")
    if missing:
        sys.exit(
            f"missing load generator(s): {', '.join(missing)}. Install them from Debian:\n"
            "    apt-get update && apt-get install -y wrk hey nghttp2-client"
        )
    return http_tool


# ------------------------------------------------------------------------------------------ results


@dataclass
class Run:
    name: str
    tool: str
    connections: int
    seconds: float
    cpu_us_per_request: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    errors: int = 0  # socket errors, non-2xx HTTP statuses
    note: str = ""


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = (len(sorted_values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def from_latencies(run: Run, latencies_ms: list[float], elapsed_s: float) -> Run:
    values = sorted(latencies_ms)
    run.requests = len(values)
    run.rps = len(values) / elapsed_s if elapsed_s > 0 else 0.0
    run.p50_ms, run.p95_ms, run.p99_ms = (_percentile(values, q) for q in (0.50, 0.95, 0.99))
    run.max_ms = values[-1] if values else 0.0
    return run


# ------------------------------------------------------------------------------------- HTTP load


@dataclass(frozen=True)
class HttpTarget:
    """POST bodies (one per simulated user, used round-robin) with their headers."""

    url: str
    bodies: tuple[bytes, ...]
    tokens: tuple[str | None, ...]


WRK_SCRIPT = r"""
local reqs = {}
local n = 0
local i = 0
init = function(args)
  for _, spec in ipairs(SPECS) do
    local headers = { ["Content-Type"] = "application/json" }
    if spec.token ~= "" then headers["Authorization"] = "Bearer " .. spec.token end
    n = n + 1
    reqs[n] = wrk.format("POST", PATH, headers, spec.body)
  end
end
request = function()
  i = i % n + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\"requests\":%d,\"duration_us\":%d,\"connect\":%d,\"read\":%d,\"write\":%d,\"status\":%d," ..
    "\"timeout\":%d,\"p50\":%f,\"p95\":%f,\"p99\":%f,\"max\":%f}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50.0), latency:percentile(95.0), latency:percentile(99.0), latency.max))
end
"""


def _lua_string(data: bytes) -> str:
    return '"' + "".join(f"\\{b:03d}" if b < 32 or b in (34, 92) or b > 126 else chr(b) for b in data) + '"'


def write_wrk_script(target: HttpTarget, directory: Path) -> Path:
    path = directory / f"wrk-{abs(hash(target))}.lua"
    specs = ",\n".join(
        f"  {{ body = {_lua_string(body)}, token = {_lua_string((token or '').encode())} }}"
        for body, token in zip(target.bodies, target.tokens, strict=True)
    )
    url_path = "/" + target.url.split("/", 3)[3]
    path.write_text(f"SPECS = {{\n{specs}\n}}\nPATH = {_lua_string(url_path.encode())}\n" + WRK_SCRIPT)
    return path


async def _run(cmd: list[str], timeout_s: float) -> str:
    process = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout_s)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    if process.returncode != 0:
        raise RuntimeError(
            f"{cmd[0]} exited with {process.returncode}: {out.decode(errors='replace')[-2000:]}"
        )
    return out.decode(errors="replace")


async def http_load(
    name: str, target: HttpTarget, tool: str, connections: int, duration: float, threads: int, scratch: Path
) -> Run:
    run = Run(name, tool, connections, duration)
    if tool == "wrk":
        script = write_wrk_script(target, scratch)
        base = ["wrk", f"-t{threads}", f"-c{connections}", "-s", str(script), "--timeout", "10s"]
        await _run([*base, "-d", "1s", target.url], 60)  # warm-up, discarded
        out = await _run([*base, f"-d{duration:g}s", target.url], duration + 60)
        line = next((x for x in out.splitlines() if x.startswith("WRKJSON ")), None)
        if line is None:
            raise RuntimeError(f"wrk printed no summary:\n{out}")
        data = json.loads(line.removeprefix("WRKJSON "))
        seconds = data["duration_us"] / 1e6
        run.seconds = round(seconds, 2)
        run.requests = data["requests"]
        run.rps = data["requests"] / seconds
        run.p50_ms, run.p95_ms, run.p99_ms = (data[k] / 1000 for k in ("p50", "p95", "p99"))
        run.max_ms = data["max"] / 1000
        run.errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
        return run
    # hey: one body and token for every request; per-request CSV gives the percentiles.
    body, token = target.bodies[0], target.tokens[0]
    body_file = scratch / f"hey-{name}.json"
    body_file.write_bytes(body)
    base = ["hey", "-c", str(connections), "-m", "POST", "-T", "application/json", "-D", str(body_file)]
    if token:
        base += ["-H", f"Authorization: Bearer {token}"]
    await _run([*base, "-z", "1s", target.url], 60)
    out = await _run([*base, "-z", f"{duration:g}s", "-o", "csv", target.url], duration + 60)
    latencies, statuses, last_offset = [], [], 0.0
    for row in out.splitlines()[1:]:
        cols = row.split(",")
        if len(cols) < 8:
            continue
        latencies.append(float(cols[0]) * 1000)
        statuses.append(cols[6])
        last_offset = max(last_offset, float(cols[7]))
    from_latencies(run, latencies, last_offset or duration)
    run.errors = sum(1 for s in statuses if not s.startswith("2"))
    return run


# -------------------------------------------------------------------------------------- gRPC load


def grpc_frame(message: bytes) -> bytes:
    return b"\x00" + len(message).to_bytes(4, "big") + message


async def grpc_load(
    name: str,
    port: int,
    method: str,
    message: bytes,
    token: str | None,
    connections: int,
    duration: float,
    threads: int,
    scratch: Path,
) -> Run:
    """h2load over h2c with a serialized gRPC request; it checks HTTP statuses only (responses are
    verified separately, see verify_grpc)."""
    run = Run(name, "h2load", connections, duration)
    body = scratch / f"grpc-{name}.bin"
    body.write_bytes(grpc_frame(message))
    log_file = scratch / f"h2load-{name}.log"
    headers = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
    if token:
        headers += ["-H", f"authorization: Bearer {token}"]
    url = f"http://127.0.0.1:{port}{method}"
    base = ["h2load", f"-t{threads}", f"-c{connections}", "-m1", "-d", str(body), *headers]
    await _run([*base, "-D", "1", url], 60)  # warm-up, discarded
    started = time.time()
    out = await _run([*base, "-D", f"{duration:g}", "--log-file", str(log_file), url], duration + 60)
    latencies, bad = [], 0
    for row in log_file.read_text().splitlines():
        cols = row.split("\t")
        if len(cols) < 3:
            continue
        if cols[1] != "200":
            bad += 1
        latencies.append(int(cols[2]) / 1000)
    from_latencies(run, latencies, duration)
    run.errors = bad
    for line in out.splitlines():  # "requests: N total, N started, N done, N succeeded, N failed, N errored"
        if line.strip().startswith("requests:"):
            parts = line.replace(",", "").split()
            with contextlib.suppress(ValueError, IndexError):
                run.errors = max(
                    run.errors, int(parts[parts.index("failed") - 1]) + int(parts[parts.index("errored") - 1])
                )
    del started
    return run


# --------------------------------------------------------------------------------- mesh and data


@dataclass
class Learner:
    id: str
    token: str
    email: str


@dataclass
class Prepared:
    course_id: str
    module_ids: list[str]
    readers: list[Learner]
    background: list[Learner]
    instructor_token: str
    stats: dict[str, Any] = field(default_factory=dict)


async def _wait(what: str, check, timeout_s: float = 300.0, every_s: float = 0.3) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(every_s)


async def prepare(mesh: Launcher, readers: int, background: int, say) -> Prepared:
    started = time.monotonic()
    run_id = time.strftime("%H%M%S")
    async with GraphQLClient(mesh.graphql_url) as anon:
        data = await anon.execute(
            """mutation($e: String!, $p: String!) { signUp(role: INSTRUCTOR, email: $e, password: $p,
              name: "Bench Instructor") { token } }""",
            {"e": f"instructor-{run_id}@bench.example.com", "p": PASSWORD},
        )
        teacher = anon.as_user(data["signUp"]["token"])
        course_id = (
            await teacher.execute(
                'mutation { createCourse(title: "Foundations of Statistics", description: "Benchmark course") { id } }'
            )
        )["createCourse"]["id"]
        modules = [
            ("Describing Data", "Center, spread and shape of distributions.", "01-describing-data.md"),
            (
                "Probability Basics",
                "Events, rules of probability and conditional probability.",
                "02-probability.md",
            ),
        ]
        module_ids = []
        for title, description, _ in modules:
            created = await teacher.execute(
                "mutation($c: ID!, $t: String!, $d: String!) { createModule(courseId: $c, title: $t, description: $d) { id } }",
                {"c": course_id, "t": title, "d": description},
            )
            module_ids.append(created["createModule"]["id"])
        await teacher.upload(
            "mutation($c: ID!, $files: [Upload!]!) { uploadCourseFiles(courseId: $c, files: $files) { job { id } } }",
            {"c": course_id},
            [SAMPLE_COURSE / name for *_, name in modules],
        )

        async def indexed() -> bool:
            status = await teacher.execute(
                "query($c: ID!) { indexingStatus(courseId: $c) { state fileCount indexedFileCount } }",
                {"c": course_id},
            )
            s = status["indexingStatus"]
            if s["state"] == "FAILED":
                raise RuntimeError(f"indexing failed: {s}")
            return s["state"] == "READY" and s["indexedFileCount"] == s["fileCount"]

        await _wait("indexing", indexed)
        job = (
            await teacher.execute(
                "mutation($c: ID!) { generateLearningObjectives(courseId: $c, count: 3) { id } }",
                {"c": course_id},
            )
        )["generateLearningObjectives"]

        async def objectives_done() -> bool:
            state = (
                await teacher.execute("query($j: ID!) { job(id: $j) { state message } }", {"j": job["id"]})
            )["job"]
            if state["state"] == "FAILED":
                raise RuntimeError(f"objectives job failed: {state}")
            return state["state"] == "SUCCEEDED"

        await _wait("objectives", objectives_done)
        objectives = (
            await teacher.execute(
                "query($c: ID!) { learningObjectives(courseId: $c) { moduleId version } }", {"c": course_id}
            )
        )["learningObjectives"]
        for module in objectives:
            await teacher.execute(
                "mutation($c: ID!, $m: ID!, $v: Int!) { approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }",
                {"c": course_id, "m": module["moduleId"], "v": module["version"]},
            )
        await teacher.execute(
            "mutation($c: ID!) { publishCourse(courseId: $c) { published } }", {"c": course_id}
        )
        say(f"course published with {len(module_ids)} modules ({time.monotonic() - started:.1f} s)")

        async def new_learner(kind: str, number: int) -> Learner:
            email = f"{kind}-{number}-{run_id}@bench.example.com"
            data = await anon.execute(
                """mutation($e: String!, $p: String!) { signUp(role: LEARNER, email: $e, password: $p,
                  name: "Bench Learner") { token user { id } } }""",
                {"e": email, "p": PASSWORD},
            )
            learner = Learner(data["signUp"]["user"]["id"], data["signUp"]["token"], email)
            await anon.as_user(learner.token).execute(
                "mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": course_id}
            )
            return learner

        reader_list = [await new_learner("reader", i) for i in range(readers)]
        background_list = [await new_learner("background", i) for i in range(background)]
        generation_s = []
        for learner in reader_list:
            client = anon.as_user(learner.token)
            t0 = time.monotonic()
            await client.execute(Q_CONTENT, {"c": course_id, "m": module_ids[0]})  # generated, then cached
            generation_s.append(time.monotonic() - t0)
            quiz = (
                await client.execute(
                    "query($c: ID!, $m: ID!) { quiz(courseId: $c, moduleId: $m) { id questions { id options } } }",
                    {"c": course_id, "m": module_ids[0]},
                )
            )["quiz"]
            answers = [{"questionId": q["id"], "selectedIndex": 0} for q in quiz["questions"]]
            await client.execute(
                """mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!) {
                  submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a) { score } }""",
                {"c": course_id, "m": module_ids[0], "q": quiz["id"], "a": answers},
            )
    say(f"{readers} readers (content generated, quiz taken) and {background} background learners ready")
    return Prepared(
        course_id,
        module_ids,
        reader_list,
        background_list,
        teacher.token or "",
        {"first_generation_s": statistics.median(generation_s) if generation_s else None},
    )


def gql_body(query: str, variables: dict[str, Any] | None = None) -> bytes:
    return json.dumps({"query": query, "variables": variables or {}}, separators=(",", ":")).encode()


# ----------------------------------------------------------------------------------- verification


def verify_http(target: HttpTarget, expect: str) -> None:
    """Every body once (as each user): HTTP 200, no GraphQL errors, `expect` in the data."""
    import httpx

    for body, token in zip(target.bodies, target.tokens, strict=True):
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        response = httpx.post(target.url, content=body, headers=headers, timeout=30)
        text = response.text
        if response.status_code != 200 or '"errors"' in text or expect not in text:
            raise RuntimeError(f"{target.url}: unexpected response {response.status_code}: {text[:500]}")


def verify_grpc(port: int, method: str, message: bytes, token: str | None, check) -> None:
    """A sample call with a real gRPC client: status OK and a response that `check` accepts."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(method)  # bytes in, bytes out
        metadata = [("authorization", f"Bearer {token}")] if token else []
        for _ in range(3):
            response = call(message, metadata=metadata, timeout=10)
            if not check(response):
                raise RuntimeError(f"{method}: unexpected response {response[:200]!r}")


def verify_refused(port: int, method: str, message: bytes) -> None:
    """The stack echo refuses a call without a token (the benchmark measures real authentication)."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            channel.unary_unary(method)(message, timeout=10)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.UNAUTHENTICATED:
                return
            raise
    raise RuntimeError(f"{method} answered without a token")


# ------------------------------------------------------------------------------------ baselines


class Baselines:
    """The baseline servers as child processes (stock and cached Strawberry, bare Starlette, bare and stacked
    echo)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.ports: dict[str, int] = {}
        self.processes: list[subprocess.Popen] = []

    def start(self, kinds: list[str]) -> None:
        for kind in kinds:
            port = free_port()
            self.ports[kind] = port
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, str(HERE / "serving_servers.py"), kind, str(port)],
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for kind, port in self.ports.items():
            deadline = time.monotonic() + 60
            while True:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"baseline {kind} did not start")
                time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


# ------------------------------------------------------------------------------------- isolation


class GenerationLoop:
    """Learners other than the readers change their preferences and read module 1 again, in a loop:
    each read is a cache miss that generates through sme_svc."""

    def __init__(self, url: str, course_id: str, module_id: str, learners: list[Learner]) -> None:
        self.url = url
        self.course_id = course_id
        self.module_id = module_id
        self.learners = learners
        self.generated = 0
        self.failed = 0
        self.seconds: list[float] = []
        self._stop = asyncio.Event()

    async def _one(self, client: GraphQLClient, learner: Learner, combos) -> None:
        user = client.as_user(learner.token)
        while not self._stop.is_set():
            detail, style, language = next(combos)
            try:
                await user.execute(
                    """mutation($c: ID!, $p: PreferencesInput!) { setPreferences(courseId: $c, preferences: $p)
                      { detailLevel } }""",
                    {
                        "c": self.course_id,
                        "p": {"detailLevel": detail, "explanationStyle": style, "language": language},
                    },
                )
                started = time.monotonic()
                await user.execute(Q_CONTENT, {"c": self.course_id, "m": self.module_id})
                self.seconds.append(time.monotonic() - started)
                self.generated += 1
            except Exception:  # noqa: BLE001  (counted; the loop goes on)
                self.failed += 1
                await asyncio.sleep(0.2)

    async def run(self) -> None:
        async with GraphQLClient(self.url) as client:
            await asyncio.gather(
                *(
                    self._one(client, learner, itertools.cycle(itertools.product(DETAIL, STYLE, LANGUAGE)))
                    for learner in self.learners
                )
            )

    def stop(self) -> None:
        self._stop.set()


# ------------------------------------------------------------------------------- CPU per process


class CpuMeter:
    """CPU seconds (user + system, from /proc) of each mesh process, PostgreSQL (postmaster and backends)
    and the MongoDB-wire server: where a path's cost goes, per request. Linux only (empty elsewhere)."""

    def __init__(self, mesh: Launcher) -> None:
        self.pids = mesh.pids()
        self.mongo = self.pids.pop("mongo", 0)
        try:
            self.postmaster = int((mesh.data_dir / "pg" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            self.postmaster = 0
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def _stat(self, pid: str) -> tuple[int, float] | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / self.tick  # ppid, utime + stime

    def sample(self) -> dict[str, dict[str, float]]:
        by_pid = {str(pid): name for name, pid in self.pids.items()}
        if self.postmaster:
            by_pid[str(self.postmaster)] = "postgres"
        if self.mongo:
            by_pid[str(self.mongo)] = "mongo"
        out: dict[str, dict[str, float]] = {}
        if not Path("/proc").is_dir():
            return out
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            stat = self._stat(pid)
            if stat is None:
                continue
            ppid, cpu = stat
            name = by_pid.get(pid)
            if name is None and ppid and ppid in (self.postmaster, self.mongo):
                name = "postgres" if ppid == self.postmaster else "mongo"
            if name is not None:
                out.setdefault(name, {})[pid] = cpu
        return out

    @staticmethod
    def per_request(before: dict, after: dict, requests: int) -> dict[str, float]:
        """Microseconds of CPU per request, by process group (exited processes count what they had)."""
        result = {}
        for name, pids in after.items():
            used = sum(cpu - before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
            result[name] = round(used / requests * 1e6) if requests else 0
        return dict(sorted(result.items()))


# ------------------------------------------------------------------------------------------- main


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [
        [f"{v:,.1f}" if isinstance(v, float) else ("–" if v is None else str(v)) for v in row] for row in rows
    ]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths, strict=True))
        )
    )
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )


async def measure(
    args: argparse.Namespace, mesh: Launcher, prepared: Prepared, http_tool: str, scratch: Path
) -> dict:
    env = {
        **os.environ,
        "LMW_ENV": "dev",
        "LMW_JWT_SECRET": (mesh.data_dir / "secret").read_text().strip(),
        "LMW_LOG_LEVEL": args.log_level,
        "PYTHONUNBUFFERED": "1",
    }
    baselines = Baselines(env)
    baselines.start(["stock", "cached", "starlette", "grpc-echo", "grpc-stack"])
    c, d, t = args.connections, args.duration, args.threads
    readers = prepared.readers
    course, module = prepared.course_id, prepared.module_ids[0]

    def bff(query: str, variables_for=None, users: list[Learner] | None = None) -> HttpTarget:
        if users is None:
            return HttpTarget(mesh.graphql_url, (gql_body(query),), (None,))
        return HttpTarget(
            mesh.graphql_url,
            tuple(gql_body(query, variables_for(u)) for u in users),
            tuple(u.token for u in users),
        )

    targets: dict[str, tuple[HttpTarget, str]] = {
        "starlette": (
            HttpTarget(
                f"http://127.0.0.1:{baselines.ports['starlette']}/graphql", (gql_body(Q_TRIVIAL),), (None,)
            ),
            "Query",
        ),
        "stock_strawberry": (
            HttpTarget(
                f"http://127.0.0.1:{baselines.ports['stock']}/graphql", (gql_body(Q_TRIVIAL),), (None,)
            ),
            "Query",
        ),
        "cached_strawberry": (
            HttpTarget(
                f"http://127.0.0.1:{baselines.ports['cached']}/graphql", (gql_body(Q_TRIVIAL),), (None,)
            ),
            "Query",
        ),
        "bff_trivial": (bff(Q_TRIVIAL), "Query"),
        "catalog": (bff(Q_CATALOG), course),
        "module_content": (bff(Q_CONTENT, lambda u: {"c": course, "m": module}, readers), "markdown"),
        "dashboard": (bff(Q_DASHBOARD, lambda u: {"l": u.id, "c": course}, readers), "recentQuizResults"),
    }
    meter = CpuMeter(mesh)
    meter.pids.update(
        {kind: process.pid for kind, process in zip(baselines.ports, baselines.processes, strict=True)}
    )

    async def metered(coroutine) -> Run:
        before = meter.sample()
        run = await coroutine
        run.cpu_us_per_request = CpuMeter.per_request(before, meter.sample(), run.requests)
        return run

    rounds: dict[str, list[Run]] = {}

    def record(run: Run) -> None:
        rounds.setdefault(run.name, []).append(run)
        _show(run)

    try:
        for target, expect in targets.values():
            verify_http(target, expect)

        progress_request = lpb.GetCourseProgressRequest(
            learner_id=readers[0].id, course_id=course
        ).SerializeToString()

        def progress_ok(raw: bytes) -> bool:
            response = lpb.GetCourseProgressResponse.FromString(raw)
            return response.progress.enrollment.course_id == course and len(response.progress.modules) >= 1

        grpc_paths = [
            (
                "grpc_echo",
                baselines.ports["grpc-echo"],
                ECHO_METHOD,
                None,
                lambda raw: raw == progress_request,
            ),
            (
                "grpc_echo_stack",
                baselines.ports["grpc-stack"],
                ECHO_METHOD,
                readers[0].token,
                lambda raw: raw == progress_request,
            ),
            ("grpc_course_progress", mesh.ports["learner"], PROGRESS_METHOD, readers[0].token, progress_ok),
        ]
        verify_refused(baselines.ports["grpc-stack"], ECHO_METHOD, progress_request)
        for _, port, method, token, check in grpc_paths:
            verify_grpc(port, method, progress_request, token, check)
        # Every path once per round, in the same order, so that a baseline and the paths compared with it
        # are measured close together in time whatever the machine's other load does; medians are reported.
        for number in range(1, args.rounds + 1):
            print(f" round {number} of {args.rounds}", flush=True)
            for name, (target, _) in targets.items():
                record(await metered(http_load(name, target, http_tool, c, d, t, scratch)))
            for name, port, method, token, _ in grpc_paths:
                record(
                    await metered(grpc_load(name, port, method, progress_request, token, c, d, t, scratch))
                )
        for target, expect in targets.values():
            verify_http(target, expect)
        for _, port, method, token, check in grpc_paths:
            verify_grpc(port, method, progress_request, token, check)
    finally:
        baselines.stop()

    isolation: dict[str, Any] = {}
    if not args.skip_isolation and prepared.background:
        target, expect = targets["module_content"]
        generations, failures, seconds = [], 0, []
        per_round = len(prepared.background) // args.rounds
        for number in range(args.rounds):
            record(await metered(http_load("module_content_idle", target, http_tool, c, d, t, scratch)))
            # Learners of this round only: each of their reads is a preference combination not read before.
            learners = prepared.background[number * per_round : (number + 1) * per_round]
            loop = GenerationLoop(mesh.graphql_url, course, module, learners)
            task = asyncio.create_task(loop.run())
            await asyncio.sleep(2.0)  # the loop is generating before the measurement starts
            generated_before = loop.generated
            busy = await metered(http_load("module_content_busy", target, http_tool, c, d, t, scratch))
            generations.append(loop.generated - generated_before)
            busy.note = f"{generations[-1]} generations during the run"
            loop.stop()
            await task
            failures += loop.failed
            seconds += loop.seconds
            record(busy)
        verify_http(target, expect)
        idle, busy = (
            median_run(rounds.pop("module_content_idle")),
            median_run(rounds.pop("module_content_busy")),
        )
        isolation = {
            "idle": asdict(idle),
            "busy": asdict(busy),
            "background_learners": per_round,
            "generations_during_runs": generations,
            "generation_failures": failures,
            "generation_median_s": round(statistics.median(seconds), 3) if seconds else None,
            "p99_ratio_busy_to_idle": ratio(busy.p99_ms, idle.p99_ms),
            "p50_ratio_busy_to_idle": ratio(busy.p50_ms, idle.p50_ms),
            "rps_ratio_busy_to_idle": ratio(busy.rps, idle.rps),
        }
    runs = {name: median_run(measured) for name, measured in rounds.items()}
    return {
        "runs": {k: asdict(v) for k, v in runs.items()},
        "rounds": {k: [asdict(r) for r in v] for k, v in rounds.items()},
        "isolation": isolation,
    }


def median_run(runs: list[Run]) -> Run:
    """Each figure the median of the rounds (CPU per request too); errors summed."""
    first = runs[0]
    names = {n for r in runs for n in r.cpu_us_per_request}
    return Run(
        first.name,
        first.tool,
        first.connections,
        statistics.median(r.seconds for r in runs),
        {n: round(statistics.median(r.cpu_us_per_request.get(n, 0) for r in runs)) for n in sorted(names)},
        sum(r.requests for r in runs),
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p95_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        max(r.max_ms for r in runs),
        sum(r.errors for r in runs),
        "; ".join(r.note for r in runs if r.note),
    )


def _show(run: Run) -> None:
    extra = f", {run.errors} errors" if run.errors else ""
    note = f" ({run.note})" if run.note else ""
    print(
        f"  {run.name:<24} {run.rps:9,.0f} req/s  p50 {run.p50_ms:6.2f}  p95 {run.p95_ms:6.2f}  "
        f"p99 {run.p99_ms:6.2f} ms{extra}{note}",
        flush=True,
    )


# The ratios printed, each path against its baseline, and the goals of issue 9.
RATIOS = [
    ("bff_trivial", "stock_strawberry", "BFF GraphQL layer vs stock Strawberry ({ __typename })", 5.0),
    ("bff_trivial", "starlette", "BFF { __typename } vs bare Starlette JSON", None),
    ("stock_strawberry", "starlette", "stock Strawberry vs bare Starlette JSON", None),
    ("cached_strawberry", "stock_strawberry", "Strawberry with its two caches only vs stock", None),
    ("bff_trivial", "cached_strawberry", "BFF vs Strawberry with its two caches only", None),
    ("catalog", "bff_trivial", "catalog first page vs BFF { __typename }", None),
    ("module_content", "bff_trivial", "cached moduleContent vs BFF { __typename }", 0.35),
    ("dashboard", "bff_trivial", "dashboard vs BFF { __typename }", None),
    ("grpc_echo_stack", "grpc_echo", "echo through the service interceptor stack (JWT) vs bare echo", 0.5),
    ("grpc_course_progress", "grpc_echo", "learner GetCourseProgress (stack + PostgreSQL) vs bare echo", 0.5),
]
P99_GOALS = {"module_content": 25.0, "dashboard": 40.0}


def paired_ratio(rounds: dict[str, list[dict]], path: str, baseline: str) -> dict:
    """The throughput ratio in each round (path and baseline measured minutes apart at most), and their
    median: what drifts on a shared machine between rounds cancels out."""
    per_round = [ratio(a["rps"], b["rps"]) for a, b in zip(rounds[path], rounds[baseline], strict=True)]
    return {"ratio": statistics.median(per_round), "per_round": per_round}


def report(figures: dict) -> None:
    runs = figures["runs"]
    print(
        f"\nServing paths, medians of {figures['rounds']} rounds ({figures['connections']} connections, "
        f"{figures['duration_s']:g} s a path and round; "
        f"load average {figures['load_average_start']} at start, {figures['load_average_end']} at end)\n"
    )
    rows = []
    for name, r in runs.items():
        goal = P99_GOALS.get(name)
        rows.append(
            [
                name,
                r["tool"],
                r["rps"],
                round(r["p50_ms"], 2),
                round(r["p95_ms"], 2),
                round(r["p99_ms"], 2),
                r["errors"],
                f"< {goal:g} ms: {'met' if r['p99_ms'] < goal else 'NOT met'}" if goal else "",
            ]
        )
    print_table(["path", "tool", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors", "p99 goal"], rows)
    print("\nThroughput ratios (median of the rounds' ratios; each round's in brackets)\n")
    rows = []
    for entry in figures["ratios"]:
        goal = entry["goal"]
        verdict = (
            "" if goal is None else f">= {goal:g}: {'met' if (entry['ratio'] or 0) >= goal else 'NOT met'}"
        )
        each = ", ".join(f"{r:.2f}" for r in entry["per_round"])
        rows.append(
            [entry["label"], "–" if entry["ratio"] is None else f"{entry['ratio']:.3f}", f"[{each}]", verdict]
        )
    print_table(["ratio", "x", "rounds", "goal"], rows)
    names = sorted({k for r in runs.values() for k in r.get("cpu_us_per_request", {})})
    if names:
        print("\nCPU per request, microseconds, by process (user + system)\n")
        rows = [[n, *(r.get("cpu_us_per_request", {}).get(k, 0) for k in names)] for n, r in runs.items()]
        print_table(["path", *names], rows)
    iso = figures.get("isolation") or {}
    if iso:
        print(
            f"\nIsolation: cached moduleContent p99 {iso['idle']['p99_ms']:.2f} ms idle, {iso['busy']['p99_ms']:.2f} ms "
            f"with {iso['background_learners']} learners generating ({', '.join(map(str, iso['generations_during_runs']))} generations in the runs, "
            f"median {iso['generation_median_s']} s each): p99 ratio {iso['p99_ratio_busy_to_idle']} "
            f"(goal <= 2: {'met' if (iso['p99_ratio_busy_to_idle'] or 99) <= 2 else 'NOT met'}); "
            f"throughput ratio {iso['rps_ratio_busy_to_idle']}"
        )


def hold(path: str, mesh: Launcher, prepared: Prepared) -> None:
    reader = prepared.readers[0]
    targets = {
        "graphql_url": mesh.graphql_url,
        "ports": mesh.ports,
        "course_id": prepared.course_id,
        "module_ids": prepared.module_ids,
        "readers": [asdict(r) for r in prepared.readers],
        "background": [asdict(r) for r in prepared.background],
        "bodies": {
            "trivial": gql_body(Q_TRIVIAL).decode(),
            "catalog": gql_body(Q_CATALOG).decode(),
            "module_content": gql_body(
                Q_CONTENT, {"c": prepared.course_id, "m": prepared.module_ids[0]}
            ).decode(),
            "dashboard": gql_body(Q_DASHBOARD, {"l": reader.id, "c": prepared.course_id}).decode(),
        },
        "pids": mesh.pids(),
    }
    Path(path).write_text(json.dumps(targets, indent=2) + "\n")
    print(f"targets written to {path}; the mesh stays up until Ctrl-C", flush=True)
    with contextlib.suppress(KeyboardInterrupt):  # or SIGTERM
        while True:
            time.sleep(3600)  # the launcher restarts a crashed service and says so


def telemetry_overhead(args: argparse.Namespace) -> int:
    from scripts.bench.serving_telemetry import run

    scratch = Path(tempfile.mkdtemp(prefix="lmw-serving-telemetry-"))
    try:
        queries = {"content": Q_CONTENT, "dashboard": Q_DASHBOARD}
        figures = run(args, prepare, queries, scratch / "mesh", CpuMeter)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="write the figures as one JSON object")
    parser.add_argument("--connections", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument("--duration", type=float, default=6.0, help="seconds per path and round (default 6)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds over every path; medians are reported (default 3)"
    )
    parser.add_argument("--threads", type=int, default=1, help="load generator threads (default 1)")
    parser.add_argument("--tool", choices=["auto", "wrk", "hey"], default="auto", help="HTTP load generator")
    parser.add_argument(
        "--readers", type=int, default=8, help="learners whose cached content is read (default 8)"
    )
    parser.add_argument(
        "--background",
        type=int,
        default=2,
        help="learners generating during isolation, per round (default 2)",
    )
    parser.add_argument("--skip-isolation", action="store_true")
    parser.add_argument(
        "--telemetry",
        action="store_true",
        help="measure no telemetry vs. tracing off vs. tracing on at ratio 0.1 (serving_telemetry.py)",
    )
    parser.add_argument(
        "--log-level", default="INFO", help="LMW_LOG_LEVEL of the mesh (default INFO, as in production)"
    )
    parser.add_argument(
        "--keep", metavar="DIR", help="use (and keep) this data dir instead of a temporary one"
    )
    parser.add_argument(
        "--hold",
        metavar="FILE",
        help="prepare the data, write the targets (URLs, tokens, ids) to FILE and keep the mesh up until "
        "Ctrl-C, measuring nothing (for profiling by hand)",
    )
    args = parser.parse_args()
    if args.telemetry:
        return telemetry_overhead(args)

    http_tool = require_tools(find_tools(), args.tool)
    signal.signal(
        signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum)
    )  # stop the mesh on the way out
    # The services' warnings and errors only: an INFO line is skipped unparsed (the BFF logs each request;
    # parsing them here would take CPU from the servers being measured).
    printer = Printer(show_level="WARNING")
    load_start = load_average()
    scratch = Path(tempfile.mkdtemp(prefix="lmw-serving-"))
    data_dir = Path(args.keep) if args.keep else scratch / "mesh"
    mesh = Launcher(data_dir, free_ports(), printer=printer, log_level=args.log_level)
    try:
        mesh.start()
        prepared = asyncio.run(prepare(mesh, args.readers, args.background * args.rounds, printer.say))
        if args.hold:
            hold(args.hold, mesh, prepared)
            return 0
        print(
            f"\nload ({http_tool}, h2load): {args.connections} connections, {args.duration:g} s per path, "
            f"{args.rounds} rounds",
            flush=True,
        )
        measured = asyncio.run(measure(args, mesh, prepared, http_tool, scratch))
    finally:
        mesh.stop()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    runs = measured["runs"]
    figures: dict[str, Any] = {
        "benchmark": "serving",
        "connections": args.connections,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "http_tool": http_tool,
        "grpc_tool": "h2load",
        "load_average_start": load_start,
        "load_average_end": load_average(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "log_level": args.log_level,
        "prepared": prepared.stats,
        "runs": runs,
        "ratios": [
            {"path": a, "baseline": b, "label": label, "goal": goal, **paired_ratio(measured["rounds"], a, b)}
            for a, b, label, goal in RATIOS
            if a in runs and b in runs
        ],
        "p99_goals_ms": P99_GOALS,
        "isolation": measured["isolation"],
        "rounds_measured": measured["rounds"],
    }
    report(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
