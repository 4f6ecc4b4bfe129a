"""The compiled executor on a toy schema whose resolvers count their calls, fail, return
null where the type says non-null, refuse permission (sync and async) and take their time:
each document runs on a compiled schema and on graphql-core's, and the two must answer the
same (data, errors with message, path, locations and extensions, in order), with no
resolver called twice for one object by the compiled run and its fallback together, and
with latency on the critical path. (Plain getters, which take nothing but ``self``, are
read directly and read again by the fallback: they are pure.)"""

from __future__ import annotations

import asyncio
import enum
import time
from collections import Counter
from datetime import datetime
from typing import Any

import pytest
import strawberry
from strawberry.permission import BasePermission
from strawberry.types import Info

from app.compiled import CompiledExecutor, ItemRead
from app.metrics import EXECUTIONS
from tests.compiled import ordered

CALLS: Counter[str] = Counter()
FLAKY: dict[str, int] = {}


def count(name: str) -> None:
    CALLS[name] += 1


class Denied(BasePermission):
    message = "no entry"

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        return False


class AsyncAllowed(BasePermission):
    message = "no entry (async)"

    async def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        await asyncio.sleep(0)
        return bool(getattr(source, "n", 0) % 2 == 0)


def _code(self: Item) -> str:
    return str(self.doc["code"])


def _label(self: Item) -> str | None:
    return self.doc.get("label")


# Getters that declare what they read: compiled plans read the key in line.
_code.item_read = ItemRead("doc", "code", required=True, convert=str)  # type: ignore[attr-defined]
_label.item_read = ItemRead("doc", "label", required=False)  # type: ignore[attr-defined]


@strawberry.type
class Item:
    n: int
    code: str = strawberry.field(resolver=_code)
    label: str | None = strawberry.field(resolver=_label)

    @property
    def doc(self) -> dict[str, Any]:
        """A stored document: item 1 has no label, item 2 no code (a required key)."""
        return {k: v for k, v in {"code": self.n * 11, "label": f"#{self.n}"}.items()
                if (k, self.n) not in {("label", 1), ("code", 2)}}  # fmt: skip

    @strawberry.field
    async def name(self) -> str:
        count(f"name{self.n}")
        await asyncio.sleep(0)
        return f"item {self.n}"

    @strawberry.field
    async def boom(self) -> str | None:
        count(f"boom{self.n}")
        if self.n == 2:
            raise ValueError(f"item {self.n} exploded")
        return "ok"

    @strawberry.field
    def strict(self, info: Info[Any, None]) -> str:
        count(f"strict{self.n}")
        return None if self.n == 1 else "fine"  # type: ignore[return-value]  # a null where String! is declared

    @strawberry.field
    def shaky(self) -> str:
        """A plain getter (read directly) that fails on one item, like a stored document
        missing a required key."""
        if self.n == 2:
            raise KeyError("orderID")
        return "steady"

    @strawberry.field
    def path(self, info: Info[Any, None]) -> str:
        return ".".join(str(k) for k in info.path.as_list())

    @strawberry.field(permission_classes=[Denied])
    def secret(self) -> str | None:
        return "hidden"

    @strawberry.field(permission_classes=[AsyncAllowed])
    def even_only(self) -> str | None:
        return f"even {self.n}"

    @strawberry.field
    async def child(self) -> Item | None:
        count(f"child{self.n}")
        await asyncio.sleep(0)
        return Item(n=self.n * 10 + 10)


@strawberry.type
class Slow:
    @strawberry.field
    async def child(self) -> str:
        await asyncio.sleep(0.2)
        return "late"


@strawberry.type
class Scalars:
    """Built-in scalars holding values their coercion returns unchanged, and others it
    converts or refuses (the compiled path checks the first kind in line)."""

    text: str
    ident: strawberry.ID
    whole: int
    real: float
    flag: bool


ODD_SCALARS: list[dict[str, Any]] = [
    {"text": "a", "ident": "x", "whole": 1, "real": 1.5, "flag": True},
    {"text": True, "ident": 7, "whole": True, "real": 3, "flag": 1},  # converted
    {"text": 1.5, "ident": "y", "whole": 2**31, "real": 0.0, "flag": False},  # Int out of range
    {"text": "b", "ident": "z", "whole": -(2**31), "real": float("nan"), "flag": True},  # NaN
    {"text": "c", "ident": 1.5, "whole": 2, "real": float("inf"), "flag": "yes"},  # refused
    {"text": None, "ident": "w", "whole": 3, "real": 2.0, "flag": True},  # null in String!
]


