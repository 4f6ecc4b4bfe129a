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
    address: str | None = strawberry.field(default=None, description="The email address or phone number.")
    subscribe_status: SubscribeStatus | None = strawberry.field(
        default=None, description="Defaults to NONE. UNSUBSCRIBED → SUBSCRIBED needs forceSubscribe."
    )
    invalid: bool | None = strawberry.field(default=None, description="false clears a hard bounce.")

    def to_change(self) -> AddressChannelChange:
        status = self.subscribe_status.value if self.subscribe_status else None
        return AddressChannelChange(self.address, status, self.invalid)


@strawberry.input(description="A push token (added, or updated when the token is known).")
class PushChannelInput:
    token: str = strawberry.field(description="The push token (adds it, or changes it when present).")
    platform: str | None = strawberry.field(default=None, description="ios, android, web...")
    subscribe_status: SubscribeStatus | None = strawberry.field(default=None, description="Defaults to NONE.")
    invalid: bool | None = strawberry.field(default=None, description="false clears a rejected token.")


@strawberry.input(description="Changes to a contact's channels; a channel left out is unchanged.")
class ChannelsInput:
    email: AddressChannelInput | None = strawberry.field(default=None, description="The email channel.")
    sms: AddressChannelInput | None = strawberry.field(default=None, description="The sms channel.")
    push: list[PushChannelInput] | None = strawberry.field(
        default=None, description="Push tokens to add or change (by token)."
    )

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
    key: str = strawberry.field(description="The attribute key ('location.city' for a geo sub-field).")
    value: JSON | None = strawberry.field(default=None, description="Set this value.")
    inc: float | None = strawberry.field(
        default=None, description="NUMBER: add this (negative to decrement)."
    )
    add: list[JSON] | None = strawberry.field(default=None, description="ARRAY: add these items.")
    remove: list[JSON] | None = strawberry.field(default=None, description="ARRAY: remove these items.")
    unset: bool = strawberry.field(default=False, description="Remove the value.")

    def to_change(self) -> AttributeChange:
        def items(values: list[Any] | None) -> list[Any] | None:
            return list(values) if values is not None else None

        return AttributeChange(
            self.key, self.value, self.inc, items(self.add), items(self.remove), self.unset
        )


@strawberry.input(description="Add a contact to a list (member: true) or remove it (member: false).")
class ListMembershipInput:
    key: str = strawberry.field(description="The list's key.")
    member: bool = strawberry.field(description="true adds the contact to the list, false removes it.")


@strawberry.input(description="Channels, attribute values and list memberships to write.")
class ContactInput:
    channels: ChannelsInput | None = strawberry.field(default=None, description="Channel changes.")
    attributes: list[AttributeValueInput] | None = strawberry.field(
        default=None, description="Attribute operations, applied in order."
    )
    lists: list[ListMembershipInput] | None = strawberry.field(
        default=None, description="List memberships to set."
    )
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
