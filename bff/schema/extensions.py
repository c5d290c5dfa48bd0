"""Schema extensions: per-operation request scope, the query limits (depth, aliases, tokens, cost) and the
operation metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from strawberry.extensions import (
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from bff.clients import current_token
from bff.config import BffSettings
from bff.loaders import Loaders, set_loaders
from bff.metrics import GraphQLMetrics, outcome
from bff.schema.pagination import MAX_FIRST
from lmw_common import telemetry
from lmw_common.logs import new_request_id, request_id_var


class OperationSetup(SchemaExtension):
    """Everything the BFF does before an operation, in one extension (Strawberry's hook machinery costs per
    extension and per request): puts the caller's token, fresh DataLoaders and (for websocket operations) a
    request id into the contextvars the gRPC channels and loaders read, bounds the tokens the parser reads,
    and adds the query-limit rules; then counts and times the operation. Runs in the operation's own task:
    an HTTP request, or one operation of a websocket connection."""

    def __init__(
        self, max_tokens: int, rules: tuple[type[ValidationRule], ...], metrics: GraphQLMetrics
    ) -> None:
        self.max_tokens = max_tokens
        self.rules = rules
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        current_token.set(context.token)
        set_loaders(Loaders(context.clients, context.settings.loader_concurrency))
        if context.is_websocket:
            request_id_var.set(new_request_id())
        execution.parse_options["max_tokens"] = self.max_tokens
        execution.validation_rules = (*execution.validation_rules, *self.rules)
        started = time.perf_counter()
        yield
        self._observe(time.perf_counter() - started)

    def _observe(self, seconds: float) -> None:
        execution = self.execution_context
        valid = execution.graphql_document is not None and not execution.pre_execution_errors
        kind = "invalid"
        if valid:
            try:
                kind = execution.operation_type.value
            except Exception:  # no operation of that name in the document
                valid = False
        result = execution.result
        errors = execution.pre_execution_errors or (result.errors if result is not None else None)
        name = self.metrics.operation_label(execution.operation_name, valid)
        self.metrics.observe(name, kind, outcome(errors), seconds)
        telemetry.set_attribute("graphql.operation.name", name)


def _is_introspection(name: str) -> bool:
    return name.startswith("__")


def cost_rule(max_cost: int) -> type[ValidationRule]:
    """A small complexity estimate: every field costs 1; a field with `first: N` multiplies the cost of its
    selection by N (MAX_FIRST when N is a variable). Introspection is free (it is bounded by the schema)."""

    class QueryCost(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            fragments = {
                d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
            }
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                cost = _selection_cost(definition.selection_set, fragments, frozenset())
                if cost > max_cost:
                    name = definition.name.value if definition.name else "anonymous"
                    context.report_error(
                        GraphQLError(
                            f"Operation '{name}' is too complex: estimated cost {cost} exceeds {max_cost}.",
                            definition,
                            extensions={"code": "GRAPHQL_VALIDATION_FAILED", "reason": "QUERY_TOO_COMPLEX"},
                        )
                    )

    return QueryCost


def _selection_cost(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], seen: frozenset[str]
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if _is_introspection(selection.name.value):
                continue
            total += 1 + _multiplier(selection) * _selection_cost(selection.selection_set, fragments, seen)
        elif isinstance(selection, InlineFragmentNode):
            total += _selection_cost(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # cycles are reported by NoFragmentCycles
                total += _selection_cost(fragment.selection_set, fragments, seen | {name})
    return total


def _multiplier(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value == "first":
            if isinstance(argument.value, IntValueNode):
                try:
                    return max(1, min(int(argument.value.value), MAX_FIRST))
                except ValueError:
                    return MAX_FIRST
            return MAX_FIRST
    return 1


def build_extensions(settings: BffSettings, metrics: GraphQLMetrics | None = None) -> list:
    """Extension factories in order. The rule classes are built once, so the validation cache (keyed by the
    rules) hits across requests. Errors are finished by `bff.errors.QuietSchema.process_errors`."""
    metrics = metrics or GraphQLMetrics()
    rules = (
        *QueryDepthLimiter(settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(settings.max_aliases).validation_rules,
        cost_rule(settings.max_query_cost),
    )
    max_tokens = settings.max_tokens
    return [lambda: OperationSetup(max_tokens, rules, metrics), ParserCache, ValidationCache]
