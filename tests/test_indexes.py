"""Indexes: every spec is one MongoDB 7 accepts, every index starts with accountId, the
partial filters are ones the embedded engine can prove, and the hot lookups stay flat as an
account grows (measured at two sizes, as embedded-engine.md says: its explain is unreliable)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pymongo import IndexModel
from pymongo.errors import BulkWriteError

from app.db import CONTACTS, INDEXES, create_indexes, ensure_indexes, secondary_key_indexes
from app.settings import Settings
from tests.conftest import Api, email_contact

# What MongoDB 7 accepts in a partialFilterExpression (the server refuses anything else):
# equality, $exists: true, $gt/$gte/$lt/$lte, $type, and $and/$or/$in at the top level.
FIELD_OPERATORS = {"$eq", "$exists", "$gt", "$gte", "$lt", "$lte", "$type", "$in"}
TOP_LEVEL = {"$and", "$or"}
# What the embedded engine can prove a query implies ($type and $exists make it scan).
PROVABLE = {"$eq", "$gt", "$gte", "$lt", "$lte"}


def all_models() -> list[tuple[str, IndexModel]]:
    models = [(collection, m) for collection, ms in INDEXES.items() for m in ms]
    return models + [(CONTACTS, m) for m in secondary_key_indexes("custID")]


def operators(expression: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(top-level operators, field operators) of a partial filter."""
    top, fields = set(), set()
    for key, value in expression.items():
        if key.startswith("$"):
            top.add(key)
            for clause in value:
                inner_top, inner_fields = operators(clause)
                top |= inner_top
                fields |= inner_fields
        elif isinstance(value, dict):
            fields |= set(value)
        else:
            fields.add("$eq")
    return top, fields


@pytest.mark.parametrize(
    ("collection", "model"), all_models(), ids=lambda v: getattr(v, "document", {}).get("name", v)
)
def test_every_partial_filter_uses_only_what_mongodb_7_accepts_and_the_engine_proves(
    collection: str, model: IndexModel
) -> None:
    partial = model.document.get("partialFilterExpression")
    if partial is None:
        return
    top, fields = operators(partial)
    assert top <= TOP_LEVEL
    assert fields <= FIELD_OPERATORS
    assert fields <= PROVABLE, f"{model.document['name']}: the embedded engine would never use it"
    if "$exists" in fields:
        assert all(v.get("$exists") is True for v in partial.values() if isinstance(v, dict))


@pytest.mark.parametrize(
    ("collection", "model"), all_models(), ids=lambda v: getattr(v, "document", {}).get("name", v)
)
def test_every_index_starts_with_the_account_or_is_a_ttl_or_system_index(
    collection: str, model: IndexModel
) -> None:
    keys = list(dict(model.document["key"]))
    exempt = "expireAfterSeconds" in model.document or collection in ("downloads.chunks", "jobs")
    assert keys[0] in ("accountId", "metadata.accountId") or exempt, (collection, keys)
    assert keys[-1] != "_id", "the embedded engine drops documents from ranges over _id-suffixed indexes"


async def test_an_index_whose_definition_changed_is_replaced(api: Api) -> None:
    old = IndexModel(
        [("accountId", 1), ("channels.email.address", 1)],
        unique=True,
        partialFilterExpression={"channels.email.address": {"$type": "string"}},
        name="account_email",
    )
    await api.db[CONTACTS].drop_index("account_email")
    await api.db[CONTACTS].create_indexes([old])

    await ensure_indexes(api.db)

    indexes = {i["name"]: i async for i in await api.db[CONTACTS].list_indexes()}
    assert indexes["account_email"]["partialFilterExpression"] == {"channels.email.address": {"$gte": ""}}
    assert indexes["account_email"]["unique"] is True


async def test_identifier_keys_stay_unique_for_strings_and_numbers(api: Api) -> None:
    await api.account("acme", secondary_keys=("custID",))
    await create_indexes(api.db[CONTACTS], secondary_key_indexes("custID"))
    await api.contacts("acme", email_contact("a@example.com", attributes={"custID": "C1"}))
    await api.contacts("acme", email_contact("b@example.com", attributes={"custID": 7}))

    for value in ("C1", 7):
        with pytest.raises(BulkWriteError, match="duplicate key"):
            await api.contacts("acme", email_contact(f"x{value}@example.com", attributes={"custID": value}))
    assert (
        await api.db[CONTACTS].count_documents({"accountId": "acme", "attributes.custID": {"$gte": ""}}) == 1
    )


async def median_ms(run: Callable[[], Awaitable[Any]], times: int = 5) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def test_lookups_by_every_identifier_stay_flat_as_the_account_grows(
    api: Api, settings: Settings
) -> None:
    """Each ref kind is served from an index: 20x the contacts must not make it 10x slower
    (a scan would); by cID it is a point lookup, the reference."""
    key = await api.account("acme", secondary_keys=("custID",))

    def people(start: int, n: int) -> list[dict[str, Any]]:
        return [
            email_contact(f"p{i}@example.com", attributes={"custID": f"C{i}"},
                          channels={"email": {"address": f"p{i}@example.com", "subscribeStatus": "none"},
                                    "sms": {"address": f"1619{i:07d}", "subscribeStatus": "none"}})
            for i in range(start, start + n)
        ]  # fmt: skip

    query = "query($r: String!) { contact(ref: $r) { cID } }"
    refs = ["p3@example.com", "custID:C3", "sms:16190000003"]
    (first,) = await api.contacts("acme", *people(0, 1))
    await api.contacts("acme", *people(1, 199))

    async def lookups() -> dict[str, float]:
        async def one(ref: str) -> float:
            return await median_ms(lambda: api.ok(query, {"r": ref}, key=key))

        return {ref: await one(ref) for ref in [*refs, str(first)]}

    small = await lookups()
    for start in range(200, 4000, 1000):
        await api.contacts("acme", *people(start, min(1000, 4000 - start)))
    large = await lookups()

    for ref in refs:
        assert large[ref] < 10 * max(small[ref], 2.0), (ref, small[ref], large[ref])
        assert large[ref] < 5 * max(large[str(first)], 2.0), (ref, large)
