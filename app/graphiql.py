"""GraphiQL served by the gateway itself: pinned assets under ``app/static/graphiql`` (no
CDN, so it works on a closed network) and, in development, the demo key in the headers and
example operations (one tab each) on real demo contacts."""

from __future__ import annotations

from pathlib import Path

import orjson
from starlette.staticfiles import StaticFiles

from app.settings import Settings

ASSETS = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql/static"
DEMO_KEY_FILE = "demo-api-key"

CONTACT_WITH_EVERYTHING = """# A contact with its latest activities, cart and orders: one request.
query ContactWithEverything($ref: String!) {
  contact(ref: $ref) {
    cID
    email
    lists
    cart { total itemCount items { productID name qty itemPrice } }
    orders(first: 5) { edges { node { orderID purchaseDate totalAmount items { sku qty } } } }
    activities(first: 10) { totalCount edges { node { action ats trackingType message { name } } } }
  }
}"""
RECORD_EVENT = """mutation RecordEvent($ref: String!) {
  eventRecord(input: {contact: $ref, action: "browse", properties: {url: "/shoes", category: "shoes"}}) {
    activity { id action ats properties }
    userErrors { field message code }
  }
}"""
MERGE = """mutation Merge($source: String!, $destination: String!) {
  contactMerge(input: {
    sourceContact: $source
    destinationContact: $destination
    options: {
      orders: MERGE, events: MERGE, cart: LAST_MODIFIED, lists: SOURCE_CONTACT
      attributes: DESTINATION_CONTACT, supplements: SOURCE_CONTACT
      emailChannels: DESTINATION_CONTACT, smsChannels: SOURCE_CONTACT, pushChannels: MERGE
    }
  }) {
    mergedCID
    contact { cID email lists }
    userErrors { field message code }
  }
}"""
UNSUBSCRIBE = """mutation Unsubscribe($ref: String!) {
  contactUnsubscribe(ref: $ref, channel: "email") {
    contact { email channels { email { subscribeStatus unsubscribedAt } } }
    userErrors { field message code }
  }
}"""
REPORT = """# Runs as a job: poll activityReport(id) (or subscribe to jobUpdated) for the CSV links.
mutation ActivityReport {
  activityReportCreate(input: {
    title: "Active example.com contacts"
    selectedFields: ["email", "ocx_status", "opens", "clicks"]
    filters: {
      criteria: [{
        type: "email", fieldName: "email", operator: "_LIKE"
        operand: ["example.com"], caseSensitive: false, condition: "and"
      }]
      userType: "active", fromDate: "2025-01-01", toDate: "2030-12-31"
    }
  }) {
    activityReport { id status }
    job { id state }
    userErrors { field message code }
  }
}"""


ACTIVITY_STREAM = """# Live: run it, then record an event in another tab.
subscription Activities {
  activityRecorded { action ats cID properties contact { email } }
}"""


def assets() -> StaticFiles:
    return StaticFiles(directory=ASSETS)


def demo_key(settings: Settings) -> str | None:
    path = settings.data_dir / DEMO_KEY_FILE
    if settings.is_production or not path.exists():
        return None
    return path.read_text().strip() or None


def tabs(headers: str, refs: list[str]) -> list[dict[str, str]]:
    first, second, third = ((refs or ["someone@example.com"]) * 3)[:3]
    examples = [
        (CONTACT_WITH_EVERYTHING, {"ref": first}),
        (RECORD_EVENT, {"ref": first}),
        (MERGE, {"source": third, "destination": second}),
        (UNSUBSCRIBE, {"ref": first}),
        (REPORT, {}),
        (ACTIVITY_STREAM, {}),
    ]
    return [
        {
            "query": query,
            "variables": orjson.dumps(variables, option=orjson.OPT_INDENT_2).decode(),
            "headers": headers,
        }
        for query, variables in examples
    ]


def page(key: str | None, refs: list[str]) -> str:
    headers = orjson.dumps(
        {"Authorization": f"Bearer {key}"} if key else {"Authorization": "Bearer <your key>"}
    )
    examples = tabs(headers.decode(), refs)
    props = {
        "defaultTabs": examples,
        # The editors start from these (GraphiQL does not take them from the first tab).
        "variables": examples[0]["variables"],
        "headers": examples[0]["headers"],
        "defaultHeaders": examples[0]["headers"],  # what a new tab ("+") starts with
        "defaultEditorToolsVisibility": "variables",
        "shouldPersistHeaders": False,
    }
    # Escape "</" so nothing in the props can close the script element.
    config = orjson.dumps(props).decode().replace("</", "<\\/")
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ContactGraph GraphiQL</title>
  <link rel="stylesheet" href="{ASSETS_PATH}/graphiql.min.css">
  <style>body {{ margin: 0; height: 100vh; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL...</div>
  <script src="{ASSETS_PATH}/react.production.min.js"></script>
  <script src="{ASSETS_PATH}/react-dom.production.min.js"></script>
  <script src="{ASSETS_PATH}/graphiql.min.js"></script>
  <script src="{ASSETS_PATH}/graphql-ws.min.js"></script>
  <script>
    const props = {config};
    const http = GraphiQL.createFetcher({{ url: window.location.pathname }});
    // Subscriptions go over a graphql-ws socket that carries the tab's Authorization header
    // in connection_init (one socket per key).
    const wsUrl = window.location.origin.replace(/^http/, "ws") + window.location.pathname;
    const sockets = {{}};
    const socket = (authorization) => sockets[authorization] ??= graphqlWs.createClient({{
      url: wsUrl, connectionParams: {{ Authorization: authorization }}, retryAttempts: 0,
    }});
    const definitions = (opts) => (opts && opts.documentAST && opts.documentAST.definitions) || [];
    const isSubscription = (params, opts) => definitions(opts)
      .some((d) => d.kind === "OperationDefinition" && d.operation === "subscription"
        && (!params.operationName || (d.name && d.name.value === params.operationName)));
    const fetcher = (params, opts) => {{
      if (!isSubscription(params, opts)) return http(params, opts);
      const headers = (opts && opts.headers) || {{}};
      return socket(headers.Authorization || headers.authorization || "").iterate(params);
    }};
    ReactDOM.createRoot(document.getElementById("graphiql")).render(
      React.createElement(GraphiQL, {{ fetcher, ...props }})
    );
  </script>
</body>
</html>
"""
