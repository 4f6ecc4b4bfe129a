"""An account with one contact (msmith) for the activity tests, and keys with and
without the messaging pipeline's activities:system scope."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from bson import ObjectId

from app.auth import ScopeName
from tests.conftest import Api, email_contact


@dataclass
class Keys:
    app: str  # activities:read/write, contacts:read
    system: str  # plus activities:system
    cid: ObjectId


@pytest.fixture
async def keys(api: Api) -> Keys:
    scopes = frozenset({ScopeName.ACTIVITIES_READ, ScopeName.ACTIVITIES_WRITE, ScopeName.CONTACTS_READ})
    app_key = await api.account("acme", scopes, secondary_keys=("custID",))
    system_key = await api.account("acme", scopes | {ScopeName.ACTIVITIES_SYSTEM})
    [cid] = await api.contacts("acme", email_contact("msmith@example.com", attributes={"custID": "ID1234"}))
    return Keys(app_key, system_key, cid)
