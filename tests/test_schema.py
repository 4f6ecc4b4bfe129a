"""schema.graphql (subgraph SDL) and schema.client.graphql are generated from the code: they
must not drift, and the client one must load in a standard tool as it is."""

from pathlib import Path

from graphql import (
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    build_schema,
    specified_scalar_types,
)

from app.schema import client_sdl, schema_sdl

ROOT = Path(__file__).parent.parent


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == schema_sdl(), "schema.graphql is stale: run `make schema` and commit it"


def test_the_subgraph_schema_loads_in_graphql_core_with_its_keys() -> None:
    built = build_schema((ROOT / "schema.graphql").read_text())
    contact = built.type_map["Contact"]
    assert contact.ast_node is not None
    keys = [d for d in contact.ast_node.directives or () if d.name.value == "key"]
    assert len(keys) == 2  # @key(fields: "id") @key(fields: "cID")
    assert built.ast_node is not None
    assert [d.name.value for d in built.ast_node.directives or ()] == ["link"]


def test_the_client_schema_matches_the_code_and_loads_in_graphql_core() -> None:
    committed = (ROOT / "schema.client.graphql").read_text()
    assert committed == client_sdl(), "schema.client.graphql is stale: run `make schema` and commit it"
    built = build_schema(committed)
    assert {"Contact", "Activity", "Order"} <= set(built.type_map)
    assert built.get_directive("key") is not None


# Federation's own definitions (the spec's, not this API's).
SPECIFIED = set(specified_scalar_types)
FEDERATION = {"_Any", "_Entity", "_FieldSet", "_Service", "link__Import", "link__Purpose"}


def test_every_type_and_field_has_a_description() -> None:
    """What GraphiQL's docs and every generated client show: nothing left blank."""
    built = build_schema(client_sdl())
    missing: list[str] = []
    for name, gtype in built.type_map.items():
        if name.startswith("__") or name in FEDERATION or name in SPECIFIED:
            continue
        if not gtype.description:
            missing.append(name)
        if isinstance(gtype, GraphQLObjectType | GraphQLInputObjectType | GraphQLInterfaceType):
            fields = gtype.fields.items()
            missing += [
                f"{name}.{f}"
                for f, field in fields
                if not field.description and f not in ("_entities", "_service")
            ]
    assert missing == []
