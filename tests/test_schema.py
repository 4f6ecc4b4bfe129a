"""schema.graphql is generated from the code: it must not drift."""

from pathlib import Path

from app.schema import schema_sdl


def test_committed_schema_matches_the_code() -> None:
    committed = (Path(__file__).parent.parent / "schema.graphql").read_text()
    assert committed == schema_sdl(), "schema.graphql is stale: run `make schema` and commit it"
