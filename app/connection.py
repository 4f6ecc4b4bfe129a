"""Relay connection types shared by every list: edges, pageInfo and totalCount.

``totalCount`` is computed only when a query selects it (a nested connection gets
it for free from the batched aggregation that fetched its page).
"""

from __future__ import annotations

import asyncio
import operator
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from app.compiled import ItemRead
from app.pagination import Page, PerParentQuery, make_page

if TYPE_CHECKING:
    from app.context import Info
    from app.tenant import Tenant

NodeT = TypeVar("NodeT")


@strawberry.type(description="An edge in a connection: a node and the cursor to page after it.")
class Edge(Generic[NodeT]):
    node: NodeT = strawberry.field(description="The item.")
    doc: strawberry.Private[dict[str, Any]]
    page: strawberry.Private[Page]

    @strawberry.field(description="Pass as `after` to get the items following this one.")
    def cursor(self) -> str:
        # Encoded only when asked for: most reads never select it.
        return self.page.cursor(self.doc)


@strawberry.type(description="Information to aid in pagination.")
class PageInfo:
    """Relay's PageInfo (the same fields and descriptions as strawberry's), with the cursors
    encoded only when a query selects them: most reads never do."""

    has_next_page: bool = strawberry.field(description="When paginating forwards, are there more items?")
    has_previous_page: bool = strawberry.field(description="When paginating backwards, are there more items?")
    page: strawberry.Private[Page]

    @strawberry.field(description="When paginating backwards, the cursor to continue.")
    def start_cursor(self) -> str | None:
        docs = self.page.docs
        return self.page.cursor(docs[0]) if docs else None

    @strawberry.field(description="When paginating forwards, the cursor to continue.")
    def end_cursor(self) -> str | None:
        docs = self.page.docs
        return self.page.cursor(docs[-1]) if docs else None


@strawberry.type(description="A page of a list (Relay connection) with the total number of items.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="This page's items, each with its cursor.")
    page_info: PageInfo = strawberry.field(
        description="Whether there are more pages, and the cursors to ask for them with `after`."
    )
    count_fn: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items match, across all pages.")
    async def total_count(self) -> int:
        return await self.count_fn()

    @classmethod
    def build(
        cls,
        page: Page,
        to_node: Callable[[dict[str, Any]], NodeT],
        count: Callable[[], Awaitable[int]] | int,
    ) -> Connection[NodeT]:
        edges = [Edge(node=to_node(doc), doc=doc, page=page) for doc in page.docs]
        info = PageInfo(has_next_page=page.has_next, has_previous_page=page.has_previous, page=page)
        count_fn = _constant(count) if isinstance(count, int) else count
        return cls(edges=edges, page_info=info, count_fn=count_fn)


def _constant(value: int) -> Callable[[], Awaitable[int]]:
    async def get() -> int:
        return value

    return get


# -- Node types over stored documents ---------------------------------------------------

NodeSelf = TypeVar("NodeSelf", bound="DocNode")
NodeLookup = Callable[["Tenant", Sequence[str]], Awaitable[list[dict[str, Any] | None]]]
"""A repository's read of documents by node id, in order (None where unknown)."""


class DocNode(relay.Node):
    """What the Node types over one collection share: each wraps a stored document (its
    ``doc``; its ``id`` is the document's ``_id``, made a string only when a query selects
    it), and ``node(id:)`` fetches them through ``docs_for``: the type's ``lookup`` (its
    repository's read by node id), or its own ``docs_for`` where a loader serves them.

    A document may hold only the fields its page's selection reads (``node_projection``),
    and a nested page's dates are naive, UTC (``db.top_n_per_parent``): render dates with
    ``format_datetime``, and make one aware with ``parse_datetime`` before comparing it."""

    lookup: ClassVar[NodeLookup | None] = None

    @classmethod
    def from_doc(cls: type[NodeSelf], doc: dict[str, Any]) -> NodeSelf:
        return cls(doc=doc)  # type: ignore[call-arg]  # the strawberry type's field

    @classmethod
    def resolve_id(cls, root: Any, *, info: Info) -> str:
        return str(root.doc["_id"])

    @classmethod
    async def docs_for(cls, info: Info, node_ids: list[str]) -> list[dict[str, Any] | None]:
        if cls.lookup is None:
            raise NotImplementedError(f"{cls.__name__} names no lookup")
        return await cls.lookup(info.context.tenant, node_ids)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # strawberry's is overloaded on `required`; this answers both
        cls, *, info: Info, node_ids: list[str], required: bool = False
    ) -> list[Any]:
        """The nodes of these ids, in order (None for unknown or another account's)."""
        return [cls.from_doc(d) if d else None for d in await cls.docs_for(info, node_ids)]


def doc_field(
    key: str,
    graphql_type: Any,
    *,
    required: bool = False,
    convert: Callable[[Any], Any] | None = None,
    **field: Any,
) -> Any:
    """A field of ``graphql_type`` that is the stored document's ``key`` (None when absent,
    or, with ``required``, an error), passed through ``convert`` if given; ``field`` are
    strawberry.field's options. It is declared like a resolver method (no annotation), so
    that it keeps its place among them in the schema:
    ``created_at = doc_field("createdAt", DateTime, required=True, description=...)``."""

    # One small function per kind (no test per call: these run for every object rendered).
    if convert is None and required:

        def read(self: Any) -> Any:
            return self.doc[key]
    elif convert is None:

        def read(self: Any) -> Any:
            return self.doc.get(key)
    else:
        converted, get = convert, (operator.itemgetter(key) if required else lambda doc: doc.get(key))

        def read(self: Any) -> Any:
            return converted(get(self.doc))

    read.__annotations__["return"] = graphql_type
    read.item_read = ItemRead("doc", key, required, convert)  # type: ignore[attr-defined]  # read in line by compiled plans
    return strawberry.field(resolver=read, **field)


