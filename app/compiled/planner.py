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

Each object type's selection is then made a Python function (generated source, see
"Generated code" below) that builds its response dict with those fields in line.

Plans are cached per schema and operation (the parser cache hands out the same document
for the same text); an operation whose ``@skip``/``@include`` read variables gets one plan
per combination of their values (up to ``MAX_VARIANTS``). ``None`` means "not compilable":
abstract types, introspection fields, ``@defer``/``@stream`` and fragment arguments.
"""

from __future__ import annotations

import inspect
import keyword
import logging
from asyncio import Future
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
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
from graphql.pyutils import Path
from graphql.type.introspection import TypeNameMetaFieldDef
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info
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
    attribute: str | None = None  # a READ of this attribute: read in line
    item: ItemRead | None = None  # a READ of a key of an attribute (a declared ``item_read``): in line
    unchanged: str | None = None  # a leaf's in-line test (of ``v``) for values its coercion keeps
    node_id: int = 0  # id(nodes[0]): the key of its outcomes in the run's memo

    def __post_init__(self) -> None:
        self.typename = self.parent_type.name
        self.node_id = id(self.nodes[0])
        if isinstance(self.read, _Attribute):
            self.attribute = self.read.attribute
        elif isinstance(self.read, _Item):
            self.item = self.read.item
        gtype = self.definition.type
        self.unchanged = _UNCHANGED.get(gtype.of_type if isinstance(gtype, GraphQLNonNull) else gtype)


RunPath = tuple[Any, str | int, str | None] | None
"""A response path as the run builds it: plain ``(prev, key, typename)`` tuples, the
layout of graphql-core's ``Path`` (a NamedTuple, several times dearer to make), turned
into a ``Path`` only where one is read (``info.path``, graphql-core's resolve info)."""


def as_path(path: RunPath) -> Path | None:
    if path is None or isinstance(path, Path):
        return path
    prev, key, typename = path
    return Path(as_path(prev), key, typename)


class PathInfo(Info):
    """strawberry's ``Info`` for one resolver call: the field's shared resolve information
    (built once per request) and the path of this call, list indexes included."""

    def __init__(self, raw: Any, field: Any, path: RunPath) -> None:
        self._raw_info = raw
        self._field = field
        self._run_path = path

    @property
    def path(self) -> Path:
        path = as_path(self._run_path)
        assert path is not None  # a field's path has at least its own key
        self._run_path = path
        return path


@dataclass(eq=False, slots=True)
class _Entry:
    operation: OperationDefinitionNode  # held so that its id is not reused while cached
    directive_variables: tuple[str, ...]
    plans: dict[tuple[Any, ...], Completer | None]


_cache: WeakKeyDictionary[GraphQLSchema, OrderedDict[int, _Entry]] = WeakKeyDictionary()


def for_operation(
    executor: Executor[Any], root_type: GraphQLObjectType, grouped: GroupedFieldSet
) -> Completer | None:
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
        fields = _Planner(executor).object_fields(root_type, grouped)
        built: Completer | None = _renderer(fields, root_type.name, None, root=True)
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
            return _Attribute(field.python_name) if self.default_resolver_is_getattr else None
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
            item = getattr(function, "item_read", None)
            return _Item(item, function) if isinstance(item, ItemRead) else function
        return lambda _source: function()

    def _completer(self, gtype: Any, details: list[FieldDetails], *, nullable: bool = True) -> Completer:
        """The completer of a value of ``gtype`` (``nullable=False``: under a non-null
        wrapper, which the completer itself enforces: a null abandons the run)."""
        if isinstance(gtype, GraphQLNonNull):
            return self._completer(gtype.of_type, details, nullable=False)
        if isinstance(gtype, GraphQLList):
            item = self._completer(gtype.of_type, details)
            return _list(item, leaf=is_leaf_type(get_named_type(gtype)), nullable=nullable)
        if is_leaf_type(gtype):
            return _leaf(gtype, nullable=nullable)
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
            fields = self.object_fields(gtype, grouped)
            return _renderer(fields, gtype.name, gtype.is_type_of, nullable=nullable)
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


@dataclass(frozen=True, slots=True)
class ItemRead:
    """What a resolver method taking only ``self`` returns, declared so that compiled plans
    read it in line instead of calling the method: ``self.<attribute>[key]`` when
    ``required`` (a missing key raises ``KeyError``), else ``self.<attribute>.get(key)``,
    passed through ``convert`` when given. Set it as the function's ``item_read`` attribute;
    it must say exactly what the function does (graphql-core's executor calls the function)."""

    attribute: str
    key: str
    required: bool
    convert: Callable[[Any], Any] | None = None


class _Item:
    """A resolver method with a declared ``ItemRead``, which generated code reads in line."""

    __slots__ = ("function", "item")

    def __init__(self, item: ItemRead, function: Callable[[Any], Any]) -> None:
        self.item = item
        self.function = function

    def __call__(self, source: Any) -> Any:
        return self.function(source)


class _Attribute:
    """A plain attribute read (``attrgetter``'s job), which generated code reads in line."""

    __slots__ = ("attribute", "get")

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute
        self.get = attrgetter(attribute)

    def __call__(self, source: Any) -> Any:
        return self.get(source)


# graphql-core's own scalars return these values unchanged: generated code tests for them in
# line (no call per leaf), and the scalar's coercion runs for any other value.
_UNCHANGED: dict[Any, str] = {
    GraphQLString: "type(v) is str",
    GraphQLID: "type(v) is str",
    GraphQLInt: "type(v) is int and MIN_INT <= v <= MAX_INT",
    GraphQLFloat: "type(v) is float and isfinite(v)",
    GraphQLBoolean: "type(v) is bool",
}


@lru_cache(maxsize=256)
def _leaf(gtype: Any, *, nullable: bool) -> Completer:
    """A scalar's or enum's completer: one per type and nullability (the built-in scalars'
    are generated, so they are made once, not once per field of every plan)."""
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

    unchanged = _UNCHANGED.get(gtype)
    if unchanged is None:
        return complete
    return _generated_leaf(unchanged, complete)


def _list(item: Completer, *, leaf: bool, nullable: bool) -> Completer:
    def complete(value: Any, run: Any, path: Any) -> Any:
        if value is None or value is Undefined:
            if nullable:
                return None
            raise Abandon
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise Abandon
        if leaf:
            return [item(v, run, None) for v in value]
        return [item(v, run, (path, i, None)) for i, v in enumerate(value)]

    return complete


# -- Generated code ----------------------------------------------------------------------
#
# An object's fields are rendered by a Python function generated for its plan: a loop over
# field plans would pay, per field of every object, the dispatch on its kind, the reads of
# its plan's attributes and a call for each read and each leaf; the generated function has
# the fields' keys, reads and leaf tests in line. Its names are bound to the plans' own
# objects (``f3`` is the fourth field's plan, ``r3`` its reader, ``c3`` its completer).
# Nothing from a request but names reaches the source: response keys and type names are
# GraphQL names (the parser admits ``[_A-Za-z][_0-9A-Za-z]*`` only), written as quoted
# literals, and an attribute is read in line only when it is a Python identifier. The keys
# of declared item reads come from the code (``ItemRead``), and only ``str`` keys are
# written, as their ``repr``; any other declaration is called like a plain getter.


def _compile(source: str, names: dict[str, Any], title: str) -> Any:
    """The function ``source`` defines, with ``names`` as its globals."""
    exec(compile(source, f"<compiled plan: {title}>", "exec"), names)  # noqa: S102  # names only (see above)
    return names["generated"]


def _generated_leaf(unchanged: str, complete: Completer) -> Completer:
    source = f"def generated(v, run, path):\n    return v if {unchanged} else complete(v, run, path)\n"
    return cast(Completer, _compile(source, {**_LEAF_NAMES, "complete": complete}, unchanged))


_LEAF_NAMES: dict[str, Any] = {"MIN_INT": GRAPHQL_MIN_INT, "MAX_INT": GRAPHQL_MAX_INT, "isfinite": isfinite}
_RUN_NAMES: dict[str, Any] = {
    "Undefined": Undefined,
    "Abandon": Abandon,
    "Future": Future,
    "PathInfo": PathInfo,
}


def _renderer(
    fields: list[FieldPlan], typename: str, is_type_of: Any, *, nullable: bool = True, root: bool = False
) -> Completer:
    """The completer of an object type's selection (of a field's value, null or not as
    ``nullable`` says; or of the ``root`` value): ``(value, run, path) -> the response dict``.

    What it does per field, in order, into one dict:

    * ``READ``: the value read (in line for a plain attribute), then completed (in line for
      a built-in scalar whose coercion keeps it; the completer otherwise).
    * ``RESOLVE``: ``run.call``; a value not ready yet waits (``run.wait``: its key is null
      until it settles), a ready one is recorded for the fallback and completed.
    """
    names = {**_LEAF_NAMES, **_RUN_NAMES, "is_type_of": is_type_of}
    lines = ["def generated(value, run, path):"]
    if not root:
        lines += [
            "if value is None or value is Undefined:",
            "    return None" if nullable else "    raise Abandon",
        ]
        if is_type_of is not None:
            lines += ["if is_type_of(value, None) is not True:", "    raise Abandon"]
    lines += ["run.objects += 1", "out = {}"]
    for i, field in enumerate(fields):
        names.update({f"f{i}": field, f"r{i}": field.read, f"c{i}": field.complete, f"n{i}": field.nodes[0]})
        key, path = repr(field.key), f"(path, {field.key!r}, {field.typename!r})"
        if field.kind is Kind.READ:
            attribute, item = field.attribute, field.item
            if attribute is not None and _is_name(attribute):
                lines.append(f"v = value.{attribute}")
            elif item is not None and _is_name(item.attribute) and type(item.key) is str:
                get = f"[{item.key!r}]" if item.required else f".get({item.key!r})"
                lines.append(f"v = value.{item.attribute}{get}")
                if item.convert is not None:
                    names[f"cv{i}"] = item.convert
                    lines.append(f"v = cv{i}(v)")
            else:
                lines.append(f"v = r{i}(value)")
            lines.append(f"out[{key}] = {_complete(field, i, 'None' if field.leaf else path)}")
        else:
            lines.append(f"p = {path}")
            lines += _resolve_lines(field, i, names)
            lines += [
                "if type(v) is Future or run.is_awaitable(v):",
                f"    out[{key}] = None",
                "    run.outstanding += 1",
                f"    run.wait(v, (f{i}, value, out, p))",
                "else:",
                f"    run.memo.outcomes[(N{i}, id(value))] = (value, True, v)",
                f"    out[{key}] = {_complete(field, i, 'p')}",
            ]
    lines.append("return out")
    source = lines[0] + "".join(f"\n    {line}" for line in lines[1:]) + "\n"
    return cast(Completer, _compile(source, names, typename))


def _resolve_lines(field: FieldPlan, i: int, names: dict[str, Any]) -> list[str]:
    """The lines calling field ``i``'s resolver on ``value`` (path ``p``) into ``v``: in line
    for a strawberry resolver with no permission classes and no other field extensions
    (its per-request state from ``run.prepared``, an exception recorded and the run
    abandoned as ``run.call`` does), through ``run.call`` otherwise."""
    resolver = field.resolver
    names[f"N{i}"] = field.node_id
    if resolver is None or resolver.permissions or resolver.field.extensions:
        return [f"v = run.call(f{i}, value, p)"]
    names.update({f"K{i}": id(field), f"fn{i}": resolver.function, f"sf{i}": resolver.field})
    arguments = ["value"] if resolver.takes_self else []
    lines = []
    if resolver.field.arguments or resolver.info_parameter is not None:
        lines += [f"pr = run.prepared.get(K{i})", "if pr is None:", f"    pr = run.prepare(f{i})"]
    if resolver.field.arguments:
        arguments.append("**pr.call_kwargs")
    if resolver.info_parameter is not None:
        arguments.append(f"{resolver.info_parameter}=PathInfo(pr.raw_info, sf{i}, p)")
    return [
        *lines,
        "try:",
        f"    v = fn{i}({', '.join(arguments)})",
        "except Exception as error:",
        f"    run.failed(n{i}, value, error)",
    ]


def _is_name(attribute: str) -> bool:
    """Whether ``attribute`` can be read in generated code as ``value.<attribute>``."""
    return attribute.isidentifier() and not keyword.iskeyword(attribute)


def _complete(field: FieldPlan, i: int, path: str) -> str:
    """The expression completing ``v``, the value of field ``i``."""
    if field.unchanged is None:
        return f"c{i}(v, run, {path})"
    return f"v if {field.unchanged} else c{i}(v, run, {path})"
