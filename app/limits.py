"""Request limits, enforced before any resolver (and so before any database command):
GraphQL depth, aliases (fragments included), tokens and root fields are validation rules,
the cost budget and rate limit are ``app.cost``; the HTTP body size is capped by a
middleware that never reads past the limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from app.cost import QueryCost, RateLimiter
from app.settings import Settings


def graphql_limits(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Extension factories; the rate limiter they share lives as long as the schema.

    The validation rules are built once: strawberry's limiters create a rule class per
    instance, and a new class per request would make every request miss the validation
    cache (which is keyed by the rules), so each request re-validated its document."""
    limiter = RateLimiter(settings.rate_limit_capacity, settings.rate_limit_restore_rate)
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        max_root_fields(settings.max_root_fields),
    ]
    return [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: QueryCost(max_cost=settings.max_query_cost, limiter=limiter),
    ]


def max_root_fields(limit: int) -> type[ValidationRule]:
    """A validation rule: at most ``limit`` root fields per operation, fragments included."""

    class MaxRootFields(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            count = self._count(node.selection_set, set())
            if count > limit:
                self.report_error(
                    GraphQLError(
                        f"'{node.name.value if node.name else 'anonymous'}' selects {count} root "
                        f"fields; at most {limit} are allowed",
                        node,
                    )
                )

        def _count(self, selection_set: SelectionSetNode, seen: set[str]) -> int:
            total = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    total += 1
                elif isinstance(selection, InlineFragmentNode):
                    total += self._count(selection.selection_set, seen)
                elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                    seen.add(selection.name.value)  # cycles are another rule's error
                    fragment = self.context.get_fragment(selection.name.value)
                    if fragment is not None:
                        total += self._count(fragment.selection_set, seen)
            return total

    return MaxRootFields


class BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 with a JSON body for requests larger than ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except BodyTooLarge:
            if not started:
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = orjson.dumps(
            {
                "errors": [
                    {
                        "message": f"Request body larger than {self.max_bytes} bytes",
                        "extensions": {"code": "PAYLOAD_TOO_LARGE"},
                    }
                ]
            }
        )
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
