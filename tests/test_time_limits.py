"""Every read the app sends carries maxTimeMS: checked in the source (every read call on a
collection names its limit) and on the wire (the commands a broad set of requests, a
report job and a download send)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.activities import repository as activities
from app.commerce import repository as orders
from app.db import MAX_TIME
from app.jobs.runner import JobRunner
from app.tenant import Tenant
from tests.conftest import Api, email_contact
from tests.jobs.conftest import key, runner

__all__ = ["key", "runner"]

APP = Path(__file__).parent.parent / "app"
FIND = {"find", "find_one"}
COMMANDS = {"aggregate", "count_documents", "distinct", "find_one_and_update", "find_one_and_delete"}
READ_COMMANDS = {"find", "aggregate", "count", "distinct", "findAndModify"}


def read_calls_without_limit() -> list[str]:
    """Raw driver reads (app.db, app.process_wide) that do not name their limit; a tenant's
    collections (app.tenant) add the request limit themselves, checked below."""
    missing = []
    for path in sorted(APP.rglob("*.py")):
        if path.name == "tenant.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name not in FIND | COMMANDS:
                continue
            keyword = "max_time_ms" if name in FIND else "maxTimeMS"
            receiver = node.func.value
            tenants = isinstance(receiver, ast.Subscript) and ast.unparse(receiver.value) == "tenant"
            on_collection = (isinstance(receiver, ast.Subscript) and not tenants) or (
                isinstance(receiver, ast.Name) and receiver.id in {"collection", "files"}
            )
            if on_collection and keyword not in {k.arg for k in node.keywords}:
                missing.append(f"{path.relative_to(APP.parent)}:{node.lineno} {name}")
    return missing


def test_every_read_call_in_the_app_names_its_time_limit() -> None:
    assert read_calls_without_limit() == []


def test_a_tenants_collection_gives_every_read_the_request_limit() -> None:
    """Each AccountCollection read method sets the limit unless its caller named one (a
    job's bulk scans pass MAX_TIME.job)."""
    tree = ast.parse((APP / "tenant.py").read_text())
    [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "AccountCollection"]
    methods = {
        n.name: ast.unparse(n) for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    for name in FIND | COMMANDS - {"distinct", "find_one_and_delete"}:
        keyword = "max_time_ms" if name in FIND else "maxTimeMS"
        assert f"kwargs.setdefault('{keyword}', MAX_TIME.request)" in methods[name], name


READS = """query($ref: String!) {
  contact(ref: $ref) { cID cart { items { productID } } orders { edges { node { orderID } } }
    activities(first: 5) { totalCount edges { node { action message { id } contact { cID } } } } }
  contacts(first: 10, where: {emailAddress: "a@example.com"}) { totalCount edges { node { cID } } }
  activities(where: {action: "open"}) { totalCount edges { node { cID } } }
  orders { totalCount edges { node { orderID } } }
  account { attributes { key } lists { key } audiences { key } eventProperties { key } }
  jobs { totalCount } activityReports { totalCount }
}"""
WRITES = [
    """mutation { eventsRecord(inputs: [{contact: "a@example.com", action: "browse", properties: {page: "x"}}])
      { userErrors { code } } }""",
    """mutation { contactUpdate(ref: "a@example.com", input: {lists: [{key: "x", member: true}]})
      { userErrors { code } } }""",
    """mutation { cartItemAdd(ref: "a@example.com", item: {productID: "P2", sku: "S2", name: "Two", category: "c", qty: 1, itemPrice: 2})
      { userErrors { code } } }""",
    """mutation { contactUnsubscribe(ref: "a@example.com", mcID: "0:nope") { userErrors { code } } }""",
    """mutation { contactMerge(input: {sourceContact: "b@example.com", destinationContact: "a@example.com",
      options: {orders: MERGE, events: MERGE, cart: LAST_MODIFIED, lists: SOURCE_CONTACT,
        attributes: SOURCE_CONTACT, supplements: SOURCE_CONTACT, emailChannels: DESTINATION_CONTACT,
        smsChannels: SOURCE_CONTACT, pushChannels: MERGE}})
      { userErrors { code } } }""",
]
REPORT = """mutation { activityReportCreate(input: {title: "t", selectedFields: ["email", "opens"],
  filters: {criteria: [], userType: "all", fromDate: "2025-01-01", toDate: "2030-01-01"}})
  { activityReport { id aggregatedCsvUrl } userErrors { code } } }"""


async def test_every_read_on_the_wire_carries_max_time_ms(api: Api, key: str, runner: JobRunner) -> None:
    a, _ = await api.contacts(
        "acme",
        email_contact("a@example.com", cart={"items": [{"productID": "P1", "qty": 1}]}),
        email_contact("b@example.com"),
    )
    now = datetime.now(UTC)
    await activities.insert_many(
        Tenant("acme", api.db),
        [{"cID": a, "action": "open", "ats": now - timedelta(minutes=i)} for i in range(3)],
    )
    await orders.insert_many(Tenant("acme", api.db), [{"cID": a, "orderID": "O1", "purchaseDate": now}])
    api.commands.reset()

    await api.ok(READS, {"ref": "a@example.com"}, key=key)
    for mutation in WRITES:
        await api.ok(mutation, key=key)
    report = (await api.ok(REPORT, key=key))["activityReportCreate"]["activityReport"]
    await runner.run_once()
    query = "query($id: ID!) { activityReport(id: $id) { status aggregatedCsvUrl } }"
    report = (await api.ok(query, {"id": report["id"]}, key=key))["activityReport"]
    assert report["status"] == "COMPLETED"
    response = await api.http.get(
        report["aggregatedCsvUrl"].replace("http://test", ""), headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 200

    reads = [(name, command) for name, command in api.commands.commands if name in READ_COMMANDS]
    assert len(reads) > 30
    assert {name for name, _ in reads} >= {"find", "aggregate", "findAndModify"}
    without = [(name, command) for name, command in reads if "maxTimeMS" not in command]
    assert without == []
    limits = {command["maxTimeMS"] for _, command in reads}
    assert limits <= {MAX_TIME.request, MAX_TIME.job}
    assert MAX_TIME.job in limits  # the report's bulk scans get the job limit
