"""Nested connections are built in their loader's batch: one command per level, each parent
its own connection, and a parent whose connection cannot be built gets that error alone."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from app.connection import Connection, PageByParentLoader, ParentPage
from app.pagination import PerParentQuery, SortKey

SORT = SortKey("ats", descending=True)


class Node:
    def __init__(self, doc: dict[str, Any]) -> None:
        if doc.get("broken"):
            raise ValueError(f"cannot render {doc['_id']}")
        self.doc = doc


async def test_each_parent_gets_its_connection_and_a_failure_stays_with_its_parent() -> None:
    batches: list[list[Any]] = []

    async def fetch(ids: list[Any]) -> dict[Any, ParentPage]:
        batches.append(ids)
        return {
            "a": ([{"_id": 1}, {"_id": 2}, {"_id": 3}], 7),
            "b": ([{"_id": 4, "broken": True}], 1),
        }

    loader = PageByParentLoader(fetch, PerParentQuery(match={}, sort=SORT, limit=2, after=None), Node)
    a, b, c = (loader.load(key) for key in ("a", "b", "c"))
    outcomes: list[Any] = await asyncio.gather(a, b, c, return_exceptions=True)
    first, second, third = outcomes

    assert batches == [["a", "b", "c"]]
    assert isinstance(first, Connection)
    assert [e.node.doc["_id"] for e in first.edges] == [1, 2]  # the third only says there is more
    assert first.page_info.has_next_page
    assert not first.page_info.has_previous_page
    assert await first.count_fn() == 7
    assert isinstance(second, ValueError)
    assert isinstance(third, Connection)
    assert third.edges == []
    assert await third.count_fn() == 0
    with pytest.raises(ValueError, match="cannot render 4"):
        await b
