"""Filters reach the use cases as typed objects (``to_filter()`` on each GraphQL where
input); a stored rule written as a dict (an audience's rule, its ``activity`` included)
builds the very same MongoDB filter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.account.attributes import AttributeDefinition, AttributeType
from app.activities.filters import ActivityFilter, build_activity_filter
from app.activities.types import ActivityWhere, PropertyFilter, TrackingType
from app.commerce.inputs import OrderWhere
from app.commerce.orders import OrderFilter
from app.contacts.activity_conditions import activity_condition
from app.contacts.filters import ContactFilter, build_contact_filter
from app.contacts.status import SubscribeStatus
from app.contacts.types import ActivityConditionInput, AttributeFilter, ContactWhere
from app.errors import DomainError
from app.inputs import DateTimeFilter, DateTimeRange, plain
from app.jobs.inputs import JobWhere
from app.jobs.listing import JobFilter
from app.jobs.types import JobKind, JobState
from app.query import TimeRange
from app.scalars import JSON, DateTime

START, END = DateTime(datetime(2026, 1, 1, tzinfo=UTC)), DateTime(datetime(2026, 2, 1, tzinfo=UTC))


def test_a_time_filters_between_is_inclusive_and_wins_over_gte_and_lte() -> None:
    bounds = DateTimeFilter(gte=END, lt=END, between=DateTimeRange(start=START, end=END)).to_filter()
    assert bounds == TimeRange(lt=END, lte=END, gte=START)
    assert bounds.condition() == {"$lt": END, "$lte": END, "$gte": START}


def test_an_activity_where_and_the_same_rule_as_a_dict_build_one_filter() -> None:
    where = ActivityWhere(
        action="open",
        actions=["click"],
        tracking_types=[TrackingType.EM_SENDS],
        ats=DateTimeFilter(gte=START),
        mc_id="1:abc:ot",
        properties=[
            PropertyFilter(key="page", eq=JSON("home")),
            PropertyFilter(key="n", in_=[JSON(1), JSON(2)]),
        ],
        contact="a@example.com",
    )
    typed = where.to_filter()
    assert typed.contact == "a@example.com"
    assert typed.actions == ("open", "click")
    assert typed.tracking_types == ("EM_SENDS",)
    query = build_activity_filter(typed)
    assert query == build_activity_filter(ActivityFilter.from_dict(plain(where), "where"))
    assert query["action"] == {"$in": ["click", "message-sent", "open"]}
    assert query["ats"] == {"$gte": START}
    assert query["properties.page"] == {"$eq": "home"}
    assert query["properties.n"] == {"$in": [1, 2]}


def test_orders_and_jobs_get_their_typed_filters() -> None:
    where = OrderWhere(contact="a@example.com", order_id="O1", purchase_date=DateTimeFilter(lt=END))
    assert where.to_filter() == OrderFilter("a@example.com", "O1", None, TimeRange(lt=END))
    jobs = JobWhere(kind=JobKind.CONTACTS_IMPORT, state=JobState.COMPLETED).to_filter()
    assert jobs == JobFilter(JobKind.CONTACTS_IMPORT.value, "COMPLETED")
    assert jobs.query() == {"kind": JobKind.CONTACTS_IMPORT.value, "state": "COMPLETED"}
    assert JobWhere().to_filter().query() == {}


DEFINITIONS = {"age": AttributeDefinition("age", "Age", AttributeType.NUMBER)}


def test_a_contact_where_and_the_same_rule_as_a_dict_build_one_filter() -> None:
    where = ContactWhere(
        attributes=[AttributeFilter(key="age", gte=JSON(18), in_=[JSON(18), JSON(21)])],
        in_lists=["vip"],
        not_in_lists=["staff"],
        email_subscribe_status=SubscribeStatus.SUBSCRIBED,
        email_address=" A@Example.com ",
        created_at=DateTimeFilter(gte=START),
        last_modified=DateTimeFilter(lt=END),
        activity=ActivityConditionInput(action="click", within_days=30, min_count=2),
    )
    typed = where.to_filter()
    assert typed.email_subscribe_status == "subscribed"
    assert typed.created_at == TimeRange(gte=START)
    assert typed.activity is not None
    assert typed.activity.match.actions == ("click",)
    stored = ContactFilter.from_dict(plain(where), "where")
    query = build_contact_filter(typed, DEFINITIONS, {"vip", "staff"})
    assert query == build_contact_filter(stored, DEFINITIONS, {"vip", "staff"})
    assert query["attributes.age"] == {"$gte": 18, "$in": [18, 21]}
    assert query["channels.email.address"] == "a@example.com"
    assert query["createdAt"] == {"$gte": START}
    assert query["lastModified"] == {"$lt": END}
    condition = activity_condition(typed.activity)
    assert condition is not None
    assert condition.min_count == 2
    assert condition.match["action"] == "click"
    assert activity_condition(stored.activity) is not None
    assert build_contact_filter(ContactWhere().to_filter(), DEFINITIONS, set()) == {}


def test_a_contact_filters_problems_are_all_reported_under_its_argument() -> None:
    bad = ContactFilter.from_dict(
        {"attributes": [{"key": "height", "eq": 1}], "inLists": ["nope"], "emailSubscribeStatus": "maybe"},
        "audience",
    )
    with pytest.raises(DomainError) as caught:
        build_contact_filter(bad, DEFINITIONS, set(), argument="audience")
    paths = [p.field for p in caught.value.problems]
    assert paths == [
        ("audience", "attributes", "0", "key"),
        ("audience", "inLists"),
        ("audience", "emailSubscribeStatus"),
    ]