@strawberry.interface
class Thing:
    n: int


class Color(enum.Enum):
    RED = "red"


@strawberry.type
class Gadget(Thing):
    """A type with an interface (strawberry checks each value's type: compiled plans test
    the class and the cast in line) and leaves of a custom scalar and an enum (their
    coercion called in line)."""

    when: datetime | None
    stamp: datetime
    color: Color | None


@strawberry.type
class Widget(Thing):
    pass


class SpecialGadget(Gadget):
    pass


WHEN = datetime(2025, 1, 9, 17, 47, 43)


def gadgets() -> list[Any]:
    return [
        Gadget(n=0, when=WHEN, stamp=WHEN, color=Color.RED),
        Gadget(n=1, when=None, stamp=WHEN, color=None),
        Gadget(n=2, when="not a date", stamp=WHEN, color=Color.RED),  # type: ignore[arg-type]  # refused
        Gadget(n=3, when=WHEN, stamp=None, color=Color.RED),  # type: ignore[arg-type]  # null in DateTime!
        Gadget(n=4, when=WHEN, stamp=WHEN, color="blue"),  # type: ignore[arg-type]  # not an enum value
        SpecialGadget(n=5, when=WHEN, stamp=WHEN, color=None),  # a subclass: accepted
        strawberry.cast(Widget, Gadget(n=6, when=WHEN, stamp=WHEN, color=None)),  # cast away: refused
        Widget(n=7),  # another type: refused
        strawberry.cast(Gadget, SpecialGadget(n=8, when=WHEN, stamp=WHEN, color=None)),  # cast to it
    ]


@strawberry.type
class Query:
    @strawberry.field
    def gadgets(self, pick: list[int]) -> list[Gadget | None]:
        made = gadgets()
        return [made[i] for i in pick]

    @strawberry.field
    def scalars(self) -> list[Scalars | None]:
        return [Scalars(**values) for values in ODD_SCALARS]

    @strawberry.field
    async def items(self) -> list[Item]:
        count("items")
        await asyncio.sleep(0)
        return [Item(n=i) for i in range(4)]

    @strawberry.field
    def item(self) -> Item:
        return Item(n=2)

    @strawberry.field
    async def nullable_items(self) -> list[Item | None] | None:
        count("nullable_items")
        return [Item(n=i) for i in range(4)]

    @strawberry.field
    async def root_boom(self) -> str | None:
        count("root_boom")
        raise RuntimeError("the root failed")

    @strawberry.field
    async def flaky(self, name: str) -> str | None:
        """Fails the first time it is called with ``name``, succeeds after."""
        count(f"flaky:{name}")
        FLAKY[name] = FLAKY.get(name, 0) + 1
        if FLAKY[name] == 1:
            raise ConnectionError("transient")
        return "recovered"

    @strawberry.field
    async def slow(self) -> str:
        await asyncio.sleep(0.2)
        return "slow"

    @strawberry.field
    def fast(self) -> Slow:
        return Slow()


compiled_schema = strawberry.Schema(query=Query, execution_context_class=CompiledExecutor)
standard_schema = strawberry.Schema(query=Query)


async def answer(schema: strawberry.Schema, query: str, variables: dict[str, Any] | None = None) -> Any:
    # A hung run fails the test instead of hanging it.
    result = await asyncio.wait_for(schema.execute(query, variable_values=variables), 10)
    return {
        "data": result.data,
        "errors": [e.formatted for e in result.errors or []],
    }


async def both(query: str, variables: dict[str, Any] | None = None) -> tuple[Any, Counter[str]]:
    """The compiled answer, checked against graphql-core's, and the compiled run's calls."""
    CALLS.clear()
    FLAKY.clear()
    compiled = await answer(compiled_schema, query, variables)
    compiled_calls = Counter(CALLS)
    CALLS.clear()
    FLAKY.clear()
    standard = await answer(standard_schema, query, variables)
    assert ordered(compiled) == ordered(standard), query  # keys in the same order too
    assert all(n == 1 for n in compiled_calls.values()), compiled_calls  # nothing ran twice
    assert compiled_calls == CALLS, (compiled_calls, CALLS)  # and the same calls as graphql-core
    return compiled, compiled_calls


