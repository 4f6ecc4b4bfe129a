"""Attack suite, second round: no input can stall the gateway, production shows no schema,
and every bad input gets a typed error (never a masked INTERNAL_ERROR), refused before
anything is written."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr

from app.account.attributes import AttributeDefinition, AttributeType, create_attribute
from app.auth import ScopeName
from app.jobs.handlers import HANDLERS
from app.jobs.runner import JobRunner
from app.persisted import sha256
from app.settings import Settings
from app.sizes import MAX_CONTACT_BYTES, MAX_JSON_DEPTH, MAX_STRING_LENGTH
from app.tenant import Tenant
from tests.conftest import Api, app_client, email_contact

ERRORS = "userErrors { field message code }"


def nested(depth: int) -> str:
    """A JSON object ``depth`` levels deep, as text (orjson and httpx stop at a few hundred)."""
    return '{"a": ' * depth + "1" + "}" * depth


async def raw_post(api: Api, key: str, query: str, variables_json: str) -> httpx.Response:
    """A request whose variables are sent as given (deeper than httpx's json encoder goes)."""
    body = b'{"query": ' + orjson.dumps(query) + b', "variables": ' + variables_json.encode() + b"}"
    headers = {"content-type": "application/json", "Authorization": f"Bearer {key}"}
    return await api.http.post("/graphql", content=body, headers=headers)


# -- ReDoS: a validator can never block the event loop ----------------------------------


REDOS = "(a+)+$"
EVIL = "a" * 40 + "!"


async def test_a_catastrophic_pattern_runs_in_linear_time_and_the_gateway_stays_responsive(api: Api) -> None:
    key = await api.account("acme")
    defined = await api.ok(
        f"""mutation {{ accountAttributeCreate(input: {{key: "redos", name: "r", type: STRING,
            validators: {{pattern: "{REDOS}"}}}}) {{ {ERRORS} }} }}""",
        key=key,
    )
    assert defined["accountAttributeCreate"]["userErrors"] == []
    (cid,) = await api.contacts("acme", email_contact("a@example.com"))

    started = time.monotonic()
    update, health = await asyncio.gather(
        api.ok(
            f"""mutation($v: JSON) {{ contactUpdate(ref: "a@example.com", input: {{
                attributes: [{{key: "redos", value: $v}}]}}) {{ {ERRORS} }} }}""",
            {"v": "a" * (MAX_STRING_LENGTH - 1) + "!"},
            key=key,
        ),
        api.http.get("/healthz"),
    )
    elapsed = time.monotonic() - started

    assert elapsed < 2, elapsed  # Python's re: hours; RE2: microseconds
    assert health.status_code == 200
    (error,) = update["contactUpdate"]["userErrors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "does not match the pattern" in error["message"]
    stored = await api.db.contacts.find_one({"_id": cid})
    assert stored is not None
    assert "redos" not in stored["attributes"]


async def test_the_evil_input_itself_is_refused_quickly_and_a_matching_value_is_stored(api: Api) -> None:
    key = await api.account("acme")
    await create_attribute(
        Tenant("acme", api.db),
        AttributeDefinition("redos", "r", AttributeType.STRING, validators=_pattern(REDOS)),
    )
    await api.contacts("acme", email_contact("a@example.com"))
    mutation = f"""mutation($v: JSON) {{ contactUpdate(ref: "a@example.com", input: {{
        attributes: [{{key: "redos", value: $v}}]}}) {{ contact {{ attribute(key: "redos") }} {ERRORS} }} }}"""

    started = time.monotonic()
    refused = await api.ok(mutation, {"v": EVIL}, key=key)
    stored = await api.ok(mutation, {"v": "aaaa"}, key=key)

    assert time.monotonic() - started < 2
    assert refused["contactUpdate"]["userErrors"][0]["code"] == "VALIDATION_ERROR"
    assert stored["contactUpdate"]["contact"]["attribute"] == "aaaa"


def _pattern(pattern: str) -> Any:
    from app.account.attributes import Validators

    return Validators(pattern=pattern)


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=a)b", r"(?<!x)y", "a" * 1001])
async def test_patterns_re2_cannot_run_are_refused_when_the_attribute_is_defined(
    api: Api, pattern: str
) -> None:
    key = await api.account("acme")

    data = await api.ok(
        f"""mutation($p: String) {{ accountAttributeCreate(input: {{key: "x", name: "x", type: STRING,
            validators: {{pattern: $p}}}}) {{ {ERRORS} }} }}""",
        {"p": pattern},
        key=key,
    )

    (error,) = data["accountAttributeCreate"]["userErrors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["field"] == ["input", "validators", "pattern"]
    assert await api.db.attributeDefinitions.count_documents({"key": "x"}) == 0


async def test_a_pattern_stored_before_re2_refuses_the_write_instead_of_running(api: Api) -> None:
    key = await api.account("acme")
    await api.db.attributeDefinitions.insert_one(
        {"accountId": "acme", "key": "old", "name": "old", "type": "string",
         "validators": {"pattern": r"(a)\1", "required": False}}
    )  # fmt: skip
    await api.contacts("acme", email_contact("a@example.com"))

    data = await api.ok(
        f"""mutation {{ contactUpdate(ref: "a@example.com", input: {{
            attributes: [{{key: "old", value: "aa"}}]}}) {{ {ERRORS} }} }}""",
        key=key,
    )

    (error,) = data["contactUpdate"]["userErrors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "redefine it" in error["message"]


async def test_an_import_with_the_evil_value_finishes_quickly(api: Api) -> None:
    key = await api.account("acme")
    await create_attribute(
        Tenant("acme", api.db),
        AttributeDefinition("redos", "r", AttributeType.STRING, validators=_pattern(REDOS)),
    )
    csv = "email,redos\n" + "".join(f"p{i}@example.com,{EVIL}\n" for i in range(50))
    started = time.monotonic()
    await api.ok(
        f"mutation($c: String) {{ contactsImport(input: {{csv: $c}}) {{ {ERRORS} }} }}", {"c": csv}, key=key
    )
    await JobRunner(api.db, HANDLERS, owner="test").run_once()

    job = await api.db.jobs.find_one({"kind": "contacts_import"})
    assert job is not None
    assert job["state"] == "COMPLETED"
    assert job["counts"]["errorCount"] == 50
    assert time.monotonic() - started < 10


# -- sizes: every limit is a typed error before anything is written ----------------------


async def test_a_string_attribute_value_has_a_length_limit(api: Api) -> None:
    key = await api.account("acme")
    await create_attribute(Tenant("acme", api.db), AttributeDefinition("bio", "Bio", AttributeType.STRING))

    data = await api.ok(
        f"""mutation($v: JSON) {{ contactCreate(input: {{channels: {{email: {{address: "a@example.com"}}}},
            attributes: [{{key: "bio", value: $v}}]}}) {{ {ERRORS} }} }}""",
        {"v": "x" * 300_000},
        key=key,
    )

    (error,) = data["contactCreate"]["userErrors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert f"at most {MAX_STRING_LENGTH:,} characters" in error["message"]
    assert await api.db.contacts.count_documents({}) == 0


async def test_a_contact_cannot_grow_past_the_document_size_limit(api: Api) -> None:
    key = await api.account("acme")
    await create_attribute(
        Tenant("acme", api.db), AttributeDefinition("notes", "Notes", AttributeType.ARRAY, max_items=1000)
    )
    (cid,) = await api.contacts("acme", email_contact("a@example.com"))
    chunk = ["n" * (MAX_STRING_LENGTH - 10) + f"{i:05d}" for i in range(60)]
    mutation = f"""mutation($v: [JSON!]) {{ contactUpdate(ref: "a@example.com", input: {{
        attributes: [{{key: "notes", add: $v}}]}}) {{ contact {{ version }} {ERRORS} }} }}"""

    outcomes = []
    for round_ in range(3):  # 600 KB, 1.2 MB, ...
        batch = [f"{round_}{item}" for item in chunk]
        outcomes.append((await api.ok(mutation, {"v": batch}, key=key))["contactUpdate"])

    assert outcomes[0]["userErrors"] == []
    refused = outcomes[1]["userErrors"]
    assert refused
    assert refused[0]["code"] == "VALIDATION_ERROR"
    assert "a contact is at most 1.0 MiB" in refused[0]["message"]
    stored = await api.db.contacts.find_one({"_id": cid})
    assert stored is not None
    assert stored["version"] == 2
    assert len(stored["attributes"]["notes"]) == 60
    assert len(orjson.dumps(stored, default=str)) < MAX_CONTACT_BYTES


async def test_event_properties_nested_too_deep_are_a_typed_error_and_the_rest_of_the_batch_lands(
    api: Api,
) -> None:
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))
    query = f"""mutation($inputs: [EventInput!]!) {{ eventsRecord(inputs: $inputs) {{
        results {{ activity {{ action }} {ERRORS} }} }} }}"""

    deep = '{"contact": "a@example.com", "action": "deep", "properties": ' + nested(1000) + "}"
    ok = '{"contact": "a@example.com", "action": "shallow", "properties": ' + nested(MAX_JSON_DEPTH) + "}"
    response = await raw_post(api, key, query, '{"inputs": [' + deep + ", " + ok + "]}")
    body = response.json()

    assert "errors" not in body, body
    deep_result, ok_result = body["data"]["eventsRecord"]["results"]
    assert ok_result["userErrors"] == []
    (error,) = deep_result["userErrors"]
    assert error["code"] == "CONTACT_ACTIVITIES_VALIDATION_ERROR"
    assert error["field"] == ["inputs", "0", "properties"]
    assert await api.db.activities.distinct("action") == ["shallow"]


async def test_an_event_past_the_size_limit_is_a_typed_error(api: Api) -> None:
    key = await api.account("acme")
    await api.contacts("acme", email_contact("a@example.com"))

    data = await api.ok(
        f"""mutation($p: Properties) {{ eventRecord(input: {{contact: "a@example.com", action: "big",
            properties: $p}}) {{ {ERRORS} }} }}""",
        {"p": {f"k{i}": "v" * 1000 for i in range(300)}},
        key=key,
    )

    (error,) = data["eventRecord"]["userErrors"]
    assert error["code"] == "CONTACT_ACTIVITIES_VALIDATION_ERROR"
    assert "at most 256 KiB" in error["message"]
    assert await api.db.activities.count_documents({}) == 0


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000])
async def test_an_attribute_value_nested_too_deep_says_so_without_leaking_internals(
    api: Api, depth: int
) -> None:
    key = await api.account("acme")
    query = f"""mutation($v: JSON) {{ contactCreate(input: {{channels: {{email: {{address: "a@example.com"}}}},
        attributes: [{{key: "x", value: $v}}]}}) {{ {ERRORS} }} }}"""

    response = await raw_post(api, key, query, '{"v": ' + nested(depth) + "}")
    message = response.json()["errors"][0]["message"]

    assert "nest" in message
    assert "recursion" not in message
    assert "INTERNAL" not in response.text
    assert await api.db.contacts.count_documents({}) == 0


