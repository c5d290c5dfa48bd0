from lmw.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RetrievalMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETRIEVAL_METHOD_UNSPECIFIED: _ClassVar[RetrievalMethod]
    RETRIEVAL_METHOD_HYBRID: _ClassVar[RetrievalMethod]
    RETRIEVAL_METHOD_DENSE: _ClassVar[RetrievalMethod]
    RETRIEVAL_METHOD_LEXICAL: _ClassVar[RetrievalMethod]

class TurnRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TURN_ROLE_UNSPECIFIED: _ClassVar[TurnRole]
    TURN_ROLE_LEARNER: _ClassVar[TurnRole]
    TURN_ROLE_TUTOR: _ClassVar[TurnRole]
RETRIEVAL_METHOD_UNSPECIFIED: RetrievalMethod
RETRIEVAL_METHOD_HYBRID: RetrievalMethod
RETRIEVAL_METHOD_DENSE: RetrievalMethod
RETRIEVAL_METHOD_LEXICAL: RetrievalMethod
TURN_ROLE_UNSPECIFIED: TurnRole
TURN_ROLE_LEARNER: TurnRole
TURN_ROLE_TUTOR: TurnRole

class DocumentRef(_message.Message):
    __slots__ = ("file_id", "file_name", "sha256", "media_type", "module_id")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    MEDIA_TYPE_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    file_name: str
    sha256: str
    media_type: str
    module_id: str
    def __init__(self, file_id: _Optional[str] = ..., file_name: _Optional[str] = ..., sha256: _Optional[str] = ..., media_type: _Optional[str] = ..., module_id: _Optional[str] = ...) -> None: ...

class IngestDocumentsRequest(_message.Message):
    __slots__ = ("course_id", "documents")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    documents: _containers.RepeatedCompositeFieldContainer[DocumentRef]
    def __init__(self, course_id: _Optional[str] = ..., documents: _Optional[_Iterable[_Union[DocumentRef, _Mapping]]] = ...) -> None: ...

class IngestDocumentsResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _common_pb2.Job
    def __init__(self, job: _Optional[_Union[_common_pb2.Job, _Mapping]] = ...) -> None: ...

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

class DeleteDocumentsRequest(_message.Message):
    __slots__ = ("course_id", "file_ids")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, course_id: _Optional[str] = ..., file_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteDocumentsResponse(_message.Message):
    __slots__ = ("deleted_chunk_count",)
    DELETED_CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    deleted_chunk_count: int
    def __init__(self, deleted_chunk_count: _Optional[int] = ...) -> None: ...

class MoveDocumentsRequest(_message.Message):
    __slots__ = ("course_id", "file_ids", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., file_ids: _Optional[_Iterable[str]] = ..., module_id: _Optional[str] = ...) -> None: ...

class MoveDocumentsResponse(_message.Message):
    __slots__ = ("moved_chunk_count",)
    MOVED_CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    moved_chunk_count: int
    def __init__(self, moved_chunk_count: _Optional[int] = ...) -> None: ...

class DeleteCourseIndexRequest(_message.Message):
    __slots__ = ("course_id",)
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    def __init__(self, course_id: _Optional[str] = ...) -> None: ...

class DeleteCourseIndexResponse(_message.Message):
    __slots__ = ("deleted_chunk_count",)
    DELETED_CHUNK_COUNT_FIELD_NUMBER: _ClassVar[int]
    deleted_chunk_count: int
    def __init__(self, deleted_chunk_count: _Optional[int] = ...) -> None: ...

class RetrieveFilter(_message.Message):
    __slots__ = ("file_ids", "module_id")
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    module_id: str
    def __init__(self, file_ids: _Optional[_Iterable[str]] = ..., module_id: _Optional[str] = ...) -> None: ...

class RetrieveRequest(_message.Message):
    __slots__ = ("course_id", "query", "k", "filter", "method")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    query: str
    k: int
    filter: RetrieveFilter
    method: RetrievalMethod
    def __init__(self, course_id: _Optional[str] = ..., query: _Optional[str] = ..., k: _Optional[int] = ..., filter: _Optional[_Union[RetrieveFilter, _Mapping]] = ..., method: _Optional[_Union[RetrievalMethod, str]] = ...) -> None: ...

