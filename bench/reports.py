"""Activity report over 100,000 activities: time and peak memory of computing it (job) and
of downloading its CSVs (streamed). Run: make bench-report (or python -m bench.reports).

It starts its own embedded database (or uses MONGODB_URI), seeds a throwaway account with
10,000 contacts x 11 activities (a few expire at once: 18-month retention), runs the
report job in-process and downloads both CSVs from uvicorn over HTTP, chunk by chunk."""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
from starlette.applications import Starlette

from app.db import connect, ensure_indexes
from app.embedded import EmbeddedMongo
from app.jobs.handlers import HANDLERS
from app.jobs.reports import ReportRequest, create_report
from app.jobs.runner import JobRunner
from app.main import create_app
from app.seed import seed_demo
from app.settings import Settings
from app.tenant import Tenant

RESULTS = Path(__file__).parent / "results"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[str]:
    """uvicorn in this event loop on a free port: downloads go over real HTTP, chunk by chunk
    (httpx's in-process ASGI transport would buffer whole responses)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def measure(settings: Settings, contacts: int, per_contact: int) -> dict[str, Any]:
    client = connect(settings)
    db = client[settings.mongodb_db]
    await ensure_indexes(db)
    started = time.perf_counter()
    seeded = await seed_demo(db, "bench", contacts=contacts, events_per_contact=per_contact)
    seed_s = time.perf_counter() - started
    activity_count = await db["activities"].count_documents({"accountId": "bench"})
    fields = ["id", "email", "ocx_status", "sent", "opens", "clicks", "last_sent_date", "last_open_date",
              "last_click_date", "avg_open_time", "avg_click_time", "first_name", "age"]  # fmt: skip
    request = ReportRequest("bench", False, [], "all", None, None, fields, include_behavior=True)
    report, _ = await create_report(Tenant("bench", db), request)
    runner = JobRunner(db, HANDLERS, lease=timedelta(minutes=5))

    tracemalloc.start()
    rss_before = rss_mb()
    started = time.perf_counter()
    await runner.run_once()
    job_s = time.perf_counter() - started
    _, job_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    stored = await db["activityReports"].find_one({"_id": report["_id"]})
    assert stored is not None
    assert stored["status"] == "COMPLETED", stored

    sizes: dict[str, int] = {}
    started = time.perf_counter()
    async with served(create_app(settings)) as base, httpx.AsyncClient(base_url=base, timeout=120) as http:
        headers = {"Authorization": f"Bearer {seeded.api_key}"}
        for which in ("aggregated", "detailed"):
            size = 0
            url = f"/downloads/reports/{report['_id']}/{which}.csv"
            async with http.stream("GET", url, headers=headers) as response:
                assert response.status_code == 200
                async for chunk in response.aiter_raw():
                    size += len(chunk)
            sizes[which] = size
    download_s = time.perf_counter() - started
    _, download_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await client.drop_database(settings.mongodb_db)
    await client.close()
    return {
        "contacts": contacts,
        "activities": activity_count,
        "seed_s": round(seed_s, 2),
        "report_job_s": round(job_s, 2),
        "report_rows": stored["rowCount"],
        "detailed_rows": stored["detailedRowCount"],
        "job_peak_python_mb": round(job_peak / 2**20, 2),
        "download_s": round(download_s, 2),
        "download_peak_python_mb": round(download_peak / 2**20, 2),
        "csv_mb": {k: round(v / 2**20, 2) for k, v in sizes.items()},
        "process_max_rss_mb": round(max(rss_mb(), rss_before), 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--events-per-contact", type=int, default=11)
    args = parser.parse_args()
    base = Settings(CONTACTGRAPH_RUN_JOBS=False)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    if base.mongodb_uri:
        result = await measure(
            base.model_copy(update={"mongodb_db": name}), args.contacts, args.events_per_contact
        )
    else:
        with EmbeddedMongo(None) as server:
            settings = base.model_copy(update={"mongodb_uri": server.uri, "mongodb_db": name})
            result = await measure(settings, args.contacts, args.events_per_contact)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "reports.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    width = max(len(k) for k in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