def executions(path: str) -> float:
    return float(EXECUTIONS.labels(path)._value.get())


@pytest.mark.parametrize(
    "query",
    [
        "{ items { n name } }",  # no error: compiled
        "{ class: items { def: n return: name n } }",  # aliases that are Python keywords
        "{ scalars { text ident whole real flag } }",  # scalars' coercion, its errors included
        # custom scalars, enums and checked types: without errors (a subclass, a cast to
        # the type), then each refusal alone (any error would send the whole run to graphql-core)
        "{ gadgets(pick: [0, 1, 5, 8]) { n when stamp color } }",
        *(f"{{ gadgets(pick: [{i}]) {{ n when stamp color }} }}" for i in (2, 3, 4, 6, 7)),
        "{ rootBoom items { n } }",  # an error in a root field
        "{ items { n boom } }",  # an error in one list item (nullable field)
        "{ items { n strict } }",  # a null in a non-null field: the item is null, then the list
        "{ nullableItems { n strict } }",  # ... up to the nullable item only
        "{ nullableItems { n child { n strict boom } } }",  # errors in nested objects
        "{ items { n shaky } }",  # a plain getter failing under an async field
        "{ item { n shaky } nullableItems { shaky } }",  # ... under a sync root, and nullable items
        "{ nullableItems { n code label } }",  # declared item reads (ItemRead), a missing key
        "{ item { label } items { label code } }",  # ... under a sync root
        "{ items { n secret } }",  # a refused permission
        "{ items { n evenOnly } }",  # an async permission
        "{ items { n boom name child { name boom } } rootBoom }",  # several errors, in order
        "query($s: Boolean!) { items { n boom @skip(if: $s) strict @include(if: $s) } }",
    ],
)
async def test_errors_nulls_and_permissions_are_graphql_cores_and_nothing_runs_twice(query: str) -> None:
    for variables in ({"s": True}, {"s": False}) if "$s" in query else ({},):
        await both(query, variables)


async def test_a_transient_error_stays_an_error() -> None:
    body, calls = await both('{ flaky(name: "a") items { n } }')

    assert body["errors"][0]["message"] == "transient"
    assert body["data"] == {"flaky": None, "items": [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}]}
    assert calls["flaky:a"] == 1  # the fallback replayed the failure; it did not call again


async def test_the_fallback_is_counted_and_no_abandon_shows_in_the_errors() -> None:
    before = executions("fallback")
    result = await compiled_schema.execute("{ items { n boom } }")

    assert executions("fallback") == before + 1
    (error,) = result.errors or []
    original = error.original_error
    assert isinstance(original, ValueError)
    assert original.__context__ is None  # not raised inside an internal except block
    assert original.__cause__ is None


async def test_resolvers_see_the_real_path_with_list_indexes() -> None:
    body, _ = await both("{ items { path child { path } } }")

    assert [i["path"] for i in body["data"]["items"]] == [f"items.{i}.path" for i in range(4)]
    assert body["data"]["items"][3]["child"]["path"] == "items.3.child.path"


async def test_a_slow_branch_does_not_hold_an_unrelated_one_back() -> None:
    started = time.perf_counter()
    compiled = await answer(compiled_schema, "{ slow fast { child } }")
    elapsed = time.perf_counter() - started

    assert compiled == {"data": {"slow": "slow", "fast": {"child": "late"}}, "errors": []}
    assert elapsed < 0.35  # the critical path (0.2 s), not a level at a time (0.4 s)


async def test_checked_types_custom_scalars_and_enums_render_on_the_compiled_path() -> None:
    before = {path: executions(path) for path in ("compiled", "fallback")}
    body, _ = await both("{ gadgets(pick: [0, 1, 5, 8]) { n when stamp color } }")

    assert executions("compiled") == before["compiled"] + 1
    assert executions("fallback") == before["fallback"]
    assert body["data"]["gadgets"][0] == {
        "n": 0,
        "when": WHEN.isoformat(),
        "stamp": WHEN.isoformat(),
        "color": "RED",
    }
