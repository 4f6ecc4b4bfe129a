"""GraphQL types of the contacts domain."""

from __future__ import annotations

from enum import Enum
from typing import Any, cast

import strawberry
from strawberry import relay

from app.activities.filters import activity_sort, build_activity_filter
from app.activities.loaders import ActivitiesByContactLoader
from app.activities.types import (
    ACTIVITY_FIELDS,
    Activity,
    ActivityConnection,
    ActivityMatch,
    ActivitySort,
    ActivityWhere,
)
from app.auth import ScopeName, requires
from app.commerce.loaders import OrdersByContactLoader
from app.commerce.types import ORDER_FIELDS, Cart, Order, OrderConnection
from app.connection import Connection, DocNode, Stored, as_list, doc_field, node_projection
from app.contacts.loaders import ContactByIdLoader
from app.context import Info
from app.db import Document, object_id
from app.errors import ErrorCode
from app.graphql_errors import InputError, input_errors
from app.inputs import DateTimeFilter, KeyedValueFilter, SortDirection
from app.pagination import PerParentQuery, SortKey, decode_cursor, page_size
from app.query import TimeRange
from app.scalars import JSON, DateTime

from .consent import entries_for, status_at
from .consent_types import ConsentChange, history_connection
from .filters import ActivityRequirement, AttributeCondition, ContactFilter, ContactOrder
from .status import SubscribeStatus, subscribe_status


@strawberry.type
class _Consent:
    """What both channel types share: the status, as of now or of a past instant, and the
    history of changes (app.contacts.consent)."""

    status: strawberry.Private[SubscribeStatus]
    entries: strawberry.Private[list[Document]]

    @strawberry.field(
        description="Now, or as of `at` from the consent history (NONE when no entry of the channel "
        "reaches back to `at`: no consent on record)."
    )
    def subscribe_status(self, at: DateTime | None = None) -> SubscribeStatus:
        if at is None:
            return self.status
        return subscribe_status(status_at(self.entries, at))

    @strawberry.field(
        description="Every change of this channel's subscribeStatus or invalid flag, oldest first "
        "(create, update, unsubscribe, import, merge, forceSubscribe), with who made it."
    )
    @input_errors
    def history(self, first: int | None = None, after: str | None = None) -> Connection[ConsentChange]:
        return history_connection(self.entries, first, after)


@strawberry.type(description="An addressable channel (email or sms) of a contact.")
class AddressChannel(_Consent):
    address: str | None = strawberry.field(description="The email address or phone number.")
    invalid: bool = strawberry.field(description="True after a hard bounce: nothing is sent.")
    subscribed_at: DateTime | None = strawberry.field(description="When it last became SUBSCRIBED.")
    unsubscribed_at: DateTime | None = strawberry.field(description="When it last became UNSUBSCRIBED.")
    unsubscribe_mc_id: str | None = strawberry.field(
        description="The message an unsubscribe was attributed to.", name="unsubscribeMcID"
    )

    @classmethod
    def from_doc(cls, doc: Document, entries: list[Document]) -> AddressChannel:
        return cls(
            status=subscribe_status(doc.get("subscribeStatus")),
            entries=entries,
            address=doc.get("address"),
            invalid=bool(doc.get("invalid", False)),
            subscribed_at=doc.get("subscribedAt"),
            unsubscribed_at=doc.get("unsubscribedAt"),
            unsubscribe_mc_id=doc.get("unsubscribeMcID"),
        )


@strawberry.type(description="A push token of a contact's app install.")
class PushChannel(_Consent):
    token: str = strawberry.field(description="The push token.")
    platform: str | None = strawberry.field(description="ios, android, web...")
    invalid: bool = strawberry.field(description="True when the token was rejected: nothing is sent.")

    @classmethod
    def from_doc(cls, doc: Document, entries: list[Document]) -> PushChannel:
        token = str(doc.get("token", ""))
        return cls(
            status=subscribe_status(doc.get("subscribeStatus")),
            entries=[e for e in entries if e.get("token") == token],
            token=token,
            platform=doc.get("platform"),
            invalid=bool(doc.get("invalid", False)),
        )


@strawberry.type(description="The channels a contact can be reached on.")
class Channels:
    email: AddressChannel | None = strawberry.field(description="The email channel.")
    sms: AddressChannel | None = strawberry.field(description="The sms channel.")
    push: list[PushChannel] = strawberry.field(description="The push tokens of the contact's app installs.")


@strawberry.enum(description="What to sort orders by.")
class OrderSort(Enum):
    PURCHASE_DATE_DESC = "desc"
    PURCHASE_DATE_ASC = "asc"


