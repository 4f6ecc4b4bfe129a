"""The subscription status of a channel, as GraphQL shows it."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry


@strawberry.enum(description="A channel's subscription status (promotional messages need SUBSCRIBED).")
class SubscribeStatus(Enum):
    NONE = "none"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"


def subscribe_status(value: Any) -> SubscribeStatus:
    """A stored status as the enum; anything unknown is NONE."""
    try:
        return SubscribeStatus(value or "none")
    except ValueError:
        return SubscribeStatus.NONE
