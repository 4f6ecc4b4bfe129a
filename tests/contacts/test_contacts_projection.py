"""A page of contacts reads only the stored fields its selection needs (CONTACT_FIELDS): each
Contact field, selected whole, must answer on a page exactly as on whole contacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from bson import ObjectId
from graphql import GraphQLObjectType, get_named_type, is_leaf_type, is_non_null_type
from graphql.pyutils import Undefined

from app.contacts.types import CONTACT_FIELDS
from app.schema import schema
from app.seed import seed_demo
from tests.conftest import Api

CONTACT = cast(GraphQLObjectType, schema._schema.type_map["Contact"])
# Arguments the selection builder does not invent: an attribute's key, a past instant of the
# consent history (a month ago: most demo contacts were created before).
MONTH_AGO = (datetime.now(UTC) - timedelta(days=30)).isoformat()
EXTRA = {
    "attribute": 'attribute(key: "first_name") city: attribute(key: "location.city")',
    "channels": f'then: channels {{ email {{ subscribeStatus(at: "{MONTH_AGO}") }} }}',
}


def selection(gtype: Any, depth: int) -> str:
    """Every field of ``gtype`` that needs no argument, ``depth`` levels down."""
    named = get_named_type(gtype)
    if is_leaf_type(named):
        return ""
    if depth == 0 or not isinstance(named, GraphQLObjectType):
        return " { __typename }"
    fields = [
        name + selection(field.type, depth - 1)
        for name, field in named.fields.items()
        if not any(is_non_null_type(a.type) and a.default_value is Undefined for a in field.args.values())
    ]
    return " { " + " ".join(fields) + " }"


def field_selection(name: str) -> str:
    field = CONTACT.fields[name]
    if name == "attribute":
        return EXTRA[name]
    return f"{name}{selection(field.type, 4)} {EXTRA.get(name, '')}"


async def test_every_contact_field_is_mapped() -> None:
    assert set(CONTACT_FIELDS) == set(CONTACT.fields)


@pytest.mark.parametrize("name", sorted(CONTACT.fields))
async def test_a_page_of_contacts_answers_each_field_as_whole_contacts_do(api: Api, name: str) -> None:
    seeded = await seed_demo(api.db, contacts=12, events_per_contact=3)
    key = seeded.api_key
    # What the demo data lacks: a contact merged into another, a supplement record.
    contacts = api.db["contacts"]
    first = await contacts.find_one({"accountId": seeded.account_id}, sort=[("_id", 1)])
    assert first is not None
    update = {"$set": {"mergedFrom": [ObjectId()], "supplements": {"loyalty": {"tier": "gold"}}}}
    await contacts.update_one({"_id": first["_id"]}, update)
    picked = field_selection(name)
    page = await api.ok(f"{{ contacts(first: 12) {{ edges {{ node {{ id {picked} }} }} }} }}", key=key)
    nodes = [e["node"] for e in page["contacts"]["edges"]]
    whole = await api.ok(
        f"query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Contact {{ id {picked} }} }} }}",
        {"ids": [n["id"] for n in nodes]},
        key=key,
    )
    assert nodes == whole["nodes"]
    assert any(n.get(name) not in (None, [], {}) for n in nodes), nodes  # the data has some


async def test_overlapping_fields_and_an_attribute_sort_read_one_projection(api: Api) -> None:
    # email reads channels.email and channels all channels; an attribute sort reads
    # attributes.<key> under attributes: the database would refuse either pair together.
    seeded = await seed_demo(api.db, contacts=12, events_per_contact=1)
    query = """query($after: String) {
      contacts(first: 5, after: $after, sort: {field: ATTRIBUTE, attribute: "points", direction: DESC}) {
        edges { cursor node { email channels { email { address } } attributes } }
        pageInfo { endCursor } } }"""
    first = await api.ok(query, key=seeded.api_key)
    edges = first["contacts"]["edges"]
    assert [e["node"]["email"] for e in edges] == [e["node"]["channels"]["email"]["address"] for e in edges]
    points = [e["node"]["attributes"]["points"] for e in edges]
    assert points == sorted(points, reverse=True)
    after = await api.ok(query, {"after": first["contacts"]["pageInfo"]["endCursor"]}, key=seeded.api_key)
    more = [e["node"]["attributes"]["points"] for e in after["contacts"]["edges"]]
    assert more
    assert max(more) <= min(points)
