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

class ModuleStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODULE_STATUS_UNSPECIFIED: _ClassVar[ModuleStatus]
    MODULE_STATUS_LOCKED: _ClassVar[ModuleStatus]
    MODULE_STATUS_AVAILABLE: _ClassVar[ModuleStatus]
    MODULE_STATUS_IN_PROGRESS: _ClassVar[ModuleStatus]
    MODULE_STATUS_COMPLETED: _ClassVar[ModuleStatus]

class NextStepKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NEXT_STEP_KIND_UNSPECIFIED: _ClassVar[NextStepKind]
    NEXT_STEP_KIND_READ: _ClassVar[NextStepKind]
    NEXT_STEP_KIND_TAKE_QUIZ: _ClassVar[NextStepKind]
    NEXT_STEP_KIND_RETAKE_QUIZ: _ClassVar[NextStepKind]
    NEXT_STEP_KIND_COMPLETE_MODULE: _ClassVar[NextStepKind]
    NEXT_STEP_KIND_COURSE_COMPLETED: _ClassVar[NextStepKind]

class TutorRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TUTOR_ROLE_UNSPECIFIED: _ClassVar[TutorRole]
    TUTOR_ROLE_LEARNER: _ClassVar[TutorRole]
    TUTOR_ROLE_TUTOR: _ClassVar[TutorRole]
MODULE_STATUS_UNSPECIFIED: ModuleStatus
MODULE_STATUS_LOCKED: ModuleStatus
MODULE_STATUS_AVAILABLE: ModuleStatus
MODULE_STATUS_IN_PROGRESS: ModuleStatus
MODULE_STATUS_COMPLETED: ModuleStatus
NEXT_STEP_KIND_UNSPECIFIED: NextStepKind
NEXT_STEP_KIND_READ: NextStepKind
NEXT_STEP_KIND_TAKE_QUIZ: NextStepKind
NEXT_STEP_KIND_RETAKE_QUIZ: NextStepKind
NEXT_STEP_KIND_COMPLETE_MODULE: NextStepKind
NEXT_STEP_KIND_COURSE_COMPLETED: NextStepKind
TUTOR_ROLE_UNSPECIFIED: TutorRole
TUTOR_ROLE_LEARNER: TutorRole
TUTOR_ROLE_TUTOR: TutorRole

class GetPreferencesRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class GetPreferencesResponse(_message.Message):
    __slots__ = ("preferences", "is_default")
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    preferences: _common_pb2.Preferences
    is_default: bool
    def __init__(self, preferences: _Optional[_Union[_common_pb2.Preferences, _Mapping]] = ..., is_default: _Optional[bool] = ...) -> None: ...

class SetPreferencesRequest(_message.Message):
    __slots__ = ("course_id", "preferences", "update_mask")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    preferences: _common_pb2.Preferences
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, course_id: _Optional[str] = ..., preferences: _Optional[_Union[_common_pb2.Preferences, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class SetPreferencesResponse(_message.Message):
    __slots__ = ("preferences",)
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    preferences: _common_pb2.Preferences
    def __init__(self, preferences: _Optional[_Union[_common_pb2.Preferences, _Mapping]] = ...) -> None: ...

class ModuleContent(_message.Message):
    __slots__ = ("course_id", "module_id", "markdown", "citations", "preferences", "objectives_version", "materials_version", "recap_objective_ids", "generate_time")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_VERSION_FIELD_NUMBER: _ClassVar[int]
    MATERIALS_VERSION_FIELD_NUMBER: _ClassVar[int]
    RECAP_OBJECTIVE_IDS_FIELD_NUMBER: _ClassVar[int]
    GENERATE_TIME_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    markdown: str
    citations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Citation]
    preferences: _common_pb2.Preferences
    objectives_version: int
    materials_version: int
    recap_objective_ids: _containers.RepeatedScalarFieldContainer[str]
    generate_time: _timestamp_pb2.Timestamp
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., markdown: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_common_pb2.Citation, _Mapping]]] = ..., preferences: _Optional[_Union[_common_pb2.Preferences, _Mapping]] = ..., objectives_version: _Optional[int] = ..., materials_version: _Optional[int] = ..., recap_objective_ids: _Optional[_Iterable[str]] = ..., generate_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetModuleContentRequest(_message.Message):
    __slots__ = ("course_id", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ...) -> None: ...

