"""DateTime output: ISO 8601 in UTC with milliseconds and a Z, whatever zone a value has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import bson.tz_util
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.scalars import format_datetime


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (datetime(2025, 1, 9, 17, 47, 43), "2025-01-09T17:47:43.000Z"),  # naive: taken as UTC
        (datetime(2025, 1, 9, 17, 47, 43, 123456, tzinfo=UTC), "2025-01-09T17:47:43.123Z"),
        (
            datetime(2025, 1, 9, 17, 47, 43, tzinfo=bson.tz_util.utc),
            "2025-01-09T17:47:43.000Z",
        ),  # the driver's
        (datetime(2025, 1, 9, 19, 47, 43, tzinfo=timezone(timedelta(hours=2))), "2025-01-09T17:47:43.000Z"),
        (datetime(2025, 1, 9, 17, 47, 43, tzinfo=timezone(timedelta(0), "GMT")), "2025-01-09T17:47:43.000Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00.000Z"),
        (datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999Z"),
    ],
)
def test_format_datetime(value: datetime, text: str) -> None:
    assert format_datetime(value) == text


ZONES = st.sampled_from(
    [
        None,
        UTC,
        bson.tz_util.utc,
        timezone(timedelta(0), "GMT"),
        timezone(timedelta(hours=5, minutes=30)),
        ZoneInfo("Europe/London"),
    ]
)


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), ZONES)
def test_format_datetime_writes_what_isoformat_would(naive: datetime, zone: timezone | None) -> None:
    # The text orjson writes, cut to milliseconds, is isoformat's of the value in UTC.
    value = naive.replace(tzinfo=zone)
    utc = value.astimezone(UTC) if zone is not None else value.replace(tzinfo=UTC)
    assert format_datetime(value) == utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_a_datetime_subclass_is_formatted_too() -> None:
    class Stamp(datetime):
        pass

    assert format_datetime(Stamp(2025, 1, 9, 17, 47, 43, 5000, tzinfo=UTC)) == "2025-01-09T17:47:43.005Z"
