"""Query resolvers: each maps onto one service call (plus DataLoader reads for nested courses)."""

from __future__ import annotations

import asyncio
import contextlib

import strawberry
from strawberry.types import Info

from bff.clients import unary
from bff.errors import ApiError
from bff.loaders import get_loaders
from bff.schema.common import clients, context, selects, token_role
from bff.schema.pagination import fetch_connection
from bff.schema.types import (
    Connection,
    Course,
    CourseAnalytics,
    CourseFile,
    Dashboard,
    Enrollment,
    IndexingStatus,
    Instructor,
    Job,
    Learner,
    ModuleContent,
    ModuleObjectives,
    Preferences,
    Quiz,
    QuizAttempt,
    TutorMessage,
    User,
)
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.learner.v1 import learner_service_pb2 as lpb
from lmw.orchestrator.v1 import orchestrator_service_pb2 as opb

# Pages of objectives read for one `learningObjectives` query (a course has at most a few hundred modules).
_MAX_OBJECTIVE_PAGES = 20


async def _settle(awaitable) -> None:
    with contextlib.suppress(Exception):
        await awaitable


def _courses_to_nodes(info: Info):
    loaders = get_loaders(info.context)

    def to_node(course: ipb.Course) -> Course:
        loaders.prime_course(course)
        return Course.from_pb(course)

    return to_node


