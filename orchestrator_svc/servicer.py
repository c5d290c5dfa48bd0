"""Translates OrchestratorService protos to use-case calls and back; nothing else."""

from __future__ import annotations

from lmw.orchestrator.v1 import orchestrator_service_pb2 as pb
from lmw.orchestrator.v1 import orchestrator_service_pb2_grpc as pb_grpc
from lmw_common.auth import Access, require_principal
from lmw_common.citations import citation_pb
from lmw_common.grpc_server import ServiceSpec
from lmw_common.preferences import preferences_pb, values_from_pb
from lmw_common.protoconv import timestamp
from orchestrator_svc.app import OrchestratorApp
from orchestrator_svc.domain import (
    Dashboard,
    GradedQuestion,
    Mastery,
    ModuleContent,
    ModuleStatus,
    NextStepKind,
    Quiz,
    QuizResult,
    TutorMessage,
)
from orchestrator_svc.grading import Answer

# Instructors are refused by the interceptor; finer rules (own data, enrollment, unlocks) are in the use cases.
ACCESS = {
    "GetPreferences": Access.LEARNER,
    "SetPreferences": Access.LEARNER,
    "GetModuleContent": Access.LEARNER,
    "StreamModuleContent": Access.LEARNER,
    "GetQuiz": Access.LEARNER,
    "SubmitQuiz": Access.LEARNER,
    "CompleteModule": Access.LEARNER,
    "GetDashboard": Access.LEARNER,
    "AskTutor": Access.LEARNER,
    "GetTutorHistory": Access.LEARNER,
    "GetLearnerAnalytics": Access.LEARNER,
}

_STATUS = {
    ModuleStatus.LOCKED: pb.MODULE_STATUS_LOCKED,
    ModuleStatus.AVAILABLE: pb.MODULE_STATUS_AVAILABLE,
    ModuleStatus.IN_PROGRESS: pb.MODULE_STATUS_IN_PROGRESS,
    ModuleStatus.COMPLETED: pb.MODULE_STATUS_COMPLETED,
}
_NEXT = {
    NextStepKind.READ: pb.NEXT_STEP_KIND_READ,
    NextStepKind.TAKE_QUIZ: pb.NEXT_STEP_KIND_TAKE_QUIZ,
    NextStepKind.RETAKE_QUIZ: pb.NEXT_STEP_KIND_RETAKE_QUIZ,
    NextStepKind.COMPLETE_MODULE: pb.NEXT_STEP_KIND_COMPLETE_MODULE,
    NextStepKind.COURSE_COMPLETED: pb.NEXT_STEP_KIND_COURSE_COMPLETED,
}
_ROLE = {"learner": pb.TUTOR_ROLE_LEARNER, "tutor": pb.TUTOR_ROLE_TUTOR}


def content_pb(c: ModuleContent) -> pb.ModuleContent:
    return pb.ModuleContent(
        course_id=c.course_id,
        module_id=c.module_id,
        markdown=c.markdown,
        citations=[citation_pb(x) for x in c.citations],
        preferences=preferences_pb(c.preferences),
        objectives_version=c.objectives_version,
        materials_version=c.materials_version,
        recap_objective_ids=list(c.recap_objective_ids),
        generate_time=timestamp(c.generated_at),
    )


def quiz_pb(q: Quiz) -> pb.Quiz:
    """Questions and options only: correct answers and explanations stay on the server."""
    return pb.Quiz(
        id=q.id,
        course_id=q.course_id,
        module_id=q.module_id,
        questions=[
            pb.QuizQuestion(id=i.id, objective_id=i.objective_id, text=i.question, options=list(i.options))
            for i in q.items
        ],
        pass_mark=q.pass_mark,
        submitted=q.submitted,
        create_time=timestamp(q.created_at),
    )


def graded_pb(g: GradedQuestion) -> pb.GradedQuestion:
    return pb.GradedQuestion(
        question_id=g.question_id,
        objective_id=g.objective_id,
        selected_index=g.selected_index,
        correct_index=g.correct_index,
        correct=g.correct,
        explanation=g.explanation,
        citations=[citation_pb(c) for c in g.citations],
    )


def mastery_pb(m: Mastery) -> pb.ObjectiveMastery:
    return pb.ObjectiveMastery(
        objective_id=m.objective_id,
        text=m.text,
        module_id=m.module_id,
        p_mastery=m.p_mastery,
        answer_count=m.answer_count,
        mastered=m.mastered,
    )


def result_pb(r: QuizResult) -> pb.QuizResult:
    return pb.QuizResult(
        attempt_id=r.attempt_id,
        quiz_id=r.quiz_id,
        score=r.score,
        passed=r.passed,
        pass_mark=r.pass_mark,
        questions=[graded_pb(q) for q in r.questions],
        mastery=[mastery_pb(m) for m in r.mastery],
        submit_time=timestamp(r.submitted_at),
    )


