"""DateTime output: ISO 8601 in UTC with milliseconds and a Z, whatever zone a value has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import bson.tz_util
import pytest

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
