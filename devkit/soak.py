"""The soak's simulated learners and its checks, shared by scripts/soak.py (the real mesh as processes, for
minutes) and tests/e2e/test_soak_quick.py (the in-process mesh, for seconds).

`run_learners` runs concurrent learners that walk the whole path in GraphQL until a deadline: sign up,
enroll, set preferences, and for each module in order: read the content (the `moduleContent` query or, every
other journey, the `moduleContentStream` subscription), get the quiz, submit it with a unique attempt id
(every third submission is sent twice at once, as a client retry would: the same result must come back),
retake after studying until it passes (at most `max_attempts`), complete the module; then the dashboard,
whose attempt counts and statuses must agree with what the learner did. Every acknowledged submission is
recorded in the `SoakLog`.

`verify` then counts the DATABASES against the log: learner_svc's PostgreSQL (quiz_attempts,
module_progress, enrollments), orchestrator_svc's PostgreSQL (quiz_results and their `recorded` flag,
module_content) and its MongoDB (preferences): each learner's attempts are exactly the acknowledged ones
(none lost, none extra, none twice for one quiz, same score and verdict), completed modules match, content
was generated at most once per learner, module and inputs. `MemoryWatch` samples the RSS of processes.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit import PASSWORD
from devkit.demo import choose_answer, revealed_answers
from devkit.graphql import GraphQLClient, GraphQLFailure

DETAIL = ("BRIEF", "MODERATE", "DETAILED")
STYLE = ("EXAMPLES", "CONCEPTUAL", "PRACTICAL", "VISUAL")
LANGUAGE = ("SIMPLE", "BALANCED", "TECHNICAL")
# GraphQL errors a learner may meet on the path without anything being wrong (none by default).
EXPECTED_CODES: frozenset[str] = frozenset()

Q_CONTENT = "query($c: ID!, $m: ID!) { moduleContent(courseId: $c, moduleId: $m) { markdown } }"
S_CONTENT = """subscription($c: ID!, $m: ID!) { moduleContentStream(courseId: $c, moduleId: $m) {
  markdownDelta content { markdown } } }"""
Q_QUIZ = """query($c: ID!, $m: ID!, $r: Boolean!) { quiz(courseId: $c, moduleId: $m, retake: $r) {
  id submitted questions { id text options } } }"""
M_SUBMIT = """mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!, $id: ID) {
  submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a, attemptId: $id) {
    attemptId quizId score passed questions { questionId correct correctIndex explanation } } }"""
Q_DASHBOARD = """query($c: ID!) { dashboard(courseId: $c) {
  progress completedModuleCount modules { moduleId status attemptCount } } }"""


# ------------------------------------------------------------------------------------------ records


@dataclass
class Attempt:
    module_id: str
    quiz_id: str
    score: float
    passed: bool


@dataclass
class Journey:
    """One simulated learner account and everything the services acknowledged to it."""

    learner_id: str = ""
    email: str = ""
    enrolled: bool = False
    preferences: dict[str, str] = field(default_factory=dict)  # GraphQL enum names
    read: set[str] = field(default_factory=set)  # modules whose content was read
    attempts: dict[str, Attempt] = field(default_factory=dict)  # acknowledged, by attempt id
    unacknowledged: set[str] = field(default_factory=set)  # submitted, answer lost: may or may not exist
    completed: set[str] = field(default_factory=set)
    retries: int = 0  # submissions sent twice at once


@dataclass
class SoakLog:
    course_id: str
    module_ids: tuple[str, ...]
    journeys: list[Journey] = field(default_factory=list)
    requests: collections.Counter = field(default_factory=collections.Counter)  # by operation
    errors: list[str] = field(default_factory=list)  # unexpected: "operation CODE message"
    error_codes: collections.Counter = field(default_factory=collections.Counter)
    expected_errors: int = 0
    inconsistencies: list[str] = field(default_factory=list)  # what GraphQL answers said that disagrees
    seconds: float = 0.0

    @property
    def request_count(self) -> int:
        return sum(self.requests.values())


class _Stop(Exception):
    """The journey ends here (time is up, or a step failed)."""


class Walker:
    """One simulated learner: journeys one after another until the deadline."""

    def __init__(
        self, anonymous: GraphQLClient, log: SoakLog, deadline: float, number: int, max_attempts: int
    ):
        self.anonymous = anonymous
        self.log = log
        self.deadline = deadline
        self.number = number
        self.max_attempts = max_attempts
        self.random = random.Random(number)
        self.submissions = 0

    async def call(self, operation: str, coroutine, *, committed: bool = False) -> Any:
        """Run one step; time up (unless `committed`: the step was decided already) or a failure ends the
        journey."""
        if not committed and time.monotonic() > self.deadline:
            coroutine.close()
            raise _Stop
        self.log.requests[operation] += 1
        try:
            return await coroutine
        except GraphQLFailure as failure:
            codes = failure.codes or ["TRANSPORT"]
            for code, error in zip(codes, failure.errors, strict=False):
                self.log.error_codes[code or "(none)"] += 1
                if code in EXPECTED_CODES:
                    self.log.expected_errors += 1
                else:
                    message = error.get("message") if isinstance(error, dict) else error
                    self.log.errors.append(f"{operation} {code} {str(message)[:200]}")
            raise _Stop from None
        except Exception as error:  # a transport failure: a finding too
            self.log.error_codes[type(error).__name__] += 1
            self.log.errors.append(f"{operation} {type(error).__name__} {str(error)[:200]}")
            raise _Stop from None

    async def run(self) -> None:
        journey_no = 0
        while time.monotonic() < self.deadline:
            journey = Journey()
            self.log.journeys.append(journey)
            with contextlib.suppress(_Stop):
                await self.journey(journey, journey_no)
            journey_no += 1

    async def journey(self, journey: Journey, journey_no: int) -> None:
        log = self.log
        c = log.course_id
        journey.email = f"soak-{self.number}-{journey_no}-{uuid.uuid4().hex[:8]}@example.org"
        signed = await self.call(
            "signUp",
            self.anonymous.execute(
                """mutation($e: String!, $p: String!) {
                  signUp(role: LEARNER, email: $e, password: $p, name: "Soak") { token user { id } } }""",
                {"e": journey.email, "p": PASSWORD},
            ),
        )
        journey.learner_id = signed["signUp"]["user"]["id"]
        me = self.anonymous.as_user(signed["signUp"]["token"])
        enrolled = await self.call(
            "enroll", me.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": c})
        )
        journey.enrolled = enrolled["enroll"]["state"] == "ACTIVE"
        wanted = {
            "detailLevel": self.random.choice(DETAIL),
            "explanationStyle": self.random.choice(STYLE),
            "language": self.random.choice(LANGUAGE),
        }
        got = await self.call(
            "setPreferences",
            me.execute(
                """mutation($c: ID!, $p: PreferencesInput!) { setPreferences(courseId: $c, preferences: $p) {
                  detailLevel explanationStyle language } }""",
                {"c": c, "p": wanted},
            ),
        )
        journey.preferences = wanted
        if got["setPreferences"] != wanted:
            log.inconsistencies.append(f"setPreferences answered {got['setPreferences']}, asked {wanted}")

        for module_id in log.module_ids:
            variables = {"c": c, "m": module_id}
            if journey_no % 2:
                markdown = await self.call("moduleContentStream", self.stream_content(me, variables))
            else:
                markdown = (await self.call("moduleContent", me.execute(Q_CONTENT, variables)))[
                    "moduleContent"
                ]["markdown"]
            if not markdown.strip():
                log.inconsistencies.append(f"{journey.learner_id}: empty content of {module_id}")
            journey.read.add(module_id)

            revealed: dict[str, str] = {}
            passed = False
            for attempt_no in range(self.max_attempts):
                quiz = (await self.call("quiz", me.execute(Q_QUIZ, {**variables, "r": attempt_no > 0})))[
                    "quiz"
                ]
                if quiz["submitted"]:
                    log.inconsistencies.append(f"{journey.learner_id}: quiz {quiz['id']} came back submitted")
                answers = [
                    {"questionId": q["id"], "selectedIndex": choose_answer(q, revealed)}
                    for q in quiz["questions"]
                ]
                result = await self.submit(me, journey, module_id, quiz, answers)
                if result["passed"]:
                    passed = True
                    break
                revealed = revealed_answers(quiz, result, studied=markdown)
            if not passed:
                break  # the next module stays locked
            await self.call(
                "completeModule",
                me.execute(
                    "mutation($c: ID!, $m: ID!) { completeModule(courseId: $c, moduleId: $m) { courseCompleted } }",
                    variables,
                ),
            )
            journey.completed.add(module_id)

        dashboard = (await self.call("dashboard", me.execute(Q_DASHBOARD, {"c": c})))["dashboard"]
        modules = {m["moduleId"]: m for m in dashboard["modules"]}
        for module_id in log.module_ids:
            attempts = sum(a.module_id == module_id for a in journey.attempts.values())
            seen = modules.get(module_id, {})
            if seen.get("attemptCount") != attempts:
                log.inconsistencies.append(
                    f"{journey.learner_id}: dashboard shows {seen.get('attemptCount')} attempts at {module_id}, "
                    f"{attempts} acknowledged"
                )
            if (seen.get("status") == "COMPLETED") != (module_id in journey.completed):
                log.inconsistencies.append(
                    f"{journey.learner_id}: dashboard status {seen.get('status')} of {module_id}, "
                    f"completed: {module_id in journey.completed}"
                )
        if dashboard["completedModuleCount"] != len(journey.completed):
            log.inconsistencies.append(
                f"{journey.learner_id}: dashboard completedModuleCount {dashboard['completedModuleCount']}, "
                f"completed {len(journey.completed)}"
            )

    async def stream_content(self, me: GraphQLClient, variables: dict[str, str]) -> str:
        """The module's content over the subscription: deltas, then the whole content last."""
        events = [data["moduleContentStream"] async for data in me.subscribe(S_CONTENT, variables)]
        if not events or not events[-1]["content"]:
            raise GraphQLFailure({"message": "moduleContentStream ended without the content"})
        deltas = "".join(e["markdownDelta"] or "" for e in events[:-1])
        markdown = events[-1]["content"]["markdown"]
        if deltas != markdown:
            self.log.inconsistencies.append(
                f"the streamed deltas ({len(deltas)} chars) differ from the content"
            )
        return markdown

    async def submit(
        self, me: GraphQLClient, journey: Journey, module_id: str, quiz: dict, answers: list[dict]
    ) -> dict:
        attempt_id = uuid.uuid4().hex
        variables = {"c": self.log.course_id, "m": module_id, "q": quiz["id"], "a": answers, "id": attempt_id}
        if time.monotonic() > self.deadline:
            raise _Stop
        self.submissions += 1
        twice = self.submissions % 3 == 0
        journey.unacknowledged.add(attempt_id)  # until an answer comes back
        if twice:  # a client retry racing its first try: both must get the one result
            journey.retries += 1
            first, second = await asyncio.gather(
                self.call("submitQuiz", me.execute(M_SUBMIT, variables), committed=True),
                self.call("submitQuiz", me.execute(M_SUBMIT, variables), committed=True),
            )
            if first != second:
                self.log.inconsistencies.append(
                    f"{attempt_id}: a resubmission answered {second}, first {first}"
                )
        else:
            first = await self.call("submitQuiz", me.execute(M_SUBMIT, variables), committed=True)
        result = first["submitQuiz"]
        if result["attemptId"] != attempt_id or result["quizId"] != quiz["id"]:
            self.log.inconsistencies.append(f"{attempt_id}: submitQuiz answered for {result['attemptId']}")
        journey.unacknowledged.discard(attempt_id)
        journey.attempts[attempt_id] = Attempt(
            module_id, quiz["id"], float(result["score"]), bool(result["passed"])
        )
        return result


