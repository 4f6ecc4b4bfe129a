"""Activities expire 18 months after they happened (a TTL index on ``expireAt``)."""

from __future__ import annotations

import calendar
from datetime import datetime

RETENTION_MONTHS = 18


def add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expire_at(ats: datetime) -> datetime:
    return add_months(ats, RETENTION_MONTHS)