def as_list(value: Any) -> list[Any]:
    """A stored array as a list (an absent one: empty), for ``doc_field``'s ``convert``."""
    return list(value or [])


# -- projections: read only the stored fields a connection's selection needs ------------

Stored = Mapping[str, tuple[str, ...]]
"""GraphQL field name of a node type -> the stored fields it reads."""

_PROJECTIONS: OrderedDict[tuple[int, ...], tuple[tuple[Any, ...], tuple[str, ...] | None]] = OrderedDict()
_MAX_PROJECTIONS = 1024


def node_projection(info: Info, stored: Stored, always: Iterable[str]) -> tuple[str, ...] | None:
    """The stored fields the connection field of ``info`` renders for its nodes
    (``edges.node`` and the cursors), ``always`` included; None (the whole document) when
    a selected node field is not in ``stored``. Worked out once per query document: the
    parser cache hands out the same field nodes for the same text, and the cache entries
    hold them, so their ids are never reused while cached."""
    nodes = tuple(info._raw_info.field_nodes)
    key = tuple(id(n) for n in nodes)
    cached = _PROJECTIONS.get(key)
    if cached is not None and all(a is b for a, b in zip(cached[0], nodes, strict=True)):
        return cached[1]
    names: set[str] = set()
    for connection in _fields(info.selected_fields, None):
        for edges in _fields(connection.selections, "edges"):
            for node in _fields(edges.selections, "node"):
                names.update(f.name for f in _fields(node.selections, None))
    result: tuple[str, ...] | None = None
    if all(name in stored or name == "__typename" for name in names):
        fields = set(always).union(*(stored[n] for n in names if n != "__typename"))
        result = tuple(sorted(fields))
    _PROJECTIONS[key] = (nodes, result)
    if len(_PROJECTIONS) > _MAX_PROJECTIONS:
        _PROJECTIONS.popitem(last=False)
    return result


def _fields(selections: Iterable[Selection], name: str | None) -> Iterable[SelectedField]:
    """The selected fields called ``name`` (any, with None), fragments flattened."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if name is None or selection.name == name:
                yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections, name)


# -- resolvers that return a loader's future instead of being coroutines ---------------

T = TypeVar("T")
R = TypeVar("R")


def then(loaded: Awaitable[T], shape: Callable[[T], R]) -> R:
    """``shape`` applied to what a DataLoader future resolves to, as a future of its own (a
    done-callback, no coroutine and no task; ``SharedLoader.load_shaped`` makes one per key).
    Nested connections need none: ``PageByParentLoader`` builds them in its batch.
    graphql-core awaits whatever a resolver returns, so a synchronous resolver may return
    this; it is typed as the value the field's GraphQL type says."""
    source = asyncio.ensure_future(loaded)
    out: asyncio.Future[R] = source.get_loop().create_future()

    def done(settled: asyncio.Future[T]) -> None:
        if out.done():
            return
        if settled.cancelled():
            out.cancel()
        elif (error := settled.exception()) is not None:
            out.set_exception(error)
        else:
            try:
                out.set_result(shape(settled.result()))
            except Exception as exc:  # the shaping's own error, as a coroutine would raise it
                out.set_exception(exc)

    source.add_done_callback(done)
    return cast(R, out)


K = TypeVar("K")
V = TypeVar("V")


class SharedLoader(DataLoader[K, V]):
    """A DataLoader whose shaped loads are made once per key and shared: the many objects
    of a response that load one key (the activities of one message) wait on one future,
    not one future and one callback each."""

    def __init__(self, load_fn: Callable[[list[K]], Awaitable[list[V]]]) -> None:
        super().__init__(load_fn=load_fn)
        self._shaped: dict[K, Any] = {}

    def load_shaped(self, key: K, shape: Callable[[V], R]) -> R:
        """``then(self.load(key), shape)``, the same future for every call with ``key``
        (``shape`` must be the same function for a key)."""
        shaped = self._shaped.get(key)
        if shaped is None:
            shaped = self._shaped[key] = then(self.load(key), shape)
        return cast(R, shaped)


ParentPage = tuple[list[dict[str, Any]], int]
ToNode = Callable[[dict[str, Any]], Any]


class PageByParentLoader(DataLoader[Any, Connection[Any]]):
    """parent id → its page of children as a Connection (``to_node`` making each node), one
    batched command per level.

    ``fetch`` gets every parent id of the batch at once (see
    ``AccountCollection.page_per_parent``), with ``limit + 1`` children each (the extra one
    says there is a next page). The connections are built in the batch itself: a resolver
    returns the loader's future as it is, with no shaping callback per parent (a page of
    200 contacts is 400 fewer futures and event-loop callbacks). A parent whose connection
    cannot be built gets that error alone.
    """

    def __init__(
        self,
        fetch: Callable[[list[Any]], Awaitable[dict[Any, ParentPage]]],
        query: PerParentQuery,
        to_node: ToNode,
    ) -> None:
        async def load(ids: list[Any]) -> list[Connection[Any] | Exception]:
            pages = await fetch(ids)
            out: list[Connection[Any] | Exception] = []
            for parent in ids:
                docs, total = pages.get(parent, ([], 0))
                try:
                    page = make_page(docs, query.limit, query.sort, after=query.after is not None)
                    out.append(Connection.build(page, to_node, total))
                except Exception as exc:  # this parent's error, as a resolver would raise it
                    out.append(exc)
            return out

        super().__init__(load_fn=load)
