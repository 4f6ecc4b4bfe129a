"""Compiled execution of queries: a planned operation run without per-field dispatch.

graphql-core completes every field of every object through the same general machinery
(a resolve info, a path, an awaitable check and a type dispatch per field), and strawberry
adds argument conversion and an ``Info`` to each resolver call. A 50-contact page is about
6,000 fields, and that per-field work, not the database, is where a read spends its CPU.

``CompiledExecutor`` plans a query once per document (see ``app.plan``: fields collected
with fragments and aliases merged, and each field's way to its value chosen up front) and
runs the plan:

* plain fields (attributes, and synchronous methods with no arguments) are read directly
  and coerced by their own GraphQL type (``coerce_output_value``, as graphql-core does);
* other fields go through their own strawberry resolver, with the arguments converted once
  per field and request and the permission classes checked on every object (the resolvers
  of one field share one ``Info``, whose ``path`` is the field's, without list indexes);
* awaitable results are gathered one level at a time, so the DataLoaders still batch
  per level and the database commands are those of the standard executor.

The compiled run answers only when the whole operation succeeds: an exception, a null in a
non-null position, a refused permission or a wrong type abandons it, and the operation runs
again on graphql-core's executor, which produces the errors and the partial data. That is
safe because only queries are compiled (they write nothing). Subscriptions, mutations,
``@defer``/``@stream``, abstract types and resolver middleware (tracing) always take the
standard path.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable
from typing import Any, cast

from graphql import GraphQLObjectType, OperationType
from graphql.execution.collect_fields import DeferUsage, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments

from app import plan
from app.metrics import EXECUTIONS

Pending = tuple[Awaitable[Any], plan.FieldPlan, dict[str, Any]]


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with the compiled path for queries in front of it."""

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: list[DeferUsage],  # type: ignore[override]
    ) -> AwaitableOrValue[dict[str, Any]]:
        def standard() -> AwaitableOrValue[dict[str, Any]]:
            return super(CompiledExecutor, self).execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )

        middleware = self.middleware_manager
        if (
            self.operation.operation != OperationType.QUERY
            or serially
            or new_defer_usages
            or (middleware is not None and middleware.middlewares)
        ):
            EXECUTIONS.labels("standard").inc()
            return standard()
        operation_plan = plan.for_operation(self, root_type, grouped_field_set)
        if operation_plan is None:
            EXECUTIONS.labels("standard").inc()
            return standard()
        run = _Run(self)
        try:
            data = run.object(operation_plan, root_value)
        except Exception:
            run.close()
            EXECUTIONS.labels("fallback").inc()
            return standard()
        if not run.pending:
            EXECUTIONS.labels("compiled").inc()
            return data
        return self._finish(run, data, standard)

    async def _finish(self, run: _Run, data: dict[str, Any], standard: Any) -> dict[str, Any]:
        try:
            await run.settle()
        except Exception:
            run.close()
            EXECUTIONS.labels("fallback").inc()
            result = standard()
            return cast(dict[str, Any], await result if self.is_awaitable(result) else result)
        EXECUTIONS.labels("compiled").inc()
        return data


class _Prepared:
    """A resolver field's per-request state: its info objects and converted arguments."""

    __slots__ = ("call_kwargs", "graphql_args", "graphql_info", "info", "kwargs", "resolve")

    def __init__(self, run: _Run, field: plan.FieldPlan) -> None:
        executor = run.executor
        definition = field.definition
        node = field.nodes[0]
        self.resolve = definition.resolve or executor.field_resolver
        self.graphql_info = executor.build_resolve_info(
            definition, list(field.nodes), field.parent_type, Path(None, field.key, field.parent_type.name)
        )
        self.graphql_args: dict[str, Any] = (
            get_argument_values(definition, node, executor.variable_values)
            if definition.args or node.arguments
            else {}
        )
        self.info: Any = None
        self.kwargs: dict[str, Any] = {}
        self.call_kwargs: dict[str, Any] = {}
        resolver = field.resolver
        if resolver is not None:
            strawberry_schema = executor.schema._strawberry_schema  # type: ignore[attr-defined]
            config = strawberry_schema.config
            self.info = config.info_class(_raw_info=self.graphql_info, _field=resolver.field)
            kwargs = convert_arguments(
                self.graphql_args,
                resolver.field.arguments,
                scalar_registry=strawberry_schema.schema_converter.scalar_registry,
                config=config,
                info=self.info,
            )
            for extension in resolver.field.extensions:
                kwargs = extension.map_arguments(kwargs)
            self.kwargs = kwargs
            self.call_kwargs = dict(kwargs)
            if resolver.info_parameter is not None:
                self.call_kwargs[resolver.info_parameter] = self.info


class _Run:
    """One compiled execution: the output built level by level, awaitables per level."""

    def __init__(self, executor: CompiledExecutor) -> None:
        self.executor = executor
        self.is_awaitable = executor.is_awaitable
        self.pending: list[Pending] = []
        self.prepared: dict[int, _Prepared] = {}

    def object(self, fields: list[plan.FieldPlan], source: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in fields:
            kind = field.kind
            if kind is plan.Kind.READ:
                out[field.key] = field.complete(field.read(source), self)  # type: ignore[misc]
            else:
                value = self.resolve(field, source)
                if self.is_awaitable(value):
                    out[field.key] = None
                    self.pending.append((value, field, out))
                else:
                    out[field.key] = field.complete(value, self)
        return out

    def resolve(self, field: plan.FieldPlan, source: Any) -> Any:
        prepared = self.prepared.get(id(field))
        if prepared is None:
            prepared = self.prepared[id(field)] = _Prepared(self, field)
        resolver = field.resolver
        if resolver is None:  # through the field's graphql-core resolver, as graphql-core calls it
            return prepared.resolve(source, prepared.graphql_info, **prepared.graphql_args)
        for permission in resolver.permissions:
            if permission.has_permission(source, prepared.info, **prepared.kwargs) is not True:
                raise plan.Abandon  # refused (or not a plain bool): the standard path raises the error
        if resolver.takes_self:
            return resolver.function(source, **prepared.call_kwargs)
        return resolver.function(**prepared.call_kwargs)

    async def settle(self) -> None:
        """Await the pending values a level at a time, completing each into its slot."""
        while self.pending:
            level, self.pending = self.pending, []
            values = await asyncio.gather(*(awaitable for awaitable, _, _ in level), return_exceptions=True)
            for (_, field, out), value in zip(level, values, strict=True):
                if isinstance(value, BaseException):
                    raise plan.Abandon from value
                out[field.key] = field.complete(value, self)

    def close(self) -> None:
        """Drop the awaitables that were never awaited (no 'never awaited' warnings)."""
        for awaitable, _, _ in self.pending:
            if inspect.iscoroutine(awaitable):
                awaitable.close()
        self.pending = []
