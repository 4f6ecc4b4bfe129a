"""Demo data: deterministic, realistic, and usable through the API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.db import ACTIVITIES, CONTACTS, ORDERS, Database, Document
from app.seed import seed_demo
from tests.conftest import Api

# Today (not a fixed date): seeded activities stay inside retention, which the TTL monitor
# measures against the real clock.
NOW = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def snapshot(db: Database, account: str) -> tuple[list[Document], list[str]]:
    contacts = await db[CONTACTS].find({"accountId": account}).sort("_id", 1).to_list()
    # Activities already past their 18-month retention go whenever the TTL monitor runs:
    # compare the ones it cannot have removed yet.
    kept = {"accountId": account, "expireAt": {"$gt": datetime.now(UTC) + timedelta(days=1)}}
    activities = await db[ACTIVITIES].find(kept, {"_id": 0}).to_list()
    return contacts, sorted(map(str, activities))


async def test_the_same_seed_gives_the_same_data(api: Api) -> None:
    other = api.db.client[api.db.name + "_twin"]
    try:
        await seed_demo(api.db, "demo", contacts=40, events_per_contact=5, now=NOW)
        await seed_demo(other, "demo", contacts=40, events_per_contact=5, now=NOW)

        assert await snapshot(api.db, "demo") == await snapshot(other, "demo")
    finally:
        await api.db.client.drop_database(other.name)


async def test_two_accounts_seeded_alike_share_no_ids(api: Api) -> None:
    await seed_demo(api.db, "one", contacts=40, events_per_contact=2, now=NOW)
    await seed_demo(api.db, "two", contacts=40, events_per_contact=2, now=NOW)

    one, two = await snapshot(api.db, "one"), await snapshot(api.db, "two")
    assert {c["_id"] for c in one[0]}.isdisjoint(c["_id"] for c in two[0])
    assert [c["channels"] for c in one[0]] == [c["channels"] for c in two[0]]


async def test_demo_account_is_configured_and_queryable(api: Api) -> None:
    result = await seed_demo(api.db, "demo", contacts=500, events_per_contact=4, now=NOW)

    data = await api.ok(
        """{ account { primaryKey secondaryKeys attributes { key type } lists { key } audiences { key } }
             contacts(audience: "subscribed-safe-drivers", first: 3) { totalCount edges { node { email
               attribute(key: "location.city") lists channels { email { subscribeStatus } } } } } }""",
        key=result.api_key,
    )

    account = data["account"]
    assert account["secondaryKeys"] == ["custID"]
    assert {a["key"] for a in account["attributes"]} >= {
        "first_name", "last_name", "age", "points", "birthday", "location", "fav_fruits", "gender", "custID",
    }  # fmt: skip
    assert {a["key"]: a["type"] for a in account["attributes"]}["location"] == "GEO"
    assert {entry["key"] for entry in account["lists"]} >= {"auto-enthusiast", "safe-driver", "newsletter"}
    assert account["audiences"]
    audience = data["contacts"]
    assert 0 < audience["totalCount"] < 500
    for edge in audience["edges"]:
        assert "safe-driver" in edge["node"]["lists"]
        assert edge["node"]["channels"]["email"]["subscribeStatus"] == "SUBSCRIBED"
    assert await api.db[CONTACTS].count_documents({"accountId": "demo"}) == 500
    assert await api.db[ACTIVITIES].count_documents({"accountId": "demo"}) == result.activities == 2000
    # none already past retention (the TTL monitor would delete it at any moment)
    assert await api.db[ACTIVITIES].count_documents({"accountId": "demo", "expireAt": {"$lte": NOW}}) == 0
    assert await api.db[ORDERS].count_documents({"accountId": "demo"}) == result.orders > 0
    by_custid = await api.ok(
        '{ contact(ref: "custID:C100007") { attribute(key: "custID") } }', key=result.api_key
    )
    assert by_custid == {"contact": {"attribute": "C100007"}}
