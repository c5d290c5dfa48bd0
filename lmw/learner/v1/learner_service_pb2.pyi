import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from lmw.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnrollmentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENROLLMENT_STATE_UNSPECIFIED: _ClassVar[EnrollmentState]
    ENROLLMENT_STATE_ACTIVE: _ClassVar[EnrollmentState]
    ENROLLMENT_STATE_UNENROLLED: _ClassVar[EnrollmentState]

class ModuleEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODULE_EVENT_TYPE_UNSPECIFIED: _ClassVar[ModuleEventType]
    MODULE_EVENT_TYPE_STARTED: _ClassVar[ModuleEventType]
    MODULE_EVENT_TYPE_COMPLETED: _ClassVar[ModuleEventType]

class ModuleState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODULE_STATE_UNSPECIFIED: _ClassVar[ModuleState]
    MODULE_STATE_NOT_STARTED: _ClassVar[ModuleState]
    MODULE_STATE_IN_PROGRESS: _ClassVar[ModuleState]
    MODULE_STATE_COMPLETED: _ClassVar[ModuleState]
ENROLLMENT_STATE_UNSPECIFIED: EnrollmentState
ENROLLMENT_STATE_ACTIVE: EnrollmentState
ENROLLMENT_STATE_UNENROLLED: EnrollmentState
MODULE_EVENT_TYPE_UNSPECIFIED: ModuleEventType
MODULE_EVENT_TYPE_STARTED: ModuleEventType
MODULE_EVENT_TYPE_COMPLETED: ModuleEventType
MODULE_STATE_UNSPECIFIED: ModuleState
MODULE_STATE_NOT_STARTED: ModuleState
MODULE_STATE_IN_PROGRESS: ModuleState
MODULE_STATE_COMPLETED: ModuleState

class Learner(_message.Message):
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

