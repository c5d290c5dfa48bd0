import datetime

from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from lmw.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FileState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FILE_STATE_UNSPECIFIED: _ClassVar[FileState]
    FILE_STATE_PENDING: _ClassVar[FileState]
    FILE_STATE_INDEXING: _ClassVar[FileState]
    FILE_STATE_INDEXED: _ClassVar[FileState]
    FILE_STATE_FAILED: _ClassVar[FileState]

class IndexState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INDEX_STATE_UNSPECIFIED: _ClassVar[IndexState]
    INDEX_STATE_EMPTY: _ClassVar[IndexState]
    INDEX_STATE_INDEXING: _ClassVar[IndexState]
    INDEX_STATE_READY: _ClassVar[IndexState]
    INDEX_STATE_PARTIAL: _ClassVar[IndexState]
FILE_STATE_UNSPECIFIED: FileState
FILE_STATE_PENDING: FileState
FILE_STATE_INDEXING: FileState
FILE_STATE_INDEXED: FileState
FILE_STATE_FAILED: FileState
INDEX_STATE_UNSPECIFIED: IndexState
INDEX_STATE_EMPTY: IndexState
INDEX_STATE_INDEXING: IndexState
INDEX_STATE_READY: IndexState
INDEX_STATE_PARTIAL: IndexState

