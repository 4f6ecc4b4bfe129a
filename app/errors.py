"""Error codes (the reference APIs' error keys) and the error types that carry them.

Expected failures of mutations are ``UserError`` values in the payload. Expected
failures of queries (a malformed ref, a bad filter, a page that is too large) raise
``InputError``: a GraphQL error whose ``extensions`` carry ``code`` and ``field``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from graphql import GraphQLError


class ErrorCode(Enum):
    # Cordial Contacts API (reference 001)
    CONTACTS_INVALID_PRIMARY_KEY = "CONTACTS_INVALID_PRIMARY_KEY"
    CONTACTS_MISSING_PRIMARY_KEY = "CONTACTS_MISSING_PRIMARY_KEY"
    CONTACTS_RECORD_EXISTS = "CONTACTS_RECORD_EXISTS"
    CONTACTS_CONTACT_NOT_FOUND = "CONTACTS_CONTACT_NOT_FOUND"
    CONTACTS_INVALID_SUBSCRIBE_STATUS = "CONTACTS_INVALID_SUBSCRIBE_STATUS"
    CONTACTS_INVALID_MCID_FOR_THIS_CONTACT = "CONTACTS_INVALID_MCID_FOR_THIS_CONTACT"
    CONTACTS_CHANNEL_KEY_NOT_FOUND = "CONTACTS_CHANNEL_KEY_NOT_FOUND"
    CONTACTS_PRODUCT_NOT_FOUND = "CONTACTS_PRODUCT_NOT_FOUND"
    CONTACTS_CART_NOT_FOUND = "CONTACTS_CART_NOT_FOUND"
    CONTACTS_INVALID_SEARCH_FIELD = "CONTACTS_INVALID_SEARCH_FIELD"
    CONTACTS_PUSH_CHANNEL_VALIDATION_ERROR = "CONTACTS_PUSH_CHANNEL_VALIDATION_ERROR"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    # Cordial Contact Activities API (reference 000)
    CONTACT_ACTIVITIES_INVALID_PAYLOAD = "CONTACT_ACTIVITIES_INVALID_PAYLOAD"
    CONTACT_ACTIVITIES_VALIDATION_ERROR = "CONTACT_ACTIVITIES_VALIDATION_ERROR"
    CONTACT_ACTIVITIES_INCORRECT_ACTION_NAME = "CONTACT_ACTIVITIES_INCORRECT_ACTION_NAME"
    # ContactGraph's own, named the same way
    ACCOUNT_ATTRIBUTE_EXISTS = "ACCOUNT_ATTRIBUTE_EXISTS"
    ACCOUNT_LIST_EXISTS = "ACCOUNT_LIST_EXISTS"
    ACCOUNT_AUDIENCE_EXISTS = "ACCOUNT_AUDIENCE_EXISTS"
    ACCOUNT_AUDIENCE_NOT_FOUND = "ACCOUNT_AUDIENCE_NOT_FOUND"
    CONTACTS_VERSION_CONFLICT = "CONTACTS_VERSION_CONFLICT"
    CONTACTS_ORDER_BELONGS_TO_ANOTHER_CONTACT = "CONTACTS_ORDER_BELONGS_TO_ANOTHER_CONTACT"
    JOB_NOT_FOUND = "JOB_NOT_FOUND"
    ACTIVITY_REPORT_NOT_FOUND = "ACTIVITY_REPORT_NOT_FOUND"
    INVALID_CURSOR = "INVALID_CURSOR"
    FORBIDDEN = "FORBIDDEN"


@dataclass(frozen=True, slots=True)
class Problem:
    """An expected failure as use cases report it: no GraphQL, no Strawberry."""

    code: ErrorCode
    message: str
    field: tuple[str, ...] = ()


@dataclass(slots=True)
class DomainError(Exception):
    """Raised by use cases for expected failures; resolvers turn it into userErrors."""

    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def one(cls, code: ErrorCode, message: str, field: Sequence[str] = ()) -> DomainError:
        return cls([Problem(code, message, tuple(field))])

    def __str__(self) -> str:
        return "; ".join(p.message for p in self.problems)


class InputError(GraphQLError):
    """A query argument the API cannot use: a GraphQL error naming the argument."""

    def __init__(self, code: ErrorCode, message: str, field: Sequence[str] = ()) -> None:
        super().__init__(message, extensions={"code": code.value, "field": list(field)})

    @classmethod
    def from_domain(cls, error: DomainError) -> InputError:
        first = error.problems[0]
        return cls(first.code, first.message, first.field)


# -- GraphQL shapes ------------------------------------------------------------------

import logging  # noqa: E402 - the GraphQL side of this module
import re  # noqa: E402

import strawberry  # noqa: E402
from strawberry.extensions import MaskErrors  # noqa: E402

_log = logging.getLogger("contactgraph.errors")

ErrorCodeType = strawberry.enum(ErrorCode, name="ErrorCode", description="Error keys of the reference APIs.")


@strawberry.type(description="An expected failure: what went wrong, where, and its error key.")
class UserError:
    field: list[str] | None = strawberry.field(description="Path to the input that caused it.")
    message: str
    code: ErrorCode

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        return cls(field=list(problem.field) or None, message=problem.message, code=problem.code)


def user_errors(error: DomainError) -> list[UserError]:
    return [UserError.from_problem(p) for p in error.problems]


_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


class MaskUnexpectedErrors(MaskErrors):
    """Production: faults (anything but an error raised on purpose) become "Unexpected error"
    with the request id that the logs carry; graphql-core's "Did you mean ...?" suggestions
    (fields, arguments, types, enum values) are cut, so that a schema cannot be guessed from
    them; other expected errors pass unchanged."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: _is_fault(e) or "Did you mean" in e.message)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if not _is_fault(error):
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


def _is_fault(error: GraphQLError) -> bool:
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)
