"""Translates InstructorService protos to use-case calls and back; nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import asdict

from instructor_svc.app import InstructorApp
from instructor_svc.domain import (
    Course,
    CourseAnalytics,
    CourseFile,
    FileState,
    IndexState,
    Instructor,
    Module,
    ModuleObjectives,
    Objective,
)
from lmw.common.v1 import common_pb2
from lmw.instructor.v1 import instructor_service_pb2 as pb
from lmw.instructor.v1 import instructor_service_pb2_grpc as pb_grpc
from lmw_common.auth import Access, require_principal
from lmw_common.citations import citation_from_pb, citation_pb
from lmw_common.errors import InvalidArgument
from lmw_common.grpc_server import ServiceSpec
from lmw_common.jobs import job_pb
from lmw_common.protoconv import access_token, timestamp

ACCESS = {
    "SignUp": Access.PUBLIC,
    "LogIn": Access.PUBLIC,
    "GetMe": Access.INSTRUCTOR,
    "CreateCourse": Access.INSTRUCTOR,
    # Owner and services: any course; learners: published courses.
    "GetCourse": Access.AUTHENTICATED,
    "UpdateCourse": Access.INSTRUCTOR,
    "DeleteCourse": Access.INSTRUCTOR,
    "ListMyCourses": Access.INSTRUCTOR,
    "ListPublishedCourses": Access.PUBLIC,
    "PublishCourse": Access.INSTRUCTOR,
    "UnpublishCourse": Access.INSTRUCTOR,
    "CreateModule": Access.INSTRUCTOR,
    "UpdateModule": Access.INSTRUCTOR,
    "DeleteModule": Access.INSTRUCTOR,
    "ReorderModules": Access.INSTRUCTOR,
    "UploadCourseFile": Access.INSTRUCTOR,
    "ListCourseFiles": Access.INSTRUCTOR,
    "DeleteCourseFile": Access.INSTRUCTOR,
    "MoveCourseFile": Access.INSTRUCTOR,
    # Services, the owner, and learners enrolled in the published course (checked in the use case).
    "ReadCourseFile": Access.AUTHENTICATED,
    "GetIndexingStatus": Access.INSTRUCTOR,
    "GenerateLearningObjectives": Access.INSTRUCTOR,
    # Owner and services; learners too for published courses.
    "ListLearningObjectives": Access.AUTHENTICATED,
    "UpdateLearningObjectives": Access.INSTRUCTOR,
    "ApproveLearningObjectives": Access.INSTRUCTOR,
    "GetJob": Access.INSTRUCTOR,
    "WatchJob": Access.INSTRUCTOR,
    "GetCourseAnalytics": Access.INSTRUCTOR,
}

_FILE_STATES = {
    FileState.PENDING: pb.FILE_STATE_PENDING,
    FileState.INDEXING: pb.FILE_STATE_INDEXING,
    FileState.INDEXED: pb.FILE_STATE_INDEXED,
    FileState.FAILED: pb.FILE_STATE_FAILED,
}
_INDEX_STATES = {
    IndexState.EMPTY: pb.INDEX_STATE_EMPTY,
    IndexState.INDEXING: pb.INDEX_STATE_INDEXING,
    IndexState.READY: pb.INDEX_STATE_READY,
    IndexState.PARTIAL: pb.INDEX_STATE_PARTIAL,
}


def instructor_pb(i: Instructor) -> pb.Instructor:
    return pb.Instructor(
        id=i.id, email=i.email, display_name=i.display_name, create_time=timestamp(i.created_at)
    )


def module_pb(m: Module) -> pb.Module:
    return pb.Module(
        id=m.id,
        course_id=m.course_id,
        title=m.title,
        description=m.description,
        position=m.position,
        objectives_version=m.objectives_version,
        objectives_approved=m.objectives_approved,
        objectives_stale=m.objectives_stale,
        pass_mark=m.pass_mark,
    )


def course_pb(c: Course) -> pb.Course:
    return pb.Course(
        id=c.id,
        instructor_id=c.instructor_id,
        title=c.title,
        description=c.description,
        published=c.published,
        modules=[module_pb(m) for m in c.modules],
        create_time=timestamp(c.created_at),
        update_time=timestamp(c.updated_at),
        materials_version=c.materials_version,
    )


def file_pb(f: CourseFile) -> pb.CourseFile:
    return pb.CourseFile(
        id=f.id,
        course_id=f.course_id,
        name=f.name,
        media_type=f.media_type,
        size_bytes=f.size_bytes,
        sha256=f.sha256,
        state=_FILE_STATES[f.state],
        state_message=f.state_message,
        chunk_count=f.chunk_count,
        create_time=timestamp(f.created_at),
        module_id=f.module_id,
    )


def objective_pb(o: Objective) -> common_pb2.LearningObjective:
    return common_pb2.LearningObjective(id=o.id, text=o.text, citations=[citation_pb(c) for c in o.citations])


def objective_from_pb(o: common_pb2.LearningObjective) -> Objective:
    return Objective(o.id, o.text, tuple(citation_from_pb(c) for c in o.citations))


def module_objectives_pb(m: ModuleObjectives) -> pb.ModuleObjectives:
    return pb.ModuleObjectives(
        module_id=m.module_id,
        version=m.version,
        approved=m.approved,
        stale=m.stale,
        objectives=[objective_pb(o) for o in m.objectives],
    )


def analytics_pb(a: CourseAnalytics) -> pb.GetCourseAnalyticsResponse:
    return pb.GetCourseAnalyticsResponse(
        course_id=a.course_id,
        enrollment_count=a.enrollment_count,
        active_enrollment_count=a.active_enrollment_count,
        modules=[pb.ModuleAnalytics(**asdict(m)) for m in a.modules],
        score_distribution=[
            pb.ScoreBucket(lower=b.lower, upper=b.upper, count=b.count) for b in a.score_distribution
        ],
        weakest_objectives=[pb.ObjectiveAnalytics(**asdict(o)) for o in a.weakest_objectives],
        stuck_learners=[
            pb.StuckLearner(
                learner_id=s.learner_id,
                module_id=s.module_id,
                failed_attempts=s.failed_attempts,
                last_activity_time=timestamp(s.last_activity),
            )
            for s in a.stuck_learners
        ],
    )


class InstructorServicer(pb_grpc.InstructorServiceServicer):
    def __init__(self, app: InstructorApp) -> None:
        self._app = app

    # accounts

    async def SignUp(self, request, context):
        instructor, token, expires_at = await self._app.accounts.sign_up(
            request.email, request.password, request.display_name
        )
        return pb.SignUpResponse(
            instructor=instructor_pb(instructor),
            access_token=access_token(token, expires_at, "instructor", instructor.id),
        )

    async def LogIn(self, request, context):
        instructor, token, expires_at = await self._app.accounts.log_in(request.email, request.password)
        return pb.LogInResponse(
            instructor=instructor_pb(instructor),
            access_token=access_token(token, expires_at, "instructor", instructor.id),
        )

    async def GetMe(self, request, context):
        return pb.GetMeResponse(instructor=instructor_pb(await self._app.accounts.me(require_principal())))

    # courses

    async def CreateCourse(self, request, context):
        course = await self._app.courses.create(require_principal(), request.title, request.description)
        return pb.CreateCourseResponse(course=course_pb(course))

    async def GetCourse(self, request, context):
        return pb.GetCourseResponse(
            course=course_pb(await self._app.courses.get(require_principal(), request.course_id))
        )

    async def UpdateCourse(self, request, context):
        course = await self._app.courses.update(
            require_principal(),
            request.course_id,
            request.title,
            request.description,
            list(request.update_mask.paths),
        )
        return pb.UpdateCourseResponse(course=course_pb(course))

    async def DeleteCourse(self, request, context):
        await self._app.courses.delete(require_principal(), request.course_id)
        return pb.DeleteCourseResponse()

    async def ListMyCourses(self, request, context):
        rows, token = await self._app.courses.list_mine(
            require_principal(), request.page_size, request.page_token
        )
        return pb.ListMyCoursesResponse(courses=[course_pb(c) for c in rows], next_page_token=token)

    async def ListPublishedCourses(self, request, context):
        rows, token = await self._app.courses.list_published(request.page_size, request.page_token)
        return pb.ListPublishedCoursesResponse(courses=[course_pb(c) for c in rows], next_page_token=token)

    async def PublishCourse(self, request, context):
        course = await self._app.courses.publish(require_principal(), request.course_id)
        return pb.PublishCourseResponse(course=course_pb(course))

    async def UnpublishCourse(self, request, context):
        course = await self._app.courses.unpublish(require_principal(), request.course_id)
        return pb.UnpublishCourseResponse(course=course_pb(course))

    # modules

    async def CreateModule(self, request, context):
        module = await self._app.courses.create_module(
            require_principal(), request.course_id, request.title, request.description, request.pass_mark
        )
        return pb.CreateModuleResponse(module=module_pb(module))

    async def UpdateModule(self, request, context):
        module = await self._app.courses.update_module(
            require_principal(),
            request.course_id,
            request.module_id,
            request.title,
            request.description,
            request.pass_mark,
            list(request.update_mask.paths),
        )
        return pb.UpdateModuleResponse(module=module_pb(module))

    async def DeleteModule(self, request, context):
        await self._app.courses.delete_module(require_principal(), request.course_id, request.module_id)
        return pb.DeleteModuleResponse()

    async def ReorderModules(self, request, context):
        course = await self._app.courses.reorder_modules(
            require_principal(), request.course_id, list(request.module_ids)
        )
        return pb.ReorderModulesResponse(course=course_pb(course))

    # files

    async def UploadCourseFile(self, request_iterator, context):
        stream = aiter(request_iterator)
        first = await anext(stream, None)
        if first is None or first.WhichOneof("payload") != "metadata":
            raise InvalidArgument("the first message must carry the metadata", "METADATA_REQUIRED")
        meta = first.metadata

        async def chunks() -> AsyncIterator[bytes]:
            async for message in stream:
                if message.WhichOneof("payload") == "metadata":
                    raise InvalidArgument("only the first message may carry metadata", "UNEXPECTED_METADATA")
                yield message.data

        result = await self._app.files.upload(
            require_principal(), meta.course_id, meta.file_name, meta.size_bytes, chunks(), meta.module_id
        )
        return pb.UploadCourseFileResponse(
            file=file_pb(result.file),
            job=job_pb(result.job) if result.job else None,
            duplicate=result.duplicate,
        )

    async def ListCourseFiles(self, request, context):
        rows, token = await self._app.files.list(
            require_principal(), request.course_id, request.page_size, request.page_token
        )
        return pb.ListCourseFilesResponse(files=[file_pb(f) for f in rows], next_page_token=token)

    async def DeleteCourseFile(self, request, context):
        await self._app.files.delete(require_principal(), request.course_id, request.file_id)
        return pb.DeleteCourseFileResponse()

    async def MoveCourseFile(self, request, context):
        file = await self._app.files.move(
            require_principal(), request.course_id, request.file_id, request.module_id
        )
        return pb.MoveCourseFileResponse(file=file_pb(file))

    async def ReadCourseFile(self, request, context):
        file, chunks = await self._app.files.read(require_principal(), request.course_id, request.file_id)
        yield pb.ReadCourseFileResponse(file=file_pb(file))
        async for data in chunks:
            yield pb.ReadCourseFileResponse(data=data)

    async def GetIndexingStatus(self, request, context):
        status = await self._app.files.indexing_status(require_principal(), request.course_id)
        return pb.GetIndexingStatusResponse(
            state=_INDEX_STATES[status.state],
            file_count=status.file_count,
            indexed_file_count=status.indexed_file_count,
            failed_file_count=status.failed_file_count,
            chunk_count=status.chunk_count,
            last_job=job_pb(status.last_job) if status.last_job else None,
        )

    # objectives

    async def GenerateLearningObjectives(self, request, context):
        job = await self._app.objectives.generate(
            require_principal(), request.course_id, list(request.module_ids), request.count
        )
        return pb.GenerateLearningObjectivesResponse(job=job_pb(job))

    async def ListLearningObjectives(self, request, context):
        rows, token = await self._app.objectives.list(
            require_principal(), request.course_id, request.module_id, request.page_size, request.page_token
        )
        return pb.ListLearningObjectivesResponse(
            modules=[module_objectives_pb(m) for m in rows], next_page_token=token
        )

    async def UpdateLearningObjectives(self, request, context):
        result = await self._app.objectives.update(
            require_principal(),
            request.course_id,
            request.module_id,
            [objective_from_pb(o) for o in request.objectives],
            request.expected_version,
        )
        return pb.UpdateLearningObjectivesResponse(objectives=module_objectives_pb(result))

    async def ApproveLearningObjectives(self, request, context):
        result = await self._app.objectives.approve(
            require_principal(), request.course_id, request.module_id, request.version
        )
        return pb.ApproveLearningObjectivesResponse(objectives=module_objectives_pb(result))

    # jobs

    async def GetJob(self, request, context):
        return pb.GetJobResponse(job=job_pb(await self._app.jobs.get(require_principal(), request.job_id)))

    async def WatchJob(self, request, context):
        async for job in self._app.jobs.watch(require_principal(), request.job_id):
            yield pb.WatchJobResponse(job=job_pb(job))

    # analytics

    async def GetCourseAnalytics(self, request, context):
        return analytics_pb(await self._app.analytics.course(require_principal(), request.course_id))


def service_spec(app: InstructorApp) -> ServiceSpec:
    return ServiceSpec(
        descriptor=pb.DESCRIPTOR.services_by_name["InstructorService"],
        servicer=InstructorServicer(app),
        add_to_server=pb_grpc.add_InstructorServiceServicer_to_server,
        access=ACCESS,
    )