async def run_learners(
    graphql_url: str,
    course_id: str,
    module_ids: tuple[str, ...],
    learners: int,
    seconds: float,
    *,
    max_attempts: int = 3,
    halfway=None,
) -> SoakLog:
    """Run `learners` concurrent walkers for `seconds` (a journey under way finishes its current step);
    `halfway`, an async callable, runs once half the time has passed (the middle RSS sample)."""
    log = SoakLog(course_id, tuple(module_ids))
    started = time.monotonic()
    deadline = started + seconds
    async with GraphQLClient(graphql_url) as anonymous:
        walkers = [Walker(anonymous, log, deadline, n, max_attempts) for n in range(learners)]
        tasks = [asyncio.create_task(w.run(), name=f"learner {w.number}") for w in walkers]
        if halfway is not None:
            await asyncio.sleep(seconds / 2)
            await halfway()
        await asyncio.gather(*tasks)
    log.seconds = time.monotonic() - started
    return log


# ------------------------------------------------------------------------------------- verification


@dataclass
class Stores:
    learner_pg: str
    orchestrator_pg: str
    orchestrator_mongo: str  # a URL whose path names the database


@dataclass
class Verification:
    checked: int = 0  # records compared
    lost: int = 0  # acknowledged, not stored
    extra: int = 0  # stored, never acknowledged nor possibly submitted
    duplicated: int = 0  # two stored for one quiz / one content input
    mismatched: int = 0  # stored with other values than acknowledged
    unrecorded: int = 0  # graded by orchestrator_svc, not acknowledged by learner_svc
    problems: list[str] = field(default_factory=list)

    @property
    def violations(self) -> int:
        return self.lost + self.extra + self.duplicated + self.mismatched + self.unrecorded


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def verify(log: SoakLog, stores: Stores) -> Verification:
    """Count, in the databases, what each learner was acknowledged (blocking: run it in a thread)."""
    import psycopg
    from pymongo import MongoClient

    v = Verification()
    journeys = {j.learner_id: j for j in log.journeys if j.learner_id}
    ids = list(journeys)

    def problem(kind: str, text: str) -> None:
        setattr(v, kind, getattr(v, kind) + 1)
        if len(v.problems) < 50:
            v.problems.append(f"{kind}: {text}")

    def compare_attempts(store: str, rows: list[tuple]) -> None:
        stored: dict[str, dict[str, tuple]] = collections.defaultdict(dict)
        per_quiz = collections.Counter()
        for attempt_id, learner_id, module_id, quiz_id, score, passed in rows:
            stored[learner_id][attempt_id] = (module_id, quiz_id, float(score), bool(passed))
            per_quiz[quiz_id] += 1
        for quiz_id, count in per_quiz.items():
            if count > 1:
                problem("duplicated", f"{store}: {count} attempts stored for quiz {quiz_id}")
        for learner_id, journey in journeys.items():
            mine = stored.get(learner_id, {})
            for attempt_id, attempt in journey.attempts.items():
                v.checked += 1
                if attempt_id not in mine:
                    problem("lost", f"{store}: acknowledged attempt {attempt_id} of {learner_id} is missing")
                    continue
                module_id, quiz_id, score, passed = mine[attempt_id]
                if (module_id, quiz_id, passed) != (
                    attempt.module_id,
                    attempt.quiz_id,
                    attempt.passed,
                ) or abs(score - attempt.score) > 1e-6:
                    problem(
                        "mismatched",
                        f"{store}: attempt {attempt_id} stored {mine[attempt_id]}, told {attempt}",
                    )
            for attempt_id in set(mine) - set(journey.attempts) - journey.unacknowledged:
                problem("extra", f"{store}: attempt {attempt_id} of {learner_id} was never submitted")

    with psycopg.connect(_plain(stores.learner_pg), autocommit=True) as conn:
        compare_attempts(
            "learner_svc quiz_attempts",
            conn.execute(
                "SELECT id, learner_id, module_id, quiz_id, score, passed FROM quiz_attempts WHERE learner_id = ANY(%s)",
                (ids,),
            ).fetchall(),
        )
        completed = collections.defaultdict(set)
        started = collections.defaultdict(set)
        for learner_id, module_id, started_at, completed_at in conn.execute(
            """SELECT learner_id, module_id, started_at, completed_at FROM module_progress
               WHERE learner_id = ANY(%s) AND course_id = %s""",
            (ids, log.course_id),
        ).fetchall():
            if completed_at is not None:
                completed[learner_id].add(module_id)
            if started_at is not None:
                started[learner_id].add(module_id)
        enrolled = {
            learner_id
            for learner_id, active in conn.execute(
                "SELECT learner_id, active FROM enrollments WHERE learner_id = ANY(%s) AND course_id = %s",
                (ids, log.course_id),
            ).fetchall()
            if active
        }
    for learner_id, journey in journeys.items():
        v.checked += 2
        if journey.completed != completed.get(learner_id, set()):
            kind = "lost" if journey.completed - completed.get(learner_id, set()) else "extra"
            problem(
                kind,
                f"{learner_id}: completed {sorted(journey.completed)}, stored {sorted(completed[learner_id])}",
            )
        if not journey.read <= started.get(learner_id, set()):
            problem(
                "lost", f"{learner_id}: read {sorted(journey.read)}, started {sorted(started[learner_id])}"
            )
        if journey.enrolled:
            v.checked += 1
            if learner_id not in enrolled:
                problem("lost", f"{learner_id}: enrollment acknowledged, not active in learner_svc")

    with psycopg.connect(_plain(stores.orchestrator_pg), autocommit=True) as conn:
        rows = conn.execute(
            """SELECT attempt_id, learner_id, module_id, quiz_id, score, passed, recorded FROM quiz_results
               WHERE learner_id = ANY(%s)""",
            (ids,),
        ).fetchall()
        compare_attempts("orchestrator_svc quiz_results", [row[:6] for row in rows])
        for attempt_id, learner_id, *_, recorded in rows:
            if not recorded and attempt_id in journeys[learner_id].attempts:
                problem("unrecorded", f"attempt {attempt_id}: learner_svc never acknowledged it")
        for learner_id, module_id, inputs_hash, count in conn.execute(
            """SELECT learner_id, module_id, inputs_hash, count(*) FROM module_content WHERE learner_id = ANY(%s)
               GROUP BY learner_id, module_id, inputs_hash""",
            (ids,),
        ).fetchall():
            v.checked += 1
            if count > 1:
                problem(
                    "duplicated",
                    f"{learner_id}: {count} contents of {module_id} for inputs {inputs_hash[:12]}",
                )

    with MongoClient(stores.orchestrator_mongo, tz_aware=True) as client:
        collection = client.get_default_database()["preferences"]
        docs = {
            doc["learner_id"]: doc
            for doc in collection.find({"learner_id": {"$in": ids}, "course_id": log.course_id})
        }
    for learner_id, journey in journeys.items():
        if not journey.preferences:
            continue
        v.checked += 1
        doc = docs.get(learner_id)
        if doc is None:
            problem("lost", f"{learner_id}: preferences acknowledged, none stored")
            continue
        stored = {
            "detailLevel": str(doc.get("detail_level", "")).upper(),
            "explanationStyle": str(doc.get("explanation_style", "")).upper(),
            "language": str(doc.get("language", "")).upper(),
        }
        if stored != journey.preferences:
            problem("mismatched", f"{learner_id}: preferences stored {stored}, set {journey.preferences}")
    return v


