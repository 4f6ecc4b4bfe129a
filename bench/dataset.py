"""The benchmark dataset: account "bench" with 10,000 contacts, 50 activities each, carts and
orders (the demo seed at scale, deterministic). Kept in ``bench/.data`` (embedded database)
or in MONGODB_URI's database ``contactgraph_bench``, and reused by later runs.

Run alone: python -m bench.dataset [--contacts N] [--events-per-contact N]"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from app.account.repository import get_account
from app.db import Database, connect, ensure_indexes
from app.seed import seed_demo
from app.settings import Settings

ACCOUNT = "bench"
DATA = Path(__file__).parent / ".data"
KEY_FILE = DATA / "bench-api-key"
CONTACTS = 10_000
EVENTS_PER_CONTACT = 50


async def ensure(db: Database, contacts: int = CONTACTS, per_contact: int = EVENTS_PER_CONTACT) -> str:
    """The bench account's API key, seeding the dataset first if it is not there."""
    await ensure_indexes(db)
    if await get_account(ACCOUNT, db) is not None and KEY_FILE.exists():
        return KEY_FILE.read_text().strip()
    if await get_account(ACCOUNT, db) is not None:
        raise SystemExit(f"account {ACCOUNT!r} exists but {KEY_FILE} is gone: drop the bench database")
    started = time.perf_counter()
    seeded = await seed_demo(db, ACCOUNT, contacts=contacts, events_per_contact=per_contact, seed=7)
    print(
        f"seeded {seeded.contacts} contacts, {seeded.activities} activities, {seeded.orders} orders "
        f"in {time.perf_counter() - started:.0f} s"
    )
    DATA.mkdir(exist_ok=True)
    KEY_FILE.write_text(seeded.api_key + "\n")
    return seeded.api_key


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=CONTACTS)
    parser.add_argument("--events-per-contact", type=int, default=EVENTS_PER_CONTACT)
    args = parser.parse_args()
    settings = Settings()
    if not settings.mongodb_uri:
        raise SystemExit("set MONGODB_URI (bench.suite starts the embedded database itself)")
    client = connect(settings)
    try:
        await ensure(client["contactgraph_bench"], args.contacts, args.events_per_contact)
    finally:
        await client.close()


if __name__ == "__main__":
    asyncio.run(main())
