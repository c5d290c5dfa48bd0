"""orchestrator_svc's use cases, one module per concern. They see the caller's Principal, never a gRPC
context, and reach storage and the other services only through the Protocols declared beside them."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator_svc.app.analytics import Standing
from orchestrator_svc.app.content import ModuleContents
from orchestrator_svc.app.preferences import PreferenceSettings
from orchestrator_svc.app.progress import ModuleCompletion
from orchestrator_svc.app.quizzes import Quizzes
from orchestrator_svc.app.tutor import Tutor


@dataclass(frozen=True)
class OrchestratorApp:
    preferences: PreferenceSettings
    contents: ModuleContents
    quizzes: Quizzes
    completion: ModuleCompletion
    tutor: Tutor
    standing: Standing

    async def wait_background(self) -> None:
        """Wait for the work started in the background (content prepared ahead of the learner)."""
        await self.completion.wait_background()

    async def close(self) -> None:
        await self.completion.close()