class RetrievedChunk(_message.Message):
    __slots__ = ("chunk_id", "text", "score", "citation")
    CHUNK_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    CITATION_FIELD_NUMBER: _ClassVar[int]
    chunk_id: str
    text: str
    score: float
    citation: _common_pb2.Citation
    def __init__(self, chunk_id: _Optional[str] = ..., text: _Optional[str] = ..., score: _Optional[float] = ..., citation: _Optional[_Union[_common_pb2.Citation, _Mapping]] = ...) -> None: ...

class RetrieveResponse(_message.Message):
    __slots__ = ("chunks", "index_version")
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    INDEX_VERSION_FIELD_NUMBER: _ClassVar[int]
    chunks: _containers.RepeatedCompositeFieldContainer[RetrievedChunk]
    index_version: int
    def __init__(self, chunks: _Optional[_Iterable[_Union[RetrievedChunk, _Mapping]]] = ..., index_version: _Optional[int] = ...) -> None: ...

class GenerateLearningObjectivesRequest(_message.Message):
    __slots__ = ("course_id", "module_title", "module_description", "count", "avoid", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_TITLE_FIELD_NUMBER: _ClassVar[int]
    MODULE_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    AVOID_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_title: str
    module_description: str
    count: int
    avoid: _containers.RepeatedScalarFieldContainer[str]
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., module_title: _Optional[str] = ..., module_description: _Optional[str] = ..., count: _Optional[int] = ..., avoid: _Optional[_Iterable[str]] = ..., module_id: _Optional[str] = ...) -> None: ...

class GenerateLearningObjectivesResponse(_message.Message):
    __slots__ = ("objectives", "dropped", "shortfall")
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    SHORTFALL_FIELD_NUMBER: _ClassVar[int]
    objectives: _containers.RepeatedCompositeFieldContainer[_common_pb2.LearningObjective]
    dropped: _containers.RepeatedScalarFieldContainer[str]
    shortfall: str
    def __init__(self, objectives: _Optional[_Iterable[_Union[_common_pb2.LearningObjective, _Mapping]]] = ..., dropped: _Optional[_Iterable[str]] = ..., shortfall: _Optional[str] = ...) -> None: ...

class GenerateModuleContentRequest(_message.Message):
    __slots__ = ("course_id", "module_title", "module_description", "objectives", "preferences", "recap_objectives", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_TITLE_FIELD_NUMBER: _ClassVar[int]
    MODULE_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    RECAP_OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_title: str
    module_description: str
    objectives: _containers.RepeatedCompositeFieldContainer[_common_pb2.LearningObjective]
    preferences: _common_pb2.Preferences
    recap_objectives: _containers.RepeatedCompositeFieldContainer[_common_pb2.LearningObjective]
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., module_title: _Optional[str] = ..., module_description: _Optional[str] = ..., objectives: _Optional[_Iterable[_Union[_common_pb2.LearningObjective, _Mapping]]] = ..., preferences: _Optional[_Union[_common_pb2.Preferences, _Mapping]] = ..., recap_objectives: _Optional[_Iterable[_Union[_common_pb2.LearningObjective, _Mapping]]] = ..., module_id: _Optional[str] = ...) -> None: ...

class GeneratedContent(_message.Message):
    __slots__ = ("markdown", "citations")
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    markdown: str
    citations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Citation]
    def __init__(self, markdown: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_common_pb2.Citation, _Mapping]]] = ...) -> None: ...

class GenerateModuleContentResponse(_message.Message):
    __slots__ = ("markdown_delta", "content")
    MARKDOWN_DELTA_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    markdown_delta: str
    content: GeneratedContent
    def __init__(self, markdown_delta: _Optional[str] = ..., content: _Optional[_Union[GeneratedContent, _Mapping]] = ...) -> None: ...

class QuizItem(_message.Message):
    __slots__ = ("id", "objective_id", "question", "options", "correct_index", "explanation", "citations", "option_notes")
    ID_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVE_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CORRECT_INDEX_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    OPTION_NOTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    objective_id: str
    question: str
    options: _containers.RepeatedScalarFieldContainer[str]
    correct_index: int
    explanation: str
    citations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Citation]
    option_notes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., objective_id: _Optional[str] = ..., question: _Optional[str] = ..., options: _Optional[_Iterable[str]] = ..., correct_index: _Optional[int] = ..., explanation: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_common_pb2.Citation, _Mapping]]] = ..., option_notes: _Optional[_Iterable[str]] = ...) -> None: ...

