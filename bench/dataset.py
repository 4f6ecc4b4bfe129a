"""The benchmark dataset: account "bench" with 10,000 contacts, 50 activities each, carts and
orders (the demo seed at scale, deterministic). Kept in ``bench/.data/db-N`` (embedded
database, N contacts) or in MONGODB_URI's database ``contactgraph_bench_N``, and reused by
later runs."""

from __future__ import annotations

import time
from pathlib import Path

from app.account.repository import get_account
from app.db import Database, ensure_indexes
from app.seed import seed_demo
from app.tenant import Tenant

ACCOUNT = "bench"
DATA = Path(__file__).parent / ".data"
CONTACTS = 10_000
EVENTS_PER_CONTACT = 50


async def ensure(db: Database, contacts: int = CONTACTS, per_contact: int = EVENTS_PER_CONTACT) -> str:
    """The bench account's API key, seeding the dataset first if it is not there."""
    key_file = DATA / f"bench-api-key-{db.name}"
    await ensure_indexes(db)
    if (
        await get_account(
            Tenant(ACCOUNT, db),
        )
        is not None
        and key_file.exists()
    ):
        return key_file.read_text().strip()
    if (
        await get_account(
            Tenant(ACCOUNT, db),
        )
        is not None
    ):
        raise SystemExit(f"account {ACCOUNT!r} exists but {key_file} is gone: drop the bench database")
    started = time.perf_counter()
    seeded = await seed_demo(db, ACCOUNT, contacts=contacts, events_per_contact=per_contact, seed=7)
    print(
        f"seeded {seeded.contacts} contacts, {seeded.activities} activities, {seeded.orders} orders "
        f"in {time.perf_counter() - started:.0f} s"
    )
    DATA.mkdir(exist_ok=True)
    key_file.write_text(seeded.api_key + "\n")
    return seeded.api_key
