"""The demo scenario, walked through GraphQL only (what `make demo` shows): an instructor signs up, builds a
course from the sample materials, uploads each module's files for it, follows the indexing, generates, reviews
and approves the objectives and publishes; a learner finds the course, enrolls, sets preferences, reads personalized content,
takes the quiz (and retakes it after studying), sees the dashboard and asks the tutor.

The course is read from scripts/sample_course/course.json (`{title, description, modules: [{title,
description, files}]}`) and its files; each run signs up new accounts, so reruns on kept data work.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

from devkit import SAMPLE_COURSE
from devkit.graphql import GraphQLClient, GraphQLFailure
from devkit.logs import Printer

DEMO_PASSWORD = "Demo-passw0rd!"
MATERIAL_SUFFIXES = (".md", ".pdf", ".html")

FALLBACK_COURSE = {
    "title": "A Tiny Course on Averages",
    "description": "Mean, median and mode: what they are and when to use which.",
    "modules": [
        {
            "title": "Measures of Center",
            "description": "The mean, the median and the mode.",
            "files": ["averages.md"],
        }
    ],
}
FALLBACK_MATERIAL = """# Measures of Center

## The mean
The mean is the sum of the values divided by their number. It uses every value, so a single extreme
value (an outlier) pulls it strongly.

## The median
The median is the middle value once the data are sorted. Half the values lie below it and half above,
so it resists outliers and suits skewed data such as incomes.

