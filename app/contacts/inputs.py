"""GraphQL inputs of contact writes, and their conversion to the use cases' plain values."""

from __future__ import annotations

from typing import Any

import strawberry

from app.scalars import JSON

from .attributes import AttributeChange
from .channels import AddressChannelChange, ChannelChanges, PushTokenChange
from .consent import ConsentSource
from .status import SubscribeStatus
from .writes import ContactWrite


@strawberry.input(description="An email or sms channel: its address, subscribe status, hard-bounce flag.")
class AddressChannelInput:
    address: str | None = None
    subscribe_status: SubscribeStatus | None = strawberry.field(
        default=None, description="Defaults to NONE. UNSUBSCRIBED → SUBSCRIBED needs forceSubscribe."
    )
    invalid: bool | None = strawberry.field(default=None, description="false clears a hard bounce.")

    def to_change(self) -> AddressChannelChange:
        status = self.subscribe_status.value if self.subscribe_status else None
        return AddressChannelChange(self.address, status, self.invalid)


@strawberry.input(description="A push token (added, or updated when the token is known).")
class PushChannelInput:
    token: str
    platform: str | None = None
    subscribe_status: SubscribeStatus | None = None
    invalid: bool | None = None


@strawberry.input
class ChannelsInput:
    email: AddressChannelInput | None = None
    sms: AddressChannelInput | None = None
    push: list[PushChannelInput] | None = None

    def to_changes(self) -> ChannelChanges:
        push = None
        if self.push is not None:
            push = tuple(
                PushTokenChange(
                    p.token, p.platform, p.subscribe_status.value if p.subscribe_status else None, p.invalid
                )
                for p in self.push
            )
        return ChannelChanges(
            email=self.email.to_change() if self.email else None,
            sms=self.sms.to_change() if self.sms else None,
            push=push,
        )


@strawberry.input(
    description="One attribute change: `key` (a geo sub-field as 'location.postal_code') and exactly one "
    "of value (set; arrays are replaced, geo objects merged), inc (numbers, ±), add / remove (arrays), unset."
)
class AttributeValueInput:
    key: str
    value: JSON | None = None
    inc: float | None = None
    add: list[JSON] | None = None
    remove: list[JSON] | None = None
    unset: bool = False

    def to_change(self) -> AttributeChange:
        def items(values: list[Any] | None) -> list[Any] | None:
            return list(values) if values is not None else None

        return AttributeChange(
            self.key, self.value, self.inc, items(self.add), items(self.remove), self.unset
        )


@strawberry.input(description="Add a contact to a list (member: true) or remove it (member: false).")
class ListMembershipInput:
    key: str
    member: bool


@strawberry.input(description="Channels, attribute values and list memberships to write.")
class ContactInput:
    channels: ChannelsInput | None = None
    attributes: list[AttributeValueInput] | None = None
    lists: list[ListMembershipInput] | None = None
    force_subscribe: bool = strawberry.field(
        default=False, description="Required to turn an UNSUBSCRIBED channel back to SUBSCRIBED."
    )
    expected_version: int | None = strawberry.field(
        default=None, description="Updates: refuse the write unless the contact is at this version."
    )

    def to_write(self, source: ConsentSource | None = None) -> ContactWrite:
        return ContactWrite(
            channels=self.channels.to_changes() if self.channels else None,
            attributes=tuple(a.to_change() for a in self.attributes or ()),
            lists=tuple((m.key, m.member) for m in self.lists or ()),
            force_subscribe=self.force_subscribe,
            expected_version=self.expected_version,
            source=source,
        )
