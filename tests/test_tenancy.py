"""Tenant isolation: a key of account A never reads, counts or pages account B's data."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import UTC, datetime

import pytest
from bson import ObjectId
from strawberry.relay import to_base64

from app import db
from app.activities import repository as activities
from app.commerce import repository as orders
from app.db import CONTACT_ALIASES
from app.tenant import Tenant
from tests.conftest import Api, email_contact


@pytest.fixture
async def two_accounts(api: Api) -> tuple[str, ObjectId, ObjectId]:
    """A and B each hold a contact with the SAME email and custID; B's has an order and an
    activity, and B even stores an activity/order pointing at A's cID."""
    key_a = await api.account("alpha", secondary_keys=("custID",))
    await api.account("beta", secondary_keys=("custID",))
    [a] = await api.contacts("alpha", email_contact("same@example.com", attributes={"custID": "C1"}))
    _, b = await api.contacts(
        "beta",
        email_contact("same@example.com", attributes={"custID": "C1"}, lists=["vip"]),
        email_contact("only-b@example.com", attributes={"custID": "C2"}),
    )
    now = datetime.now(UTC)
    for cid in (a, b):
        await activities.insert_many(Tenant("beta", api.db), [{"cID": cid, "action": "browse", "ats": now}])
        await orders.insert_many(
            Tenant("beta", api.db), [{"cID": cid, "orderID": f"B-{cid}", "purchaseDate": now, "items": []}]
        )
    return key_a, a, b


async def test_no_ref_form_reaches_the_other_accounts_contact(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId]
) -> None:
    key_a, _, b = two_accounts
    query = "query($r: String!) { contact(ref: $r) { cID } }"

    for ref in (str(b), f"cID:{b}", "only-b@example.com", "email:only-b@example.com", "custID:C2"):
        assert await api.ok(query, {"r": ref}, key=key_a) == {"contact": None}, ref


async def test_the_same_email_resolves_to_the_callers_own_contact(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId]
) -> None:
    key_a, a, _ = two_accounts

    data = await api.ok('{ contact(ref: "custID:C1") { cID } }', key=key_a)

    assert data["contact"]["cID"] == str(a)


async def test_contacts_and_totalcount_only_see_the_callers_account(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId]
) -> None:
    key_a, a, _ = two_accounts

    data = await api.ok("{ contacts(first: 100) { totalCount edges { node { cID } } } }", key=key_a)

    assert data["contacts"]["totalCount"] == 1
    assert [e["node"]["cID"] for e in data["contacts"]["edges"]] == [str(a)]


async def test_nested_orders_and_activities_of_another_account_never_show(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId]
) -> None:
    key_a, _, _ = two_accounts

    data = await api.ok(
        "{ contacts { edges { node { orders { totalCount } activities { totalCount } } } } }", key=key_a
    )

    assert data["contacts"]["edges"] == [
        {"node": {"orders": {"totalCount": 0}, "activities": {"totalCount": 0}}}
    ]


async def test_node_ids_of_another_account_resolve_to_null(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId]
) -> None:
    key_a, _, b = two_accounts
    order = await api.db["orders"].find_one({"accountId": "beta"})
    activity = await api.db["activities"].find_one({"accountId": "beta"})
    assert order is not None
    assert activity is not None

    for type_name, oid in (("Contact", b), ("Order", order["_id"]), ("Activity", activity["_id"])):
        data = await api.ok(
            "query($id: ID!) { node(id: $id) { id } }", {"id": to_base64(type_name, str(oid))}, key=key_a
        )
        assert data == {"node": None}, type_name


async def test_an_alias_of_another_account_is_not_followed(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId]
) -> None:
    key_a, _, b = two_accounts
    gone = ObjectId()
    await api.db[CONTACT_ALIASES].insert_one({"accountId": "beta", "cID": gone, "survivor": b})

    assert await api.ok(f'{{ contact(ref: "{gone}") {{ cID }} }}', key=key_a) == {"contact": None}


async def test_audiences_and_account_config_are_per_account(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId]
) -> None:
    key_a, _, _ = two_accounts
    from app.account.lists import create_list

    await create_list(Tenant("beta", api.db), "vip", "VIP")

    data = await api.ok("{ account { id lists { key } audiences { key } } }", key=key_a)
    unknown_list = await api.gql('{ contacts(where: {inLists: ["vip"]}) { totalCount } }', key=key_a)

    assert data["account"] == {"id": "alpha", "lists": [], "audiences": []}
    assert unknown_list["errors"][0]["message"] == "Unknown list 'vip'"