## The mode
The mode is the most frequent value. It is the only measure of center that works for categorical data.
"""

Q_JOB = """subscription($id: ID!) { jobProgress(id: $id) {
  id kind state progress message itemsDone itemsTotal items { name state message chunkCount } } }"""


def load_course(directory: Path, out: Printer, scratch: Path) -> tuple[dict[str, Any], list[list[Path]]]:
    """The course description and its material files: those of each module in the spec's order, then the
    course-wide ones (in the directory but in no module). A built-in tiny course when course.json is absent."""
    spec_file = directory / "course.json"
    if spec_file.is_file():
        spec = json.loads(spec_file.read_text())
        modules = [
            [directory / name for name in module.get("files", [])] for module in spec.get("modules", [])
        ]
        listed = {path for files in modules for path in files}
        others = sorted(
            p for p in directory.iterdir() if p.suffix.lower() in MATERIAL_SUFFIXES and p not in listed
        )
        return spec, [[p for p in files if p.is_file()] for files in [*modules, others]]
    out.line(f"  ({spec_file} not found: using a built-in one-module course)")
    tmp = scratch / "fallback_course"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "averages.md").write_text(FALLBACK_MATERIAL)
    return FALLBACK_COURSE, [[tmp / "averages.md"], []]


def revealed_answers(quiz: dict[str, Any], result: dict[str, Any], studied: str = "") -> dict[str, str]:
    """Question text -> text of its correct option, from a graded attempt. By text, not index or id: a
    retake may draw other questions and shuffles the options. The explanations join the studied text."""
    questions = {q["id"]: q for q in quiz["questions"]}
    revealed: dict[str, str] = {}
    for graded in result["questions"]:
        question = questions.get(graded["questionId"])
        if question and 0 <= graded["correctIndex"] < len(question["options"]):
            revealed[question["text"]] = question["options"][graded["correctIndex"]]
    explanations = " ".join(q.get("explanation") or "" for q in result["questions"])
    revealed[_STUDIED] = f"{studied} {explanations}"
    return revealed


_STUDIED = "\0studied"  # key of the text the learner has read (content, explanations)
_ARTICLES = re.compile(r"\b(?:a|an|the|a\(n\))\b", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", _ARTICLES.sub(" ", text.lower())).split()


def _statement(question: str, option: str) -> str:
    """The sentence a question and one of its options make together."""
    question = question.strip()
    if question.lower().startswith("fill in the blank:"):
        return question.split(":", 1)[1].replace("____", option)
    if match := re.match(r"which statement best describes (.+?)\??$", question, re.IGNORECASE):
        return f"{match.group(1)} {option}"
    if match := re.match(r"what is (.+?)\??$", question, re.IGNORECASE):
        return f"{match.group(1)} is {option}"
    return f"{question} {option}"


def choose_answer(question: dict[str, Any], revealed: dict[str, str]) -> int:
    """The option revealed as correct before; else, when the learner has studied, the option whose
    statement appears in (or best overlaps) what they read; else the first option (a weak guess)."""
    options = question["options"]
    answer = revealed.get(question["text"])
    if answer in options:
        return options.index(answer)
    studied = " ".join(_words(revealed.get(_STUDIED, "")))
    if not studied:
        return 0
    grams = {tuple(w) for w in zip(*(studied.split()[i:] for i in range(3)), strict=False)}

    def score(index: int) -> tuple[bool, float, int]:
        words = _words(_statement(question["text"], options[index]))
        own = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
        overlap = sum(g in grams for g in own) / max(len(own), 1)
        return " ".join(words) in studied, overlap, -index

    return max(range(len(options)), key=score)


class Demo:
    def __init__(self, graphql_url: str, scratch: Path, printer: Printer) -> None:
        self.graphql_url = graphql_url
        self.scratch = scratch  # where the built-in course is written when course.json is absent
        self.out = printer
        self.step_no = 0
        self.step_started = 0.0
        self.started = time.monotonic()
        self.tty = printer.out.isatty()

    # ---------------------------------------------------------------------------------------- output

    def step(self, title: str) -> None:
        self.end_step()
        self.step_no += 1
        self.step_started = time.monotonic()
        self.out.line("")
        self.out.line(self.out.paint(f"== {self.step_no}. {title}", "1;37"))

    def end_step(self) -> None:
        if self.step_no:
            self.out.line(self.out.paint(f"   ({time.monotonic() - self.step_started:.1f} s)", "2"))

    def info(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.out.line(f"   {line}")

    async def watch_job(self, client: GraphQLClient, job_id: str, label: str) -> dict[str, Any]:
        """Follow a job over the `jobProgress` subscription with a text progress bar."""
        last: dict[str, Any] = {}
        shown = -1
        async for data in client.subscribe(Q_JOB, {"id": job_id}):
            last = data["jobProgress"]
            fraction = max(0.0, min(1.0, float(last["progress"] or 0.0)))
            filled = round(fraction * 30)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {fraction * 100:5.1f}%  {last['state']:<9} {label}"
            if self.tty:
                self.out.raw("\r   " + bar[:110].ljust(110))
            elif int(fraction * 4) != shown or last["state"] in ("SUCCEEDED", "FAILED"):
                shown = int(fraction * 4)
                self.info(bar)
        if self.tty:
            self.out.raw("\n")
        if not last:
            raise GraphQLFailure({"message": f"jobProgress({job_id}) ended without an update"})
        for item in last.get("items") or []:
            detail = f"{item['chunkCount']} chunks" if last["kind"] == "ingest" else item.get("message") or ""
            self.info(f"  - {item['name']}: {item['state']}{', ' + detail if detail else ''}")
        if last["state"] != "SUCCEEDED":
            raise GraphQLFailure({"message": f"job {job_id} ended {last['state']}: {last['message']}"})
        return last

    # -------------------------------------------------------------------------------------- scenario

    async def run(self) -> None:
        run_id = time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:4]
        async with GraphQLClient(self.graphql_url) as anonymous:
            course_id, module_ids, titles = await self.instructor_part(anonymous, run_id)
            await self.learner_part(anonymous, run_id, course_id, module_ids, titles)
        self.end_step()
        self.out.line("")
        self.out.line(self.out.paint(f"Demo finished in {time.monotonic() - self.started:.1f} s.", "1;32"))
        self.out.line(
            f"Portal:   {self.graphql_url.removesuffix('/graphql')}/  (KEEP=1 make demo keeps it running)"
        )
        self.out.line(
            f"Accounts: instructor-{run_id}@demo.example.com, learner-{run_id}@demo.example.com; "
            f"password {DEMO_PASSWORD}"
        )
        self.out.line(f"GraphiQL: {self.graphql_url}")

    async def instructor_part(self, anonymous: GraphQLClient, run_id: str) -> tuple[str, list[str], dict]:
        self.step("An instructor signs up")
        email = f"instructor-{run_id}@demo.example.com"
        data = await anonymous.execute(
            """mutation($email: String!, $password: String!) {
              signUp(role: INSTRUCTOR, email: $email, password: $password, name: "Ada Instructor") {
                token expiresAt user { id displayName email } } }""",
            {"email": email, "password": DEMO_PASSWORD},
        )
        teacher = anonymous.as_user(data["signUp"]["token"])
        self.info(
            f"{data['signUp']['user']['displayName']} <{email}>, token valid until {data['signUp']['expiresAt']}"
        )

        self.step("The instructor creates a course with modules")
        spec, files_by_module = load_course(SAMPLE_COURSE, self.out, self.scratch)
        course = (
            await teacher.execute(
                "mutation($t: String!, $d: String!) { createCourse(title: $t, description: $d) { id title } }",
                {"t": spec["title"], "d": spec.get("description", "")},
            )
        )["createCourse"]
        course_id = course["id"]
        module_ids: list[str] = []
        titles: dict[str, str] = {}
        for module in spec["modules"]:
            created = (
                await teacher.execute(
                    """mutation($c: ID!, $t: String!, $d: String!) {
                      createModule(courseId: $c, title: $t, description: $d) { id title position } }""",
                    {"c": course_id, "t": module["title"], "d": module.get("description", "")},
                )
            )["createModule"]
            module_ids.append(created["id"])
            titles[created["id"]] = created["title"]
            self.info(f"module {created['position'] + 1}: {created['title']}")
        self.info(f"course {course['title']!r} ({course_id})")

        self.step("Upload each module's files for it (GraphQL multipart request)")
        uploaded = []
        for module_id, files in zip([*module_ids, None], files_by_module, strict=True):
            if not files:
                continue
            results = (
                await teacher.upload(
                    """mutation($c: ID!, $m: ID, $files: [Upload!]!) {
                      uploadCourseFiles(courseId: $c, moduleId: $m, files: $files) {
                        duplicate file { id name mediaType sizeBytes } job { id } } }""",
                    {"c": course_id, "m": module_id},
                    files,
                )
            )["uploadCourseFiles"]
            for result in results:
                f = result["file"]
                where = titles[module_id] if module_id else "the whole course"
                self.info(f"{f['name']} for {where}: {f['mediaType']}, {int(f['sizeBytes'])} bytes")
            uploaded += results

        self.step("Indexing (jobProgress subscription)")
        jobs = {r["job"]["id"]: r["file"]["name"] for r in uploaded if r.get("job")}
        for job_id, name in jobs.items():
            await self.watch_job(teacher, job_id, name)
        status = (
            await teacher.execute(
                "query($c: ID!) { indexingStatus(courseId: $c) { state fileCount indexedFileCount chunkCount } }",
                {"c": course_id},
            )
        )["indexingStatus"]
        self.info(
            f"index {status['state']}: {status['indexedFileCount']}/{status['fileCount']} files, {status['chunkCount']} chunks"
        )

        self.step("Generate learning objectives (job + progress)")
        job = (
            await teacher.execute(
                "mutation($c: ID!) { generateLearningObjectives(courseId: $c, count: 3) { id state } }",
                {"c": course_id},
            )
        )["generateLearningObjectives"]
        await self.watch_job(teacher, job["id"], "objectives of every module")

        self.step("Review and approve the objectives")
        objectives = (
            await teacher.execute(
                """query($c: ID!) { learningObjectives(courseId: $c) {
                  moduleId version approved objectives { text citations { fileName heading page } } } }""",
                {"c": course_id},
            )
        )["learningObjectives"]
        for module in objectives:
            self.info(f"{titles.get(module['moduleId'], module['moduleId'])} (v{module['version']}):")
            for objective in module["objectives"]:
                source = objective["citations"][0]["fileName"] if objective["citations"] else "no citation"
                self.info(f"  - {objective['text']}  [{source}]")
            await teacher.execute(
                """mutation($c: ID!, $m: ID!, $v: Int!) {
                  approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }""",
                {"c": course_id, "m": module["moduleId"], "v": module["version"]},
            )
        self.info(f"approved objectives of {len(objectives)} module(s)")

        self.step("Publish the course")
        published = (
            await teacher.execute(
                "mutation($c: ID!) { publishCourse(courseId: $c) { published } }", {"c": course_id}
            )
        )["publishCourse"]
        self.info(f"published: {published['published']}")
        return course_id, module_ids, titles

    async def learner_part(
        self, anonymous: GraphQLClient, run_id: str, course_id: str, module_ids: list[str], titles: dict
    ) -> None:
        self.step("A learner signs up, finds the course in the catalog and enrolls")
        email = f"learner-{run_id}@demo.example.com"
        data = await anonymous.execute(
            """mutation($email: String!, $password: String!) {
              signUp(role: LEARNER, email: $email, password: $password, name: "Lin Learner") { token user { id } } }""",
            {"email": email, "password": DEMO_PASSWORD},
        )
        student = anonymous.as_user(data["signUp"]["token"])
        catalog = (await anonymous.execute("{ catalog(first: 100) { edges { node { id title } } } }"))[
            "catalog"
        ]
        visible = any(edge["node"]["id"] == course_id for edge in catalog["edges"])
        self.info(
            f"Lin Learner <{email}>; the catalog lists {len(catalog['edges'])} course(s), ours: {visible}"
        )
        await student.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": course_id})
        prefs = (
            await student.execute(
                """mutation($c: ID!) { setPreferences(courseId: $c, preferences:
                  {detailLevel: DETAILED, explanationStyle: EXAMPLES, language: SIMPLE}) {
                  detailLevel explanationStyle language } }""",
                {"c": course_id},
            )
        )["setPreferences"]
        self.info(
            f"enrolled; preferences: {prefs['detailLevel']}, {prefs['explanationStyle']}, {prefs['language']}"
        )

        module_id = module_ids[0]
        self.step(f"Personalized content of {titles[module_id]!r} (moduleContentStream subscription)")
        deltas, content = 0, None
        async for data in student.subscribe(
            """subscription($c: ID!, $m: ID!) { moduleContentStream(courseId: $c, moduleId: $m) {
              markdownDelta content { markdown citations { fileName heading page snippet } } } }""",
            {"c": course_id, "m": module_id},
        ):
            event = data["moduleContentStream"]
            if event["markdownDelta"]:
                deltas += 1
            if event["content"]:
                content = event["content"]
        if content is None:
            raise GraphQLFailure({"message": "moduleContentStream ended without the final content"})
        lines = [line for line in content["markdown"].splitlines() if line.strip()]
        self.info(f"{deltas} deltas, {len(content['markdown'])} characters; the first lines:")
        for line in lines[:12]:
            self.info(f"  | {line[:110]}")
        self.info(f"citations ({len(content['citations'])}):")
        for citation in content["citations"][:6]:
            where = citation["heading"] or (f"page {citation['page']}" if citation["page"] else "")
            self.info(f"  - {citation['fileName']} › {where}")

        self.step("Take the quiz (a quick guess: the first option of every question)")
        result, quiz = await self.take_quiz(student, course_id, module_id, retake=False, revealed={})
        if not result["passed"]:
            self.step("Remediation: the learner studies the explanations and the content, then retakes")
            revealed = revealed_answers(quiz, result, studied=content["markdown"])
            result, quiz = await self.take_quiz(student, course_id, module_id, retake=True, revealed=revealed)
        if result["passed"]:
            done = (
                await student.execute(
                    """mutation($c: ID!, $m: ID!) { completeModule(courseId: $c, moduleId: $m) {
                      nextModuleId courseCompleted } }""",
                    {"c": course_id, "m": module_id},
                )
            )["completeModule"]
            following = titles.get(done["nextModuleId"] or "", "none: the course is complete")
            self.info(f"module completed; next: {following}")
        else:
            self.info("still below the pass mark: the module stays open (the dashboard suggests what to do)")

        self.step("The learner's dashboard")
        dashboard = (
            await student.execute(
                """query($c: ID!) { dashboard(courseId: $c) {
                  course { title modules { id } } progress completedModuleCount
                  preferences { detailLevel explanationStyle language }
                  modules { title status bestScore attemptCount }
                  recentQuizResults { score passed }
                  mastery { text pMastery mastered }
                  nextStep { kind message } } }""",
                {"c": course_id},
            )
        )["dashboard"]
        self.print_dashboard(dashboard)

        self.step("Ask the tutor (tutorAnswer subscription)")
        question = "What is the difference between the mean and the median?"
        self.info(f"Q: {question}")
        answer = None
        async for data in student.subscribe(
            """subscription($c: ID!, $q: String!, $m: ID) { tutorAnswer(courseId: $c, question: $q, moduleId: $m) {
              textDelta message { text grounded citations { fileName heading } } } }""",
            {"c": course_id, "q": question, "m": module_id},
        ):
            if data["tutorAnswer"]["message"]:
                answer = data["tutorAnswer"]["message"]
        if answer is None:
            raise GraphQLFailure({"message": "tutorAnswer ended without the final message"})
        for line in [x for x in answer["text"].splitlines() if x.strip()][:8]:
            self.info(f"A: {line[:110]}")
        sources = sorted({c["fileName"] for c in answer["citations"]})
        self.info(f"grounded: {answer['grounded']}; sources: {', '.join(sources) or 'none'}")

    async def take_quiz(
        self, student: GraphQLClient, course_id: str, module_id: str, retake: bool, revealed: dict[str, str]
    ) -> tuple[dict, dict]:
        quiz = (
            await student.execute(
                """query($c: ID!, $m: ID!, $r: Boolean!) { quiz(courseId: $c, moduleId: $m, retake: $r) {
                  id passMark questions { id text options } } }""",
                {"c": course_id, "m": module_id, "r": retake},
            )
        )["quiz"]
        answers = [
            {"questionId": q["id"], "selectedIndex": choose_answer(q, revealed)} for q in quiz["questions"]
        ]
        self.info(f"{len(quiz['questions'])} questions, pass mark {quiz['passMark']:.0%}")
        for number, question in enumerate(quiz["questions"][:2], 1):
            self.info(f"  Q{number}. {question['text'][:100]}")
            for index, option in enumerate(question["options"]):
                self.info(f"      {'ABCDEFGH'[index]}) {option[:90]}")
        result = (
            await student.execute(
                """mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!) {
                  submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a) {
                    score passed passMark questions { questionId selectedIndex correctIndex correct explanation }
                    mastery { text pMastery mastered } } }""",
                {"c": course_id, "m": module_id, "q": quiz["id"], "a": answers},
            )
        )["submitQuiz"]
        texts = {q["id"]: q["text"] for q in quiz["questions"]}
        verdict = "PASSED" if result["passed"] else "not passed"
        self.info(f"score {result['score']:.0%} (pass mark {result['passMark']:.0%}): {verdict}")
        for graded in result["questions"]:
            if graded["correct"]:
                continue
            chosen, right = "ABCDEFGH"[graded["selectedIndex"] % 8], "ABCDEFGH"[graded["correctIndex"] % 8]
            self.info(f"  ✗ {texts.get(graded['questionId'], '')[:90]}")
            self.info(f"      chose {chosen}, correct {right}: {graded['explanation'][:160]}")
        return result, quiz

    def print_dashboard(self, d: dict[str, Any]) -> None:
        p = d["preferences"]
        self.info(
            f"{d['course']['title']}: progress {d['progress']:.0%}, {d['completedModuleCount']} module(s) completed"
        )
        self.info(f"preferences: {p['detailLevel']}, {p['explanationStyle']}, {p['language']}")
        for m in d["modules"]:
            self.info(
                f"  {m['title'][:40]:<40} {m['status']:<12} best {m['bestScore']:.0%}, {m['attemptCount']} attempt(s)"
            )
        if d["recentQuizResults"]:
            scores = ", ".join(
                f"{r['score']:.0%}{' ✓' if r['passed'] else ''}" for r in d["recentQuizResults"]
            )
            self.info(f"recent quiz results: {scores}")
        for m in d["mastery"][:6]:
            self.info(
                f"  mastery {m['pMastery']:.2f}{' (mastered)' if m['mastered'] else ''}: {m['text'][:80]}"
            )
        if d["nextStep"]:
            self.info(f"next step: {d['nextStep']['kind']}: {d['nextStep']['message']}")
