"""Contact conditions on activities ("clicked in the last 30 days"), resolved inside the
database: a ``$lookup`` into the contact's activities, limited to what the condition needs,
so that no contact list is ever loaded into Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.activities.filters import build_activity_filter
from app.db import ACTIVITIES, CONTACTS, Document
from app.errors import DomainError, ErrorCode

from .filters import ActivityRequirement

MAX_MIN_COUNT = 1000
MAX_WITHIN_DAYS = 3650
_FIELD = "__activity"


@dataclass(frozen=True, slots=True)
class ActivityCondition:
    match: Document  # activity filter, without accountId and cID
    min_count: int
    exists: bool


def activity_condition(
    requirement: ActivityRequirement | None, argument: str = "where"
) -> ActivityCondition | None:
    """The validated ``activity`` part of a contact filter, if any."""
    if requirement is None:
        return None
    path = (argument, "activity")
    min_count = requirement.min_count
    if not 1 <= min_count <= MAX_MIN_COUNT:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR, f"minCount must be 1-{MAX_MIN_COUNT}", (*path, "minCount")
        )
    exists = requirement.exists
    if not exists and min_count != 1:
        raise DomainError.one(
            ErrorCode.VALIDATION_ERROR,
            "exists: false means no such activity; leave minCount out",
            (*path, "minCount"),
        )
    match = build_activity_filter(requirement.match, argument=f"{argument}.activity")
    days = requirement.within_days
    if days is not None:
        if not 1 <= days <= MAX_WITHIN_DAYS:
            raise DomainError.one(
                ErrorCode.VALIDATION_ERROR, f"withinDays must be 1-{MAX_WITHIN_DAYS}", (*path, "withinDays")
            )
        since = datetime.now(UTC) - timedelta(days=days)
        ats = dict(match.get("ats") or {})
        ats["$gte"] = max(ats.get("$gte", since), since)
        match["ats"] = ats
    return ActivityCondition(match, min_count, exists)


@dataclass(frozen=True, slots=True)
class ContactPipeline:
    """An aggregation yielding whole contact documents: run on ``collection`` with
    ``stages``, then sort/page/count. It names no account: run through a tenant's
    collection, its first ``$match`` and every ``$lookup`` are kept inside the account
    (``AccountCollection.pipeline``)."""

    collection: str
    stages: list[Document]


def contact_pipeline(contact_match: Document, conditions: list[ActivityCondition]) -> ContactPipeline:
    """The contacts matching ``contact_match`` and every condition, in time that grows with
    the matching activities, not with contacts x activities.

    With a condition that asks for activities (``exists``), the activities it matches drive:
    they are found through an index (``(accountId, action, ats)`` or ``(accountId, ats)``),
    counted per contact, and only those contacts are read (by ``_id``). The other conditions,
    and every condition when all ask for the absence of activities, are ``$lookup``s on
    ``cID`` limited to what the condition needs. (A pipeline ``$lookup`` correlated by
    ``$expr`` instead ran its match over every activity for every contact on the embedded
    engine: 23 s for the 500-contact demo.)"""
    drivers = [c for c in conditions if c.exists]
    if not drivers:
        return ContactPipeline(CONTACTS, [{"$match": contact_match}, *_lookups(conditions)])
    driver, others = drivers[0], [c for c in conditions if c is not drivers[0]]
    stages: list[Document] = [
        {"$match": driver.match},
        {"$group": {"_id": "$cID", "n": {"$sum": 1}}},
    ]
    if driver.min_count > 1:
        stages.append({"$match": {"n": {"$gte": driver.min_count}}})
    stages += [
        {"$lookup": {"from": CONTACTS, "localField": "_id", "foreignField": "_id", "as": _FIELD}},
        {"$unwind": f"${_FIELD}"},
        {"$replaceRoot": {"newRoot": f"${_FIELD}"}},
        {"$match": contact_match},
        *_lookups(others),
    ]
    return ContactPipeline(ACTIVITIES, stages)


def _lookups(conditions: list[ActivityCondition]) -> list[Document]:
    """Stages keeping the contacts that meet every condition, one ``$lookup`` each."""
    stages: list[Document] = []
    for i, condition in enumerate(conditions):
        field = f"{_FIELD}{i}"
        stages.append(
            {
                "$lookup": {
                    "from": ACTIVITIES,
                    "localField": "_id",
                    "foreignField": "cID",
                    "pipeline": [
                        {"$match": condition.match},
                        {"$limit": condition.min_count},
                        {"$project": {"_id": 1}},
                    ],
                    "as": field,
                }
            }
        )
        if condition.exists:
            stages.append({"$match": {f"{field}.{condition.min_count - 1}": {"$exists": True}}})
        else:
            stages.append({"$match": {field: {"$size": 0}}})
        stages.append({"$project": {field: 0}})
    return stages