@strawberry.type
class Query:
    @strawberry.field(
        description="The signed-in user (Learner or Instructor, by the token's role); null if anonymous."
    )
    async def me(self, info: Info) -> User | None:
        token = context(info).token
        if not token:
            return None
        role = token_role(token)
        if role == "learner":
            learner = await unary(clients(info).learner.GetMe(lpb.GetMeRequest()))
            return Learner.from_pb(learner.learner)
        if role == "instructor":
            instructor = await unary(clients(info).instructor.GetMe(ipb.GetMeRequest()))
            return Instructor.from_pb(instructor.instructor)
        raise ApiError("this token does not belong to a user", "FORBIDDEN", "ROLE_NOT_ALLOWED")

    @strawberry.field(description="Published courses (anonymous callers allowed).")
    async def catalog(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Course]:
        async def fetch(size: int, token: str):
            async def list_page() -> ipb.ListPublishedCoursesResponse:
                return await unary(
                    clients(info).instructor.ListPublishedCourses(
                        ipb.ListPublishedCoursesRequest(page_size=size, page_token=token)
                    )
                )

            # Anonymous pages are the same for everyone; a caller with a token is asked for with it (a bad
            # token is refused here as everywhere).
            anonymous = context(info).token is None
            page = await (
                clients(info).anonymous_catalog.get((size, token), list_page) if anonymous else list_page()
            )
            return page.courses, page.next_page_token

        return await fetch_connection(first, after, fetch, _courses_to_nodes(info))

    @strawberry.field
    async def course(self, info: Info, id: strawberry.ID) -> Course:
        return Course.from_pb(await get_loaders(info.context).course.load(id))

    @strawberry.field(description="The learner's enrollments; `course` is resolved through a DataLoader.")
    async def my_courses(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        include_unenrolled: bool = False,
    ) -> Connection[Enrollment]:
        async def fetch(size: int, token: str):
            page = await unary(
                clients(info).learner.ListEnrollments(
                    lpb.ListEnrollmentsRequest(
                        page_size=size, page_token=token, include_unenrolled=include_unenrolled
                    )
                )
            )
            return page.enrollments, page.next_page_token

        return await fetch_connection(first, after, fetch, Enrollment.from_pb)

    @strawberry.field(description="A learner's course dashboard; learnerId defaults to the caller.")
    async def dashboard(
        self, info: Info, learner_id: strawberry.ID | None = None, *, course_id: strawberry.ID
    ) -> Dashboard:
        call = unary(
            clients(info).orchestrator.GetDashboard(
                opb.GetDashboardRequest(learner_id=learner_id or "", course_id=course_id)
            )
        )
        if clients(info).published_courses.peek(course_id) is None and selects(info, "course"):
            # Course details in parallel with the dashboard; Dashboard.course then reads the loader's cache
            # (and reports a failed load there).
            response, _ = await asyncio.gather(
                call, _settle(get_loaders(info.context).course.load(course_id))
            )
        else:
            response = await call
        return Dashboard.from_pb(response.dashboard)

    @strawberry.field(description="Personalized content of a module (generated once, then cached).")
    async def module_content(
        self, info: Info, course_id: strawberry.ID, module_id: strawberry.ID
    ) -> ModuleContent:
        response = await unary(
            clients(info).orchestrator.GetModuleContent(
                opb.GetModuleContentRequest(course_id=course_id, module_id=module_id),
                timeout=context(info).settings.generation_timeout_s,
            )
        )
        return ModuleContent.from_pb(response.content)

    @strawberry.field(description="The module's quiz (questions and options only); retake draws a fresh one.")
    async def quiz(
        self, info: Info, course_id: strawberry.ID, module_id: strawberry.ID, retake: bool = False
    ) -> Quiz:
        response = await unary(
            clients(info).orchestrator.GetQuiz(
                opb.GetQuizRequest(course_id=course_id, module_id=module_id, retake=retake),
                timeout=context(info).settings.generation_timeout_s,
            )
        )
        return Quiz.from_pb(response.quiz)

    @strawberry.field(
        description="The learner's own quiz attempts in a course (or one module), newest first."
    )
    async def quiz_attempts(
        self,
        info: Info,
        course_id: strawberry.ID,
        module_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[QuizAttempt]:
        async def fetch(size: int, token: str):
            page = await unary(
                clients(info).learner.ListQuizAttempts(
                    lpb.ListQuizAttemptsRequest(
                        course_id=course_id, module_id=module_id or "", page_size=size, page_token=token
                    )
                )
            )
            return page.attempts, page.next_page_token

        return await fetch_connection(first, after, fetch, QuizAttempt.from_pb)

    @strawberry.field(description="The learner's preferences in a course (defaults until set).")
    async def preferences(self, info: Info, course_id: strawberry.ID) -> Preferences:
        response = await unary(
            clients(info).orchestrator.GetPreferences(opb.GetPreferencesRequest(course_id=course_id))
        )
        return Preferences.from_pb(response.preferences)

    @strawberry.field(description="Tutor conversation; oldest first within a page, pages go back in time.")
    async def tutor_history(
        self, info: Info, course_id: strawberry.ID, first: int | None = None, after: str | None = None
    ) -> Connection[TutorMessage]:
        async def fetch(size: int, token: str):
            page = await unary(
                clients(info).orchestrator.GetTutorHistory(
                    opb.GetTutorHistoryRequest(course_id=course_id, page_size=size, page_token=token)
                )
            )
            return page.messages, page.next_page_token

        return await fetch_connection(first, after, fetch, TutorMessage.from_pb)

    @strawberry.field(description="The signed-in instructor's courses.")
    async def instructor_courses(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Course]:
        async def fetch(size: int, token: str):
            page = await unary(
                clients(info).instructor.ListMyCourses(
                    ipb.ListMyCoursesRequest(page_size=size, page_token=token)
                )
            )
            return page.courses, page.next_page_token

        return await fetch_connection(first, after, fetch, _courses_to_nodes(info))

    @strawberry.field
    async def course_files(
        self, info: Info, course_id: strawberry.ID, first: int | None = None, after: str | None = None
    ) -> Connection[CourseFile]:
        async def fetch(size: int, token: str):
            page = await unary(
                clients(info).instructor.ListCourseFiles(
                    ipb.ListCourseFilesRequest(course_id=course_id, page_size=size, page_token=token)
                )
            )
            return page.files, page.next_page_token

        return await fetch_connection(first, after, fetch, CourseFile.from_pb)

    @strawberry.field(description="Objectives of one module, or of every module when moduleId is omitted.")
    async def learning_objectives(
        self, info: Info, course_id: strawberry.ID, module_id: strawberry.ID | None = None
    ) -> list[ModuleObjectives]:
        modules: list[ModuleObjectives] = []
        token = ""
        for _ in range(_MAX_OBJECTIVE_PAGES):
            page = await unary(
                clients(info).instructor.ListLearningObjectives(
                    ipb.ListLearningObjectivesRequest(
                        course_id=course_id, module_id=module_id or "", page_size=100, page_token=token
                    )
                )
            )
            modules.extend(ModuleObjectives.from_pb(m) for m in page.modules)
            token = page.next_page_token
            if not token:
                break
        return modules

    @strawberry.field
    async def job(self, info: Info, id: strawberry.ID) -> Job:
        response = await unary(clients(info).instructor.GetJob(ipb.GetJobRequest(job_id=id)))
        return Job.from_pb(response.job)

    @strawberry.field
    async def course_analytics(self, info: Info, course_id: strawberry.ID) -> CourseAnalytics:
        response = await unary(
            clients(info).instructor.GetCourseAnalytics(ipb.GetCourseAnalyticsRequest(course_id=course_id))
        )
        return CourseAnalytics.from_pb(response)

    @strawberry.field
    async def indexing_status(self, info: Info, course_id: strawberry.ID) -> IndexingStatus:
        response = await unary(
            clients(info).instructor.GetIndexingStatus(ipb.GetIndexingStatusRequest(course_id=course_id))
        )
        return IndexingStatus.from_pb(response)
