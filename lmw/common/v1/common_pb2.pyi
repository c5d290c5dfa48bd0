import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROLE_UNSPECIFIED: _ClassVar[Role]
    ROLE_LEARNER: _ClassVar[Role]
    ROLE_INSTRUCTOR: _ClassVar[Role]
    ROLE_SERVICE: _ClassVar[Role]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]

class DetailLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DETAIL_LEVEL_UNSPECIFIED: _ClassVar[DetailLevel]
    DETAIL_LEVEL_BRIEF: _ClassVar[DetailLevel]
    DETAIL_LEVEL_MODERATE: _ClassVar[DetailLevel]
    DETAIL_LEVEL_DETAILED: _ClassVar[DetailLevel]

class ExplanationStyle(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPLANATION_STYLE_UNSPECIFIED: _ClassVar[ExplanationStyle]
    EXPLANATION_STYLE_EXAMPLES: _ClassVar[ExplanationStyle]
    EXPLANATION_STYLE_CONCEPTUAL: _ClassVar[ExplanationStyle]
    EXPLANATION_STYLE_PRACTICAL: _ClassVar[ExplanationStyle]
    EXPLANATION_STYLE_VISUAL: _ClassVar[ExplanationStyle]

class LanguageLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LANGUAGE_LEVEL_UNSPECIFIED: _ClassVar[LanguageLevel]
    LANGUAGE_LEVEL_SIMPLE: _ClassVar[LanguageLevel]
    LANGUAGE_LEVEL_BALANCED: _ClassVar[LanguageLevel]
    LANGUAGE_LEVEL_TECHNICAL: _ClassVar[LanguageLevel]
ROLE_UNSPECIFIED: Role
ROLE_LEARNER: Role
ROLE_INSTRUCTOR: Role
ROLE_SERVICE: Role
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
DETAIL_LEVEL_UNSPECIFIED: DetailLevel
DETAIL_LEVEL_BRIEF: DetailLevel
DETAIL_LEVEL_MODERATE: DetailLevel
DETAIL_LEVEL_DETAILED: DetailLevel
EXPLANATION_STYLE_UNSPECIFIED: ExplanationStyle
EXPLANATION_STYLE_EXAMPLES: ExplanationStyle
EXPLANATION_STYLE_CONCEPTUAL: ExplanationStyle
EXPLANATION_STYLE_PRACTICAL: ExplanationStyle
EXPLANATION_STYLE_VISUAL: ExplanationStyle
LANGUAGE_LEVEL_UNSPECIFIED: LanguageLevel
LANGUAGE_LEVEL_SIMPLE: LanguageLevel
LANGUAGE_LEVEL_BALANCED: LanguageLevel
LANGUAGE_LEVEL_TECHNICAL: LanguageLevel

class AccessToken(_message.Message):
    __slots__ = ("token", "expire_time", "role", "subject")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    token: str
    expire_time: _timestamp_pb2.Timestamp
    role: Role
    subject: str
    def __init__(self, token: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., role: _Optional[_Union[Role, str]] = ..., subject: _Optional[str] = ...) -> None: ...

class Citation(_message.Message):
    __slots__ = ("chunk_id", "file_id", "file_name", "page", "slide", "heading", "char_start", "char_end", "snippet")
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_FIELD_NUMBER: _ClassVar[int]
    SLIDE_FIELD_NUMBER: _ClassVar[int]
    HEADING_FIELD_NUMBER: _ClassVar[int]
    CHAR_START_FIELD_NUMBER: _ClassVar[int]
    CHAR_END_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    chunk_id: str
    file_id: str
    file_name: str
    page: int
    slide: int
    heading: str
    char_start: int
    char_end: int
    snippet: str
    def __init__(self, chunk_id: _Optional[str] = ..., file_id: _Optional[str] = ..., file_name: _Optional[str] = ..., page: _Optional[int] = ..., slide: _Optional[int] = ..., heading: _Optional[str] = ..., char_start: _Optional[int] = ..., char_end: _Optional[int] = ..., snippet: _Optional[str] = ...) -> None: ...

class JobItem(_message.Message):
    __slots__ = ("id", "name", "state", "message", "chunk_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    state: JobState
    message: str
    chunk_count: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., message: _Optional[str] = ..., chunk_count: _Optional[int] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "kind", "state", "progress", "message", "course_id", "items_done", "items_total", "items", "create_time", "update_time", "end_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    ITEMS_DONE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    state: JobState
    progress: float
    message: str
    course_id: str
    items_done: int
    items_total: int
    items: _containers.RepeatedCompositeFieldContainer[JobItem]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., progress: _Optional[float] = ..., message: _Optional[str] = ..., course_id: _Optional[str] = ..., items_done: _Optional[int] = ..., items_total: _Optional[int] = ..., items: _Optional[_Iterable[_Union[JobItem, _Mapping]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Preferences(_message.Message):
    __slots__ = ("detail_level", "explanation_style", "language")
    DETAIL_LEVEL_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_STYLE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    detail_level: DetailLevel
    explanation_style: ExplanationStyle
    language: LanguageLevel
    def __init__(self, detail_level: _Optional[_Union[DetailLevel, str]] = ..., explanation_style: _Optional[_Union[ExplanationStyle, str]] = ..., language: _Optional[_Union[LanguageLevel, str]] = ...) -> None: ...

class LearningObjective(_message.Message):
    __slots__ = ("id", "text", "citations")
    ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    id: str
    text: str
    citations: _containers.RepeatedCompositeFieldContainer[Citation]
    def __init__(self, id: _Optional[str] = ..., text: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[Citation, _Mapping]]] = ...) -> None: ...
