"""The dashboard's *Agents' time* view (the ``agent_states`` report, CONTRACT.md 7) in a real
headless Chromium, over an ACDC account seeded with call_stat and status_stat documents.

What the view shows (tiles, the time-by-state bars, the occupancy line, the per-agent table,
the ranking) must equal the API's answer for the same parameters, the CSV it downloads the
API's CSV; an agent named like HTML stays text; sorting works from the keyboard.
Screenshots at 390x844 and 1920x1080 are written under ``test-artifacts/``.

The range ends yesterday: a state still open now grows by the second (CONTRACT 7b: never
past now), so only a range in the past gives the page and the API the same numbers.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from conftest import seed_account
from playwright.async_api import Browser, Page
from test_dashboard_browser import (
    ARTIFACTS,
    HOSTILE,
    READ_PAGE,
    TOKEN,
    Api,
    Watch,
    _serve,
    after,
    browser,
    chromium,
    drawn,
    new_context,
    sign_in,
    type_in,
)

from app.config import Settings
from app.couch.client import Couch
from app.couch.modb import account_db
from app.web.server import create_app

__all__ = ["browser", "chromium"]  # the browser fixtures, shared with the other views' tests

DAYS = 14
METRICS = [
    "logged_in_time", "ready_time", "ringing_time", "talk_time", "wrapup_time", "paused_time",
    "outbound_time", "occupancy", "login_count", "pause_count",
]  # fmt: skip
TILES = ["logged_in_time", "occupancy", "paused_share", "talk_time", "login_count", "pause_count"]
STATES = ["ready_time", "ringing_time", "talk_time", "wrapup_time", "paused_time", "outbound_time"]
HOURS = re.compile(r"^[\d,]+ h( \d{1,2} m)?$")  # how a long span reads: "7 h 12 m"


@dataclass
class Acdc:
    account_id: str
    start: str
    end: str
    names: dict[str, str]  # the name the page must show for each agent id
    hostile_agent: str


@pytest.fixture(scope="module")
async def acdc(couch: Couch, session_accounts: Any) -> Acdc:
    end = datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=DAYS - 1)
    acc = await seed_account(
        couch,
        session_accounts.new(),
        seed=43,
        source="acdc",
        queues=3,
        recipients=6,
        days=DAYS + 1,  # and today, which the ranges leave out
        calls_per_day=150,  # a busy floor for 6 agents (the screenshots show it)
        start=start,
    )
    db = account_db(acc.account_id)
    hostile = acc.recipient_ids[1]
    user = await couch.get_doc(db, hostile)
    assert user is not None
    await couch.put_doc(db, {**user, "first_name": HOSTILE, "last_name": ""})
    names = {**acc.recipient_names, hostile: HOSTILE}
    return Acdc(acc.account_id, start.isoformat(), end.isoformat(), names, hostile)


@pytest.fixture(scope="module")
async def api(couch_url: str, acdc: Acdc) -> AsyncIterator[Api]:
    settings = Settings(couchdb_url=couch_url, tokens={TOKEN: acdc.account_id}, report_timeout=600)
    server: TestServer = await _serve(create_app(settings))
    out = Api(str(server.make_url("")).rstrip("/"), acdc.account_id)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=900)) as http:
        await api_report(http, out, request(acdc))  # builds the index before the browser asks
    yield out
    await server.close()


def request(acdc: Acdc, **kw: Any) -> dict[str, Any]:
    """The request the view makes: every metric, with totals."""
    data = {
        "report": "agent_states",
        "start_date": acdc.start,
        "end_date": acdc.end,
        "period": "daily",
        "timezone": "UTC",
        "metrics": METRICS,
        "totals": True,
    }
    return {**data, **kw}


async def api_report(http: aiohttp.ClientSession, api: Api, data: dict[str, Any]) -> dict:
    async with http.post(
        f"{api.url}/v2/accounts/{api.account}/qubicle_reports",
        json={"data": data},
        headers={"X-Auth-Token": TOKEN},
    ) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["data"][0]


def view_hash(api: Api, acdc: Acdc, period: str = "daily", tz: str = "UTC") -> str:
    return (
        f"/dashboard/#account={api.account}&report=agent_states&preset=custom"
        f"&start={acdc.start}&end={acdc.end}&period={period}&tz={tz}"
    )


async def check_view(page: Page, api: Api, acdc: Acdc, data: dict[str, Any]) -> dict[str, Any]:
    """Assert the view shows exactly the API's answer for ``data``; return what it showed."""
    shown = await page.evaluate(READ_PAGE)
    async with aiohttp.ClientSession() as http:
        answer = await api_report(http, api, data)
    items = {item["id"]: item["data"] for item in answer["report"]}
    total = items.pop("total")
    buckets = [k for k in total["logged_in_time"] if k != "total"]
    sums = {m: total[m]["total"] for m in METRICS}
    assert sums["logged_in_time"] > 0 and sums["pause_count"] > 0  # a view with data in it

    assert shown["controls"]["report"] == "agent_states"
    share = 100 * sums["paused_time"] / sums["logged_in_time"]
    assert shown["tiles"] == {**{m: sums[m] for m in TILES if m in sums}, "paused_share": share}
    assert HOURS.fullmatch(shown["tileText"]["logged_in_time"]), shown["tileText"]
    assert shown["tileText"]["occupancy"].endswith(" %")
    assert [d["label"] for d in shown["outcomes"]["datasets"]] == [
        "Ready", "Ringing", "Talking", "Wrap-up", "Paused", "Outbound",
    ]  # fmt: skip
    assert [d["data"] for d in shown["outcomes"]["datasets"]] == [
        [total[m][b] for b in buckets] for m in STATES
    ]
    assert shown["line"]["datasets"][0]["data"] == drawn(total, "occupancy", buckets)
    assert {r["id"] for r in shown["rows"]} == set(items)
    for row in shown["rows"]:
        assert row["name"] == acdc.names[row["id"]]
        assert row["cells"] == {m: items[row["id"]][m]["total"] for m in METRICS}
    assert shown["footer"] == sums
    ranked = sorted(items, key=lambda i: -items[i]["logged_in_time"]["total"])
    assert shown["ranked"]["datasets"][0]["data"] == [
        items[i]["logged_in_time"]["total"] for i in ranked
    ]
    return shown


