"""Every keyset-paged listing has an index that yields its pages in order (equality fields,
then the sort field, then the `_id` tie-break every listing sorts by), so a page never
needs a sort of all matches; and indexes of earlier versions are dropped at startup."""

from __future__ import annotations

from pymongo import IndexModel

from app.db import ACTIVITIES, ACTIVITY_REPORTS, CONTACTS, INDEXES, JOBS, ORDERS, ensure_indexes
from app.pagination import SortKey
from tests.conftest import Api

# (collection, equality fields besides accountId, sort) of each listing's query.
LISTINGS = [
    (CONTACTS, (), SortKey("_id", descending=False)),
    (CONTACTS, (), SortKey("lastModified", descending=True)),
    (CONTACTS, (), SortKey("createdAt", descending=False)),
    (ACTIVITIES, ("cID",), SortKey("ats", descending=True)),
    (ACTIVITIES, ("action",), SortKey("ats", descending=True)),
    (ACTIVITIES, (), SortKey("ats", descending=False)),
    (ORDERS, ("cID",), SortKey("purchaseDate", descending=True)),
    (ORDERS, (), SortKey("purchaseDate", descending=True)),
    (JOBS, (), SortKey("createdAt", descending=True)),
    (ACTIVITY_REPORTS, (), SortKey("createdAt", descending=True)),
]


def keys(model: IndexModel) -> list[tuple[str, int]]:
    return list(model.document["key"].items())


def test_every_listing_walks_an_index_in_its_sort_order() -> None:
    for collection, equal, sort in LISTINGS:
        wanted = [("accountId", 1), *((f, 1) for f in equal), *sort.mongo_sort()]
        backwards = [("accountId", 1), *((f, 1) for f in equal), *((f, -d) for f, d in sort.mongo_sort())]
        patterns = [keys(m) for m in INDEXES[collection]]
        assert wanted in patterns or backwards in patterns, (collection, equal, sort)


async def test_retired_indexes_are_dropped(api: Api) -> None:
    await api.db[ACTIVITIES].create_index([("accountId", 1), ("cID", 1), ("ats", -1)], name="account_cID_ats")
    await ensure_indexes(api.db)
    names = set(await api.db[ACTIVITIES].index_information())
    assert "account_cID_ats" not in names
    assert {"account_cID_ats_id", "account_action_ats_id", "account_ats_id"} <= names
