"""GraphQL over HTTP as the spec says: media types, request errors, refused requests."""

from __future__ import annotations

import pytest

from tests.conftest import Api

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def key(api: Api) -> str:
    return await api.account("acme")


async def test_the_spec_media_type_is_answered_when_asked_for(api: Api, key: str) -> None:
    response = await api.http.post(
        "/graphql",
        json={"query": "{ account { id } }"},
        headers={"Authorization": f"Bearer {key}", "Accept": f"{GRAPHQL_RESPONSE}, application/json"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" in response.json()
    legacy = await api.http.post(
        "/graphql", json={"query": "{ account { id } }"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert legacy.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("query", "code"),
    [("{ account { id }", "GRAPHQL_PARSE_FAILED"), ("{ account { nope } }", "GRAPHQL_VALIDATION_FAILED")],
)
async def test_request_errors_have_no_data_a_code_and_a_4xx_with_the_spec_media_type(
    api: Api, key: str, query: str, code: str
) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    strict = await api.http.post(
        "/graphql", json={"query": query}, headers={**headers, "Accept": GRAPHQL_RESPONSE}
    )
    assert strict.status_code == 400
    assert strict.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = strict.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code
    legacy = await api.http.post("/graphql", json={"query": query}, headers=headers)
    assert legacy.status_code == 200  # application/json: 200, as the spec recommends
    assert "data" not in legacy.json()
    assert legacy.json()["errors"][0]["extensions"]["code"] == code


async def test_an_execution_error_keeps_data_and_200(api: Api, key: str) -> None:
    response = await api.http.post(
        "/graphql",
        json={"query": '{ contact(ref: "cID:zz") { cID } }'},
        headers={"Authorization": f"Bearer {key}", "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert "data" in response.json()


async def test_a_mutation_over_get_is_405_with_allow_post(api: Api, key: str) -> None:
    response = await api.http.get(
        "/graphql",
        params={"query": 'mutation { contactDelete(ref: "x@example.com") { deletedCID } }'},
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_refused_http_requests_get_graphql_shaped_json(api: Api, key: str) -> None:
    auth = {"Authorization": f"Bearer {key}"}
    malformed = await api.http.post(
        "/graphql", content=b"{not json", headers={**auth, "Content-Type": "application/json"}
    )
    unsupported = await api.http.post(
        "/graphql", content=b"query", headers={**auth, "Content-Type": "text/csv"}
    )
    batch = await api.http.post("/graphql", json=[{"query": "{ account { id } }"}] * 2, headers=auth)
    for response, status in ((malformed, 400), (unsupported, 415), (batch, 400)):
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["errors"][0]["extensions"]["code"], response.text


async def test_a_401_does_not_ask_browsers_for_a_login(api: Api) -> None:
    response = await api.http.post("/graphql", json={"query": "{ account { id } }"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="contactgraph"'


async def test_client_mistakes_are_not_logged_as_errors(
    api: Api, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    await api.http.post(
        "/graphql", json={"query": "{ account { id }"}, headers={"Authorization": f"Bearer {key}"}
    )
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.records


async def test_a_preflight_without_configured_origins_says_how_to_allow_one(api: Api) -> None:
    response = await api.http.options(
        "/graphql",
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "CORS_ORIGIN_NOT_ALLOWED"
    assert "CONTACTGRAPH_CORS_ORIGINS" in error["message"]