async def test_agents_time_shows_what_the_api_answers(
    browser: Browser, api: Api, acdc: Acdc
) -> None:
    context = await new_context(browser)
    page = await context.new_page()
    watch = Watch(page)
    await after(page, lambda: sign_in(page, api, path=view_hash(api, acdc)))
    await check_view(page, api, acdc, request(acdc))
    assert await page.text_content("#outcomes-title") == "Time by state"

    # another period and zone (east of UTC: its yesterday is over too), split at its edges
    await after(page, lambda: page.select_option("#period", "weekly"))
    await check_view(page, api, acdc, request(acdc, period="weekly"))
    await after(page, lambda: type_in(page, "#tz", "Asia/Kolkata"))
    kolkata = request(acdc, period="weekly", timezone="Asia/Kolkata")
    shown = await check_view(page, api, acdc, kolkata)

    # sorting from the keyboard: the header button takes focus and Enter
    await page.focus('#table button[data-sort="occupancy"]')
    await page.keyboard.press("Enter")
    rows = (await page.evaluate(READ_PAGE))["rows"]
    occupancy = [r["cells"]["occupancy"] for r in rows]
    assert occupancy == sorted(occupancy, reverse=True)
    assert {r["id"] for r in rows} == {r["id"] for r in shown["rows"]}
    focused = await page.evaluate("document.activeElement.dataset.sort")
    assert focused == "occupancy"
    await page.keyboard.press("Enter")  # again: ascending
    rows = (await page.evaluate(READ_PAGE))["rows"]
    assert [r["cells"]["occupancy"] for r in rows] == sorted(occupancy)
    assert "sort=occupancy%3Aasc" in page.url or "sort=occupancy:asc" in page.url

    # the hostile agent's name is text, in the table, the ranking and the picker
    [row] = [r for r in rows if r["id"] == acdc.hostile_agent]
    assert row["name"] == HOSTILE
    assert HOSTILE in shown["ranked"]["labels"]
    label = page.locator(f'#ids-list input[value="{acdc.hostile_agent}"] + span')
    assert await label.text_content() == HOSTILE
    assert await page.locator("img").count() == 0
    assert watch.dialogs == [] and watch.errors == []
    await context.close()


async def test_agents_time_csv_is_the_api_csv(browser: Browser, api: Api, acdc: Acdc) -> None:
    context = await new_context(browser)
    page = await context.new_page()
    await after(page, lambda: sign_in(page, api, path=view_hash(api, acdc, period="weekly")))
    async with page.expect_download() as info:
        await page.click("#csv")
    download = await info.value
    got = Path(await download.path()).read_bytes()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{api.url}/v2/accounts/{api.account}/qubicle_reports",
            json={"data": {**request(acdc, period="weekly"), "format": "csv"}},
            headers={"X-Auth-Token": TOKEN},
        ) as r,
    ):
        assert r.status == 200
        want = await r.read()
    assert got == want
    assert b"logged_in_time" in got and (b"\ntotal," in got or b",total," in got)
    await context.close()


async def test_agents_time_screenshots(browser: Browser, api: Api, acdc: Acdc) -> None:
    """Phone and wallboard: the numbers are the API's at both sizes; screenshots to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((1920, 1080), (390, 844)):
        context = await new_context(browser, width, height)
        page = await context.new_page()
        await after(page, lambda p=page: sign_in(p, api, path=view_hash(api, acdc)))
        await check_view(page, api, acdc, request(acdc))
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0  # the page itself never scrolls sideways (the table may)
        path = ARTIFACTS / f"dashboard-agents-{width}x{height}.png"
        await page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
        await context.close()
