"""Activity filters: plain ``where`` dicts → MongoDB filters (no accountId: repositories add it)."""

from __future__ import annotations

from typing import Any

from app.contacts.filters import datetime_filter
from app.db import Document
from app.pagination import SortKey

TRACKING_TYPES = {
    "EM_SENDS": "message-sent",
    "EM_OPENS": "open",
    "EM_CLICKS": "click",
    "EM_BOUNCES": "bounce",
    "EM_OPTOUTS": "optout",
    "EM_FORWARDS": "forward",
}
ACTION_TRACKING_TYPES = {action: kind for kind, action in TRACKING_TYPES.items()}


def build_activity_filter(where: dict[str, Any] | None, argument: str = "where") -> Document:
    if not where:
        return {}
    query: Document = {}
    actions: list[str] = []
    if where.get("action") is not None:
        actions.append(str(where["action"]))
    actions.extend(str(a) for a in where.get("actions") or [])
    actions.extend(TRACKING_TYPES[t] for t in where.get("trackingTypes") or [])
    if actions:
        query["action"] = actions[0] if len(actions) == 1 else {"$in": sorted(set(actions))}
    if where.get("ats") is not None:
        query["ats"] = datetime_filter(where["ats"], (argument, "ats"))
    if where.get("mcID") is not None:
        query["mcID"] = str(where["mcID"])
    return query


def activity_sort(direction: str | None) -> SortKey:
    """Newest first unless asked otherwise; ties broken by id."""
    return SortKey("ats", descending=direction != "asc")
