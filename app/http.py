"""GraphQL over HTTP as the spec (graphql-over-http, 2025 draft) says, beyond what strawberry does.

* Media type: a client that accepts ``application/graphql-response+json`` (before or
  without ``application/json``) gets it; others get ``application/json``.
* Request errors (the document did not parse or validate, or was refused before it ran:
  cost, rate limit, safelist, persisted query not found) have no ``data`` entry, and with
  ``application/graphql-response+json`` answer 400 (with ``application/json`` the spec
  wants 200, which stays). Every such error carries ``extensions.code``:
  ``GRAPHQL_PARSE_FAILED`` or ``GRAPHQL_VALIDATION_FAILED`` when nothing more specific is set.
* Refusals of the HTTP request itself (malformed JSON, a batch, an unsupported content
  type or method, a mutation over GET: 405 with ``Allow: POST``) are GraphQL-shaped JSON
  bodies with a code, not text.
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from graphql import GraphQLError
from starlette.responses import Response
from strawberry.http import GraphQLHTTPResponse

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"

HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def response_media_type(accept: str | None) -> str:
    """The media type to answer with, from the request's Accept header: the spec's own type
    when the client lists it before application/json (or lists only it)."""
    if not accept:
        return JSON
    listed = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE not in listed:
        return JSON
    if JSON in listed and listed.index(JSON) < listed.index(GRAPHQL_RESPONSE):
        return JSON
    return GRAPHQL_RESPONSE


def is_request_error(response: GraphQLHTTPResponse) -> bool:
    """Whether a processed result failed before execution: no data, and no error of it has a
    path (an execution error always has one)."""
    errors = response.get("errors") or []
    return (
        bool(errors)
        and response.get("data") is None
        and all(not cast(dict[str, Any], e).get("path") for e in errors)
    )


def request_error_code(error: GraphQLError) -> str:
    return "GRAPHQL_PARSE_FAILED" if error.message.startswith("Syntax Error") else "GRAPHQL_VALIDATION_FAILED"


def as_request_error(response: GraphQLHTTPResponse, errors: list[GraphQLError]) -> GraphQLHTTPResponse:
    """The response of a request error: without ``data``, each error with a code."""
    formatted: list[object] = []
    for shown, error in zip(response.get("errors") or [], errors, strict=False):
        entry = dict(cast(dict[str, Any], shown))
        entry["extensions"] = {"code": request_error_code(error), **(entry.get("extensions") or {})}
        formatted.append(entry)
    out = cast(GraphQLHTTPResponse, {k: v for k, v in response.items() if k != "data"})
    out["errors"] = formatted
    return out


def error_response(
    status: int, message: str, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    """A refused HTTP request, as a GraphQL response body."""
    body = {"errors": [{"message": message, "extensions": {"code": HTTP_CODES.get(status, "BAD_REQUEST")}}]}
    return Response(orjson.dumps(body), status_code=status, media_type=media_type, headers=headers)
