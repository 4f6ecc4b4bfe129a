"""Query cost and the per-key rate limit (a leaky bucket), Shopify-style.

Cost model, in points:
* every object in the response costs 1 (a connection, each edge, each node, pageInfo,
  a cart, each item...); scalars and enums cost 0; introspection costs 0;
* a root mutation field costs 10, plus 1 per element of its list arguments (so
  ``eventsRecord`` of 1,000 events costs 1,010 before its payload).

The *requested* cost is computed from the document before anything runs: a connection
counts ``first`` (default 25) items, a list field with a list argument one item per
element (``_entities``), any other list of objects ``LIST_ESTIMATE``.
A request over ``max_query_cost`` is refused before any database command, and so is one
the caller's budget cannot pay for (the budget is shared by every replica: ``app.ratelimit``;
checking it costs a command only when this replica's slice of it runs out). After
execution the *actual* cost is the objects really returned, and the difference is refunded.
Every result reports ``extensions.cost {requestedQueryCost, actualQueryCost, throttleStatus
{maximumAvailable, currentlyAvailable, restoreRate}}``. Subscriptions are not charged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    value_from_ast_untyped,
)
from graphql.execution import ExecutionResult as GraphQLExecutionResult
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from app.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.ratelimit import SharedBudget

LIST_ESTIMATE = 10
MUTATION_COST = 10


@dataclass
class _Walk:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]

    def fields(self, selection_set: SelectionSetNode, parent: Any) -> Iterator[tuple[FieldNode, Any]]:
        """(field node, its definition or None) of a selection set, fragments flattened."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                defined = None
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                    defined = parent.fields.get(selection.name.value)
                yield selection, defined
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else parent
                yield from self.fields(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    inner = self.schema.get_type(fragment.type_condition.name.value)
                    yield from self.fields(fragment.selection_set, inner)

    def object_valued(
        self, selection_set: SelectionSetNode, parent: Any
    ) -> Iterator[tuple[FieldNode, GraphQLField, Any]]:
        """(field node, definition, named type) of the fields whose values are objects;
        introspection fields and scalars (JSON included) are left out."""
        for node, defined in self.fields(selection_set, parent):
            if defined is None or node.name.value.startswith("__"):
                continue
            named = get_named_type(defined.type)
            if is_composite_type(named):
                yield node, defined, named

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                if isinstance(argument.value, VariableNode):
                    return self.variables.get(argument.value.name.value)
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def requested(self, selection_set: SelectionSetNode | None, parent: Any, page: int) -> int:
        """The most objects this selection can return; ``page`` sizes lists inside a connection."""
        if selection_set is None:
            return 0
        total = 0
        for node, defined, named in self.object_valued(selection_set, parent):
            if "first" in defined.args:  # a connection: its lists hold `first` items
                first = self.argument(node, "first")
                size = first if isinstance(first, int) and 0 <= first <= MAX_PAGE_SIZE else DEFAULT_PAGE_SIZE
                total += 1 + self.requested(node.selection_set, named, size)
            elif _is_list(defined):  # one item per element of a list argument (_entities), else `page`
                sizes = [len(v) for v in self.list_arguments(node)]
                items = max(sizes) if sizes else page
                total += items * (1 + self.requested(node.selection_set, named, LIST_ESTIMATE))
            else:
                total += 1 + self.requested(node.selection_set, named, LIST_ESTIMATE)
        return total

    def list_arguments(self, node: FieldNode) -> Iterator[list[Any]]:
        for argument in node.arguments or ():
            value = (
                self.variables.get(argument.value.name.value)
                if isinstance(argument.value, VariableNode)
                else argument.value
            )
            if isinstance(value, ListValueNode):
                yield list(value.values)
            elif isinstance(value, list):
                yield value

    def mutation_cost(self, operation: OperationDefinitionNode, parent: Any) -> int:
        total = 0
        for node, _ in self.fields(operation.selection_set, parent):
            if not node.name.value.startswith("__"):
                total += MUTATION_COST + sum(len(values) for values in self.list_arguments(node))
        return total

    def actual(self, selection_sets: list[SelectionSetNode], parent: Any, value: dict[str, Any]) -> int:
        """The objects ``value`` holds for these (merged) selections; JSON scalars are not objects."""
        return _count_fields(value, _Shape(self, parent, selection_sets))

    def object_fields(self, parent: Any, selection_sets: list[SelectionSetNode]) -> dict[str, _Shape]:
        """Response key -> shape of each object-valued field of these (merged) selections."""
        groups: dict[str, tuple[Any, list[SelectionSetNode]]] = {}
        for selection_set in selection_sets:
            for node, _, named in self.object_valued(selection_set, parent):
                _, nested = groups.setdefault((node.alias or node.name).value, (named, []))
                if node.selection_set is not None:
                    nested.append(node.selection_set)
        return {key: _Shape(self, named, nested) for key, (named, nested) in groups.items()}


class _Shape:
    """The object-valued fields under one selection, worked out once (not once per object
    of a list)."""

    __slots__ = ("_fields", "parent", "selection_sets", "walk")

    def __init__(self, walk: _Walk, parent: Any, selection_sets: list[SelectionSetNode]) -> None:
        self.walk = walk
        self.parent = parent
        self.selection_sets = selection_sets
        self._fields: dict[str, _Shape] | None = None

    @property
    def fields(self) -> dict[str, _Shape]:
        if self._fields is None:
            self._fields = self.walk.object_fields(self.parent, self.selection_sets)
        return self._fields


def _count_fields(value: dict[str, Any], shape: _Shape) -> int:
    total = 0
    for key, child in shape.fields.items():
        total += _count(value.get(key), child)
    return total


def _count(value: Any, shape: _Shape) -> int:
    if isinstance(value, dict):
        return 1 + _count_fields(value, shape)
    if isinstance(value, list):
        total = 0
        for item in value:
            total += _count(item, shape)
        return total
    return 0


def _is_list(defined: GraphQLField) -> bool:
    kind = defined.type.of_type if isinstance(defined.type, GraphQLNonNull) else defined.type
    return isinstance(kind, GraphQLList)


class QueryCost(SchemaExtension):
    """Refuses over-budget requests before they run and reports ``extensions.cost``."""

    def __init__(self, *, max_cost: int, budget: SharedBudget) -> None:
        self.max_cost = max_cost
        self.budget = budget
        self.report: dict[str, Any] | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        operation = get_operation_ast(document, ctx.operation_name) if document else None
        if operation is None or operation.operation == OperationType.SUBSCRIPTION:
            yield
            return
        schema = ctx.schema._schema
        root = schema.get_root_type(operation.operation)
        walk = _Walk(
            schema=schema,
            fragments={d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            if document
            else {},
            variables=ctx.variables or {},
        )
        base = walk.mutation_cost(operation, root) if operation.operation == OperationType.MUTATION else 0
        requested = base + walk.requested(operation.selection_set, root, LIST_ESTIMATE)
        principal = getattr(ctx.context, "principal", None)
        key_id = principal.key_id if principal is not None else ""
        self.report = {"requestedQueryCost": requested, "actualQueryCost": None}
        refusal = None
        available = float(self.budget.capacity)
        if requested > self.max_cost:
            refusal = GraphQLError(
                f"Query cost is {requested}, which exceeds the single query max cost limit ({self.max_cost})",
                extensions={"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": self.max_cost},
            )
        elif self.budget.enabled and principal is not None and principal.account_id:
            decision = await self.budget.take(ctx.context.db, principal.account_id, key_id, requested)
            available = decision.available
            if not decision.allowed:
                refusal = GraphQLError(
                    "Throttled",
                    extensions={"code": "THROTTLED", "retryAfterSeconds": round(decision.retry_after_s, 3)},
                )
        if refusal is not None:
            ctx.result = GraphQLExecutionResult(data=None, errors=[refusal])
            self.report["throttleStatus"] = self._status(available)
            yield
            return
        yield
        result = ctx.result
        data = getattr(result, "data", None) or {}
        rendered = getattr(ctx.context, "rendered_objects", None)  # counted by the compiled executor
        if rendered is not None and rendered[0] is data:
            actual = base + rendered[1]
            ctx.context.rendered_objects = None  # the context may outlive this response (a websocket)
        else:
            actual = base + walk.actual([operation.selection_set], root, data)
        if self.budget.enabled:
            available = self.budget.give_back(key_id, requested - actual)
        self.report["actualQueryCost"] = actual
        self.report["throttleStatus"] = self._status(available)

    def _status(self, available: float) -> dict[str, float]:
        return {
            "maximumAvailable": float(self.budget.capacity),
            "currentlyAvailable": round(min(available, self.budget.capacity), 1)
            if self.budget.enabled
            else float(self.budget.capacity),
            "restoreRate": float(self.budget.restore_rate),
        }

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.report} if self.report is not None else {}
