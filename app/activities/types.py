"""GraphQL types of the activities domain."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app.connection import Connection, DocNode, Stored, as_list, doc_field
from app.context import Info
from app.db import Document
from app.inputs import DateTimeFilter, KeyedValueFilter
from app.scalars import JSON, DateTime

from . import repository
from .filters import ACTION_TRACKING_TYPES, ActivityFilter, PropertyCondition
from .loaders import MessageByIdLoader

if TYPE_CHECKING:
    from app.contacts.types import Contact


@strawberry.enum(description="Constant Contact tracking activity types and the actions they name.")
class TrackingType(Enum):
    EM_SENDS = "EM_SENDS"
    EM_OPENS = "EM_OPENS"
    EM_CLICKS = "EM_CLICKS"
    EM_BOUNCES = "EM_BOUNCES"
    EM_OPTOUTS = "EM_OPTOUTS"
    EM_FORWARDS = "EM_FORWARDS"
    P_CONTACT_OPEN = strawberry.enum_value("P_CONTACT_OPEN", description="A landing page viewed: pageview.")
    P_CONTACT_CLICK = strawberry.enum_value(
        "P_CONTACT_CLICK", description="A link clicked on a landing page: page-click."
    )
    P_CONTACT_ADD = strawberry.enum_value(
        "P_CONTACT_ADD", description="A contact added by a landing-page form: page-contact-add."
    )
    P_CONTACT_UPDATE = strawberry.enum_value(
        "P_CONTACT_UPDATE", description="A contact updated by a landing-page form: page-contact-update."
    )


@strawberry.enum(description="Order of activities by their time (ties broken by id).")
class ActivitySort(Enum):
    ATS_DESC = "desc"
    ATS_ASC = "asc"


@strawberry.input(
    description="A condition on one event property. Values of another type than the first one "
    "recorded for the property (account.eventProperties) are not searchable and never match."
)
class PropertyFilter(KeyedValueFilter):
    pass


@strawberry.input(description="Conditions on an activity's action, tracking type and time.")
class ActivityMatch:
    """The conditions activity filters (ActivityWhere) and contact conditions on activities
    (ActivityConditionInput) share."""

    action: str | None = strawberry.field(default=None, description="Activities of this action.")
    actions: list[str] | None = strawberry.field(
        default=None, description="Activities of any of these actions."
    )
    tracking_types: list[TrackingType] | None = strawberry.field(
        default=None, description="Activities of these Constant Contact tracking types."
    )
    ats: DateTimeFilter | None = strawberry.field(default=None, description="Activities in this time range.")

    def match_filter(self, **more: Any) -> ActivityFilter:
        """These conditions (and ``more`` of ActivityFilter's) as an ActivityFilter."""
        return ActivityFilter(
            actions=(*([self.action] if self.action is not None else []), *(self.actions or [])),
            tracking_types=tuple(t.value for t in self.tracking_types or []),
            ats=self.ats.to_filter() if self.ats else None,
            **more,
        )


@strawberry.input(description="Which activities to return; all given conditions must hold.")
class ActivityWhere(ActivityMatch):
    contact: str | None = strawberry.field(
        default=None, description="A contact ref (root activities only; implied under Contact.activities)."
    )
    mc_id: str | None = strawberry.field(
        description="Activities of this message contact id.", default=None, name="mcID"
    )
    properties: list[PropertyFilter] | None = strawberry.field(
        default=None, description="Conditions on searchable event properties, all of them."
    )

    def to_filter(self) -> ActivityFilter:
        return self.match_filter(
            mc_id=self.mc_id,
            properties=tuple(PropertyCondition(p.key, p.operators()) for p in self.properties or []),
            contact=self.contact,
        )


@strawberry.type(description="A message (campaign) activities can belong to.")
class Message:
    id: str = strawberry.field(description="The message's id (the second segment of its mcIDs).")
    name: str | None = strawberry.field(description="The campaign name.")
    channel: str | None = strawberry.field(description="email, sms, push...")
    sent_at: DateTime | None = strawberry.field(description="When it went out.")

    @classmethod
    def from_doc(cls, doc: Document) -> Message:
        return cls(
            id=str(doc["_id"]), name=doc.get("name"), channel=doc.get("channel"), sent_at=doc.get("sentAt")
        )


@strawberry.type(description="Something a contact did or was sent: a send, open, click or custom event.")
class Activity(DocNode):
    doc: strawberry.Private[Document]
    lookup = repository.find_by_node_ids

    cid = doc_field("cID", str, description="The contact's id.", name="cID", required=True, convert=str)

    action = doc_field(
        "action",
        str,
        description="What happened: a reserved action (open, click, ...) or a custom one.",
        required=True,
        convert=str,
    )

    ats = doc_field("ats", DateTime, description="When it happened (UTC).", required=True)

    @strawberry.field(description="The event's properties (keys that could not be stored were stripped).")
    def properties(self) -> JSON:
        return JSON(self.doc.get("properties") or {})

    mc_id = doc_field(
        "mcID", str | None, description="The message contact id of a message activity.", name="mcID"
    )

    channel = doc_field(
        "channel", str | None, description="The channel it happened on (email, sms, push...)."
    )

    @strawberry.field(description="The Constant Contact tracking type, where one applies.")
    def tracking_type(self) -> TrackingType | None:
        kind = ACTION_TRACKING_TYPES.get(self.doc["action"])
        return TrackingType(kind) if kind else None

    @strawberry.field(
        description="The message (campaign) the activity belongs to, resolved only when selected "
        "(Constant Contact's include_campaign_activity_names)."
    )
    def message(self, info: Info) -> Message | None:
        message_id = self.doc.get("messageId")
        if message_id is None:
            return None
        return info.context.loaders.of(MessageByIdLoader).load_shaped(message_id, _message)

    unsearchable_properties = doc_field(
        "unsearchable",
        list[str],
        description="Property keys whose value is not of the property's recorded type.",
        convert=as_list,
    )

    @strawberry.field(description="The contact, loaded only when selected (batched per request).")
    async def contact(self, info: Info) -> Annotated[Contact, strawberry.lazy("app.contacts.types")] | None:
        from app.contacts.types import contact_by_id

        return await contact_by_id(info, self.doc["cID"])


def _message(doc: Document | None) -> Message | None:
    return Message.from_doc(doc) if doc else None


ActivityConnection = Connection[Activity]

# The stored fields each Activity field reads (projections of activity pages).
ACTIVITY_FIELDS: Stored = {
    "id": ("_id",),
    "cID": ("cID",),
    "action": ("action",),
    "ats": ("ats",),
    "properties": ("properties",),
    "mcID": ("mcID",),
    "channel": ("channel",),
    "trackingType": ("action",),
    "message": ("messageId",),
    "unsearchableProperties": ("unsearchable",),
    "contact": ("cID",),
}