@strawberry.federation.type(
    keys=["id", "cID"],
    description="A person in the account, with attributes, lists, cart, orders and activities.",
)
class Contact(DocNode):
    doc: strawberry.Private[Document]

    @strawberry.field(name="cID", description="The contact id (24-hex ObjectId).")
    def cid(self) -> str:
        return str(self.doc["_id"])

    @strawberry.field(description="The email channel's address.")
    def email(self) -> str | None:
        address = (self.doc.get("channels") or {}).get("email", {}).get("address")
        return str(address) if address is not None else None

    @strawberry.field(description="Email, sms and push, with their statuses and consent history.")
    def channels(self) -> Channels:
        channels = self.doc.get("channels") or {}
        email, sms = channels.get("email"), channels.get("sms")
        push = entries_for(self.doc, "push")
        return Channels(
            email=AddressChannel.from_doc(email, entries_for(self.doc, "email")) if email else None,
            sms=AddressChannel.from_doc(sms, entries_for(self.doc, "sms")) if sms else None,
            push=[PushChannel.from_doc(p, push) for p in channels.get("push") or []],
        )

    @strawberry.field(description="All attribute values, keyed by attribute key.")
    def attributes(self) -> JSON:
        return JSON(self.doc.get("attributes") or {})

    @strawberry.field(description="One attribute value (a geo sub-field with 'location.city').")
    def attribute(self, key: str) -> JSON | None:
        value: Any = self.doc.get("attributes") or {}
        for part in key.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return JSON(value) if value is not None else None

    lists = doc_field(
        "lists", list[str], description="Keys of the lists the contact is a member of.", convert=as_list
    )

    @strawberry.field(description="The contact's cart; null when it has none.")
    def cart(self) -> Cart | None:
        return Cart.from_contact(self.doc)

    @strawberry.field(description="Named JSON records of the contact (supplementRecord writes them).")
    def supplements(self) -> JSON:
        return JSON(self.doc.get("supplements") or {})

    created_at = doc_field("createdAt", DateTime | None, description="When the contact was created.")

    last_modified = doc_field("lastModified", DateTime | None, description="When the contact last changed.")

    @strawberry.field(description="cIDs of the contacts merged into this one (they resolve to it).")
    def merged_from(self) -> list[str]:
        return [str(c) for c in self.doc.get("mergedFrom") or []]

    @strawberry.field(description="Incremented by every write.")
    def version(self) -> int:
        return int(self.doc.get("version", 0))

    @strawberry.field(description="The contact's orders, newest first.")
    @input_errors
    def orders(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        sort: OrderSort = OrderSort.PURCHASE_DATE_DESC,
    ) -> OrderConnection:
        def make() -> OrdersByContactLoader:
            sort_key = SortKey("purchaseDate", descending=sort is OrderSort.PURCHASE_DATE_DESC)
            fields = node_projection(info, ORDER_FIELDS, ("_id", "purchaseDate"))
            query = _nested_query({}, sort_key, first, after, fields)
            return info.context.loaders.per_parent(OrdersByContactLoader, query, Order.from_doc)

        # The loader's future, resolving to the connection (graphql-core awaits it).
        return cast(OrderConnection, info.context.loaders.at_field(info, make).load(self.doc["_id"]))

    @strawberry.field(
        description="The contact's activities, newest first.",
        permission_classes=[requires(ScopeName.ACTIVITIES_READ)],
    )
    @input_errors
    def activities(
        self,
        info: Info,
        where: ActivityWhere | None = None,
        sort: ActivitySort = ActivitySort.ATS_DESC,
        first: int | None = None,
        after: str | None = None,
    ) -> ActivityConnection:
        def make() -> ActivitiesByContactLoader:
            if where is not None and where.contact is not None:
                raise InputError(
                    ErrorCode.CONTACT_ACTIVITIES_VALIDATION_ERROR,
                    "'contact' is implied under Contact.activities; use it on the root activities field",
                    ("where", "contact"),
                )
            match = build_activity_filter(where.to_filter() if where else None)
            fields = node_projection(info, ACTIVITY_FIELDS, ("_id", "ats"))
            query = _nested_query(match, activity_sort(sort.value), first, after, fields)
            return info.context.loaders.per_parent(ActivitiesByContactLoader, query, Activity.from_doc)

        # The loader's future, resolving to the connection (graphql-core awaits it).
        return cast(ActivityConnection, info.context.loaders.at_field(info, make).load(self.doc["_id"]))

    @classmethod
    async def docs_for(cls, info: Info, node_ids: list[str]) -> list[Document | None]:
        ids = [object_id(node_id) for node_id in node_ids]
        docs = iter(
            await info.context.loaders.of(ContactByIdLoader).load_many([i for i in ids if i is not None])
        )
        return [next(docs) if i is not None else None for i in ids]

    @classmethod
    async def resolve_reference(
        cls, info: Info, id: str | None = None, cID: str | None = None
    ) -> Contact | None:
        """Federation's entity lookup (``_entities``), by global id or by cID: every entity
        of a request goes through one DataLoader, so 50 of them are one database command."""
        principal = info.context.principal
        if not principal.allows(ScopeName.CONTACTS_READ):
            denied = requires(ScopeName.CONTACTS_READ)()
            raise denied.error_class(denied.message or "Not allowed", extensions=denied.error_extensions)
        hex_id = cID
        if id is not None:
            try:
                global_id = relay.GlobalID.from_id(id)
            except ValueError:
                return None
            hex_id = global_id.node_id if global_id.type_name == "Contact" else None
        oid = object_id(hex_id)
        if oid is None:
            return None
        return _maybe(await info.context.loaders.of(ContactByIdLoader).load(oid))


