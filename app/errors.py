"""Domain errors: the error codes (the reference APIs' error keys) and ``DomainError``,
which use cases raise for expected failures. No GraphQL here: ``app.graphql_errors``
turns them into userErrors (mutations) or GraphQL errors with a code (queries).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum


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
    ACTIVITY_STREAM_CURSOR_EXPIRED = "ACTIVITY_STREAM_CURSOR_EXPIRED"
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
