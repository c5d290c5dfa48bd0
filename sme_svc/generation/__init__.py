"""Grounded generation for sme_svc: objectives, module content, quizzes and tutor answers.

Backends share the `Generator` protocol (base.py): `extractive` (CPU default), `openai` (OpenAI-compatible
HTTP server) and `vllm` (in process, GPU). Build one with `factory.create_generator`.
"""

from sme_svc.generation.base import (
    BackendUnavailable,
    Encode,
    GenerationFailed,
    Generator,
    GeneratorConfigError,
    collect,
)
from sme_svc.generation.conversation import contextualize_question
from sme_svc.generation.factory import create_generator

__all__ = [
    "BackendUnavailable",
    "Encode",
    "GenerationFailed",
    "Generator",
    "GeneratorConfigError",
    "collect",
    "contextualize_question",
    "create_generator",
]
