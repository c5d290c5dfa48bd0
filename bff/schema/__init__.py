"""The GraphQL schema of the BFF (camelCase, Relay-style connections)."""

from __future__ import annotations

import strawberry

from bff.config import BffSettings
from bff.errors import QuietSchema
from bff.metrics import GraphQLMetrics
from bff.schema.extensions import build_extensions
from bff.schema.mutations import Mutation
from bff.schema.queries import Query
from bff.schema.subscriptions import Subscription
from bff.schema.types import Instructor, Learner


def build_schema(
    settings: BffSettings | None = None, metrics: GraphQLMetrics | None = None
) -> strawberry.Schema:
    settings = settings or BffSettings()
    return QuietSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Learner, Instructor],
        extensions=build_extensions(settings, metrics),
    )


__all__ = ["build_schema"]