class Enrollment(_message.Message):
    __slots__ = ("learner_id", "course_id", "state", "enroll_time", "unenroll_time")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ENROLL_TIME_FIELD_NUMBER: _ClassVar[int]
    UNENROLL_TIME_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    course_id: str
    state: EnrollmentState
    enroll_time: _timestamp_pb2.Timestamp
    unenroll_time: _timestamp_pb2.Timestamp
    def __init__(self, learner_id: _Optional[str] = ..., course_id: _Optional[str] = ..., state: _Optional[_Union[EnrollmentState, str]] = ..., enroll_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unenroll_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ModuleProgress(_message.Message):
    __slots__ = ("module_id", "state", "start_time", "complete_time", "attempt_count", "best_score", "passed")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    COMPLETE_TIME_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    BEST_SCORE_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    state: ModuleState
    start_time: _timestamp_pb2.Timestamp
    complete_time: _timestamp_pb2.Timestamp
    attempt_count: int
    best_score: float
    passed: bool
    def __init__(self, module_id: _Optional[str] = ..., state: _Optional[_Union[ModuleState, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., complete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempt_count: _Optional[int] = ..., best_score: _Optional[float] = ..., passed: _Optional[bool] = ...) -> None: ...

class CourseProgress(_message.Message):
    __slots__ = ("learner_id", "course_id", "enrollment", "modules", "completed_module_count", "last_activity_time")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    MODULES_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_MODULE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_TIME_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    course_id: str
    enrollment: Enrollment
    modules: _containers.RepeatedCompositeFieldContainer[ModuleProgress]
    completed_module_count: int
    last_activity_time: _timestamp_pb2.Timestamp
    def __init__(self, learner_id: _Optional[str] = ..., course_id: _Optional[str] = ..., enrollment: _Optional[_Union[Enrollment, _Mapping]] = ..., modules: _Optional[_Iterable[_Union[ModuleProgress, _Mapping]]] = ..., completed_module_count: _Optional[int] = ..., last_activity_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class QuestionResult(_message.Message):
    __slots__ = ("question_id", "objective_id", "selected_index", "correct")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_ID_FIELD_NUMBER: _ClassVar[int]
    SELECTED_INDEX_FIELD_NUMBER: _ClassVar[int]
    CORRECT_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    objective_id: str
    selected_index: int
    correct: bool
    def __init__(self, question_id: _Optional[str] = ..., objective_id: _Optional[str] = ..., selected_index: _Optional[int] = ..., correct: _Optional[bool] = ...) -> None: ...

class QuizAttempt(_message.Message):
    __slots__ = ("id", "learner_id", "course_id", "module_id", "quiz_id", "score", "passed", "results", "submit_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    QUIZ_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    learner_id: str
    course_id: str
    module_id: str
    quiz_id: str
    score: float
    passed: bool
    results: _containers.RepeatedCompositeFieldContainer[QuestionResult]
    submit_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., learner_id: _Optional[str] = ..., course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., quiz_id: _Optional[str] = ..., score: _Optional[float] = ..., passed: _Optional[bool] = ..., results: _Optional[_Iterable[_Union[QuestionResult, _Mapping]]] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("learner", "access_token")
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    learner: Learner
    access_token: _common_pb2.AccessToken
    def __init__(self, learner: _Optional[_Union[Learner, _Mapping]] = ..., access_token: _Optional[_Union[_common_pb2.AccessToken, _Mapping]] = ...) -> None: ...

class LogInRequest(_message.Message):
    __slots__ = ("email", "password")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    email: str
    password: str
    def __init__(self, email: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class LogInResponse(_message.Message):
    __slots__ = ("learner", "access_token")
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    learner: Learner
    access_token: _common_pb2.AccessToken
    def __init__(self, learner: _Optional[_Union[Learner, _Mapping]] = ..., access_token: _Optional[_Union[_common_pb2.AccessToken, _Mapping]] = ...) -> None: ...

class GetMeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMeResponse(_message.Message):
    __slots__ = ("learner",)
    LEARNER_FIELD_NUMBER: _ClassVar[int]
    learner: Learner
    def __init__(self, learner: _Optional[_Union[Learner, _Mapping]] = ...) -> None: ...

class EnrollRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class EnrollResponse(_message.Message):
    __slots__ = ("enrollment",)
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    enrollment: Enrollment
    def __init__(self, enrollment: _Optional[_Union[Enrollment, _Mapping]] = ...) -> None: ...

class UnenrollRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class UnenrollResponse(_message.Message):
    __slots__ = ("enrollment",)
    ENROLLMENT_FIELD_NUMBER: _ClassVar[int]
    enrollment: Enrollment
    def __init__(self, enrollment: _Optional[_Union[Enrollment, _Mapping]] = ...) -> None: ...

class ListEnrollmentsRequest(_message.Message):
    __slots__ = ("learner_id", "page_size", "page_token", "include_unenrolled")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_UNENROLLED_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    page_size: int
    page_token: str
    include_unenrolled: bool
    def __init__(self, learner_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., include_unenrolled: _Optional[bool] = ...) -> None: ...

class ListEnrollmentsResponse(_message.Message):
    __slots__ = ("enrollments", "next_page_token")
    ENROLLMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    enrollments: _containers.RepeatedCompositeFieldContainer[Enrollment]
    next_page_token: str
    def __init__(self, enrollments: _Optional[_Iterable[_Union[Enrollment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecordModuleEventRequest(_message.Message):
    __slots__ = ("learner_id", "course_id", "module_id", "type")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    course_id: str
    module_id: str
    type: ModuleEventType
    def __init__(self, learner_id: _Optional[str] = ..., course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., type: _Optional[_Union[ModuleEventType, str]] = ...) -> None: ...

class RecordModuleEventResponse(_message.Message):
    __slots__ = ("module",)
    MODULE_FIELD_NUMBER: _ClassVar[int]
    module: ModuleProgress
    def __init__(self, module: _Optional[_Union[ModuleProgress, _Mapping]] = ...) -> None: ...

class GetCourseProgressRequest(_message.Message):
    __slots__ = ("learner_id", "course_id")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    course_id: str
    def __init__(self, learner_id: _Optional[str] = ..., course_id: _Optional[str] = ...) -> None: ...

class GetCourseProgressResponse(_message.Message):
    __slots__ = ("progress",)
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    progress: CourseProgress
    def __init__(self, progress: _Optional[_Union[CourseProgress, _Mapping]] = ...) -> None: ...

class RecordQuizAttemptRequest(_message.Message):
    __slots__ = ("attempt",)
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    attempt: QuizAttempt
    def __init__(self, attempt: _Optional[_Union[QuizAttempt, _Mapping]] = ...) -> None: ...

class RecordQuizAttemptResponse(_message.Message):
    __slots__ = ("attempt", "already_recorded")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ALREADY_RECORDED_FIELD_NUMBER: _ClassVar[int]
    attempt: QuizAttempt
    already_recorded: bool
    def __init__(self, attempt: _Optional[_Union[QuizAttempt, _Mapping]] = ..., already_recorded: _Optional[bool] = ...) -> None: ...

class ListQuizAttemptsRequest(_message.Message):
    __slots__ = ("learner_id", "course_id", "module_id", "page_size", "page_token")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    course_id: str
    module_id: str
    page_size: int
    page_token: str
    def __init__(self, learner_id: _Optional[str] = ..., course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListQuizAttemptsResponse(_message.Message):
    __slots__ = ("attempts", "next_page_token")
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    attempts: _containers.RepeatedCompositeFieldContainer[QuizAttempt]
    next_page_token: str
    def __init__(self, attempts: _Optional[_Iterable[_Union[QuizAttempt, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class BatchGetCourseProgressRequest(_message.Message):
    __slots__ = ("course_id", "page_size", "page_token")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    page_size: int
    page_token: str
    def __init__(self, course_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class BatchGetCourseProgressResponse(_message.Message):
    __slots__ = ("progress", "next_page_token")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    progress: _containers.RepeatedCompositeFieldContainer[CourseProgress]
    next_page_token: str
    def __init__(self, progress: _Optional[_Iterable[_Union[CourseProgress, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