async def test_a_report_operand_has_a_length_limit_checked_at_creation(api: Api) -> None:
    key = await api.account("acme")

    data = await api.ok(
        f"""mutation($o: JSON) {{ activityReportCreate(input: {{title: "t", selectedFields: ["email"],
            filters: {{criteria: [{{fieldName: "email", type: "email", operator: "LIKE", operand: $o}}]}}}})
            {{ {ERRORS} }} }}""",
        {"o": ["x" * 100_000]},
        key=key,
    )

    (error,) = data["activityReportCreate"]["userErrors"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "at most 1000 characters" in error["message"]
    assert await api.db.jobs.count_documents({}) == 0


# -- faults that used to surface as a masked INTERNAL_ERROR --------------------------------


@pytest.fixture
async def production(api: Api, settings: Settings) -> Any:
    key = await api.account("acme")
    async with app_client(settings.model_copy(update={"env": "production"}), key=key) as http:
        yield http


@pytest.mark.parametrize(
    ("representations", "why"),
    [
        ('[{id: "x"}]', "__typename must name an entity type"),
        ('[{__typename: "Contact", email: "x@example.com"}]', "exactly the fields of one @key"),
        ('[{__typename: "Order", id: "x"}]', "__typename must name an entity type"),
        ('["x", 3]', "must be an object"),
        ('[{__typename: "Contact", cID: 5}]', "key fields are strings"),
    ],
)
async def test_malformed_entity_representations_get_typed_errors(
    production: httpx.AsyncClient, representations: str, why: str
) -> None:
    response = await production.post(
        "/graphql", json={"query": f"{{ _entities(representations: {representations}) {{ __typename }} }}"}
    )
    body = response.json()

    assert body["data"]["_entities"] == [None] * len(body["data"]["_entities"])
    assert {e["extensions"]["code"] for e in body["errors"]} == {"INVALID_REPRESENTATION"}
    assert why in body["errors"][0]["message"]


@pytest.mark.parametrize(
    "literal",
    [
        '{ activities(where: {ats: {lt: "nonsense"}}) { totalCount } }',
        'mutation { activityReportCreate(input: {title: "t", selectedFields: ["email"], '
        'filters: {fromDate: ""}}) { userErrors { code } } }',
        'mutation { activityReportCreate(input: {title: "t", selectedFields: ["email"], '
        "filters: {fromDate: -5}}) { userErrors { code } } }",
    ],
)
async def test_a_scalar_literal_the_scalar_refuses_is_a_validation_error_not_a_fault(
    production: httpx.AsyncClient, literal: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await production.post("/graphql", json={"query": literal})
    body = response.json()

    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Unexpected error" not in body["errors"][0]["message"]
    assert "unexpected error" not in caplog.text


async def test_a_valid_entity_beside_a_malformed_one_still_resolves(
    api: Api, production: httpx.AsyncClient
) -> None:
    (cid,) = await api.contacts("acme", email_contact("a@example.com"))

    response = await production.post(
        "/graphql",
        json={"query": f'{{ _entities(representations: [{{__typename: "Contact", cID: "{cid}"}}, 7]) '
              "{ ... on Contact { email } } }"},
    )  # fmt: skip
    body = response.json()

    assert body["data"]["_entities"] == [{"email": "a@example.com"}, None]
    assert body["errors"][0]["path"] == ["_entities", 1]


async def test_a_subscription_over_http_post_is_a_typed_error(production: httpx.AsyncClient) -> None:
    response = await production.post(
        "/graphql", json={"query": "subscription { activityRecorded { action } }"}
    )

    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "SUBSCRIPTION_NEEDS_WEBSOCKET"


# -- production shows no schema --------------------------------------------------------


async def test_production_refuses_the_federation_sdl(production: httpx.AsyncClient) -> None:
    response = await production.post("/graphql", json={"query": "{ _service { sdl } }"})

    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert "type Contact" not in response.text


@pytest.mark.parametrize(
    "query",
    [
        '{ contact(rf: "x") { cID } }',  # argument
        "query($x: ContactWher) { contacts(where: $x) { totalCount } }",  # type
        "{ contacts(sort: {field: CREATED_A}) { totalCount } }",  # enum value
        '{ contact(ref: "x") { emial } }',  # field
        "query cop { __schema { directive } }",  # graphql-cop's probe
    ],
)
async def test_production_gives_no_suggestions(production: httpx.AsyncClient, query: str) -> None:
    response = await production.post("/graphql", json={"query": query})

    assert response.json()["errors"]
    assert "Did you mean" not in response.text


async def test_development_keeps_its_suggestions(api: Api) -> None:
    key = await api.account("acme")

    body = await api.gql('{ contact(rf: "x") { cID } }', key=key)

    assert "Did you mean 'ref'?" in body["errors"][0]["message"]


async def test_directive_overloading_is_one_error_before_validation(production: httpx.AsyncClient) -> None:
    response = await production.post(
        "/graphql", json={"query": "query cop { __typename @aa@aa@aa@aa@aa@aa@aa@aa@aa@aa }"}
    )

    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_DIRECTIVES"


async def test_a_few_directives_still_validate_as_usual(production: httpx.AsyncClient) -> None:
    ok = await production.post(
        "/graphql", json={"query": "query { __typename @include(if: true) @skip(if: false) }"}
    )

    assert ok.json()["data"] == {"__typename": "Query"}


# -- credentials and scopes -----------------------------------------------------------


async def test_two_authorization_headers_are_refused(api: Api) -> None:
    a = await api.account("acme")
    b = await api.account("other")

    response = await api.http.post(
        "/graphql",
        json={"query": "{ account { id } }"},
        headers=[("Authorization", f"Bearer {a}"), ("Authorization", f"Bearer {b}")],
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "AMBIGUOUS_CREDENTIALS"


async def test_a_read_only_key_cannot_cancel_an_import_or_a_report(api: Api) -> None:
    writer = await api.account("acme")
    reader = await api.account("acme", frozenset({ScopeName.CONTACTS_READ}))
    job = await api.ok(
        'mutation { contactsImport(input: {csv: "email\\na@example.com\\n"}) { job { id } } }', key=writer
    )
    job_id = job["contactsImport"]["job"]["id"]
    cancel = f'mutation {{ jobCancel(id: "{job_id}") {{ job {{ state }} {ERRORS} }} }}'

    refused = await api.gql(cancel, key=reader)
    allowed = await api.ok(cancel, key=writer)

    assert refused["errors"][0]["extensions"] == {"code": "FORBIDDEN", "requiredScope": "contacts:write"}
    assert allowed["jobCancel"]["job"]["state"] == "CANCELLED"


# -- persisted queries are per account --------------------------------------------------


async def test_a_hash_registered_by_one_account_is_unknown_to_another(api: Api) -> None:
    a = await api.account("acme")
    b = await api.account("other")
    query = "{ account { id } }"
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}

    registered = await api.http.post(
        "/graphql", json={"query": query, "extensions": extensions}, headers={"Authorization": f"Bearer {b}"}
    )
    probe = await api.http.post(
        "/graphql", json={"extensions": extensions}, headers={"Authorization": f"Bearer {a}"}
    )
    again = await api.http.post(
        "/graphql", json={"extensions": extensions}, headers={"Authorization": f"Bearer {b}"}
    )

    assert registered.json()["data"] == {"account": {"id": "other"}}
    assert probe.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert again.json()["data"] == {"account": {"id": "other"}}


# -- /metrics ------------------------------------------------------------------------


async def test_metrics_can_require_a_bearer_token(settings: Settings) -> None:
    guarded = settings.model_copy(update={"metrics_token": SecretStr("s3cret-token")})
    async with app_client(guarded) as http:
        anonymous = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await http.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})

    assert anonymous.status_code == wrong.status_code == 401
    assert right.status_code == 200
    assert "contactgraph_" in right.text
