"""Every GraphQL example of the README runs verbatim against the demo data, in the order a
reader meets them: no GraphQL error, and no userError unless the example says which
(``# → userErrors: CODE``). Variables come from the example's ``# variables: {...}``
comment; ``<cID of EMAIL>`` in them is that demo contact's cID (ids differ per database)."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

import orjson
import pytest
from graphql import OperationDefinitionNode, OperationType, parse, print_ast

from app.db import CONTACTS
from app.seed import seed_demo
from app.settings import Settings
from tests.conftest import Api
from tests.live import graphql_ws, live_server
from tests.node import node_modules

README = Path(__file__).parent.parent / "README.md"
BLOCK = re.compile(r"^([ \t]*)```graphql\n(.*?)^[ \t]*```", re.S | re.M)
VARIABLES = re.compile(r"#\s*variables:\s*(\{.*\})\s*$", re.M)
EXPECTED = re.compile(r"#\s*→\s*userErrors:\s*([A-Z_, ]+)$", re.M)
CID_OF = re.compile(r"<cID of ([^>]+)>")


CURL_BODY = re.compile(r"-d '(\{\"query\".*?\})'")


def examples() -> list[str]:
    """The ```graphql blocks, then the queries of the curl examples."""
    text = README.read_text()
    blocks = [textwrap.dedent(indent + body) for indent, body in BLOCK.findall(text)]
    return blocks + [orjson.loads(body)["query"] for body in CURL_BODY.findall(text)]


def user_error_codes(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [e["code"] for e in value.get("userErrors") or []]
        return found + [c for k, v in value.items() if k != "userErrors" for c in user_error_codes(v)]
    if isinstance(value, list):
        return [c for item in value for c in user_error_codes(item)]
    return []


async def variables_of(api: Api, text: str) -> dict[str, Any]:
    match = VARIABLES.search(text)
    if match is None:
        return {}
    raw = match.group(1)
    for email in CID_OF.findall(raw):
        contact = await api.db[CONTACTS].find_one({"channels.email.address": email, "accountId": "demo"})
        assert contact is not None, email
        raw = raw.replace(f"<cID of {email}>", str(contact["_id"]))
    variables: dict[str, Any] = orjson.loads(raw)
    return variables


def test_the_readme_has_its_examples() -> None:
    found = examples()
    assert len(found) >= 14
    for text in found:
        parse(text)  # every example is valid GraphQL on its own


async def test_every_readme_example_runs_against_the_demo_data(api: Api, settings: Settings) -> None:
    seeded = await seed_demo(api.db)
    key = seeded.api_key
    ran: list[str] = []
    for text in examples():
        document = parse(text)
        variables = await variables_of(api, text)
        expected = EXPECTED.search(text)
        for operation in document.definitions:
            assert isinstance(operation, OperationDefinitionNode)
            name = operation.name.value if operation.name else None
            if operation.operation is OperationType.SUBSCRIPTION:
                data = await _first_event(settings, key, text, variables)
            else:
                body = await api.gql(text, variables, key=key, operation_name=name)
                assert "errors" not in body, (text, body["errors"])
                data = body["data"]
            codes = user_error_codes(data)
            wanted = [c.strip() for c in expected.group(1).split(",")] if expected else []
            assert codes == wanted, (text, data)
            ran.append(name or text.split("{", 1)[0].strip())
    assert len(ran) >= 15


async def _first_event(settings: Settings, key: str, text: str, variables: dict[str, Any]) -> Any:
    async with (
        live_server(settings) as base,
        graphql_ws(base, payload={"Authorization": f"Bearer {key}"}) as ws,
    ):
        assert (await ws.receive())["type"] == "connection_ack"
        await ws.subscribe("1", text, variables)
        message = await ws.receive(timeout=10)
    assert message["type"] == "next", (text, message)
    assert "errors" not in message["payload"], (text, message["payload"])
    return message["payload"]["data"]


@pytest.mark.parametrize("text", examples())
def test_no_example_needs_a_placeholder_edited(text: str) -> None:
    code = print_ast(parse(text))  # comments left out: they may say "<any ref>"
    assert "..." not in code.replace("... on", ""), text
    assert not re.search(r"<[^>]*>", code), text


# -- the JavaScript and Python snippets, run as written against a live demo -------------

SNIPPET = re.compile(r"^```(js|python)\n(.*?)^```", re.S | re.M)


def snippets(language: str) -> str:
    """The README's blocks of one language, joined in order (later ones use earlier names)."""
    return "\n".join(body for lang, body in SNIPPET.findall(README.read_text()) if lang == language)


async def _until(process: asyncio.subprocess.Process, marker: str, timeout: float) -> str:  # noqa: ASYNC109
    """Output lines until one contains ``marker``; then the process is stopped."""
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                line = (await process.stdout.readline()).decode()
                assert line, "".join(lines) + (
                    (await process.stderr.read()).decode() if process.stderr else ""
                )
                lines.append(line)
                if marker in line:
                    return "".join(lines)
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


@pytest.mark.parametrize("language", ["js", "python"])
async def test_the_client_snippets_run_as_written(
    api: Api, settings: Settings, language: str, tmp_path: Path
) -> None:
    seeded = await seed_demo(api.db, contacts=30, events_per_contact=2)
    async with live_server(settings) as base:
        code = snippets(language)
        code = code.replace("http://127.0.0.1:8000", base).replace(
            "ws://127.0.0.1:8000", base.replace("http", "ws")
        )
        code = code.replace('"cg_..."', f'"{seeded.api_key}"')
        if language == "js":
            script = await node_modules() / "readme-snippets.mjs"
            script.write_text(code)
            command = ["node", "--experimental-websocket", str(script)]
            marker = "stream: (checkpoint)"
        else:
            script = tmp_path / "snippets.py"
            script.write_text(code)
            command = [sys.executable, str(script)]
            marker = "'cursor'"
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            out = await _until(process, marker, 60)
        finally:
            if language == "js":
                script.unlink(missing_ok=True)
    emails = [line for line in out.splitlines() if "@" in line and "stream" not in line]
    assert len(emails) >= 10, out
    assert marker in out


async def test_the_job_flow_with_curl_runs_as_written(api: Api, settings: Settings, tmp_path: Path) -> None:
    text = README.read_text()
    start = text.index("```sh\n", text.index("A job from start to finish")) + len("```sh\n")
    script = text[start : text.index("```", start)]
    seeded = await seed_demo(api.db, contacts=10, events_per_contact=2)
    (tmp_path / ".data").mkdir()
    (tmp_path / ".data" / "demo-api-key").write_text(seeded.api_key + "\n")
    async with live_server(settings.model_copy(update={"run_jobs": True})) as base:
        (tmp_path / "job.sh").write_text(script.replace("http://127.0.0.1:8000", base))
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-eu",
            "job.sh",
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 120)

    assert process.returncode == 0, (out.decode(), err.decode())
    profile = orjson.loads((tmp_path / "profile.json").read_bytes())
    assert profile["contact"]["attributes"]["custID"] == "C100007"
