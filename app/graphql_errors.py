"""The GraphQL side of errors: the ``ErrorCode`` enum and ``UserError`` type, ``InputError``,
production masking, and the one mechanism that turns a use case's ``DomainError`` into what
the client gets.

* A mutation's resolver is decorated ``@user_errors_in(ThePayload)``: a DomainError becomes
  ``ThePayload(user_errors=[...])``, the expected failure a client handles.
* A query's resolver (a subscription's too) is decorated ``@input_errors``: a DomainError
  becomes an ``InputError``, a GraphQL error with ``extensions {code, field}``.

Use cases (and pagination) raise DomainError only and import nothing from here.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any, ParamSpec, TypeVar, cast

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from app.errors import DomainError, ErrorCode, Problem

_log = logging.getLogger("contactgraph.errors")

ErrorCodeType = strawberry.enum(ErrorCode, name="ErrorCode", description="Error keys of the reference APIs.")


@strawberry.type(description="An expected failure: what went wrong, where, and its error key.")
class UserError:
    field: list[str] | None = strawberry.field(description="Path to the input that caused it.")
    message: str = strawberry.field(description="What went wrong, for a person to read.")
    code: ErrorCode = strawberry.field(description="The error key, for a program to branch on.")

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        return cls(field=list(problem.field) or None, message=problem.message, code=problem.code)


@strawberry.type
class Payload:
    """What every mutation payload has: its expected failures (``user_errors_in`` fills
    them); payload types inherit it (it is not a GraphQL type of its own)."""

    user_errors: list[UserError] = strawberry.field(
        default_factory=list,
        description="Expected failures, each with its input path and error key; empty on success.",
    )


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError.from_problem(p) for p in error.problems]


class InputError(GraphQLError):
    """A query argument the API cannot use: a GraphQL error naming the argument."""

    def __init__(self, code: ErrorCode, message: str, field: Sequence[str] = ()) -> None:
        super().__init__(message, extensions={"code": code.value, "field": list(field)})

    @classmethod
    def from_domain(cls, error: DomainError) -> InputError:
        first = error.problems[0]
        return cls(first.code, first.message, first.field)


P = ParamSpec("P")
R = TypeVar("R")


def user_errors_in(
    payload: Callable[..., R],
) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Mutations: a DomainError raised by the resolver becomes ``payload(user_errors=...)``."""

    def decorate(resolver: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        @functools.wraps(resolver)
        async def resolve(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await resolver(*args, **kwargs)
            except DomainError as exc:
                return payload(user_errors=user_errors(exc))

        return resolve

    return decorate


def input_errors(resolver: Callable[P, R]) -> Callable[P, R]:
    """Queries and subscriptions: a DomainError raised by the resolver (a coroutine, an async
    generator, or a plain function) becomes an InputError."""
    if inspect.isasyncgenfunction(resolver):
        generator = cast(Callable[P, AsyncIterator[Any]], resolver)

        @functools.wraps(resolver)
        async def stream(*args: P.args, **kwargs: P.kwargs) -> AsyncIterator[Any]:
            try:
                async for item in generator(*args, **kwargs):
                    yield item
            except DomainError as exc:
                raise InputError.from_domain(exc) from exc

        return cast(Callable[P, R], stream)
    if inspect.iscoroutinefunction(resolver):
        coroutine: Callable[P, Coroutine[Any, Any, Any]] = resolver

        @functools.wraps(resolver)
        async def resolve_async(*args: P.args, **kwargs: P.kwargs) -> Any:
            try:
                return await coroutine(*args, **kwargs)
            except DomainError as exc:
                raise InputError.from_domain(exc) from exc

        return cast(Callable[P, R], resolve_async)

    @functools.wraps(resolver)
    def resolve(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return resolver(*args, **kwargs)
        except DomainError as exc:
            raise InputError.from_domain(exc) from exc

    return resolve


_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


class MaskUnexpectedErrors(MaskErrors):
    """Production: faults (anything but an error raised on purpose) become "Unexpected error"
    with the request id that the logs carry; graphql-core's "Did you mean ...?" suggestions
    (fields, arguments, types, enum values) are cut, so that a schema cannot be guessed from
    them; other expected errors pass unchanged."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: is_fault(e) or "Did you mean" in e.message)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if not is_fault(error):
            return GraphQLError(
                _SUGGESTION.sub("", error.message),
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=error.original_error,
                extensions=error.extensions,
            )
        request = getattr(self.execution_context.context, "request", None)
        request_id = (getattr(request, "scope", None) or {}).get("state", {}).get("request_id", "-")
        _log.error("unexpected error", extra={"request_id": request_id}, exc_info=error.original_error)
        return GraphQLError(
            f"Unexpected error; request id {request_id}",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_ERROR", "requestId": request_id},
        )


def is_fault(error: GraphQLError) -> bool:
    """An error nobody raised on purpose (a bug or an outage), as opposed to the client's own
    mistake or a typed error. A scalar refusing a literal while the document is validated
    (``fromDate: "nonsense"``) carries the scalar's ValueError but no path: the client's
    mistake, like a refused variable."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return not (error.path is None and isinstance(original, ValueError | TypeError))
