"""Running a plan: ``CompiledExecutor`` and one request's ``_Run``.

A run builds the response object by object from the plan. Plain fields are read and
coerced in place. A resolver field is called directly (its permission classes first, its
arguments converted once per field and request, an ``Info`` with the call's real path);
a value that is not ready (a coroutine or a future) is completed when it settles, and the
fields under it start then: a branch never waits for an unrelated one. DataLoaders still
batch per level, because siblings that settle together (one loader batch) are completed in
the same turn of the event loop and their loads join one batch.

Anything a plain success would not produce (an exception, a null in a non-null position,
a refused permission, a value of the wrong type) abandons the run; the calls already in
flight settle and are recorded, and graphql-core's executor answers the request, replaying
every recorded outcome (``fallback``).
"""

from __future__ import annotations

import asyncio
from typing import Any, NoReturn, cast

from graphql import (
    ExecutionResult,
    ExperimentalIncrementalExecutionResults,
    GraphQLObjectType,
    MiddlewareManager,
    OperationType,
)
from graphql.execution.collect_fields import DeferUsage, GroupedFieldSet
from graphql.execution.values import get_argument_values
from graphql.pyutils import AwaitableOrValue, Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.arguments import convert_arguments

from app.metrics import EXECUTIONS

from . import planner
from .fallback import Memo

RENDERED_OBJECTS = "rendered_objects"
"""A context attribute of this name is set to (the response data, the number of objects
in it: GraphQL object values, the root excluded) when the compiled run answers."""


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor, with the compiled path for queries in front of it."""

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: list[DeferUsage],  # type: ignore[override]  # graphql-core types it as a Sequence
    ) -> AwaitableOrValue[dict[str, Any]]:
        def standard() -> AwaitableOrValue[dict[str, Any]]:
            return super(CompiledExecutor, self).execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )

        middleware = self.middleware_manager
        operation_plan = None
        if not (
            self.operation.operation != OperationType.QUERY
            or serially
            or new_defer_usages
            or (middleware is not None and middleware.middlewares)
        ):
            operation_plan = planner.for_operation(self, root_type, grouped_field_set)
        if operation_plan is None:
            EXECUTIONS.labels("standard").inc()
            return standard()
        run = _Run(self)
        data = run.start(operation_plan, root_value)
        if run.outstanding:
            return self._finish(run, data, standard)
        return self._answer(run, data, standard)

    def build_response(
        self, data: dict[str, Any] | None
    ) -> ExecutionResult | ExperimentalIncrementalExecutionResults:
        response = super().build_response(data)
        # graphql-core's executor refers to itself (``async_helpers`` holds two of its bound
        # methods): left so, it, the request's context, its loaders and every document they
        # read stay in memory until the cycle collector finds them, and that garbage set off
        # most young-generation collections (Q2 at 50 contacts: one every ~4 requests, each
        # scanning the request in flight). Infos handed out keep their helpers, and no field
        # of this executor starts once its response is built.
        del self.async_helpers
        return response

    async def _finish(self, run: _Run, data: dict[str, Any] | None, standard: Any) -> dict[str, Any]:
        await run.settled()
        result = self._answer(run, data, standard)
        return cast(dict[str, Any], await result if self.is_awaitable(result) else result)

    def _answer(
        self, run: _Run, data: dict[str, Any] | None, standard: Any
    ) -> AwaitableOrValue[dict[str, Any]]:
        if not run.abandoned and data is not None:
            EXECUTIONS.labels("compiled").inc()
            if hasattr(self.context_value, RENDERED_OBJECTS):
                setattr(self.context_value, RENDERED_OBJECTS, (data, run.objects - 1))
            return data
        EXECUTIONS.labels("fallback").inc()
        self.middleware_manager = MiddlewareManager(run.memo)
        return cast(AwaitableOrValue[dict[str, Any]], standard())


class _Prepared:
    """A resolver field's per-request state: its shared resolve info and converted arguments."""

    __slots__ = ("call_kwargs", "graphql_args", "info_parameter", "kwargs", "raw_info", "resolve")

    def __init__(self, run: _Run, field: planner.FieldPlan) -> None:
        executor = run.executor
        definition = field.definition
        node = field.nodes[0]
        self.resolve = definition.resolve or executor.field_resolver
        self.raw_info = executor.build_resolve_info(
            definition, list(field.nodes), field.parent_type, Path(None, field.key, field.parent_type.name)
        )
        self.graphql_args: dict[str, Any] = (
            get_argument_values(definition, node, executor.variable_values)
            if definition.args or node.arguments
            else {}
        )
        self.kwargs: dict[str, Any] = {}
        self.call_kwargs: dict[str, Any] = {}
        self.info_parameter: str | None = None
        resolver = field.resolver
        if resolver is not None:
            strawberry_schema = executor.schema._strawberry_schema  # type: ignore[attr-defined]  # strawberry's back reference
            config = strawberry_schema.config
            kwargs = convert_arguments(
                self.graphql_args,
                resolver.field.arguments,
                scalar_registry=strawberry_schema.schema_converter.scalar_registry,
                config=config,
                info=planner.PathInfo(self.raw_info, resolver.field, self.raw_info.path),
            )
            for extension in resolver.field.extensions:
                kwargs = extension.map_arguments(kwargs)
            self.kwargs = kwargs
            self.call_kwargs = dict(kwargs)
            self.info_parameter = resolver.info_parameter