def dashboard_pb(d: Dashboard) -> pb.Dashboard:
    return pb.Dashboard(
        learner_id=d.learner_id,
        course_id=d.course.id,
        course_title=d.course.title,
        course_description=d.course.description,
        modules=[
            pb.DashboardModule(
                module_id=m.module_id,
                title=m.title,
                position=m.position,
                status=_STATUS[m.status],
                best_score=m.best_score,
                attempt_count=m.attempt_count,
            )
            for m in d.modules
        ],
        completed_module_count=d.completed_module_count,
        progress=d.progress,
        preferences=preferences_pb(d.preferences),
        recent_quiz_results=[
            pb.QuizResultSummary(
                attempt_id=r.attempt_id,
                module_id=r.module_id,
                score=r.score,
                passed=r.passed,
                submit_time=timestamp(r.submitted_at),
            )
            for r in d.recent_results
        ],
        mastery=[mastery_pb(m) for m in d.mastery],
        next_step=pb.NextStep(
            kind=_NEXT[d.next_step.kind], module_id=d.next_step.module_id, message=d.next_step.message
        ),
    )


def tutor_message_pb(m: TutorMessage) -> pb.TutorMessage:
    return pb.TutorMessage(
        id=m.id,
        role=_ROLE[m.role],
        text=m.text,
        citations=[citation_pb(c) for c in m.citations],
        grounded=m.grounded,
        module_id=m.module_id,
        create_time=timestamp(m.created_at),
    )


class OrchestratorServicer(pb_grpc.OrchestratorServiceServicer):
    def __init__(self, app: OrchestratorApp) -> None:
        self._app = app

    async def GetPreferences(self, request, context):
        preferences, is_default = await self._app.preferences.get(require_principal(), request.course_id)
        return pb.GetPreferencesResponse(preferences=preferences_pb(preferences), is_default=is_default)

    async def SetPreferences(self, request, context):
        preferences = await self._app.preferences.set(
            require_principal(),
            request.course_id,
            values_from_pb(request.preferences),
            list(request.update_mask.paths),
        )
        return pb.SetPreferencesResponse(preferences=preferences_pb(preferences))

    async def GetModuleContent(self, request, context):
        content = await self._app.contents.get(require_principal(), request.course_id, request.module_id)
        return pb.GetModuleContentResponse(content=content_pb(content))

    async def StreamModuleContent(self, request, context):
        events = self._app.contents.stream(require_principal(), request.course_id, request.module_id)
        async for event in events:
            if isinstance(event, str):
                yield pb.StreamModuleContentResponse(markdown_delta=event)
            else:
                yield pb.StreamModuleContentResponse(content=content_pb(event))

    async def GetQuiz(self, request, context):
        quiz = await self._app.quizzes.quiz(
            require_principal(), request.course_id, request.module_id, request.retake
        )
        return pb.GetQuizResponse(quiz=quiz_pb(quiz))

    async def SubmitQuiz(self, request, context):
        result = await self._app.quizzes.submit(
            require_principal(),
            request.course_id,
            request.module_id,
            request.quiz_id,
            request.attempt_id,
            [Answer(a.question_id, a.selected_index) for a in request.answers],
        )
        return pb.SubmitQuizResponse(result=result_pb(result))

    async def CompleteModule(self, request, context):
        next_module_id, course_completed = await self._app.completion.complete(
            require_principal(), request.course_id, request.module_id
        )
        return pb.CompleteModuleResponse(next_module_id=next_module_id, course_completed=course_completed)

    async def GetDashboard(self, request, context):
        dashboard = await self._app.standing.dashboard(
            require_principal(), request.learner_id, request.course_id
        )
        return pb.GetDashboardResponse(dashboard=dashboard_pb(dashboard))

    async def AskTutor(self, request, context):
        events = self._app.tutor.ask(
            require_principal(), request.course_id, request.question, request.module_id
        )
        async for event in events:
            if isinstance(event, str):
                yield pb.AskTutorResponse(text_delta=event)
            else:
                yield pb.AskTutorResponse(message=tutor_message_pb(event))

    async def GetTutorHistory(self, request, context):
        messages, token = await self._app.tutor.history(
            require_principal(), request.course_id, request.page_size, request.page_token
        )
        return pb.GetTutorHistoryResponse(
            messages=[tutor_message_pb(m) for m in messages], next_page_token=token
        )

    async def GetLearnerAnalytics(self, request, context):
        a = await self._app.standing.analytics(require_principal(), request.learner_id, request.course_id)
        return pb.GetLearnerAnalyticsResponse(
            learner_id=a.learner_id,
            course_id=a.course_id,
            attempt_count=a.attempt_count,
            average_score=a.average_score,
            mastery=[mastery_pb(m) for m in a.mastery],
            weak_objective_ids=list(a.weak_objective_ids),
            tutor_question_count=a.tutor_question_count,
        )


def service_spec(app: OrchestratorApp) -> ServiceSpec:
    return ServiceSpec(
        descriptor=pb.DESCRIPTOR.services_by_name["OrchestratorService"],
        servicer=OrchestratorServicer(app),
        add_to_server=pb_grpc.add_OrchestratorServiceServicer_to_server,
        access=ACCESS,
    )
