"""Query plans: what the runner executes (see the package docstring).

A plan is the operation's fields per object type, collected as graphql-core collects them
(fragments, inline fragments, aliases and ``@skip``/``@include`` applied, fields merged),
each with the way its value is obtained and completed:

* ``READ``: an attribute, or a synchronous method taking only ``self``, read directly
  (``__typename``: the object type's name);
* ``RESOLVE``: anything else, through the field's strawberry resolver (``resolver`` set:
  arguments converted once per request, permission classes checked per object) or, when
  the field has other field extensions, an async permission or no strawberry definition,
  through its graphql-core resolver exactly as graphql-core calls it.

Plans are cached per schema and operation (the parser cache hands out the same document
for the same text); an operation whose ``@skip``/``@include`` read variables gets one plan
per combination of their values (up to ``MAX_VARIANTS``). ``None`` means "not compilable":
abstract types, introspection fields, ``@defer``/``@stream`` and fragment arguments.
"""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from math import isfinite
from operator import attrgetter
from typing import TYPE_CHECKING, Any, cast
from weakref import WeakKeyDictionary

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    DirectiveNode,
    FieldNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    Undefined,
    VariableNode,
    Visitor,
    get_named_type,
    is_leaf_type,
    visit,
)
from graphql.execution.collect_fields import FieldDetails, GroupedFieldSet, collect_subfields
from graphql.type.introspection import TypeNameMetaFieldDef
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types.field import StrawberryField

if TYPE_CHECKING:
    from graphql import Executor

log = logging.getLogger(__name__)

# Plans kept per schema (least recently used dropped first).
MAX_PLANS = 1024
# Plans kept per operation, one per combination of its directives' variable values.
MAX_VARIANTS = 16
DEFINITION = "strawberry-definition"  # strawberry's back reference on a GraphQL field


class Abandon(Exception):
    """The compiled run cannot answer this request; the standard executor will."""


class Unsupported(Exception):
    """The operation holds something the compiled executor does not handle."""


class Kind(Enum):
    READ = "read"
    RESOLVE = "resolve"


Completer = Callable[[Any, Any, Any], Any]  # (value, run, path) -> the response value


@dataclass(eq=False, slots=True)
class Resolver:
    """A strawberry resolver called directly: ``function(source?, **kwargs)``."""

    field: StrawberryField
    function: Callable[..., Any]
    takes_self: bool
    info_parameter: str | None
    permissions: tuple[BasePermission, ...]


@dataclass(eq=False, slots=True)
class FieldPlan:
    key: str
    kind: Kind
    parent_type: GraphQLObjectType
    definition: GraphQLField
    nodes: tuple[FieldNode, ...]
    read: Callable[[Any], Any] | None
    resolver: Resolver | None
    complete: Completer
    leaf: bool  # a scalar or enum (or a list of them): completing it needs no path
    typename: str = ""  # parent_type's name, for the paths under it

    def __post_init__(self) -> None:
        self.typename = self.parent_type.name


@dataclass(eq=False, slots=True)
class _Entry:
    operation: OperationDefinitionNode  # held so that its id is not reused while cached
    directive_variables: tuple[str, ...]
    plans: dict[tuple[Any, ...], list[FieldPlan] | None]


_cache: WeakKeyDictionary[GraphQLSchema, OrderedDict[int, _Entry]] = WeakKeyDictionary()


def for_operation(
    executor: Executor[Any], root_type: GraphQLObjectType, grouped: GroupedFieldSet
) -> list[FieldPlan] | None:
    """The plan of the executor's operation (built on first use), or None if not compilable."""
    entries = _cache.setdefault(executor.schema, OrderedDict())
    operation = executor.operation
    entry = entries.get(id(operation))
    if entry is None or entry.operation is not operation:
        entry = _Entry(operation, _directive_variables(executor), {})
        entries[id(operation)] = entry
        if len(entries) > MAX_PLANS:
            entries.popitem(last=False)
    else:
        entries.move_to_end(id(operation))
    coerced = executor.variable_values.coerced
    values = tuple(repr(coerced.get(name)) for name in entry.directive_variables)
    if values in entry.plans:
        return entry.plans[values]
    try:
        built: list[FieldPlan] | None = _Planner(executor).object_fields(root_type, grouped)
    except Unsupported:
        built = None
    if len(entry.plans) < MAX_VARIANTS:
        entry.plans[values] = built
    return built


