"""Deterministic demo data: the `demo` account, its configuration and realistic contacts
with activities, carts and orders. Same seed, same data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from app.account import repository as account_repository
from app.account.attributes import AttributeDefinition, AttributeType, Validators, create_attribute
from app.account.audiences import create_audience
from app.account.keys import create_api_key
from app.account.lists import create_list
from app.account.setup import create_account
from app.activities import repository as activities_repository
from app.activities.record import register_property_types
from app.activities.retention import RETENTION_MONTHS, add_months, expire_at
from app.auth import ALL_SCOPES
from app.commerce import repository as orders_repository
from app.contacts import repository as contacts_repository
from app.contacts.consent import ConsentSource, consent_changes
from app.db import ACTIVITIES, CONTACTS, ORDERS, Database, Document, indexes_built_after
from app.tenant import Tenant

FIRST = [
    "Mark",
    "Ana",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Mateo",
    "Sofia",
    "Lucas",
    "Mia",
    "Ethan",
    "Aiko",
    "Omar",
    "Zara",
    "Ivan",
    "Chloe",
    "Diego",
    "Priya",
    "Jonas",
    "Leila",
]
LAST = [
    "Smith",
    "Garcia",
    "Nguyen",
    "Johnson",
    "Brown",
    "Kowalski",
    "Rossi",
    "Silva",
    "Kim",
    "Patel",
    "Müller",
    "Dubois",
    "Okafor",
    "Larsen",
    "Cohen",
    "Tanaka",
    "Haddad",
    "Novak",
    "Reyes",
    "Walsh",
]
SEED = ConsentSource("seed")
DOMAINS = ["example.com", "example.org", "mail.example.net", "shop.example.io"]
CITIES = [
    ("San Diego", "CA", "92101", -117.16, 32.72),
    ("Austin", "TX", "73301", -97.74, 30.27),
    ("Portland", "OR", "97201", -122.68, 45.52),
    ("Boston", "MA", "02108", -71.06, 42.36),
    ("Denver", "CO", "80202", -104.99, 39.74),
    ("Chicago", "IL", "60601", -87.63, 41.88),
]
FRUITS = ["apple", "banana", "orange", "strawberry", "mango", "kiwi", "grape", "pear"]
LISTS = {
    "auto-enthusiast": "Auto enthusiasts",
    "safe-driver": "Safe drivers",
    "newsletter": "Newsletter",
    "premium-roadside-assistance": "Premium roadside assistance",
}
PRODUCTS = [
    ("GreenPlaid123123", "Green Plaid", "Shirts", 10.99),
    ("BluePlaid123123", "Blue Plaid", "Shirts", 10.99),
    ("KhakiShirt42", "Khaki Shirt", "Shirts", 24.5),
    ("TrailShoe7", "Trail Shoe", "Shoes", 89.0),
    ("WoolSock3", "Wool Socks", "Socks", 12.0),
]
CAMPAIGNS = ["Spring sale", "Welcome series", "Cart reminder", "Weekly newsletter", "VIP preview"]
ATTRIBUTES = [
    AttributeDefinition("first_name", "First name", AttributeType.STRING),
    AttributeDefinition("last_name", "Last name", AttributeType.STRING),
    AttributeDefinition("age", "Age", AttributeType.NUMBER, validators=Validators(min=0, max=150)),
    AttributeDefinition("points", "Points", AttributeType.NUMBER),
    AttributeDefinition("birthday", "Birthday", AttributeType.DATE),
    AttributeDefinition("location", "Location", AttributeType.GEO),
    AttributeDefinition("fav_fruits", "Favourite fruits", AttributeType.ARRAY, max_items=25),
    AttributeDefinition(
        "gender", "Gender", AttributeType.STRING, validators=Validators(enum=("female", "male", "nonbinary"))
    ),
]


@dataclass(frozen=True, slots=True)
class SeedResult:
    account_id: str
    api_key: str
    contacts: int
    activities: int
    orders: int


async def seed_demo(
    db: Database,
    account_id: str = "demo",
    *,
    contacts: int = 500,
    events_per_contact: int = 10,
    seed: int = 42,
    now: datetime | None = None,
) -> SeedResult:
    """Create the account with its configuration and data; returns a new admin key. Dates
    are relative to ``now`` (default: the start of today, UTC)."""
    rng = random.Random(seed)
    # Ids come from their own generator, seeded with the account too: the same seed in
    # two accounts gives the same data under different (globally unique) ObjectIds.
    ids = random.Random(f"{account_id}:{seed}")
    # Dated back from the day it is seeded (the same data all day): activities stay inside
    # the 18-month retention however long after a release the demo is first started.
    now = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    await create_account(db, account_id, "Demo store", secondary_keys=("custID",))
    tenant = Tenant(account_id, db)
    for definition in ATTRIBUTES:
        await create_attribute(tenant, definition)
    for key, name in LISTS.items():
        await create_list(tenant, key, name)
    await create_audience(
        tenant,
        "subscribed-safe-drivers",
        "Subscribed safe drivers",
        {"emailSubscribeStatus": "subscribed", "inLists": ["safe-driver"]},
    )
    await create_audience(
        tenant,
        "fruit-lovers-over-30",
        "Fruit lovers over 30",
        {"attributes": [{"key": "age", "gt": 30}, {"key": "fav_fruits", "exists": True}]},
    )
    # Message (campaign) ids are ObjectIds: unique across accounts, never a shared key.
    messages = [
        {
            "_id": ObjectId(ids.randbytes(12)),
            "name": name,
            "channel": "email",
            "sentAt": now - timedelta(days=90 - 15 * i),
        }
        for i, name in enumerate(CAMPAIGNS)
    ]
    await activities_repository.insert_messages(tenant, messages)
    totals = [0, 0]
    async with indexes_built_after(db, [CONTACTS, ACTIVITIES, ORDERS]):
        await _load(tenant, rng, ids, messages, contacts, events_per_contact, now, totals)
    key, _ = await create_api_key(tenant, "demo admin key", ALL_SCOPES)
    return SeedResult(account_id, key, contacts, totals[0], totals[1])


async def _load(
    tenant: Tenant,
    rng: random.Random,
    ids: random.Random,
    messages: list[Document],
    contacts: int,
    events_per_contact: int,
    now: datetime,
    totals: list[int],
) -> None:
    """Contacts with their activities and orders, a thousand contacts per round of bulk inserts."""
    for start in range(0, contacts, 1000):
        batch = [_contact(rng, ids, i, now) for i in range(start, min(contacts, start + 1000))]
        await contacts_repository.insert_many(tenant, batch)
        activities: list[Document] = []
        orders: list[Document] = []
        for contact in batch:
            activities.extend(_activities(rng, contact, messages, events_per_contact, now))
            orders.extend(_orders(rng, contact, now))
        await register_property_types(tenant, activities)
        for i in range(0, len(activities), 10_000):
            await activities_repository.insert_many(tenant, activities[i : i + 10_000])
        await orders_repository.insert_many(tenant, orders)
        totals[0] += len(activities)
        totals[1] += len(orders)


async def is_seeded(db: Database, account_id: str = "demo") -> bool:
    return await account_repository.get_account(Tenant(account_id, db)) is not None


def _contact(rng: random.Random, ids: random.Random, i: int, now: datetime) -> Document:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, state, postal, lon, lat = rng.choice(CITIES)
    created = now - timedelta(days=rng.uniform(1, 720))
    modified = created + (now - created) * rng.random()
    status = rng.choices(["subscribed", "none", "unsubscribed"], weights=[70, 20, 10])[0]
    email: Document = {
        "address": f"{first}.{last}{i}@{rng.choice(DOMAINS)}".lower(),
        "subscribeStatus": status,
        "invalid": rng.random() < 0.02,
    }
    if status != "none":
        email["subscribedAt"] = created
    if status == "unsubscribed":
        email["unsubscribedAt"] = modified
    channels: Document = {"email": email}
    if rng.random() < 0.3:
        channels["sms"] = {"address": f"1619{i:07d}", "subscribeStatus": "subscribed", "invalid": False}
    doc: Document = {
        "_id": ObjectId(ObjectId.from_datetime(created).binary[:4] + ids.randbytes(8)),
        "channels": channels,
        "attributes": {
            "custID": f"C{100000 + i}",
            "first_name": first,
            "last_name": last,
            "age": rng.randint(18, 80),
            "points": rng.randint(0, 1000),
            "birthday": datetime(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28), tzinfo=UTC),
            "location": {
                "city": city,
                "state": state,
                "postal_code": postal,
                "country": "US",
                "tz": "America/Los_Angeles",
                "loc": {"lat": lat, "lon": lon},
            },
            "gender": rng.choice(["female", "male", "nonbinary"]),
        },
        "lists": sorted(k for k in LISTS if rng.random() < 0.35),
        "supplements": {},
        "createdAt": created,
        "lastModified": modified,
        "version": 1,
    }
    # The consent history the API would have written: the channels as created, then the
    # unsubscribe of an unsubscribed contact.
    first_state = {**email, "subscribeStatus": "subscribed"} if status == "unsubscribed" else email
    created_doc = {"channels": {**channels, "email": first_state}}
    history = consent_changes(None, created_doc, SEED, created)
    if status == "unsubscribed":
        history += consent_changes(created_doc, doc, SEED, modified)
    for entry in history:  # ids from the seed's generator: the same seed, the same data
        entry["_id"] = ObjectId(ObjectId.from_datetime(entry["at"]).binary[:4] + ids.randbytes(8))
    doc["consentHistory"] = history
    fruits = rng.sample(FRUITS, rng.randint(0, 4))
    if fruits:
        doc["attributes"]["fav_fruits"] = fruits
    if rng.random() < 0.2:
        items = [_line_item(rng, p) for p in rng.sample(PRODUCTS, rng.randint(1, 3))]
        doc["cart"] = {
            "customerID": doc["attributes"]["custID"],
            "url": "https://shop.example.com/cart",
            "items": items,
            "lastModified": modified,
        }
    return doc


def _line_item(rng: random.Random, product: tuple[str, str, str, float]) -> Document:
    pid, name, category, price = product
    qty = rng.randint(1, 3)
    return {
        "productID": pid,
        "sku": f"SKU-{pid[-6:]}",
        "category": category,
        "name": name,
        "qty": qty,
        "itemPrice": price,
        "amount": round(qty * price, 2),
        "url": f"https://shop.example.com/p/{pid}",
        "images": [f"{pid}.jpg"],
    }


def _activities(
    rng: random.Random, contact: Document, messages: list[Document], n: int, now: datetime
) -> list[Document]:
    out: list[Document] = []
    cid: ObjectId = contact["_id"]
    created: datetime = contact["createdAt"]

    def add(action: str, ats: datetime, **extra: Any) -> None:
        out.append(
            {
                "cID": cid,
                "action": action,
                "ats": ats,
                "expireAt": expire_at(ats),
                "properties": extra.pop("properties", {}),
                **extra,
            }
        )

    # Only inside retention: an older activity would be deleted (TTL) as soon as it is stored.
    oldest = max(created, add_months(now, -RETENTION_MONTHS) + timedelta(days=1))
    while len(out) < n:
        ats = oldest + (now - oldest) * rng.random()
        if rng.random() < 0.6:
            message = rng.choice(messages)
            mc_id = f"{rng.randint(100, 999)}:{message['_id']}:ot:{cid}:1"
            base = {"mcID": mc_id, "messageId": message["_id"], "channel": "email"}
            add("message-sent", ats, **base)
            if rng.random() < 0.45 and len(out) < n:
                add("open", ats + timedelta(minutes=rng.uniform(1, 600)), **base)
                if rng.random() < 0.35 and len(out) < n:
                    add(
                        "click",
                        ats + timedelta(minutes=rng.uniform(601, 900)),
                        properties={"url": "https://shop.example.com/sale"},
                        **base,
                    )
        else:
            pid, name, category, price = rng.choice(PRODUCTS)
            action = rng.choices(["browse", "cart", "order"], weights=[70, 20, 10])[0]
            properties: Document = {"productID": pid, "title": name, "category": category, "price": price}
            if action == "browse":
                properties["url"] = f"https://shop.example.com/p/{pid}"
            else:
                properties["qty"] = rng.randint(1, 3)
            add(action, ats, properties=properties)
    return out[:n]


def _orders(rng: random.Random, contact: Document, now: datetime) -> list[Document]:
    orders = []
    for k in range(rng.choices([0, 1, 2, 3], weights=[60, 25, 10, 5])[0]):
        items = [_line_item(rng, p) for p in rng.sample(PRODUCTS, rng.randint(1, 3))]
        created: datetime = contact["createdAt"]
        location = contact["attributes"]["location"]
        orders.append(
            {
                "cID": contact["_id"],
                "orderID": f"ORD-{contact['attributes']['custID']}-{k + 1}",
                "purchaseDate": created + (now - created) * rng.random(),
                "status": rng.choice(["placed", "shipped", "delivered"]),
                "items": items,
                "totalAmount": round(sum(i["amount"] for i in items), 2),
                "shippingAddress": {
                    "name": f"{contact['attributes']['first_name']} {contact['attributes']['last_name']}",
                    "address": f"{rng.randint(1, 999)} Main St",
                    "city": location["city"],
                    "state": location["state"],
                    "postalCode": location["postal_code"],
                    "country": "US",
                },
                "properties": {},
            }
        )
    return orders
