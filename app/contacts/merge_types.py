"""GraphQL inputs and payloads of contactMerge and contactMergePreview."""

from __future__ import annotations

import strawberry

from app.errors import UserError

from .merge import MergeResult
from .types import Contact

_SIDE = "sourceContact | destinationContact"


@strawberry.input(
    description="What to keep from each contact; every option is required, with the reference's values."
)
class MergeOptionsInput:
    orders: str | None = strawberry.field(default=None, description="merge | ignore")
    events: str | None = strawberry.field(default=None, description="merge | ignore")
    cart: str | None = strawberry.field(default=None, description=f"{_SIDE} | lastModified")
    lists: str | None = strawberry.field(default=None, description=_SIDE)
    attributes: str | None = strawberry.field(default=None, description=_SIDE)
    supplements: str | None = strawberry.field(default=None, description=_SIDE)
    email_channels: str | None = strawberry.field(default=None, description=_SIDE)
    sms_channels: str | None = strawberry.field(default=None, description=_SIDE)
    push_channels: str | None = strawberry.field(default=None, description="merge | ignore")

    def to_options(self) -> dict[str, str | None]:
        return {
            "orders": self.orders,
            "events": self.events,
            "cart": self.cart,
            "lists": self.lists,
            "attributes": self.attributes,
            "supplements": self.supplements,
            "email_channels": self.email_channels,
            "sms_channels": self.sms_channels,
            "push_channels": self.push_channels,
        }


@strawberry.input(
    description="Merge sourceContact into destinationContact (both any ref); the source is deleted."
)
class ContactMergeInput:
    source_contact: str
    destination_contact: str
    options: MergeOptionsInput


@strawberry.type
class ContactMergePayload:
    contact: Contact | None = strawberry.field(
        default=None, description="The surviving (destination) contact."
    )
    merged_c_id: str | None = strawberry.field(
        default=None, name="mergedCID", description="The merged-away cID."
    )
    activities_moved: int = 0
    activities_dropped: int = 0
    orders_moved: int = 0
    orders_dropped: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)

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