async def test_every_command_the_app_sends_carries_an_account_id(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId]
) -> None:
    key_a, _, _ = two_accounts
    api.commands.reset()

    await api.ok(
        """{ account { attributes { key } lists { key } audiences { key } eventProperties { key } }
             contacts(first: 5, where: {emailAddress: "same@example.com"}) { totalCount edges { node {
               orders { edges { node { orderID contact { cID } } } }
               activities { edges { node { action contact { cID } } } } } } } }""",
        key=key_a,
    )

    assert api.commands.names
    for name, command in api.commands.commands:
        if name == "find" and command["find"] == "apiKeys":
            continue  # authentication: the key itself names the account
        assert "'accountId': 'alpha'" in str(command), (name, command)


WRITES = [
    (
        'mutation($r: String!) { contactUpdate(ref: $r, input: {attributes: [{key: "custID", value: "X"}]}) { userErrors { code } } }',
        "contactUpdate",
    ),
    ("mutation($r: String!) { contactDelete(ref: $r) { userErrors { code } } }", "contactDelete"),
    ("mutation($r: String!) { contactUnsubscribe(ref: $r) { userErrors { code } } }", "contactUnsubscribe"),
    ("mutation($r: String!) { cartClear(ref: $r) { userErrors { code } } }", "cartClear"),
    (
        'mutation($r: String!) { cartItemAdd(ref: $r, item: {productID: "P", sku: "S", category: "C", name: "N"}) { userErrors { code } } }',
        "cartItemAdd",
    ),
    (
        'mutation($r: String!) { orderRecord(input: {contact: $r, orderID: "X1"}) { userErrors { code } } }',
        "orderRecord",
    ),
]


@pytest.mark.parametrize(("mutation", "name"), WRITES)
async def test_no_write_reaches_the_other_accounts_contact(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId], mutation: str, name: str
) -> None:
    key_a, _, b = two_accounts
    before = await api.db["contacts"].find({"accountId": "beta"}).to_list()
    orders_before = await api.db["orders"].count_documents({"accountId": "beta"})

    for ref in (str(b), f"cID:{b}", "only-b@example.com", "custID:C2"):
        data = await api.ok(mutation, {"r": ref}, key=key_a)
        assert data[name]["userErrors"] == [{"code": "CONTACTS_CONTACT_NOT_FOUND"}], (name, ref)

    assert await api.db["contacts"].find({"accountId": "beta"}).to_list() == before
    assert await api.db["orders"].count_documents({"accountId": "beta"}) == orders_before


async def test_creating_with_an_email_another_account_uses_is_fine(
    api: Api, two_accounts: tuple[str, ObjectId, ObjectId]
) -> None:
    key_a, _, _ = two_accounts

    data = await api.ok(
        'mutation { contactCreate(input: {channels: {email: {address: "only-b@example.com"}}}) { contact { email } userErrors { code } } }',
        key=key_a,
    )

    assert data["contactCreate"] == {"contact": {"email": "only-b@example.com"}, "userErrors": []}
    assert [
        await api.db["contacts"].count_documents(
            {"channels.email.address": "only-b@example.com", "accountId": a}
        )
        for a in ("alpha", "beta")
    ] == [1, 1]


async def test_a_change_stream_is_scoped_to_its_account_whatever_its_match_says(api: Api) -> None:
    """db.watch adds the account itself: a match naming another account (or an $and that
    hides one) sees nothing of it, and deletes (which carry no account) need a pinned,
    checked document."""
    stream = db.watch(api.db[db.ACTIVITIES], "alpha", {"$and": [{"fullDocument.accountId": "beta"}]})
    first = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.5)  # the stream is open
    now = datetime.now(UTC)
    await activities.insert_many(
        Tenant("beta", api.db), [{"cID": ObjectId(), "action": "browse", "ats": now}]
    )
    done, _ = await asyncio.wait({first}, timeout=1.5)
    assert not done, "alpha's stream delivered beta's activity"
    first.cancel()
    with suppress(asyncio.CancelledError):
        await first
    await stream.aclose()
    with pytest.raises(ValueError, match="pin documentKey"):
        await anext(db.watch(api.db[db.CONTACTS], "alpha", {}, deletes=True))