class GenerateQuizRequest(_message.Message):
    __slots__ = ("course_id", "module_title", "objectives", "question_count", "focus_objective_ids", "seed", "module_id", "seen_questions")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    MODULE_TITLE_FIELD_NUMBER: _ClassVar[int]
    OBJECTIVES_FIELD_NUMBER: _ClassVar[int]
    QUESTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    FOCUS_OBJECTIVE_IDS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    SEEN_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    module_title: str
    objectives: _containers.RepeatedCompositeFieldContainer[_common_pb2.LearningObjective]
    question_count: int
    focus_objective_ids: _containers.RepeatedScalarFieldContainer[str]
    seed: int
    module_id: str
    seen_questions: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, course_id: _Optional[str] = ..., module_title: _Optional[str] = ..., objectives: _Optional[_Iterable[_Union[_common_pb2.LearningObjective, _Mapping]]] = ..., question_count: _Optional[int] = ..., focus_objective_ids: _Optional[_Iterable[str]] = ..., seed: _Optional[int] = ..., module_id: _Optional[str] = ..., seen_questions: _Optional[_Iterable[str]] = ...) -> None: ...

class GenerateQuizResponse(_message.Message):
    __slots__ = ("items", "dropped")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[QuizItem]
    dropped: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, items: _Optional[_Iterable[_Union[QuizItem, _Mapping]]] = ..., dropped: _Optional[_Iterable[str]] = ...) -> None: ...

class ConversationTurn(_message.Message):
    __slots__ = ("role", "text")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    role: TurnRole
    text: str
    def __init__(self, role: _Optional[_Union[TurnRole, str]] = ..., text: _Optional[str] = ...) -> None: ...

class AnswerRequest(_message.Message):
    __slots__ = ("course_id", "question", "history", "module_title", "protected_questions", "module_id")
    COURSE_ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    MODULE_TITLE_FIELD_NUMBER: _ClassVar[int]
    PROTECTED_QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    MODULE_ID_FIELD_NUMBER: _ClassVar[int]
    course_id: str
    question: str
    history: _containers.RepeatedCompositeFieldContainer[ConversationTurn]
    module_title: str
    protected_questions: _containers.RepeatedScalarFieldContainer[str]
    module_id: str
    def __init__(self, course_id: _Optional[str] = ..., question: _Optional[str] = ..., history: _Optional[_Iterable[_Union[ConversationTurn, _Mapping]]] = ..., module_title: _Optional[str] = ..., protected_questions: _Optional[_Iterable[str]] = ..., module_id: _Optional[str] = ...) -> None: ...

class TutorAnswer(_message.Message):
    __slots__ = ("text", "citations", "grounded")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    CITATIONS_FIELD_NUMBER: _ClassVar[int]
    GROUNDED_FIELD_NUMBER: _ClassVar[int]
    text: str
    citations: _containers.RepeatedCompositeFieldContainer[_common_pb2.Citation]
    grounded: bool
    def __init__(self, text: _Optional[str] = ..., citations: _Optional[_Iterable[_Union[_common_pb2.Citation, _Mapping]]] = ..., grounded: _Optional[bool] = ...) -> None: ...

class AnswerResponse(_message.Message):
    __slots__ = ("text_delta", "answer")
    TEXT_DELTA_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    text_delta: str
    answer: TutorAnswer
    def __init__(self, text_delta: _Optional[str] = ..., answer: _Optional[_Union[TutorAnswer, _Mapping]] = ...) -> None: ...

class GetModelInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetModelInfoResponse(_message.Message):
    __slots__ = ("generator_backend", "generator_model", "embedding_model", "embedding_dimension", "device", "faiss_gpu", "request_counts")
    class RequestCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    GENERATOR_BACKEND_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_MODEL_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_MODEL_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_DIMENSION_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    FAISS_GPU_FIELD_NUMBER: _ClassVar[int]
    REQUEST_COUNTS_FIELD_NUMBER: _ClassVar[int]
    generator_backend: str
    generator_model: str
    embedding_model: str
    embedding_dimension: int
    device: str
    faiss_gpu: bool
    request_counts: _containers.ScalarMap[str, int]
    def __init__(self, generator_backend: _Optional[str] = ..., generator_model: _Optional[str] = ..., embedding_model: _Optional[str] = ..., embedding_dimension: _Optional[int] = ..., device: _Optional[str] = ..., faiss_gpu: _Optional[bool] = ..., request_counts: _Optional[_Mapping[str, int]] = ...) -> None: ...
