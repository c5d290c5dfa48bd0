"""Schema extensions: per-operation request scope and the query limits (depth, aliases, tokens, cost)."""

from __future__ import annotations

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
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from bff.clients import current_token
from bff.config import BffSettings
from bff.errors import MaskUnexpected
from bff.loaders import Loaders, set_loaders
from bff.schema.pagination import MAX_FIRST
from lmw_common.logs import new_request_id, request_id_var


class RequestScope(SchemaExtension):
    """Puts the caller's token, fresh DataLoaders and (for websocket operations) a request id into the
    contextvars the gRPC channels and loaders read. Runs in the operation's own task: an HTTP request, or
    one operation of a websocket connection."""

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        current_token.set(context.token)
        set_loaders(Loaders(context.clients, context.settings.loader_concurrency))
        if context.is_websocket:
            request_id_var.set(new_request_id())
        yield


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


def build_extensions(settings: BffSettings) -> list:
    """Extension factories in order. Rule classes are built once, so the validation cache (keyed by the
    rules) hits across requests."""
    rules = [
        *QueryDepthLimiter(settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(settings.max_aliases).validation_rules,
        cost_rule(settings.max_query_cost),
    ]
    max_tokens = settings.max_tokens
    return [
        RequestScope,
        MaskUnexpected,
        lambda: MaxTokensLimiter(max_tokens),
        ParserCache,
        lambda: AddValidationRules(rules),
        ValidationCache,
    ]