class GetModuleContentResponse(_message.Message):
    __slots__ = ("content",)
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    content: ModuleContent
    def __init__(self, content: _Optional[_Union[ModuleContent, _Mapping]] = ...) -> None: ...

class StreamModuleContentRequest(_message.Message):
    __slots__ = ("course_id", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ...) -> None: ...

class StreamModuleContentResponse(_message.Message):
    __slots__ = ("markdown_delta", "content")
    MARKDOWN_DELTA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    markdown_delta: str
    content: ModuleContent
    def __init__(self, markdown_delta: _Optional[str] = ..., content: _Optional[_Union[ModuleContent, _Mapping]] = ...) -> None: ...

class QuizQuestion(_message.Message):
    __slots__ = ("id", "objective_id", "text", "options")
    ID_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    id: str
    objective_id: str
    text: str
    options: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., objective_id: _Optional[str] = ..., text: _Optional[str] = ..., options: _Optional[_Iterable[str]] = ...) -> None: ...

class Quiz(_message.Message):
    __slots__ = ("id", "course_id", "module_id", "questions", "pass_mark", "submitted", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    PASS_MARK_FIELD_NUMBER: _ClassVar[int]
    SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    course_id: str
    module_id: str
    questions: _containers.RepeatedCompositeFieldContainer[QuizQuestion]
    pass_mark: float
    submitted: bool
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., questions: _Optional[_Iterable[_Union[QuizQuestion, _Mapping]]] = ..., pass_mark: _Optional[float] = ..., submitted: _Optional[bool] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetQuizRequest(_message.Message):
    __slots__ = ("course_id", "module_id", "retake")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    RETAKE_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    retake: bool
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., retake: _Optional[bool] = ...) -> None: ...

class GetQuizResponse(_message.Message):
    __slots__ = ("quiz",)
    QUIZ_FIELD_NUMBER: _ClassVar[int]
    quiz: Quiz
    def __init__(self, quiz: _Optional[_Union[Quiz, _Mapping]] = ...) -> None: ...

class QuizAnswer(_message.Message):
    __slots__ = ("question_id", "selected_index")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    SELECTED_INDEX_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    selected_index: int
    def __init__(self, question_id: _Optional[str] = ..., selected_index: _Optional[int] = ...) -> None: ...

class GradedQuestion(_message.Message):
    __slots__ = ("question_id", "objective_id", "selected_index", "correct_index", "correct", "explanation", "citations")
    QUESTION_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_ID_FIELD_NUMBER: _ClassVar[int]
    SELECTED_INDEX_FIELD_NUMBER: _ClassVar[int]
    CORRECT_INDEX_FIELD_NUMBER: _ClassVar[int]
    CORRECT_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    question_id: str
    objective_id: str
    selected_index: int
    correct_index: int
    correct: bool
    explanation: str
    citations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Citation]
    def __init__(self, question_id: _Optional[str] = ..., objective_id: _Optional[str] = ..., selected_index: _Optional[int] = ..., correct_index: _Optional[int] = ..., correct: _Optional[bool] = ..., explanation: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_common_pb2.Citation, _Mapping]]] = ...) -> None: ...

class ObjectiveMastery(_message.Message):
    __slots__ = ("objective_id", "text", "module_id", "p_mastery", "answer_count", "mastered")
    OBJECTIVE_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    P_MASTERY_FIELD_NUMBER: _ClassVar[int]
    ANSWER_COUNT_FIELD_NUMBER: _ClassVar[int]
    MASTERED_FIELD_NUMBER: _ClassVar[int]
    objective_id: str
    text: str
    module_id: str
    p_mastery: float
    answer_count: int
    mastered: bool
    def __init__(self, objective_id: _Optional[str] = ..., text: _Optional[str] = ..., module_id: _Optional[str] = ..., p_mastery: _Optional[float] = ..., answer_count: _Optional[int] = ..., mastered: _Optional[bool] = ...) -> None: ...

