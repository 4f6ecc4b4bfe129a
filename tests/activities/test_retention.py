"""Retention: an activity expires 18 months after it happened (TTL index on expireAt)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pymongo.errors import OperationFailure

from app.activities.retention import add_months, expire_at
from app.db import ACTIVITIES
from tests.activities.conftest import Keys
from tests.conftest import Api


def test_expiry_is_ats_plus_18_months_clamped_to_month_ends() -> None:
    assert expire_at(datetime(2025, 1, 9, 17, 47, 43, tzinfo=UTC)) == datetime(
        2026, 7, 9, 17, 47, 43, tzinfo=UTC
    )
    assert expire_at(datetime(2024, 8, 31, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2023, 12, 15, tzinfo=UTC), 1) == datetime(2024, 1, 15, tzinfo=UTC)


async def test_activities_older_than_18_months_disappear(api: Api, keys: Keys) -> None:
    """The server's own TTL monitor removes them: SecantusDB runs a pass on request
    (secantusAdmin.pruneTtl); a real mongod is asked to sweep every second."""
    record = """mutation($ats: DateTime!, $action: String!) { eventRecord(input:
      {contact: "msmith@example.com", action: $action, ats: $ats}) { activity { id } userErrors { code } } }"""
    now = datetime.now(UTC)
    await api.ok(record, {"ats": add_months(now, -19).isoformat(), "action": "ancient"}, key=keys.app)
    await api.ok(record, {"ats": add_months(now, -17).isoformat(), "action": "recent"}, key=keys.app)
    stored = await api.db[ACTIVITIES].find_one({"action": "ancient"})
    assert stored is not None
    assert stored["expireAt"] < now

    await sweep_ttl_indexes(api)

    for _ in range(150):  # up to 75 s
        if await api.db[ACTIVITIES].count_documents({"action": "ancient"}) == 0:
            break
        await asyncio.sleep(0.5)

    assert await api.db[ACTIVITIES].count_documents({"action": "ancient"}) == 0
    assert await api.db[ACTIVITIES].count_documents({"action": "recent"}) == 1


async def sweep_ttl_indexes(api: Api) -> None:
    admin = api.db.client.admin
    try:
        await admin.command({"secantusAdmin.pruneTtl": 1})
    except OperationFailure:
        await admin.command({"setParameter": 1, "ttlMonitorSleepSecs": 1})
