"""schema.graphql (subgraph SDL) and schema.client.graphql are generated from the code: they
must not drift, and the client one must load in a standard tool as it is."""

from pathlib import Path

from graphql import build_schema

from app.schema import client_sdl, schema_sdl

ROOT = Path(__file__).parent.parent


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema_sdl(), "schema.graphql is stale: run `make schema` and commit it"


def test_the_client_schema_matches_the_code_and_loads_in_graphql_core() -> None:
    committed = (ROOT / "schema.client.graphql").read_text()
    assert committed == client_sdl(), "schema.client.graphql is stale: run `make schema` and commit it"
    built = build_schema(committed)
    assert {"Contact", "Activity", "Order"} <= set(built.type_map)
    assert built.get_directive("key") is not None