_Waiting = tuple["planner.FieldPlan", Any, dict[str, Any], planner.RunPath]
"""A field waiting for its value: the plan, its source object, the dict it goes in, its path."""


class _Run:
    """One compiled execution. ``outstanding`` counts the calls not settled yet."""

    __slots__ = (
        "abandoned", "executor", "is_awaitable", "memo", "objects", "outstanding", "prepared", "waiter",
        "waiting",
    )  # fmt: skip

    def __init__(self, executor: CompiledExecutor) -> None:
        self.executor = executor
        self.is_awaitable = executor.is_awaitable
        self.memo = Memo()
        self.prepared: dict[int, _Prepared] = {}
        self.outstanding = 0
        self.objects = 0  # object values built, the root's included
        self.abandoned = False
        self.waiter: asyncio.Future[None] | None = None
        self.waiting: dict[asyncio.Future[Any], list[_Waiting]] = {}

    def start(self, render: planner.Completer, root: Any) -> dict[str, Any] | None:
        try:
            return cast(dict[str, Any], render(root, self, None))
        except Exception:  # Abandon, or a plain getter that failed (the fallback reads it again)
            self.abandoned = True
            return None

    async def settled(self) -> None:
        """Until every call in flight has settled (also after the run was abandoned: their
        outcomes are recorded for the fallback, which then sends no command twice)."""
        if self.outstanding:
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter

    def prepare(self, field: planner.FieldPlan) -> _Prepared:
        """The field's per-request state, made on its first call."""
        prepared = self.prepared[id(field)] = _Prepared(self, field)
        return prepared

    def failed(self, node: Any, source: Any, error: Exception) -> NoReturn:
        """A resolver raised: its error is recorded for the fallback and the run abandoned."""
        self.memo.error(node, source, error)
        raise planner.Abandon from None

    def call(self, field: planner.FieldPlan, source: Any, path: planner.RunPath) -> Any:
        """The field's resolver on ``source``; an exception is recorded (a value by the
        caller, once it knows whether it is awaitable)."""
        prepared = self.prepared.get(id(field)) or self.prepare(field)
        resolver = field.resolver
        node = field.nodes[0]
        try:
            if resolver is None:  # through the graphql-core resolver, as graphql-core calls it
                raw = self.executor.build_resolve_info(
                    field.definition, list(field.nodes), field.parent_type, cast(Path, planner.as_path(path))
                )
                value = prepared.resolve(source, raw, **prepared.graphql_args)
            else:
                kwargs = prepared.call_kwargs
                if resolver.permissions or prepared.info_parameter is not None:
                    info = planner.PathInfo(prepared.raw_info, resolver.field, path)
                    for permission in resolver.permissions:
                        if permission.has_permission(source, info, **prepared.kwargs) is not True:
                            raise planner.Abandon  # refused: the fallback runs the check and raises its error
                    if prepared.info_parameter is not None:
                        kwargs = {**kwargs, prepared.info_parameter: info}
                value = (
                    resolver.function(source, **kwargs)
                    if resolver.takes_self
                    else resolver.function(**kwargs)
                )
        except planner.Abandon:
            raise
        except Exception as exc:
            self.failed(node, source, exc)
        return value

    def wait(self, value: Any, waiting: _Waiting) -> None:
        """Complete ``waiting`` when ``value`` settles, with one done-callback per future
        however many fields wait on it (the objects that load one key share its future)."""
        future = value if type(value) is asyncio.Future else asyncio.ensure_future(value)
        queue = self.waiting.get(future)
        if queue is None:
            self.waiting[future] = [waiting]
            future.add_done_callback(self._settle_all)
        else:
            queue.append(waiting)

    def _settle_all(self, future: asyncio.Future[Any]) -> None:
        """A call settled: record its outcome for every field waiting on it and, while the
        run goes on, complete their values (the fields under them start now)."""
        waiting = self.waiting.pop(future)
        self.outstanding -= len(waiting)
        memo = self.memo
        error = asyncio.CancelledError() if future.cancelled() else future.exception()
        if error is not None:
            for field, source, _, _ in waiting:
                memo.error(field.nodes[0], source, error)
            self.abandoned = True
        else:
            value = future.result()
            outcomes = memo.outcomes
            for field, source, out, path in waiting:
                outcomes[(field.node_id, id(source))] = (source, True, value)
                if not self.abandoned:
                    try:
                        out[field.key] = field.complete(value, self, path)
                    except Exception:  # as in ``start``: left to escape, it would hang the request
                        self.abandoned = True
        if not self.outstanding and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
