"""``qubicle-reports demo``: a CouchDB, two seeded accounts, the API, and a curl that works.

One account holds Qubicle ``qubicle_session`` data, the other KAZOO ACDC ``call_stat`` and
``status_stat`` data (CONTRACT.md 2, 2b and 7a): the same reports answer both, and the ACDC
account's agent_states report tells where its agents' time went. Each gets a fixed
loopback-only token.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import orjson
from tqdm import tqdm

from app.cli import serve
from app.config import Settings
from app.couch.client import Couch
from app.couch.installer import Installer, month_dbs, warm
from qubicle_dev.couch_server import couchdb

DEMO_DAYS = 35
# a floor of 24 agents on 4 queues, staffed for ~800 callers a weekday (docs/data.md)
DEMO_QUEUES = 4
DEMO_AGENTS = 24
DEMO_CALLS_PER_DAY = 800
# (source, token): the first is the account the docs examples use (`export TOKEN=...`)
DEMO_ACCOUNTS = (("qubicle", "demo-token"), ("acdc", "demo-token-acdc"))
DEMO_TOKEN = DEMO_ACCOUNTS[0][1]  # loopback demo only


@dataclasses.dataclass(frozen=True)
class DemoAccount:
    source: str
    token: str
    account_id: str
    name: str
    queue_ids: list[str]


async def _prepare(url: str) -> tuple[list[DemoAccount], str, str]:
    """Seed the demo accounts, build their indexes; return them and (start, end) of the data."""
    from qubicle_dev.seed import seed

    start = datetime.now(UTC).date() - timedelta(days=DEMO_DAYS - 1)
    couch = Couch(url, timeout=3600)
    out: list[DemoAccount] = []
    try:
        for source, token in DEMO_ACCOUNTS:
            [seeded] = await seed(
                couch,
                seed=1,
                accounts=1,
                queues=DEMO_QUEUES,
                recipients=DEMO_AGENTS,
                days=DEMO_DAYS,
                calls_per_day=DEMO_CALLS_PER_DAY,
                start=start,
                source=source,
            )
            out.append(DemoAccount(source, token, seeded.account_id, seeded.name, seeded.queue_ids))
        installer = Installer(couch)
        views = list(installer.ddoc["views"])
        dbs = [db for account in out for db in await month_dbs(couch, account.account_id)]
        with tqdm(total=len(dbs) * len(views), desc="building view indexes", unit="view") as bar:
            for db in dbs:
                if await installer.ensure(db):
                    for view in views:  # one at a time, so the bar moves as they are built
                        await warm(couch, db, [view])
                        bar.update(1)
    finally:
        await couch.close()
    end = start + timedelta(days=DEMO_DAYS - 1)
    return out, start.isoformat(), end.isoformat()


def demo_text(accounts: list[DemoAccount], start: str, end: str, host: str, port: int) -> str:
    """What the demo prints: a curl and a token per account, the dashboard, the line that sets
    the documentation examples' variables."""
    base = f"http://{host}:{port}"
    lines = ["", "The API is starting. Try:"]
    for a in accounts:
        report = "queues" if a.source == "qubicle" else "recipients"
        body = {"data": {"report": report, "start_date": start, "end_date": end}}
        body["data"]["period"] = "weekly"
        if a.source != "qubicle":
            body["data"]["queue_ids"] = [a.queue_ids[0]]
        curl = (
            f"curl -s -H 'X-Auth-Token: {a.token}' -H 'Content-Type: application/json' "
            f"{base}/v2/accounts/{a.account_id}/qubicle_reports -d "
        )
        lines += ["", f"# {a.name} ({a.source}), account {a.account_id}, token {a.token}"]
        lines.append(f"{curl}'{orjson.dumps(body).decode()}'")
        if a.source != "qubicle":  # ACDC also archives every agent status change
            states = {"report": "agent_states", "start_date": start, "end_date": end}
            states |= {"period": "daily", "totals": True}
            lines.append(f"{curl}'{orjson.dumps({'data': states}).decode()}'")
    first = accounts[0]
    lines += [
        "",
        f"Dashboard: {base}/ (paste the token and account id)",
        "",
        "For the documentation's examples:",
        "",
        f"export TOKEN={first.token} ACCOUNT={first.account_id} START={start} END={end}"
        + "".join(
            f" ACDC_TOKEN={a.token} ACDC_ACCOUNT={a.account_id}"
            for a in accounts
            if a.source == "acdc"
        ),
        "",
    ]
    return "\n".join(lines)


def run_demo(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> int:
    with couchdb() as (url, origin):
        print(f"CouchDB: {origin}", flush=True)
        accounts, start, end = asyncio.run(_prepare(url))
        tokens = {**settings.tokens, **{a.token: a.account_id for a in accounts}}
        print(demo_text(accounts, start, end, host, port), flush=True)
        serve(dataclasses.replace(settings, couchdb_url=url, tokens=tokens), host, port)
    return 0
