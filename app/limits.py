"""Request limits, enforced before any resolver (and so before any database command):
GraphQL depth, aliases (fragments included), tokens and root fields are validation rules,
directives per location are checked before validation (``CheckedValidation``), the cost
budget and rate limit are ``app.cost``; the HTTP body size is capped by a middleware that
never reads past the limit."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    Visitor,
    visit,
)
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from app.cost import QueryCost
from app.ratelimit import SharedBudget
from app.settings import Settings

MAX_DIRECTIVES = 5
"""Directives on one field, fragment or operation (graphql-cop's "directive overloading")."""


def graphql_limits(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Extension factories; the cost budget's slices they share live as long as the schema.

    The validation rules are built once: strawberry's limiters create a rule class per
    instance, and a new class per request would make every request miss the validation
    cache (which is keyed by the rules), so each request re-validated its document."""
    budget = SharedBudget(
        settings.rate_limit_capacity, settings.rate_limit_restore_rate, slice_points=settings.rate_limit_slice
    )
    rules = [
        *QueryDepthLimiter(max_depth=settings.max_query_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        max_root_fields(settings.max_root_fields),
    ]
    return [
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=settings.max_tokens),
        lambda: QueryCost(max_cost=settings.max_query_cost, budget=budget),
    ]


class _DirectiveCount(Visitor):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.offender: Any = None

    def enter(self, node: Any, *_: Any) -> Any:
        directives = getattr(node, "directives", None)
        if directives is not None and len(directives) > self.limit:
            self.offender = node
            return Visitor.BREAK
        return None


def directive_overload(document: DocumentNode, limit: int = MAX_DIRECTIVES) -> GraphQLError | None:
    """One error for the first place with more than ``limit`` directives, else None."""
    counter = _DirectiveCount(limit)
    visit(document, counter)
    if counter.offender is None:
        return None
    return GraphQLError(
        f"At most {limit} directives may be used on one field, fragment or operation",
        counter.offender,
        extensions={"code": "TOO_MANY_DIRECTIVES"},
    )


class _ValidationResults:
    """Validation results per (document, rules), keyed by the document's identity: the
    parser cache hands out one document object per query text, and hashing a document
    (a frozen dataclass tree) would walk it on every request. Entries hold their document,
    so an id is never reused while its entry lives."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[tuple[int, Any], tuple[DocumentNode, list[GraphQLError]]] = OrderedDict()

    def get(
        self, document: DocumentNode, rules: Any, run: Callable[[], list[GraphQLError]]
    ) -> list[GraphQLError]:
        key = (id(document), rules)
        entry = self._entries.get(key)
        if entry is not None and entry[0] is document:
            self._entries.move_to_end(key)
            return entry[1]
        errors = run()
        self._entries[key] = (document, errors)
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)
        return errors


class CheckedValidation(SchemaExtension):
    """Strawberry's validation, cached per document, after a check graphql-core's rules do
    not make: a document with more than MAX_DIRECTIVES directives in one place gets one
    error and is not validated (its unknown directives would each add an error)."""

    def __init__(self, results: _ValidationResults) -> None:
        self.results = results

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        document = ctx.graphql_document
        if document is not None:
            rules = tuple(ctx.validation_rules)

            def run() -> list[GraphQLError]:
                overload = directive_overload(document)
                if overload is not None:
                    return [overload]
                return validate_document(ctx.schema._schema, document, rules)

            ctx.pre_execution_errors = self.results.get(document, rules, run)
        yield


class SubscriptionsOverWebsocket(SchemaExtension):
    """A subscription sent as an HTTP request gets a clear error instead of running as a
    query (its resolver is a stream); must come after the validation extension."""

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        request = getattr(ctx.context, "request", None)
        if (
            isinstance(request, Request)
            and ctx.graphql_document is not None
            and not ctx.pre_execution_errors
            and ctx.operation_type is OperationType.SUBSCRIPTION
        ):
            ctx.pre_execution_errors = [
                GraphQLError(
                    "Subscriptions are served over a websocket on this path "
                    "(graphql-transport-ws protocol), not over HTTP",
                    extensions={"code": "SUBSCRIPTION_NEEDS_WEBSOCKET"},
                )
            ]
        yield


def checked_validation(maxsize: int = 1024) -> Callable[[], SchemaExtension]:
    """The extension factory; its cache lives as long as the schema."""
    results = _ValidationResults(maxsize)
    return lambda: CheckedValidation(results)


class NoFederationSdl(ValidationRule):
    """With introspection off, federation's ``_service { sdl }`` (the whole schema as text)
    is refused too: it is introspection by another name."""

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        parent = self.context.get_parent_type()
        if node.name.value == "_service" and parent is self.context.schema.query_type:
            self.report_error(
                GraphQLError(
                    "GraphQL introspection is disabled, and so is federation's _service; "
                    "publish the subgraph schema from schema.graphql instead",
                    node,
                    extensions={"code": "INTROSPECTION_DISABLED"},
                )
            )


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
