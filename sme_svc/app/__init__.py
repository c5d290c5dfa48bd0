"""sme_svc's use cases, one module per concern. They see no gRPC context, and reach storage, the engines
(ingest/, retrieval/, generation/) and instructor_svc only through the Protocols declared beside them."""

from __future__ import annotations

from dataclasses import dataclass

from sme_svc.app.documents import Documents
from sme_svc.app.generation import Generation
from sme_svc.app.retrieval import Search


@dataclass(frozen=True)
class SmeApp:
    documents: Documents
    search: Search
    generation: Generation