class QuizResult(_message.Message):
    __slots__ = ("attempt_id", "quiz_id", "score", "passed", "pass_mark", "questions", "mastery", "submit_time")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    QUIZ_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    PASS_MARK_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    MASTERY_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    quiz_id: str
    score: float
    passed: bool
    pass_mark: float
    questions: _containers.RepeatedCompositeFieldContainer[GradedQuestion]
    mastery: _containers.RepeatedCompositeFieldContainer[ObjectiveMastery]
    submit_time: _timestamp_pb2.Timestamp
    def __init__(self, attempt_id: _Optional[str] = ..., quiz_id: _Optional[str] = ..., score: _Optional[float] = ..., passed: _Optional[bool] = ..., pass_mark: _Optional[float] = ..., questions: _Optional[_Iterable[_Union[GradedQuestion, _Mapping]]] = ..., mastery: _Optional[_Iterable[_Union[ObjectiveMastery, _Mapping]]] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubmitQuizRequest(_message.Message):
    __slots__ = ("course_id", "module_id", "quiz_id", "attempt_id", "answers")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    QUIZ_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    quiz_id: str
    attempt_id: str
    answers: _containers.RepeatedCompositeFieldContainer[QuizAnswer]
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ..., quiz_id: _Optional[str] = ..., attempt_id: _Optional[str] = ..., answers: _Optional[_Iterable[_Union[QuizAnswer, _Mapping]]] = ...) -> None: ...

class SubmitQuizResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: QuizResult
    def __init__(self, result: _Optional[_Union[QuizResult, _Mapping]] = ...) -> None: ...

class CompleteModuleRequest(_message.Message):
    __slots__ = ("course_id", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., module_id: _Optional[str] = ...) -> None: ...

class CompleteModuleResponse(_message.Message):
    __slots__ = ("next_module_id", "course_completed")
    NEXT_MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    next_module_id: str
    course_completed: bool
    def __init__(self, next_module_id: _Optional[str] = ..., course_completed: _Optional[bool] = ...) -> None: ...

class DashboardModule(_message.Message):
    __slots__ = ("module_id", "title", "position", "status", "best_score", "attempt_count")
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BEST_SCORE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    module_id: str
    title: str
    position: int
    status: ModuleStatus
    best_score: float
    attempt_count: int
    def __init__(self, module_id: _Optional[str] = ..., title: _Optional[str] = ..., position: _Optional[int] = ..., status: _Optional[_Union[ModuleStatus, str]] = ..., best_score: _Optional[float] = ..., attempt_count: _Optional[int] = ...) -> None: ...