def _directive_variables(executor: Executor[Any]) -> tuple[str, ...]:
    """Variables read by directives anywhere in the operation or its fragments."""
    names: set[str] = set()

    class Collect(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names.add(argument.value.name.value)

    for node in (executor.operation, *executor.fragment_definitions.values()):
        visit(node, Collect())
    return tuple(sorted(names))


class _Planner:
    def __init__(self, executor: Executor[Any]) -> None:
        self.executor = executor
        strawberry_schema = getattr(executor.schema, "_strawberry_schema", None)
        config = getattr(strawberry_schema, "config", None)
        self.default_resolver_is_getattr = config is not None and config.default_resolver is getattr
        # Schema-wide exception handlers wrap resolvers: leave such schemas to graphql-core.
        self.handlers = bool(getattr(strawberry_schema, "exception_handlers", ()))

    def object_fields(self, object_type: GraphQLObjectType, grouped: GroupedFieldSet) -> list[FieldPlan]:
        fields = []
        for key, details in grouped.items():
            if any(d.fragment_variable_values is not None for d in details):
                raise Unsupported("fragment arguments")
            nodes = tuple(d.node for d in details)
            name = nodes[0].name.value
            if name == "__typename":
                fields.append(_typename(key, object_type, nodes))
                continue
            if name.startswith("__"):
                raise Unsupported("introspection")
            definition = object_type.fields.get(name)
            if definition is None:  # graphql-core leaves unknown fields out too
                continue
            fields.append(self._field(key, object_type, definition, nodes, details))
        return fields

    def _field(
        self,
        key: str,
        object_type: GraphQLObjectType,
        definition: GraphQLField,
        nodes: tuple[FieldNode, ...],
        details: list[FieldDetails],
    ) -> FieldPlan:
        complete = self._completer(definition.type, details)
        leaf = is_leaf_type(get_named_type(definition.type))
        field = definition.extensions.get(DEFINITION)
        if not isinstance(field, StrawberryField) or self.handlers:
            return FieldPlan(key, Kind.RESOLVE, object_type, definition, nodes, None, None, complete, leaf)
        read = self._reader(field)
        if read is not None:
            return FieldPlan(key, Kind.READ, object_type, definition, nodes, read, None, complete, leaf)
        resolver = _resolver(field)
        return FieldPlan(key, Kind.RESOLVE, object_type, definition, nodes, None, resolver, complete, leaf)

    def _reader(self, field: StrawberryField) -> Callable[[Any], Any] | None:
        """A direct read for plain fields: what strawberry's resolver would return."""
        base = field.base_resolver
        if field.extensions:
            return None
        if base is None:
            return attrgetter(field.python_name) if self.default_resolver_is_getattr else None
        if (
            field.arguments
            or base.is_async
            or base.info_parameter is not None
            or base.root_parameter is not None
            or base.parent_parameter is not None
        ):
            return None
        function = base.wrapped_func
        if not callable(function):
            return None
        if base.self_parameter is not None:
            return function
        return lambda _source: function()

    def _completer(self, gtype: Any, details: list[FieldDetails]) -> Completer:
        if isinstance(gtype, GraphQLNonNull):
            if is_leaf_type(gtype.of_type):
                return _leaf(gtype.of_type, nullable=False)
            return _non_null(self._completer(gtype.of_type, details))
        if isinstance(gtype, GraphQLList):
            return _list(self._completer(gtype.of_type, details), leaf=is_leaf_type(get_named_type(gtype)))
        if is_leaf_type(gtype):
            return _leaf(gtype, nullable=True)
        if isinstance(gtype, GraphQLObjectType):
            executor = self.executor
            grouped, defer_usages, _ = collect_subfields(
                executor.schema,
                executor.fragments,
                executor.variable_values,
                executor.operation,
                gtype,
                details,
                executor.hide_suggestions,
            )
            if defer_usages:
                raise Unsupported("@defer")
            return _object(gtype, self.object_fields(gtype, grouped))
        raise Unsupported(f"abstract type {gtype}")


def _typename(key: str, object_type: GraphQLObjectType, nodes: tuple[FieldNode, ...]) -> FieldPlan:
    name = object_type.name
    complete = _leaf(GraphQLString, nullable=False)  # String!
    return FieldPlan(
        key, Kind.READ, object_type, TypeNameMetaFieldDef, nodes, lambda _source: name, None, complete, True
    )


def _resolver(field: StrawberryField) -> Resolver | None:
    """The field's strawberry resolver, when only permission classes with a synchronous
    ``has_permission`` wrap it (an async one goes through strawberry's own wrapper, which
    awaits it)."""
    base = field.base_resolver
    if base is None or base.root_parameter is not None or base.parent_parameter is not None:
        return None
    permissions: list[BasePermission] = []
    for extension in field.extensions:
        if not isinstance(extension, PermissionExtension):
            return None
        if any(inspect.iscoroutinefunction(p.has_permission) for p in extension.permissions):
            log.info("compiled plans: %s.%s has an async permission; strawberry's resolver runs it",
                     field.origin, field.python_name)  # fmt: skip
            return None
        permissions.extend(extension.permissions)
    function = base.wrapped_func
    if not callable(function):
        return None
    info = base.info_parameter
    return Resolver(
        field=field,
        function=function,
        takes_self=base.self_parameter is not None,
        info_parameter=info.name if info is not None else None,
        permissions=tuple(permissions),
    )


def _leaf(gtype: Any, *, nullable: bool) -> Completer:
    coerce: Callable[[Any], Any] = gtype.coerce_output_value

    def complete(value: Any, _run: Any, _path: Any) -> Any:
        if value is None or value is Undefined:
            if nullable:
                return None
            raise Abandon
        try:
            out = coerce(value)
        except Exception:  # a value the scalar refuses: graphql-core reports it
            raise Abandon from None
        if out is None or out is Undefined:
            raise Abandon
        return out

    # graphql-core's own scalars return these values unchanged: they are checked first, in
    # line (one call per leaf, not three), and the coercion runs for any other value.
    if gtype is GraphQLString or gtype is GraphQLID:

        def complete_str(value: Any, run: Any, path: Any) -> Any:
            return value if type(value) is str else complete(value, run, path)

        return complete_str
    if gtype is GraphQLInt:

        def complete_int(value: Any, run: Any, path: Any) -> Any:
            if type(value) is int and GRAPHQL_MIN_INT <= value <= GRAPHQL_MAX_INT:
                return value
            return complete(value, run, path)

        return complete_int
    if gtype is GraphQLFloat:

        def complete_float(value: Any, run: Any, path: Any) -> Any:
            return value if type(value) is float and isfinite(value) else complete(value, run, path)

        return complete_float
    if gtype is GraphQLBoolean:

        def complete_bool(value: Any, run: Any, path: Any) -> Any:
            return value if type(value) is bool else complete(value, run, path)

        return complete_bool
    return complete


def _non_null(inner: Completer) -> Completer:
    def complete(value: Any, run: Any, path: Any) -> Any:
        out = inner(value, run, path)
        if out is None:
            raise Abandon
        return out

    return complete


def _list(item: Completer, *, leaf: bool) -> Completer:
    def complete(value: Any, run: Any, path: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise Abandon
        if leaf:
            return [item(v, run, None) for v in value]
        return [item(v, run, (path, i, None)) for i, v in enumerate(value)]

    return complete


def _object(gtype: GraphQLObjectType, fields: list[FieldPlan]) -> Completer:
    is_type_of = gtype.is_type_of

    def complete(value: Any, run: Any, path: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if is_type_of is not None and is_type_of(value, cast(Any, None)) is not True:
            raise Abandon
        return run.object(fields, value, path)

    return complete
