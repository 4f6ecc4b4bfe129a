"""Apollo Federation v2 subgraph: `Contact @key(fields: "id") @key(fields: "cID")`, `_service`
and batched `_entities` (50 entities, one database command), scoped to the caller's account."""

from __future__ import annotations

from strawberry.relay import to_base64

from app.auth import ScopeName
from tests.conftest import Api, email_contact

ENTITIES = (
    """query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Contact { cID email } } }"""
)


async def test_service_sdl_declares_the_keys_and_federation_2(api: Api) -> None:
    key = await api.account("acme")
    sdl = (await api.ok("{ _service { sdl } }", key=key))["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2' in sdl
    assert 'type Contact implements Node @key(fields: "id") @key(fields: "cID")' in sdl


async def test_fifty_entities_resolve_with_one_database_command(api: Api) -> None:
    key = await api.account("acme")
    cids = await api.contacts("acme", *[email_contact(f"c{i}@example.com") for i in range(50)])
    representations = [
        {"__typename": "Contact", "id": to_base64("Contact", str(cid))}
        if i % 2
        else {"__typename": "Contact", "cID": str(cid)}
        for i, cid in enumerate(cids)
    ]
    await api.ok("{ account { id } }", key=key)  # the key is cached from now on
    api.commands.reset()

    body = await api.gql(ENTITIES, {"r": representations}, key=key)

    assert "errors" not in body
    assert [e["email"] for e in body["data"]["_entities"]] == [f"c{i}@example.com" for i in range(50)]
    assert {e["__typename"] for e in body["data"]["_entities"]} == {"Contact"}
    assert api.commands.names == ["find"]
    assert body["extensions"]["cost"]["actualQueryCost"] == 50


async def test_entities_of_another_account_or_unknown_are_null(api: Api) -> None:
    key = await api.account("acme")
    await api.account("other")
    [mine] = await api.contacts("acme", email_contact("me@example.com"))
    [theirs] = await api.contacts("other", email_contact("them@example.com"))
    representations = [
        {"__typename": "Contact", "cID": str(theirs)},
        {"__typename": "Contact", "id": to_base64("Contact", str(theirs))},
        {"__typename": "Contact", "cID": "not-an-id"},
        {"__typename": "Contact", "id": "garbage"},
        {"__typename": "Contact", "id": to_base64("Order", str(mine))},
        {"__typename": "Contact", "cID": str(mine)},
    ]
    body = await api.gql(ENTITIES, {"r": representations}, key=key)
    assert "errors" not in body
    assert body["data"]["_entities"] == [None] * 5 + [
        {"__typename": "Contact", "cID": str(mine), "email": "me@example.com"}
    ]


async def test_entities_need_contacts_read(api: Api) -> None:
    key = await api.account("acme", frozenset({ScopeName.ACTIVITIES_READ}))
    [mine] = await api.contacts("acme", email_contact("me@example.com"))
    body = await api.gql(ENTITIES, {"r": [{"__typename": "Contact", "cID": str(mine)}]}, key=key)
    assert body["data"]["_entities"] == [None]
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
