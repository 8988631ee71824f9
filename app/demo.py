"""``qubicle-reports demo``: a CouchDB, one seeded account, the API, and a curl that works."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import orjson

from app.config import Settings
from app.couch import Couch
from app.couch_server import couchdb
from app.http import serve
from app.installer import Installer, month_dbs, warm

DEMO_DAYS = 45
DEMO_TOKEN = "demo-token"  # loopback demo only
DEMO_CALLS_PER_DAY = 120


async def _prepare(url: str) -> tuple[str, str, str]:
    """Seed one account, build its indexes; return (account id, start, end) of the data."""
    from app.seed import seed

    start = datetime.now(UTC).date() - timedelta(days=DEMO_DAYS - 1)
    couch = Couch(url, timeout=3600)
    try:
        seeded = await seed(
            couch,
            seed=1,
            accounts=1,
            queues=4,
            recipients=8,
            days=DEMO_DAYS,
            calls_per_day=DEMO_CALLS_PER_DAY,
            start=start,
        )
        account_id = seeded[0].account_id
        installer = Installer(couch)
        print("building view indexes (first time only) ...", flush=True)
        for db in await month_dbs(couch, account_id):
            if await installer.ensure(db):
                await warm(couch, db, list(installer.ddoc["views"]))
    finally:
        await couch.close()
    end = start + timedelta(days=DEMO_DAYS - 1)
    return account_id, start.isoformat(), end.isoformat()


def run_demo(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    with couchdb() as (url, origin):
        print(f"CouchDB: {origin}", flush=True)
        account_id, start, end = asyncio.run(_prepare(url))
        token = DEMO_TOKEN
        tokens = {**settings.tokens, token: account_id}
        body = {
            "data": {"report": "queues", "start_date": start, "end_date": end, "period": "weekly"}
        }
        print(
            "\nThe API is starting. Try:\n\n"
            f"curl -s -H 'X-Auth-Token: {token}' -H 'Content-Type: application/json' "
            f"http://{host}:{port}/v2/accounts/{account_id}/qubicle_reports "
            f"-d '{orjson.dumps(body).decode()}'\n\n"
            "For the README's examples:\n\n"
            f"export TOKEN={token} ACCOUNT={account_id} START={start} END={end}\n",
            flush=True,
        )
        serve(dataclasses.replace(settings, couchdb_url=url, tokens=tokens), host, port)
    return 0