class Instructor(_message.Message):
    __slots__ = ("id", "email", "display_name", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    email: str
    display_name: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., email: _Optional[str] = ..., display_name: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Module(_message.Message):
    __slots__ = ("id", "course_id", "title", "description", "position", "objectives_version", "objectives_approved", "objectives_stale", "pass_mark")
    ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_VERSION_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_APPROVED_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_STALE_FIELD_NUMBER: _ClassVar[int]
    PASS_MARK_FIELD_NUMBER: _ClassVar[int]
    id: str
    course_id: str
    title: str
    description: str
    position: int
    objectives_version: int
    objectives_approved: bool
    objectives_stale: bool
    pass_mark: float
    def __init__(self, id: _Optional[str] = ..., course_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., position: _Optional[int] = ..., objectives_version: _Optional[int] = ..., objectives_approved: _Optional[bool] = ..., objectives_stale: _Optional[bool] = ..., pass_mark: _Optional[float] = ...) -> None: ...

class Course(_message.Message):
    __slots__ = ("id", "instructor_id", "title", "description", "published", "modules", "create_time", "update_time", "materials_version")
    ID_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTOR_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    MODULES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    MATERIALS_VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    instructor_id: str
    title: str
    description: str
    published: bool
    modules: _containers.RepeatedCompositeFieldContainer[Module]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    materials_version: int
    def __init__(self, id: _Optional[str] = ..., instructor_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., published: _Optional[bool] = ..., modules: _Optional[_Iterable[_Union[Module, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., materials_version: _Optional[int] = ...) -> None: ...

class SignUpRequest(_message.Message):
    __slots__ = ("email", "password", "display_name")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    email: str
    password: str
    display_name: str
    def __init__(self, email: _Optional[str] = ..., password: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class SignUpResponse(_message.Message):
    __slots__ = ("instructor", "access_token")
    INSTRUCTOR_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    instructor: Instructor
    access_token: _common_pb2.AccessToken
    def __init__(self, instructor: _Optional[_Union[Instructor, _Mapping]] = ..., access_token: _Optional[_Union[_common_pb2.AccessToken, _Mapping]] = ...) -> None: ...

class LogInRequest(_message.Message):
    __slots__ = ("email", "password")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    email: str
    password: str
    def __init__(self, email: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class LogInResponse(_message.Message):
    __slots__ = ("instructor", "access_token")
    INSTRUCTOR_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    instructor: Instructor
    access_token: _common_pb2.AccessToken
    def __init__(self, instructor: _Optional[_Union[Instructor, _Mapping]] = ..., access_token: _Optional[_Union[_common_pb2.AccessToken, _Mapping]] = ...) -> None: ...

class GetMeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMeResponse(_message.Message):
    __slots__ = ("instructor",)
    INSTRUCTOR_FIELD_NUMBER: _ClassVar[int]
    instructor: Instructor
    def __init__(self, instructor: _Optional[_Union[Instructor, _Mapping]] = ...) -> None: ...

class CreateCourseRequest(_message.Message):
    __slots__ = ("title", "description")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    title: str
    description: str
    def __init__(self, title: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateCourseResponse(_message.Message):
    __slots__ = ("course",)
    COURSE_FIELD_NUMBER: _ClassVar[int]
    course: Course
    def __init__(self, course: _Optional[_Union[Course, _Mapping]] = ...) -> None: ...

class GetCourseRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class GetCourseResponse(_message.Message):
    __slots__ = ("course",)
    COURSE_FIELD_NUMBER: _ClassVar[int]
    course: Course
    def __init__(self, course: _Optional[_Union[Course, _Mapping]] = ...) -> None: ...

class UpdateCourseRequest(_message.Message):
    __slots__ = ("course_id", "title", "description", "update_mask")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    title: str
    description: str
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, course_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateCourseResponse(_message.Message):
    __slots__ = ("course",)
    COURSE_FIELD_NUMBER: _ClassVar[int]
    course: Course
    def __init__(self, course: _Optional[_Union[Course, _Mapping]] = ...) -> None: ...

class DeleteCourseRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class DeleteCourseResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMyCoursesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMyCoursesResponse(_message.Message):
    __slots__ = ("courses", "next_page_token")
    COURSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    courses: _containers.RepeatedCompositeFieldContainer[Course]
    next_page_token: str
    def __init__(self, courses: _Optional[_Iterable[_Union[Course, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPublishedCoursesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPublishedCoursesResponse(_message.Message):
    __slots__ = ("courses", "next_page_token")
    COURSES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    courses: _containers.RepeatedCompositeFieldContainer[Course]
    next_page_token: str
    def __init__(self, courses: _Optional[_Iterable[_Union[Course, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PublishCourseRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class PublishCourseResponse(_message.Message):
    __slots__ = ("course",)
    COURSE_FIELD_NUMBER: _ClassVar[int]
    course: Course
    def __init__(self, course: _Optional[_Union[Course, _Mapping]] = ...) -> None: ...

class UnpublishCourseRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class UnpublishCourseResponse(_message.Message):
    __slots__ = ("course",)
    COURSE_FIELD_NUMBER: _ClassVar[int]
    course: Course
    def __init__(self, course: _Optional[_Union[Course, _Mapping]] = ...) -> None: ...

class CreateModuleRequest(_message.Message):
    __slots__ = ("course_id", "title", "description", "pass_mark")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PASS_MARK_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    title: str
    description: str
    pass_mark: float
    def __init__(self, course_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., pass_mark: _Optional[float] = ...) -> None: ...

class CreateModuleResponse(_message.Message):
    __slots__ = ("module",)
    MODULE_FIELD_NUMBER: _ClassVar[int]
    module: Module
    def __init__(self, module: _Optional[_Union[Module, _Mapping]] = ...) -> None: ...

class UpdateModuleRequest(_message.Message):
    __slots__ = ("course_id", "module_id", "title", "description", "pass_mark", "update_mask")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PASS_MARK_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    title: str
    description: str
    pass_mark: float
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., pass_mark: _Optional[float] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateModuleResponse(_message.Message):
    __slots__ = ("module",)
    MODULE_FIELD_NUMBER: _ClassVar[int]
    module: Module
    def __init__(self, module: _Optional[_Union[Module, _Mapping]] = ...) -> None: ...

class DeleteModuleRequest(_message.Message):
    __slots__ = ("course_id", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ...) -> None: ...

class DeleteModuleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReorderModulesRequest(_message.Message):
    __slots__ = ("course_id", "module_ids")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_IDS_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, course_id: _Optional[str] = ..., module_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ReorderModulesResponse(_message.Message):
    __slots__ = ("course",)
    COURSE_FIELD_NUMBER: _ClassVar[int]
    course: Course
    def __init__(self, course: _Optional[_Union[Course, _Mapping]] = ...) -> None: ...

class CourseFile(_message.Message):
    __slots__ = ("id", "course_id", "name", "media_type", "size_bytes", "sha256", "state", "state_message", "chunk_count", "create_time", "module_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STATE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    course_id: str
    name: str
    media_type: str
    size_bytes: int
    sha256: str
    state: FileState
    state_message: str
    chunk_count: int
    create_time: _timestamp_pb2.Timestamp
    module_id: str
    def __init__(self, id: _Optional[str] = ..., course_id: _Optional[str] = ..., name: _Optional[str] = ..., media_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., state: _Optional[_Union[FileState, str]] = ..., state_message: _Optional[str] = ..., chunk_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., module_id: _Optional[str] = ...) -> None: ...

class UploadCourseFileMetadata(_message.Message):
    __slots__ = ("course_id", "file_name", "media_type", "size_bytes", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    file_name: str
    media_type: str
    size_bytes: int
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., file_name: _Optional[str] = ..., media_type: _Optional[str] = ..., size_bytes: _Optional[int] = ..., module_id: _Optional[str] = ...) -> None: ...

class UploadCourseFileRequest(_message.Message):
    __slots__ = ("metadata", "data")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    metadata: UploadCourseFileMetadata
    data: bytes
    def __init__(self, metadata: _Optional[_Union[UploadCourseFileMetadata, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class UploadCourseFileResponse(_message.Message):
    __slots__ = ("file", "job", "duplicate")
    FILE_FIELD_NUMBER: _ClassVar[int]
    JOB_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    file: CourseFile
    job: _common_pb2.Job
    duplicate: bool
    def __init__(self, file: _Optional[_Union[CourseFile, _Mapping]] = ..., job: _Optional[_Union[_common_pb2.Job, _Mapping]] = ..., duplicate: _Optional[bool] = ...) -> None: ...

class ListCourseFilesRequest(_message.Message):
    __slots__ = ("course_id", "page_size", "page_token")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    page_size: int
    page_token: str
    def __init__(self, course_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCourseFilesResponse(_message.Message):
    __slots__ = ("files", "next_page_token")
    FILES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedCompositeFieldContainer[CourseFile]
    next_page_token: str
    def __init__(self, files: _Optional[_Iterable[_Union[CourseFile, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteCourseFileRequest(_message.Message):
    __slots__ = ("course_id", "file_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    file_id: str
    def __init__(self, course_id: _Optional[str] = ..., file_id: _Optional[str] = ...) -> None: ...

class DeleteCourseFileResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MoveCourseFileRequest(_message.Message):
    __slots__ = ("course_id", "file_id", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    file_id: str
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., file_id: _Optional[str] = ..., module_id: _Optional[str] = ...) -> None: ...

class MoveCourseFileResponse(_message.Message):
    __slots__ = ("file",)
    FILE_FIELD_NUMBER: _ClassVar[int]
    file: CourseFile
    def __init__(self, file: _Optional[_Union[CourseFile, _Mapping]] = ...) -> None: ...

class ReadCourseFileRequest(_message.Message):
    __slots__ = ("course_id", "file_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    file_id: str
    def __init__(self, course_id: _Optional[str] = ..., file_id: _Optional[str] = ...) -> None: ...

class ReadCourseFileResponse(_message.Message):
    __slots__ = ("file", "data")
    FILE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    file: CourseFile
    data: bytes
    def __init__(self, file: _Optional[_Union[CourseFile, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class GetIndexingStatusRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class GetIndexingStatusResponse(_message.Message):
    __slots__ = ("state", "file_count", "indexed_file_count", "failed_file_count", "chunk_count", "last_job")
    STATE_FIELD_NUMBER: _ClassVar[int]
    FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    INDEXED_FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILED_FILE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_JOB_FIELD_NUMBER: _ClassVar[int]
    state: IndexState
    file_count: int
    indexed_file_count: int
    failed_file_count: int
    chunk_count: int
    last_job: _common_pb2.Job
    def __init__(self, state: _Optional[_Union[IndexState, str]] = ..., file_count: _Optional[int] = ..., indexed_file_count: _Optional[int] = ..., failed_file_count: _Optional[int] = ..., chunk_count: _Optional[int] = ..., last_job: _Optional[_Union[_common_pb2.Job, _Mapping]] = ...) -> None: ...

class GenerateLearningObjectivesRequest(_message.Message):
    __slots__ = ("course_id", "module_ids", "count")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_IDS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_ids: _containers.RepeatedScalarFieldContainer[str]
    count: int
    def __init__(self, course_id: _Optional[str] = ..., module_ids: _Optional[_Iterable[str]] = ..., count: _Optional[int] = ...) -> None: ...

class GenerateLearningObjectivesResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _common_pb2.Job
    def __init__(self, job: _Optional[_Union[_common_pb2.Job, _Mapping]] = ...) -> None: ...

class ModuleObjectives(_message.Message):
    __slots__ = ("module_id", "version", "approved", "stale", "objectives")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    APPROVED_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    version: int
    approved: bool
    stale: bool
    objectives: _containers.RepeatedCompositeFieldContainer[_common_pb2.LearningObjective]
    def __init__(self, module_id: _Optional[str] = ..., version: _Optional[int] = ..., approved: _Optional[bool] = ..., stale: _Optional[bool] = ..., objectives: _Optional[_Iterable[_Union[_common_pb2.LearningObjective, _Mapping]]] = ...) -> None: ...

class ListLearningObjectivesRequest(_message.Message):
    __slots__ = ("course_id", "module_id", "page_size", "page_token")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    page_size: int
    page_token: str
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLearningObjectivesResponse(_message.Message):
    __slots__ = ("modules", "next_page_token")
    MODULES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    modules: _containers.RepeatedCompositeFieldContainer[ModuleObjectives]
    next_page_token: str
    def __init__(self, modules: _Optional[_Iterable[_Union[ModuleObjectives, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateLearningObjectivesRequest(_message.Message):
    __slots__ = ("course_id", "module_id", "objectives", "expected_version")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    objectives: _containers.RepeatedCompositeFieldContainer[_common_pb2.LearningObjective]
    expected_version: int
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., objectives: _Optional[_Iterable[_Union[_common_pb2.LearningObjective, _Mapping]]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class UpdateLearningObjectivesResponse(_message.Message):
    __slots__ = ("objectives",)
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    objectives: ModuleObjectives
    def __init__(self, objectives: _Optional[_Union[ModuleObjectives, _Mapping]] = ...) -> None: ...

class ApproveLearningObjectivesRequest(_message.Message):
    __slots__ = ("course_id", "module_id", "version")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    version: int
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ApproveLearningObjectivesResponse(_message.Message):
    __slots__ = ("objectives",)
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    objectives: ModuleObjectives
    def __init__(self, objectives: _Optional[_Union[ModuleObjectives, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _common_pb2.Job
    def __init__(self, job: _Optional[_Union[_common_pb2.Job, _Mapping]] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _common_pb2.Job
    def __init__(self, job: _Optional[_Union[_common_pb2.Job, _Mapping]] = ...) -> None: ...

class ModuleAnalytics(_message.Message):
    __slots__ = ("module_id", "title", "started_count", "completed_count", "completion_rate", "attempt_count", "average_score", "passed_attempt_count")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STARTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_SCORE_FIELD_NUMBER: _ClassVar[int]
    PASSED_ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    title: str
    started_count: int
    completed_count: int
    completion_rate: float
    attempt_count: int
    average_score: float
    passed_attempt_count: int
    def __init__(self, module_id: _Optional[str] = ..., title: _Optional[str] = ..., started_count: _Optional[int] = ..., completed_count: _Optional[int] = ..., completion_rate: _Optional[float] = ..., attempt_count: _Optional[int] = ..., average_score: _Optional[float] = ..., passed_attempt_count: _Optional[int] = ...) -> None: ...

class ScoreBucket(_message.Message):
    __slots__ = ("lower", "upper", "count")
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    lower: float
    upper: float
    count: int
    def __init__(self, lower: _Optional[float] = ..., upper: _Optional[float] = ..., count: _Optional[int] = ...) -> None: ...

class ObjectiveAnalytics(_message.Message):
    __slots__ = ("objective_id", "text", "module_id", "answer_count", "correct_rate")
    OBJECTIVE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    CORRECT_RATE_FIELD_NUMBER: _ClassVar[int]
    objective_id: str
    text: str
    module_id: str
    answer_count: int
    correct_rate: float
    def __init__(self, objective_id: _Optional[str] = ..., text: _Optional[str] = ..., module_id: _Optional[str] = ..., answer_count: _Optional[int] = ..., correct_rate: _Optional[float] = ...) -> None: ...

class StuckLearner(_message.Message):
    __slots__ = ("learner_id", "module_id", "failed_attempts", "last_activity_time")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    FAILED_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_TIME_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    module_id: str
    failed_attempts: int
    last_activity_time: _timestamp_pb2.Timestamp
    def __init__(self, learner_id: _Optional[str] = ..., module_id: _Optional[str] = ..., failed_attempts: _Optional[int] = ..., last_activity_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetCourseAnalyticsRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class GetCourseAnalyticsResponse(_message.Message):
    __slots__ = ("course_id", "enrollment_count", "active_enrollment_count", "modules", "score_distribution", "weakest_objectives", "stuck_learners")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_ENROLLMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODULES_FIELD_NUMBER: _ClassVar[int]
    SCORE_DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    WEAKEST_OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    STUCK_LEARNERS_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    enrollment_count: int
    active_enrollment_count: int
    modules: _containers.RepeatedCompositeFieldContainer[ModuleAnalytics]
    score_distribution: _containers.RepeatedCompositeFieldContainer[ScoreBucket]
    weakest_objectives: _containers.RepeatedCompositeFieldContainer[ObjectiveAnalytics]
    stuck_learners: _containers.RepeatedCompositeFieldContainer[StuckLearner]
    def __init__(self, course_id: _Optional[str] = ..., enrollment_count: _Optional[int] = ..., active_enrollment_count: _Optional[int] = ..., modules: _Optional[_Iterable[_Union[ModuleAnalytics, _Mapping]]] = ..., score_distribution: _Optional[_Iterable[_Union[ScoreBucket, _Mapping]]] = ..., weakest_objectives: _Optional[_Iterable[_Union[ObjectiveAnalytics, _Mapping]]] = ..., stuck_learners: _Optional[_Iterable[_Union[StuckLearner, _Mapping]]] = ...) -> None: ...
