"""Authentication (Basic and Bearer), hashed keys, 401s and scope refusals."""

from __future__ import annotations

import base64
import hashlib

from app.auth import ScopeName
from app.db import API_KEYS
from app.tenant import Tenant
from tests.conftest import Api, email_contact

QUERY = "{ contacts(first: 1) { totalCount } }"


async def test_missing_key_is_401_with_a_json_body(api: Api) -> None:
    response = await api.post(QUERY, key=None)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "www-authenticate" in response.headers


async def test_unknown_key_is_401(api: Api) -> None:
    await api.account("acme")

    response = await api.post(QUERY, key="cg_not-a-real-key")

    assert response.status_code == 401
    assert "Unknown" in response.json()["errors"][0]["message"]


async def test_bearer_and_basic_with_the_key_as_username_both_authenticate(api: Api) -> None:
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))
    basic = base64.b64encode(f"{key}:".encode()).decode()

    bearer = await api.http.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {key}"}
    )
    basic_response = await api.http.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": f"Basic {basic}"}
    )

    assert bearer.json()["data"] == {"contacts": {"totalCount": 1}}
    assert basic_response.json()["data"] == {"contacts": {"totalCount": 1}}


async def test_malformed_authorization_headers_are_401_not_500(api: Api) -> None:
    for header in ("Basic !!!notbase64", "Bearer", "Token abc", "Basic " + base64.b64encode(b":").decode()):
        response = await api.http.post("/graphql", json={"query": QUERY}, headers={"Authorization": header})
        assert response.status_code == 401, header


async def test_keys_are_stored_as_sha256_hashes_only(api: Api) -> None:
    key = await api.account("acme")

    stored = await api.db[API_KEYS].find({"accountId": "acme"}).to_list()

    assert [d["_id"] for d in stored] == [hashlib.sha256(key.encode()).hexdigest()]
    assert key not in str(stored)


async def test_a_revoked_key_is_refused(api: Api) -> None:
    from datetime import UTC, datetime

    from app.account.repository import revoke_api_key

    key = await api.account("acme")
    key_id = hashlib.sha256(key.encode()).hexdigest()[:12]
    assert await revoke_api_key(Tenant("acme", api.db), key_id, datetime.now(UTC)) == 1

    response = await api.post(QUERY, key=key)

    assert response.status_code == 401


async def test_a_field_outside_the_keys_scopes_is_refused_with_a_clear_error(api: Api) -> None:
    key = await api.account("acme", frozenset({ScopeName.ACTIVITIES_READ}))

    body = await api.gql(QUERY, key=key)

    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"] == {"code": "FORBIDDEN", "requiredScope": "contacts:read"}
    assert "contacts:read" in error["message"]


async def test_nested_activities_need_activities_read(api: Api) -> None:
    key = await api.account("acme", frozenset({ScopeName.CONTACTS_READ}))
    await api.contacts("acme", email_contact("a@example.com"))

    body = await api.gql("{ contacts { edges { node { email activities { totalCount } } } } }", key=key)

    assert body["errors"][0]["extensions"]["requiredScope"] == "activities:read"
    assert body["errors"][0]["path"] == ["contacts", "edges", 0, "node", "activities"]


async def test_account_mutations_need_admin(api: Api) -> None:
    key = await api.account("acme", frozenset({ScopeName.CONTACTS_READ, ScopeName.CONTACTS_WRITE}))

    body = await api.gql('mutation { accountListCreate(input: {key: "vip"}) { list { key } } }', key=key)

    assert body["errors"][0]["extensions"]["requiredScope"] == "admin"
    assert await api.db["lists"].count_documents({}) == 0


async def test_graphiql_page_is_served_without_a_key_but_holds_no_data(api: Api) -> None:
    response = await api.http.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_a_query_over_get_still_needs_a_key(api: Api) -> None:
    response = await api.http.get("/graphql", params={"query": QUERY}, headers={"Accept": "text/html"})

    assert response.status_code == 401
