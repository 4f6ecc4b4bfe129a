"""The account the contact-write tests share: the reference document's attributes and lists."""

from __future__ import annotations

import pytest

from app.account.attributes import AttributeDefinition, AttributeType, Validators, create_attribute
from app.account.lists import create_list
from app.tenant import Tenant
from tests.conftest import Api

ATTRIBUTES = [
    AttributeDefinition("first_name", "First name", AttributeType.STRING),
    AttributeDefinition("last_name", "Last name", AttributeType.STRING),
    AttributeDefinition("age", "Age", AttributeType.NUMBER, validators=Validators(min=0, max=150)),
    AttributeDefinition("points", "Points", AttributeType.NUMBER),
    AttributeDefinition("birthday", "Birthday", AttributeType.DATE),
    AttributeDefinition("location", "Location", AttributeType.GEO),
    AttributeDefinition("fav_fruits", "Favourite fruits", AttributeType.ARRAY),
    AttributeDefinition("tags", "Tags", AttributeType.ARRAY, max_items=3),
]
LISTS = ["auto-enthusiast", "safe-driver", "premium-roadside-assistance"]

CONTACT_FIELDS = """cID email version lastModified lists attributes
  channels { email { address subscribeStatus invalid subscribedAt unsubscribedAt unsubscribeMcID }
             sms { address subscribeStatus } push { token platform subscribeStatus } }"""
ERRORS = "userErrors { field message code }"


@pytest.fixture
async def key(api: Api) -> str:
    key = await api.account("acme", secondary_keys=("custID",))
    for definition in ATTRIBUTES:
        await create_attribute(Tenant("acme", api.db), definition)
    for list_key in LISTS:
        await create_list(Tenant("acme", api.db), list_key, None)
    return key
