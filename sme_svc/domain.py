"""Domain types shared by sme_svc's ingestion, retrieval and generation layers (no gRPC, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from lmw_common.jobs import Job, JobItem

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class Section:
    """A piece of extracted text with its location, before chunking."""

    text: str
    page: int = 0  # 1-based PDF page, 0 if none
    slide: int = 0  # 1-based PPTX slide, 0 if none
    heading: str = ""  # heading path, "Chapter > Section"


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable, citable unit of a course file. `id` is deterministic (course, file sha256, ordinal)."""

    id: str
    course_id: str
    file_id: str
    file_name: str
    ordinal: int
    text: str
    page: int = 0
    slide: int = 0
    heading: str = ""
    char_start: int = 0  # span of `text` within the extracted text of its section
    char_end: int = 0
    module_id: str = ""  # the module its file belongs to; "" for a course-wide file


@dataclass(frozen=True, slots=True)
class ChunkedFile:
    """A course file parsed and chunked, waiting to be embedded and stored."""

    course_id: str
    file_id: str
    file_sha256: str
    chunks: list[Chunk]


@dataclass(frozen=True, slots=True)
class StoredCourse:
    """A course's chunks as stored, with their embeddings (an (n, dimension) float32 array, row i for chunk
    i) and the id of the encoder that made each ("" when none was recorded)."""

    version: int
    chunks: list[Chunk]
    embeddings: np.ndarray
    encoders: list[str]


class Method(Enum):
    HYBRID = "hybrid"
    DENSE = "dense"
    LEXICAL = "lexical"


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    score: float


@dataclass(frozen=True, slots=True)
class Objective:
    id: str
    text: str
    chunk_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ObjectiveDrafts:
    """Drafted objectives, and why there are fewer than asked for when there are."""

    objectives: list[Objective]
    shortfall: str = ""  # "" when the requested count was met


@dataclass(frozen=True, slots=True)
class QuizItem:
    id: str
    objective_id: str
    question: str
    options: tuple[str, ...]
    correct_index: int
    explanation: str
    chunk_ids: tuple[str, ...] = ()
    option_notes: tuple[str, ...] = ()  # per option: why it is wrong, where the material says so ("" if not)


@dataclass(slots=True)
class Generated:
    """Markdown plus the chunks it cites (content and tutor answers)."""

    markdown: str
    chunk_ids: list[str] = field(default_factory=list)  # cited chunks, in order of first citation
    grounded: bool = True  # False: the materials do not cover the request (tutor)
    markers: dict[int, str] = field(default_factory=dict)  # citation marker [n] in `markdown` -> chunk id


@dataclass(slots=True)
class DocumentItem(JobItem):
    """A file of an ingestion job (JobItem.id is the file id), with what the runner needs to fetch and parse it."""

    sha256: str = ""
    media_type: str = ""
    module_id: str = ""  # "" for a course-wide file


@dataclass(slots=True)
class IngestJob(Job):
    """An ingestion job. `resumes` counts the times a live replica took it over from a runner that stopped."""

    resumes: int = 0


@dataclass(frozen=True, slots=True)
class ModelInfo:
    generator_backend: str
    generator_model: str
    embedding_model: str
    embedding_dimension: int
    device: str
    faiss_gpu: bool
    request_counts: dict[str, int]  # generation requests served since start, by RPC