class NextStep(_message.Message):
    __slots__ = ("kind", "module_id", "message")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: NextStepKind
    module_id: str
    message: str
    def __init__(self, kind: _Optional[_Union[NextStepKind, str]] = ..., module_id: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class QuizResultSummary(_message.Message):
    __slots__ = ("attempt_id", "module_id", "score", "passed", "submit_time")
    ATTEMPT_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    attempt_id: str
    module_id: str
    score: float
    passed: bool
    submit_time: _timestamp_pb2.Timestamp
    def __init__(self, attempt_id: _Optional[str] = ..., module_id: _Optional[str] = ..., score: _Optional[float] = ..., passed: _Optional[bool] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Dashboard(_message.Message):
    __slots__ = ("learner_id", "course_id", "course_title", "course_description", "modules", "completed_module_count", "progress", "preferences", "recent_quiz_results", "mastery", "next_step")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_TITLE_FIELD_NUMBER: _ClassVar[int]
    COURSE_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MODULES_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_MODULE_COUNT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    RECENT_QUIZ_RESULTS_FIELD_NUMBER: _ClassVar[int]
    MASTERY_FIELD_NUMBER: _ClassVar[int]
    NEXT_STEP_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    course_id: str
    course_title: str
    course_description: str
    modules: _containers.RepeatedCompositeFieldContainer[DashboardModule]
    completed_module_count: int
    progress: float
    preferences: _common_pb2.Preferences
    recent_quiz_results: _containers.RepeatedCompositeFieldContainer[QuizResultSummary]
    mastery: _containers.RepeatedCompositeFieldContainer[ObjectiveMastery]
    next_step: NextStep
    def __init__(self, learner_id: _Optional[str] = ..., course_id: _Optional[str] = ..., course_title: _Optional[str] = ..., course_description: _Optional[str] = ..., modules: _Optional[_Iterable[_Union[DashboardModule, _Mapping]]] = ..., completed_module_count: _Optional[int] = ..., progress: _Optional[float] = ..., preferences: _Optional[_Union[_common_pb2.Preferences, _Mapping]] = ..., recent_quiz_results: _Optional[_Iterable[_Union[QuizResultSummary, _Mapping]]] = ..., mastery: _Optional[_Iterable[_Union[ObjectiveMastery, _Mapping]]] = ..., next_step: _Optional[_Union[NextStep, _Mapping]] = ...) -> None: ...

class GetDashboardRequest(_message.Message):
    __slots__ = ("learner_id", "course_id")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    course_id: str
    def __init__(self, learner_id: _Optional[str] = ..., course_id: _Optional[str] = ...) -> None: ...

class GetDashboardResponse(_message.Message):
    __slots__ = ("dashboard",)
    DASHBOARD_FIELD_NUMBER: _ClassVar[int]
    dashboard: Dashboard
    def __init__(self, dashboard: _Optional[_Union[Dashboard, _Mapping]] = ...) -> None: ...

class TutorMessage(_message.Message):
    __slots__ = ("id", "role", "text", "citations", "grounded", "module_id", "create_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    GROUNDED_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    role: TutorRole
    text: str
    citations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Citation]
    grounded: bool
    module_id: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., role: _Optional[_Union[TutorRole, str]] = ..., text: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_common_pb2.Citation, _Mapping]]] = ..., grounded: _Optional[bool] = ..., module_id: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AskTutorRequest(_message.Message):
    __slots__ = ("course_id", "question", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    question: str
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., question: _Optional[str] = ..., module_id: _Optional[str] = ...) -> None: ...

class AskTutorResponse(_message.Message):
    __slots__ = ("text_delta", "message")
    TEXT_DELTA_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    text_delta: str
    message: TutorMessage
    def __init__(self, text_delta: _Optional[str] = ..., message: _Optional[_Union[TutorMessage, _Mapping]] = ...) -> None: ...

class GetTutorHistoryRequest(_message.Message):
    __slots__ = ("course_id", "page_size", "page_token")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    page_size: int
    page_token: str
    def __init__(self, course_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetTutorHistoryResponse(_message.Message):
    __slots__ = ("messages", "next_page_token")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[TutorMessage]
    next_page_token: str
    def __init__(self, messages: _Optional[_Iterable[_Union[TutorMessage, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetLearnerAnalyticsRequest(_message.Message):
    __slots__ = ("learner_id", "course_id")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    course_id: str
    def __init__(self, learner_id: _Optional[str] = ..., course_id: _Optional[str] = ...) -> None: ...

class GetLearnerAnalyticsResponse(_message.Message):
    __slots__ = ("learner_id", "course_id", "attempt_count", "average_score", "mastery", "weak_objective_ids", "tutor_question_count")
    LEARNER_ID_FIELD_NUMBER: _ClassVar[int]
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_SCORE_FIELD_NUMBER: _ClassVar[int]
    MASTERY_FIELD_NUMBER: _ClassVar[int]
    WEAK_OBJECTIVE_IDS_FIELD_NUMBER: _ClassVar[int]
    TUTOR_QUESTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    learner_id: str
    course_id: str
    attempt_count: int
    average_score: float
    mastery: _containers.RepeatedCompositeFieldContainer[ObjectiveMastery]
    weak_objective_ids: _containers.RepeatedScalarFieldContainer[str]
    tutor_question_count: int
    def __init__(self, learner_id: _Optional[str] = ..., course_id: _Optional[str] = ..., attempt_count: _Optional[int] = ..., average_score: _Optional[float] = ..., mastery: _Optional[_Iterable[_Union[ObjectiveMastery, _Mapping]]] = ..., weak_objective_ids: _Optional[_Iterable[str]] = ..., tutor_question_count: _Optional[int] = ...) -> None: ...
