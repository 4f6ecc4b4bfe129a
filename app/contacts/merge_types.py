"""GraphQL inputs and payloads of contactMerge and contactMergePreview."""

from __future__ import annotations

from enum import Enum

import strawberry

from app.graphql_errors import Payload

from .merge import MergeRequest, MergeResult
from .types import Contact


@strawberry.enum(
    description="Move the source's items to the destination, or drop them (the reference's merge | ignore)."
)
class MergeItems(Enum):
    MERGE = strawberry.enum_value(
        "merge", description="Move them to the destination (push: keep every token)."
    )
    IGNORE = strawberry.enum_value(
        "ignore", description="Drop the source's (push: keep the destination's only)."
    )


@strawberry.enum(
    description="Which contact's value wins (the reference's sourceContact | destinationContact)."
)
class MergeSide(Enum):
    SOURCE_CONTACT = strawberry.enum_value("sourceContact", description="The source's, where it has one.")
    DESTINATION_CONTACT = strawberry.enum_value(
        "destinationContact", description="The destination's, where it has one."
    )


@strawberry.enum(description="Whose cart the survivor keeps (the reference's cart option values).")
class MergeCart(Enum):
    SOURCE_CONTACT = strawberry.enum_value("sourceContact", description="The source's cart, if it has one.")
    DESTINATION_CONTACT = strawberry.enum_value(
        "destinationContact", description="The destination's cart, if it has one."
    )
    LAST_MODIFIED = strawberry.enum_value("lastModified", description="The cart changed last.")


@strawberry.input(description="What to keep from each contact; every option is required.")
class MergeOptionsInput:
    orders: MergeItems | None = strawberry.field(default=None, description="The source's orders.")
    events: MergeItems | None = strawberry.field(default=None, description="The source's activities.")
    cart: MergeCart | None = strawberry.field(default=None, description="The cart.")
    lists: MergeSide | None = strawberry.field(
        default=None, description="List memberships (that side's exactly)."
    )
    attributes: MergeSide | None = strawberry.field(
        default=None, description="Attribute values (that side wins each key it has; others are kept)."
    )
    supplements: MergeSide | None = strawberry.field(
        default=None, description="Supplements, like attributes."
    )
    email_channels: MergeSide | None = strawberry.field(default=None, description="The email channel.")
    sms_channels: MergeSide | None = strawberry.field(default=None, description="The sms channel.")
    push_channels: MergeItems | None = strawberry.field(default=None, description="Push tokens.")

    def to_options(self) -> dict[str, str | None]:
        """The options as the use case takes them: the reference's values."""
        return {
            name: value.value if value is not None else None
            for name, value in (
                ("orders", self.orders),
                ("events", self.events),
                ("cart", self.cart),
                ("lists", self.lists),
                ("attributes", self.attributes),
                ("supplements", self.supplements),
                ("email_channels", self.email_channels),
                ("sms_channels", self.sms_channels),
                ("push_channels", self.push_channels),
            )
        }


@strawberry.input(
    description="Merge sourceContact into destinationContact (both any ref); the source is deleted."
)
class ContactMergeInput:
    source_contact: str = strawberry.field(
        description="The contact merged away (any ref): deleted by the merge."
    )
    destination_contact: str = strawberry.field(description="The contact that survives (any ref).")
    options: MergeOptionsInput = strawberry.field(
        description="What survives of each side; all nine are required."
    )

    def to_request(self) -> MergeRequest:
        return MergeRequest(self.source_contact, self.destination_contact, self.options.to_options())


@strawberry.type(description="The result of contactMerge (or its preview).")
class ContactMergePayload(Payload):
    contact: Contact | None = strawberry.field(
        default=None, description="The surviving (destination) contact."
    )
    merged_c_id: str | None = strawberry.field(
        default=None, name="mergedCID", description="The merged-away cID."
    )
    activities_moved: int = strawberry.field(
        default=0, description="The source's activities moved to the survivor."
    )
    activities_dropped: int = strawberry.field(
        default=0, description="The source's activities deleted (events: IGNORE)."
    )
    orders_moved: int = strawberry.field(default=0, description="The source's orders moved to the survivor.")
    orders_dropped: int = strawberry.field(
        default=0, description="The source's orders deleted (orders: IGNORE)."
    )

    @classmethod
    def of(cls, result: MergeResult) -> ContactMergePayload:
        return cls(
            contact=Contact.from_doc(result.contact),
            merged_c_id=str(result.merged_cid),
            activities_moved=result.activities_moved,
            activities_dropped=result.activities_dropped,
            orders_moved=result.orders_moved,
            orders_dropped=result.orders_dropped,
        )
