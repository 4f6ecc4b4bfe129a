from __future__ import annotations

from datetime import timedelta

import pytest

from app.jobs.handlers import HANDLERS
from app.jobs.runner import JobRunner
from tests.conftest import Api
from tests.contacts.conftest import key

__all__ = ["key", "runner"]


@pytest.fixture
def runner(api: Api) -> JobRunner:
    return JobRunner(api.db, HANDLERS, lease=timedelta(seconds=30), owner="test-worker")
