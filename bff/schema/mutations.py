"""Mutation resolvers, including the multipart upload that streams files to instructor_svc in chunks."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import aclosing

import grpc
import strawberry
from google.protobuf.field_mask_pb2 import FieldMask
from strawberry.file_uploads import Upload
from strawberry.types import Info

from bff.clients import server_stream, unary
from bff.errors import ApiError, bad_input, from_grpc_error
from bff.loaders import get_loaders
from bff.schema.common import clients, context
from bff.schema.types import (
    AuthPayload,
    CompleteModuleResult,
    Course,
    CourseFile,
    Enrollment,
    Instructor,
    Job,
    Learner,
    LearningObjectiveInput,
    Module,
    ModuleObjectives,
    Preferences,
    PreferencesInput,
    QuizAnswerInput,
    QuizResult,
    Role,
    TutorMessage,
    UploadResult,
)
from lmw.common.v1 import common_pb2 as cpb
from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.learner.v1 import learner_service_pb2 as lpb
from lmw.orchestrator.v1 import orchestrator_service_pb2 as opb
from lmw_common.preferences import DEFAULT_PREFERENCES, preferences_pb
from lmw_common.protoconv import from_timestamp

UPLOAD_CHUNK_BYTES = 256 * 1024


def _auth_payload(role: Role, token: cpb.AccessToken, user: Learner | Instructor) -> AuthPayload:
    expires = from_timestamp(token.expire_time) if token.HasField("expire_time") else None
    return AuthPayload(token=token.token, expires_at=expires, role=role, user=user)


def _course(info: Info, course: ipb.Course) -> Course:
    get_loaders(info.context).prime_course(course)  # a changed course must not be served stale
    return Course.from_pb(course)


def _too_large(limit: int) -> ApiError:
    return bad_input(f"the file is larger than {limit} bytes", "FILE_TOO_LARGE", max_bytes=limit)


async def _upload_one(info: Info, course_id: str, upload: Upload, module_id: str) -> UploadResult:
    """Stream one uploaded file to UploadCourseFile: metadata first, then 256 KiB chunks, counting bytes
    as they go; over the limit the call is cancelled and nothing is stored."""
    settings = context(info).settings
    limit = settings.max_upload_bytes
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > limit:
        raise _too_large(limit)
    name = getattr(upload, "filename", None) or "upload"
    call = clients(info).instructor.UploadCourseFile(timeout=settings.stream_timeout_s)
    try:
        try:
            await call.write(
                ipb.UploadCourseFileRequest(
                    metadata=ipb.UploadCourseFileMetadata(
                        course_id=course_id,
                        file_name=name,
                        size_bytes=size if isinstance(size, int) else 0,
                        module_id=module_id,
                    )
                )
            )
            sent = 0
            while chunk := await upload.read(UPLOAD_CHUNK_BYTES):
                sent += len(chunk)
                if sent > limit:
                    call.cancel()
                    raise _too_large(limit)
                await call.write(ipb.UploadCourseFileRequest(data=chunk))
            await call.done_writing()
        except (asyncio.InvalidStateError, grpc.aio.UsageError):
            pass  # the server ended the call early (e.g. NOT_FOUND): awaiting the call gives its status
        response = await call
    except grpc.aio.AioRpcError as exc:
        raise from_grpc_error(exc) from None
    finally:
        call.cancel()  # a no-op once the call finished
    return UploadResult.from_pb(response)


@strawberry.type
class Mutation:
    # ------------------------------------------------------------------------------------------ accounts

    @strawberry.mutation(description="Create an account (learner or instructor) and sign in.")
    async def sign_up(self, info: Info, role: Role, email: str, password: str, name: str) -> AuthPayload:
        if role is Role.LEARNER:
            learner = await unary(
                clients(info).learner.SignUp(
                    lpb.SignUpRequest(email=email, password=password, display_name=name)
                )
            )
            return _auth_payload(role, learner.access_token, Learner.from_pb(learner.learner))
        instructor = await unary(
            clients(info).instructor.SignUp(
                ipb.SignUpRequest(email=email, password=password, display_name=name)
            )
        )
        return _auth_payload(role, instructor.access_token, Instructor.from_pb(instructor.instructor))

    @strawberry.mutation
    async def log_in(self, info: Info, role: Role, email: str, password: str) -> AuthPayload:
        if role is Role.LEARNER:
            learner = await unary(
                clients(info).learner.LogIn(lpb.LogInRequest(email=email, password=password))
            )
            return _auth_payload(role, learner.access_token, Learner.from_pb(learner.learner))
        instructor = await unary(
            clients(info).instructor.LogIn(ipb.LogInRequest(email=email, password=password))
        )
        return _auth_payload(role, instructor.access_token, Instructor.from_pb(instructor.instructor))

    # ------------------------------------------------------------------------------------------- courses

    @strawberry.mutation
    async def create_course(self, info: Info, title: str, description: str = "") -> Course:
        response = await unary(
            clients(info).instructor.CreateCourse(
                ipb.CreateCourseRequest(title=title, description=description)
            )
        )
        return _course(info, response.course)

    @strawberry.mutation(description="Change the given fields only.")
    async def update_course(
        self,
        info: Info,
        course_id: strawberry.ID,
        title: str | None = None,
        description: str | None = None,
    ) -> Course:
        paths = [
            name for name, value in (("title", title), ("description", description)) if value is not None
        ]
        if not paths:
            raise bad_input("give at least one field to change", "NOTHING_TO_UPDATE")
        response = await unary(
            clients(info).instructor.UpdateCourse(
                ipb.UpdateCourseRequest(
                    course_id=course_id,
                    title=title or "",
                    description=description or "",
                    update_mask=FieldMask(paths=paths),
                )
            )
        )
        return _course(info, response.course)

    @strawberry.mutation
    async def delete_course(self, info: Info, course_id: strawberry.ID) -> bool:
        await unary(clients(info).instructor.DeleteCourse(ipb.DeleteCourseRequest(course_id=course_id)))
        get_loaders(info.context).forget_course(course_id)
        return True

    @strawberry.mutation
    async def publish_course(self, info: Info, course_id: strawberry.ID) -> Course:
        response = await unary(
            clients(info).instructor.PublishCourse(ipb.PublishCourseRequest(course_id=course_id))
        )
        return _course(info, response.course)

    @strawberry.mutation
    async def unpublish_course(self, info: Info, course_id: strawberry.ID) -> Course:
        response = await unary(
            clients(info).instructor.UnpublishCourse(ipb.UnpublishCourseRequest(course_id=course_id))
        )
        return _course(info, response.course)

    # ------------------------------------------------------------------------------------------- modules

    @strawberry.mutation
    async def create_module(
        self,
        info: Info,
        course_id: strawberry.ID,
        title: str,
        description: str = "",
        pass_mark: float | None = None,
    ) -> Module:
        response = await unary(
            clients(info).instructor.CreateModule(
                ipb.CreateModuleRequest(
                    course_id=course_id, title=title, description=description, pass_mark=pass_mark or 0.0
                )
            )
        )
        get_loaders(info.context).forget_course(course_id)
        return Module.from_pb(response.module)

    @strawberry.mutation(description="Change the given fields only.")
    async def update_module(
        self,
        info: Info,
        course_id: strawberry.ID,
        module_id: strawberry.ID,
        title: str | None = None,
        description: str | None = None,
        pass_mark: float | None = None,
    ) -> Module:
        given = (("title", title), ("description", description), ("pass_mark", pass_mark))
        paths = [name for name, value in given if value is not None]
        if not paths:
            raise bad_input("give at least one field to change", "NOTHING_TO_UPDATE")
        response = await unary(
            clients(info).instructor.UpdateModule(
                ipb.UpdateModuleRequest(
                    course_id=course_id,
                    module_id=module_id,
                    title=title or "",
                    description=description or "",
                    pass_mark=pass_mark or 0.0,
                    update_mask=FieldMask(paths=paths),
                )
            )
        )
        get_loaders(info.context).forget_course(course_id)
        return Module.from_pb(response.module)

    @strawberry.mutation
    async def delete_module(self, info: Info, course_id: strawberry.ID, module_id: strawberry.ID) -> bool:
        await unary(
            clients(info).instructor.DeleteModule(
                ipb.DeleteModuleRequest(course_id=course_id, module_id=module_id)
            )
        )
        get_loaders(info.context).forget_course(course_id)
        return True

    @strawberry.mutation(description="moduleIds: every module of the course, exactly once, in the new order.")
    async def reorder_modules(
        self, info: Info, course_id: strawberry.ID, module_ids: list[strawberry.ID]
    ) -> Course:
        response = await unary(
            clients(info).instructor.ReorderModules(
                ipb.ReorderModulesRequest(course_id=course_id, module_ids=list(module_ids))
            )
        )
        return _course(info, response.course)

    # --------------------------------------------------------------------------------------------- files

    @strawberry.mutation(
        description="Upload course materials (GraphQL multipart request) for a module, or for the whole course "
        "when moduleId is left out; each file starts an indexing job. Content already in the course comes back "
        "as the existing file (duplicate), wherever it belongs: move it with moveCourseFile."
    )
    async def upload_course_files(
        self,
        info: Info,
        course_id: strawberry.ID,
        files: list[Upload],
        module_id: strawberry.ID | None = None,
    ) -> list[UploadResult]:
        settings = context(info).settings
        if not files:
            raise bad_input("no files given", "REQUIRED", field="files")
        if len(files) > settings.max_files_per_request:
            raise bad_input(
                f"at most {settings.max_files_per_request} files per request", "TOO_MANY_FILES", field="files"
            )
        if any(not hasattr(f, "read") for f in files):
            raise bad_input("files must be multipart file parts", "INVALID_UPLOAD", field="files")
        # Ask first who may upload here (the same rule: the course's owner). A client stream the server
        # refuses while a write is in flight can surface as INTERNAL in grpc.aio (grpc/grpc#36066), so a
        # refusal must come from a unary call to reach the caller as what it is.
        await unary(
            clients(info).instructor.ListCourseFiles(
                ipb.ListCourseFilesRequest(course_id=course_id, page_size=1)
            )
        )
        if module_id:
            course = await unary(
                clients(info).instructor.GetCourse(ipb.GetCourseRequest(course_id=course_id))
            )
            if module_id not in {m.id for m in course.course.modules}:
                raise ApiError("module not found", "NOT_FOUND", "MODULE_NOT_FOUND")
        return [await _upload_one(info, course_id, upload, module_id or "") for upload in files]

    @strawberry.mutation
    async def delete_course_file(self, info: Info, course_id: strawberry.ID, file_id: strawberry.ID) -> bool:
        await unary(
            clients(info).instructor.DeleteCourseFile(
                ipb.DeleteCourseFileRequest(course_id=course_id, file_id=file_id)
            )
        )
        return True

    @strawberry.mutation(
        description="Attach a file to another module, or to the whole course when moduleId is left out. "
        "Refused (FILE_INDEXING) while the file is still being indexed."
    )
    async def move_course_file(
        self,
        info: Info,
        course_id: strawberry.ID,
        file_id: strawberry.ID,
        module_id: strawberry.ID | None = None,
    ) -> CourseFile:
        response = await unary(
            clients(info).instructor.MoveCourseFile(
                ipb.MoveCourseFileRequest(course_id=course_id, file_id=file_id, module_id=module_id or "")
            )
        )
        return CourseFile.from_pb(response.file)

    # ---------------------------------------------------------------------------------------- objectives

    @strawberry.mutation(
        description="Start a job drafting objectives (every module when moduleIds is empty)."
    )
    async def generate_learning_objectives(
        self,
        info: Info,
        course_id: strawberry.ID,
        module_ids: list[strawberry.ID] | None = None,
        count: int | None = None,
    ) -> Job:
        response = await unary(
            clients(info).instructor.GenerateLearningObjectives(
                ipb.GenerateLearningObjectivesRequest(
                    course_id=course_id, module_ids=list(module_ids or []), count=count or 0
                )
            )
        )
        return Job.from_pb(response.job)

    @strawberry.mutation(description="Replace a module's objectives; bumps the version and voids approval.")
    async def update_learning_objectives(
        self,
        info: Info,
        course_id: strawberry.ID,
        module_id: strawberry.ID,
        objectives: list[LearningObjectiveInput],
        expected_version: int = 0,
    ) -> ModuleObjectives:
        response = await unary(
            clients(info).instructor.UpdateLearningObjectives(
                ipb.UpdateLearningObjectivesRequest(
                    course_id=course_id,
                    module_id=module_id,
                    objectives=[cpb.LearningObjective(id=o.id or "", text=o.text) for o in objectives],
                    expected_version=expected_version,
                )
            )
        )
        return ModuleObjectives.from_pb(response.objectives)

    @strawberry.mutation(
        description="Approve the module's objectives at `version` (must be the current one)."
    )
    async def approve_learning_objectives(
        self, info: Info, course_id: strawberry.ID, module_id: strawberry.ID, version: int
    ) -> ModuleObjectives:
        response = await unary(
            clients(info).instructor.ApproveLearningObjectives(
                ipb.ApproveLearningObjectivesRequest(
                    course_id=course_id, module_id=module_id, version=version
                )
            )
        )
        get_loaders(info.context).forget_course(course_id)
        return ModuleObjectives.from_pb(response.objectives)

    # ------------------------------------------------------------------------------------------ learning

    @strawberry.mutation
    async def enroll(self, info: Info, course_id: strawberry.ID) -> Enrollment:
        response = await unary(clients(info).learner.Enroll(lpb.EnrollRequest(course_id=course_id)))
        return Enrollment.from_pb(response.enrollment)

    @strawberry.mutation
    async def unenroll(self, info: Info, course_id: strawberry.ID) -> Enrollment:
        response = await unary(clients(info).learner.Unenroll(lpb.UnenrollRequest(course_id=course_id)))
        return Enrollment.from_pb(response.enrollment)

    @strawberry.mutation(description="Set preferences; fields left out keep their current values.")
    async def set_preferences(
        self, info: Info, course_id: strawberry.ID, preferences: PreferencesInput
    ) -> Preferences:
        changes = preferences.changes()
        if not changes:
            raise bad_input("give at least one preference to change", "NOTHING_TO_UPDATE")
        request = opb.SetPreferencesRequest(
            course_id=course_id,
            preferences=preferences_pb(DEFAULT_PREFERENCES.replace(changes)),
            update_mask=FieldMask(paths=list(changes)),
        )
        response = await unary(clients(info).orchestrator.SetPreferences(request))
        return Preferences.from_pb(response.preferences)

    @strawberry.mutation(
        description="Grade answers; attemptId is an idempotency key (generated when omitted)."
    )
    async def submit_quiz(
        self,
        info: Info,
        course_id: strawberry.ID,
        module_id: strawberry.ID,
        quiz_id: strawberry.ID,
        answers: list[QuizAnswerInput],
        attempt_id: strawberry.ID | None = None,
    ) -> QuizResult:
        response = await unary(
            clients(info).orchestrator.SubmitQuiz(
                opb.SubmitQuizRequest(
                    course_id=course_id,
                    module_id=module_id,
                    quiz_id=quiz_id,
                    attempt_id=attempt_id or str(uuid.uuid4()),
                    answers=[
                        opb.QuizAnswer(question_id=a.question_id, selected_index=a.selected_index)
                        for a in answers
                    ],
                ),
                timeout=context(info).settings.generation_timeout_s,
            )
        )
        return QuizResult.from_pb(response.result)

    @strawberry.mutation
    async def complete_module(
        self, info: Info, course_id: strawberry.ID, module_id: strawberry.ID
    ) -> CompleteModuleResult:
        response = await unary(
            clients(info).orchestrator.CompleteModule(
                opb.CompleteModuleRequest(course_id=course_id, module_id=module_id)
            )
        )
        return CompleteModuleResult(
            next_module_id=strawberry.ID(response.next_module_id) if response.next_module_id else None,
            course_completed=response.course_completed,
        )

    @strawberry.mutation(
        description="Ask the tutor and wait for the whole answer (see `tutorAnswer` to stream)."
    )
    async def ask_tutor(
        self, info: Info, course_id: strawberry.ID, question: str, module_id: strawberry.ID | None = None
    ) -> TutorMessage:
        call = clients(info).orchestrator.AskTutor(
            opb.AskTutorRequest(course_id=course_id, question=question, module_id=module_id or ""),
            timeout=context(info).settings.generation_timeout_s,
        )
        final: opb.TutorMessage | None = None
        async with aclosing(server_stream(call)) as events:
            async for event in events:
                if event.HasField("message"):
                    final = event.message
        if final is None:
            raise ApiError("the tutor gave no answer", "UNAVAILABLE", "NO_ANSWER")
        return TutorMessage.from_pb(final)
