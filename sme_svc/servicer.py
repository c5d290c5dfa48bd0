"""Translates SmeService protos to use-case calls and back; nothing else. Every RPC is internal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lmw.common.v1 import common_pb2 as cpb
from lmw.sme.v1 import sme_service_pb2 as pb
from lmw.sme.v1 import sme_service_pb2_grpc as pb_grpc
from lmw_common.auth import Access
from lmw_common.citations import Citation, citation_pb
from lmw_common.errors import InvalidArgument
from lmw_common.grpc_server import ServiceSpec
from lmw_common.jobs import job_pb
from lmw_common.preferences import preferences_from_pb
from sme_svc.app import SmeApp
from sme_svc.app.generation import Cited
from sme_svc.domain import Chunk, DocumentItem, Generated, Method, Objective, ObjectiveDrafts

ACCESS = {name: Access.INTERNAL for name in pb.DESCRIPTOR.services_by_name["SmeService"].methods_by_name}

_METHODS = {
    pb.RETRIEVAL_METHOD_UNSPECIFIED: Method.HYBRID,
    pb.RETRIEVAL_METHOD_HYBRID: Method.HYBRID,
    pb.RETRIEVAL_METHOD_DENSE: Method.DENSE,
    pb.RETRIEVAL_METHOD_LEXICAL: Method.LEXICAL,
}
_TURN_ROLES = {pb.TURN_ROLE_LEARNER: "user", pb.TURN_ROLE_TUTOR: "assistant"}
SNIPPET_CHARS = 240


def _method(value: int) -> Method:
    if value not in _METHODS:  # an enum number this contract does not know
        raise InvalidArgument(f"unknown retrieval method {value}", "INVALID_METHOD", field="method")
    return _METHODS[value]


def chunk_citation_pb(chunk: Chunk) -> cpb.Citation:
    return citation_pb(
        Citation(
            chunk_id=chunk.id,
            file_id=chunk.file_id,
            file_name=chunk.file_name,
            page=chunk.page,
            slide=chunk.slide,
            heading=chunk.heading,
            char_start=chunk.char_start,
            char_end=chunk.char_end,
            snippet=chunk.text[:SNIPPET_CHARS],
        )
    )


def citations_pb(chunk_ids: Sequence[str], chunks: Mapping[str, Chunk]) -> list[cpb.Citation]:
    return [chunk_citation_pb(chunks[cid]) for cid in chunk_ids if cid in chunks]


def objectives_from_pb(objectives) -> list[Objective]:
    return [Objective(o.id, o.text, tuple(c.chunk_id for c in o.citations)) for o in objectives]


class SmeServicer(pb_grpc.SmeServiceServicer):
    def __init__(self, app: SmeApp) -> None:
        self._app = app

    async def IngestDocuments(self, request, context):
        documents = [
            DocumentItem(
                d.file_id, d.file_name, sha256=d.sha256, media_type=d.media_type, module_id=d.module_id
            )
            for d in request.documents
        ]
        job = await self._app.documents.ingest(request.course_id, documents)
        return pb.IngestDocumentsResponse(job=job_pb(job))

    async def GetJob(self, request, context):
        return pb.GetJobResponse(job=job_pb(await self._app.documents.job(request.job_id)))

    async def WatchJob(self, request, context):
        async for job in self._app.documents.watch(request.job_id):
            yield pb.WatchJobResponse(job=job_pb(job))

    async def DeleteDocuments(self, request, context):
        count = await self._app.documents.delete_files(request.course_id, list(request.file_ids))
        return pb.DeleteDocumentsResponse(deleted_chunk_count=count)

    async def MoveDocuments(self, request, context):
        count = await self._app.documents.move_files(
            request.course_id, list(request.file_ids), request.module_id
        )
        return pb.MoveDocumentsResponse(moved_chunk_count=count)

    async def DeleteCourseIndex(self, request, context):
        count = await self._app.documents.delete_course(request.course_id)
        return pb.DeleteCourseIndexResponse(deleted_chunk_count=count)

    async def Retrieve(self, request, context):
        hits = await self._app.search.retrieve(
            request.course_id,
            request.query,
            request.k,
            list(request.filter.file_ids),
            _method(request.method),
            request.filter.module_id or None,
        )
        return pb.RetrieveResponse(
            chunks=[
                pb.RetrievedChunk(
                    chunk_id=h.chunk.id, text=h.chunk.text, score=h.score, citation=chunk_citation_pb(h.chunk)
                )
                for h in hits
            ]
        )

    async def GenerateLearningObjectives(self, request, context):
        cited = await self._app.generation.objectives(
            request.course_id,
            request.module_title,
            request.module_description,
            request.count,
            list(request.avoid),
            request.module_id or None,
        )
        drafts: ObjectiveDrafts = cited.value
        return pb.GenerateLearningObjectivesResponse(
            objectives=[
                cpb.LearningObjective(id=o.id, text=o.text, citations=citations_pb(o.chunk_ids, cited.chunks))
                for o in drafts.objectives
            ],
            shortfall=drafts.shortfall,
        )

    async def GenerateModuleContent(self, request, context):
        stream = self._app.generation.content(
            request.course_id,
            request.module_title,
            request.module_description,
            objectives_from_pb(request.objectives),
            preferences_from_pb(request.preferences),
            objectives_from_pb(request.recap_objectives),
            request.module_id or None,
        )
        async for item in stream:
            if isinstance(item, Cited):
                generated: Generated = item.value
                yield pb.GenerateModuleContentResponse(
                    content=pb.GeneratedContent(
                        markdown=generated.markdown, citations=citations_pb(generated.chunk_ids, item.chunks)
                    )
                )
            else:
                yield pb.GenerateModuleContentResponse(markdown_delta=item)

    async def GenerateQuiz(self, request, context):
        cited = await self._app.generation.quiz(
            request.course_id,
            request.module_title,
            objectives_from_pb(request.objectives),
            request.question_count,
            list(request.focus_objective_ids),
            request.seed,
            request.module_id or None,
            list(request.seen_questions),
        )
        return pb.GenerateQuizResponse(
            items=[
                pb.QuizItem(
                    id=q.id,
                    objective_id=q.objective_id,
                    question=q.question,
                    options=list(q.options),
                    correct_index=q.correct_index,
                    explanation=q.explanation,
                    citations=citations_pb(q.chunk_ids, cited.chunks),
                    option_notes=list(q.option_notes),
                )
                for q in cited.value
            ]
        )

    async def Answer(self, request, context):
        history = [(_TURN_ROLES.get(t.role, "user"), t.text) for t in request.history]
        stream = self._app.generation.answer(
            request.course_id,
            request.question,
            history,
            list(request.protected_questions),
            request.module_id or None,
        )
        async for item in stream:
            if isinstance(item, Cited):
                generated: Generated = item.value
                yield pb.AnswerResponse(
                    answer=pb.TutorAnswer(
                        text=generated.markdown,
                        citations=citations_pb(generated.chunk_ids, item.chunks),
                        grounded=generated.grounded,
                    )
                )
            else:
                yield pb.AnswerResponse(text_delta=item)

    async def GetModelInfo(self, request, context):
        info = await self._app.generation.model_info()
        return pb.GetModelInfoResponse(
            generator_backend=info.generator_backend,
            generator_model=info.generator_model,
            embedding_model=info.embedding_model,
            embedding_dimension=info.embedding_dimension,
            device=info.device,
            faiss_gpu=info.faiss_gpu,
            request_counts=info.request_counts,
        )


def service_spec(app: SmeApp) -> ServiceSpec:
    return ServiceSpec(
        descriptor=pb.DESCRIPTOR.services_by_name["SmeService"],
        servicer=SmeServicer(app),
        add_to_server=pb_grpc.add_SmeServiceServicer_to_server,
        access=ACCESS,
    )