# ------------------------------------------------------------------------------------------- memory


def rss_of(pid: int) -> int:
    """Resident memory of one process, bytes (0 when it is gone). Every service is one process; children
    are left out on purpose: a short-lived fork (a library probing the system) would count the parent's
    pages twice."""
    try:
        import psutil
    except ImportError:  # Linux without psutil
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except OSError:
            return 0
        return 0
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


def sample_rss(pids: dict[str, int]) -> dict[str, int]:
    return {name: rss_of(pid) for name, pid in pids.items()}


class MemoryWatch:
    """RSS of each process at the start, the middle and the end of the run, and its peak (sampled every
    `every_s` in between: argon2 hashing, for one, takes 64 MiB per password while it runs)."""

    def __init__(self, pids: dict[str, int], every_s: float = 2.0) -> None:
        self.pids = pids
        self.every_s = every_s
        self.samples: dict[str, dict[str, int]] = {}
        self.peak: dict[str, int] = {}
        self._task: asyncio.Task | None = None

    def sample(self, at: str | None = None) -> None:
        current = sample_rss(self.pids)
        for name, rss in current.items():
            self.peak[name] = max(self.peak.get(name, 0), rss)
        if at is not None:
            self.samples[at] = current

    def start(self) -> None:
        self.sample("start")

        async def tick() -> None:
            while True:
                await asyncio.sleep(self.every_s)
                await asyncio.to_thread(self.sample)

        self._task = asyncio.create_task(tick(), name="memory watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample("end")

    def rows(self) -> list[dict[str, Any]]:
        mib = 1024 * 1024
        rows = []
        for name in self.samples["start"]:
            start, middle, end = (self.samples.get(at, {}).get(name, 0) for at in ("start", "middle", "end"))
            rows.append(
                {
                    "process": name,
                    "start_mib": round(start / mib, 1),
                    "middle_mib": round(middle / mib, 1),
                    "end_mib": round(end / mib, 1),
                    "peak_mib": round(self.peak.get(name, 0) / mib, 1),
                    "growth_mib": round((end - start) / mib, 1),
                }
            )
        return rows


# ----------------------------------------------------------------------------------------------- report


def summary(log: SoakLog, verification: Verification, memory: list[dict[str, Any]]) -> dict[str, Any]:
    journeys = [j for j in log.journeys if j.learner_id]
    return {
        "seconds": round(log.seconds, 1),
        "journeys": len(journeys),
        "finished_course": sum(len(j.completed) == len(log.module_ids) for j in journeys),
        "requests": log.request_count,
        "requests_per_s": round(log.request_count / log.seconds, 1) if log.seconds else 0.0,
        "requests_by_operation": dict(sorted(log.requests.items())),
        "submissions_acknowledged": sum(len(j.attempts) for j in journeys),
        "submissions_sent_twice": sum(j.retries for j in journeys),
        "submissions_unacknowledged": sum(len(j.unacknowledged) for j in journeys),
        "modules_completed": sum(len(j.completed) for j in journeys),
        "errors": len(log.errors),
        "errors_by_code": dict(log.error_codes),
        "expected_errors": log.expected_errors,
        "inconsistencies": len(log.inconsistencies),
        "records_checked": verification.checked,
        "records_lost": verification.lost,
        "records_extra": verification.extra,
        "records_duplicated": verification.duplicated,
        "records_mismatched": verification.mismatched,
        "attempts_unrecorded": verification.unrecorded,
        "memory": memory,
    }


def print_report(
    figures: dict[str, Any], log: SoakLog, verification: Verification, max_growth_mib: float | None
):
    print(f"\n== soak: {figures['journeys']} journeys in {figures['seconds']} s")
    print(f"requests        {figures['requests']} ({figures['requests_per_s']}/s)")
    for operation, count in figures["requests_by_operation"].items():
        print(f"  {operation:<22} {count}")
    print(
        f"submissions     {figures['submissions_acknowledged']} acknowledged "
        f"({figures['submissions_sent_twice']} sent twice at once), "
        f"{figures['submissions_unacknowledged']} unacknowledged"
    )
    print(
        f"modules done    {figures['modules_completed']}; journeys through the whole course: {figures['finished_course']}"
    )
    print(f"errors          {figures['errors']} unexpected {figures['errors_by_code'] or ''}")
    for error in log.errors[:10]:
        print(f"  {error}")
    print(f"inconsistent    {figures['inconsistencies']} GraphQL answers")
    for text in log.inconsistencies[:10]:
        print(f"  {text}")
    print(f"records checked {verification.checked}")
    print(
        f"records lost    {verification.lost}  (extra {verification.extra}, duplicated {verification.duplicated}, "
        f"mismatched {verification.mismatched}, unrecorded {verification.unrecorded})"
    )
    for text in verification.problems[:20]:
        print(f"  {text}")
    if figures["memory"]:
        print("memory (RSS, MiB; growth = end - start)")
        print(f"  {'process':<14} {'start':>8} {'middle':>8} {'end':>8} {'peak':>8} {'growth':>8}")
        for row in figures["memory"]:
            flag = ""
            if max_growth_mib is not None and row["growth_mib"] > max_growth_mib:
                flag = "  <- grows"
            print(
                f"  {row['process']:<14} {row['start_mib']:>8} {row['middle_mib']:>8} {row['end_mib']:>8} "
                f"{row['peak_mib']:>8} {row['growth_mib']:>+8}{flag}"
            )


def violations(figures: dict[str, Any], max_growth_mib: float | None) -> list[str]:
    found = []
    for key in ("errors", "inconsistencies", "records_lost", "records_extra", "records_duplicated"):
        if figures[key]:
            found.append(f"{key} = {figures[key]}")
    for key in ("records_mismatched", "attempts_unrecorded"):
        if figures[key]:
            found.append(f"{key} = {figures[key]}")
    if not figures["submissions_acknowledged"]:
        found.append("no submission was acknowledged: nothing was soaked")
    if max_growth_mib is not None:
        for row in figures["memory"]:
            if row["growth_mib"] > max_growth_mib:
                found.append(f"{row['process']} grew {row['growth_mib']} MiB from the start to the end")
    return found
