"""A separate `contactgraph worker` process takes jobs; jobUpdated streams a job to its end."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from app.db import JOBS
from app.settings import Settings
from tests.conftest import Api
from tests.live import graphql_ws, live_server

ROOT = Path(__file__).parent.parent.parent
IMPORT = 'mutation { contactsImport(input: {contacts: [{channels: {email: {address: "w@example.com"}}}]}) { job { id } } }'


async def test_a_worker_process_takes_the_job(api: Api, key: str, settings: Settings) -> None:
    job_id = (await api.ok(IMPORT, key=key))["contactsImport"]["job"]["id"]
    env = {**os.environ, "MONGODB_URI": str(settings.mongodb_uri), "MONGODB_DB": settings.mongodb_db}
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app.cli",
        "worker",
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            state = (await api.db[JOBS].find_one({}) or {}).get("state")
            if state == "COMPLETED":
                break
            await asyncio.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        raw, _ = await asyncio.wait_for(worker.communicate(), 30)
        output = raw.decode()

    done = await api.ok(
        "query($id: ID!) { job(id: $id) { state counts { personCount } } }", {"id": job_id}, key=key
    )
    assert done["job"] == {"state": "COMPLETED", "counts": {"personCount": 1}}
    assert worker.returncode == 0, output
    assert "is taking jobs" in output


async def test_job_updated_streams_the_job_until_it_finishes(api: Api, key: str, settings: Settings) -> None:
    job_id = (await api.ok(IMPORT, key=key))["contactsImport"]["job"]["id"]

    async with (
        live_server(settings.model_copy(update={"run_jobs": True})) as base,
        graphql_ws(base, payload={"Authorization": f"Bearer {key}"}) as ws,
    ):
        assert (await ws.receive())["type"] == "connection_ack"
        await ws.subscribe(
            "j", "subscription($id: ID!) { jobUpdated(id: $id) { state percentDone } }", {"id": job_id}
        )
        states = []
        while True:
            message = await ws.receive(timeout=20)
            if message["type"] == "complete":
                break
            states.append(message["payload"]["data"]["jobUpdated"]["state"])

    assert states[-1] == "COMPLETED"
    assert states[0] in ("INITIALIZED", "PROCESSING", "COMPLETED")