def _maybe(doc: Document | None) -> Contact | None:
    return Contact.from_doc(doc) if doc else None


def _nested_query(
    match: Document, sort: SortKey, first: int | None, after: str | None, fields: tuple[str, ...] | None
) -> PerParentQuery:
    return PerParentQuery(
        match=match,
        sort=sort,
        limit=page_size(first),
        after=decode_cursor(after, sort) if after else None,
        fields=fields,
    )


ContactConnection = Connection[Contact]

# The stored fields each Contact field reads: a page of contacts reads only those its
# selection needs (a contact's attributes, consent history and supplements can be most of
# it). A field missing here reads whole contacts.
CONTACT_FIELDS: Stored = {
    "id": ("_id",),
    "cID": ("_id",),
    "email": ("channels.email",),
    "channels": ("channels", "consentHistory"),  # a channel's subscribeStatus(at:) and history
    "attributes": ("attributes",),
    "attribute": ("attributes",),
    "lists": ("lists",),
    "cart": ("cart",),
    "supplements": ("supplements",),
    "createdAt": ("createdAt",),
    "lastModified": ("lastModified",),
    "mergedFrom": ("mergedFrom",),
    "version": ("version",),
    "orders": ("_id",),
    "activities": ("_id",),
}


async def contact_by_id(info: Info, cid: Any) -> Contact | None:
    """The contact of this cID (an activity's or order's), through the request's loader."""
    doc = await info.context.loaders.of(ContactByIdLoader).load(cid)
    return Contact.from_doc(doc) if doc else None


# -- inputs ---------------------------------------------------------------------------


@strawberry.input(
    description="A condition on one attribute; give one or more operators. For arrays, eq "
    "means 'contains'; for geo attributes use a sub-field key such as 'location.city'."
)
class AttributeFilter(KeyedValueFilter):
    pass


@strawberry.input(
    description='A condition on the contact\'s activities, e.g. {action: "click", withinDays: 30}. '
    "Evaluated inside the database."
)
class ActivityConditionInput(ActivityMatch):
    within_days: int | None = strawberry.field(
        default=None, description="Only activities of the last N days."
    )
    min_count: int = strawberry.field(default=1, description="At least this many matching activities.")
    exists: bool = strawberry.field(default=True, description="false: contacts with NO such activity.")

    def to_requirement(self) -> ActivityRequirement:
        return ActivityRequirement(self.match_filter(), self.within_days, self.min_count, self.exists)


@strawberry.input(description="Which contacts to return; all given conditions must hold.")
class ContactWhere:
    attributes: list[AttributeFilter] | None = strawberry.field(
        default=None, description="Attribute conditions, all of them."
    )
    in_lists: list[str] | None = strawberry.field(default=None, description="Member of all of these lists.")
    not_in_lists: list[str] | None = strawberry.field(
        default=None, description="Member of none of these lists."
    )
    email_subscribe_status: SubscribeStatus | None = strawberry.field(
        default=None, description="The email channel's status."
    )
    email_address: str | None = strawberry.field(
        default=None, description="The email address (case-insensitive)."
    )
    created_at: DateTimeFilter | None = strawberry.field(
        default=None, description="Created in this time range."
    )
    last_modified: DateTimeFilter | None = strawberry.field(
        default=None, description="Last changed in this time range."
    )
    activity: ActivityConditionInput | None = strawberry.field(
        default=None, description="A condition on the contact's activities, evaluated in the database."
    )

    def to_filter(self) -> ContactFilter:
        def times(value: DateTimeFilter | None) -> TimeRange | None:
            return value.to_filter() if value else None

        status = self.email_subscribe_status
        return ContactFilter(
            attributes=tuple(AttributeCondition(a.key, a.operators()) for a in self.attributes or []),
            in_lists=tuple(self.in_lists or ()),
            not_in_lists=tuple(self.not_in_lists or ()),
            email_subscribe_status=status.value if status is not None else None,
            email_address=self.email_address,
            created_at=times(self.created_at),
            last_modified=times(self.last_modified),
            activity=self.activity.to_requirement() if self.activity else None,
        )


@strawberry.enum(description="What to sort contacts by.")
class ContactSortField(Enum):
    CREATED_AT = "createdAt"
    LAST_MODIFIED = "lastModified"
    ATTRIBUTE = "attribute"


@strawberry.input(description="Sort order of contacts; ties are broken by cID.")
class ContactSort:
    field: ContactSortField = strawberry.field(
        default=ContactSortField.CREATED_AT, description="What to sort by."
    )
    attribute: str | None = strawberry.field(default=None, description="With field ATTRIBUTE: its key.")
    direction: SortDirection = strawberry.field(
        default=SortDirection.ASC, description="Ascending or descending."
    )

    def to_order(self) -> ContactOrder:
        return ContactOrder(self.field.value, self.attribute, self.direction is SortDirection.DESC)