async def test_a_tenants_collection_scopes_every_filter_and_refuses_another_account(api: Api) -> None:
    """AccountCollection narrows what it is given, $and / $or / $nor included, and refuses a
    filter or document naming another account instead of quietly rewriting it."""
    alpha, beta = Tenant("alpha", api.db)["orders"], Tenant("beta", api.db)["orders"]
    await alpha.insert_many([{"orderID": "A1"}])
    await beta.insert_many([{"orderID": "B1"}])

    for query in (
        {"$or": [{"accountId": "beta"}, {"orderID": "B1"}, {"orderID": "A1"}]},
        {"$and": [{"accountId": "beta"}]},
        {"$nor": [{"accountId": "alpha"}]},
        {},
    ):
        found = await alpha.find(query).to_list()
        assert {d["accountId"] for d in found} <= {"alpha"}, query
    assert [
        d["orderID"] for d in await alpha.find({"$or": [{"orderID": "B1"}, {"orderID": "A1"}]}).to_list()
    ] == ["A1"]
    for write in (
        lambda: alpha.find_one({"accountId": "beta"}),
        lambda: alpha.count_documents({"accountId": {"$in": ["alpha", "beta"]}}),
        lambda: alpha.insert_one({"orderID": "X", "accountId": "beta"}),
        lambda: alpha.update_many({"accountId": "beta"}, {"$set": {"orderID": "X"}}),
        lambda: alpha.delete_many({"accountId": "beta"}),
    ):
        with pytest.raises(ValueError, match="another account"):
            await write()
    with pytest.raises(ValueError, match="account id is required"):
        await Tenant("", api.db)["orders"].find_one({})
    assert await beta.count_documents({}) == 1


async def test_a_tenants_aggregation_starts_in_its_account_and_joins_within_it(api: Api) -> None:
    alpha, beta = Tenant("alpha", api.db), Tenant("beta", api.db)
    shared = ObjectId()  # beta stores an order under a cID that alpha's contact also has
    await alpha["contacts"].insert_one({"_id": shared, "name": "a"})
    await beta["orders"].insert_many([{"cID": shared, "orderID": "B1"}])
    await alpha["orders"].insert_many([{"cID": shared, "orderID": "A1"}])

    grouped = await (await alpha["orders"].aggregate([{"$group": {"_id": "$orderID"}}])).to_list()
    assert grouped == [{"_id": "A1"}]  # a pipeline without a $match gets the account's
    join = {"$lookup": {"from": "contacts", "localField": "cID", "foreignField": "_id", "as": "c"}}
    joined = await (await beta["orders"].aggregate([{"$match": {}}, join])).to_list()
    assert [d["c"] for d in joined] == [[]]  # beta's order does not reach alpha's contact
    joined = await (await alpha["orders"].aggregate([join])).to_list()
    assert [[c["name"] for c in d["c"]] for d in joined] == [["a"]]


def test_nothing_outside_the_data_layer_reaches_a_raw_collection() -> None:
    """A query can only be written through a Tenant: indexing a database handle, asking it
    for a collection or opening a GridFS bucket happens in app.db (indexes, change streams),
    app.tenant and app.process_wide (the reads that serve every account) only."""
    import ast
    from pathlib import Path

    allowed = {"db.py", "tenant.py", "process_wide.py"}
    app_dir = Path(__file__).resolve().parents[1] / "app"
    offenders = []
    for path in sorted(app_dir.rglob("*.py")):
        if path.parent == app_dir and path.name in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.expr):
                continue
            target = node.value if isinstance(node, ast.Subscript) else None
            name = (
                target.id
                if isinstance(target, ast.Name)
                else target.attr
                if isinstance(target, ast.Attribute)
                else None
            )
            if name in {"db", "_db", "database"}:
                offenders.append(f"{path.relative_to(app_dir)}:{node.lineno} indexes a database")
            if isinstance(node, ast.Attribute) and node.attr in {"get_collection", "get_database"}:
                offenders.append(f"{path.relative_to(app_dir)}:{node.lineno} {node.attr}")
            if isinstance(node, ast.Name) and node.id in {"AsyncGridFSBucket", "AsyncCollection"}:
                offenders.append(f"{path.relative_to(app_dir)}:{node.lineno} {node.id}")
    assert offenders == []
