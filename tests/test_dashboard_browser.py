"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
playwright), against the service on a real TCP port and the tests' CouchDB.

What the page shows (tiles, chart data points, table rows) must equal the API's answer for
the same parameters; the CSV it downloads must equal the API's CSV; a bad token sends the
user back to sign in; hostile names stay text; a page on another origin calls the API
through CORS. Screenshots at 390x844 and 1920x1080 and the performance figures are written
under ``test-artifacts/``.

Skipped only when Chromium is missing and ``CI`` is not set; in CI a missing browser fails.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import statistics
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import seed_account
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from app.config import Settings
from app.couch.client import Couch
from app.couch.modb import account_db
from app.web.server import create_app
from qubicle_dev.seed import SeededAccount

CHROMIUM = os.environ.get("QUBICLE_REPORTS_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TOKEN = "browser-token"
HOSTILE = "<img src=x onerror=alert(1)>"
DAYS = 92  # three months of data, ending today (UTC)
WAIT_MS = 180_000  # the first report builds the views on the stand-in
QUEUE_METRICS = [
    "call_count", "answered_count", "abandon_count", "timeout_count", "service_level",
    "answer_rate", "abandon_rate", "avg_wait", "avg_answer_speed", "max_wait",
]  # fmt: skip
RECIPIENT_METRICS = [
    "offered_count", "call_count", "missed_call_count", "rejected_call_count", "answer_rate",
    "avg_call_duration", "avg_ring_duration", "total_call_duration",
]  # fmt: skip
TILES = {
    "queues": ["call_count", "answer_rate", "abandon_rate", "service_level", "avg_wait",
               "avg_answer_speed", "max_wait"],
    "recipients": ["offered_count", "call_count", "answer_rate", "missed_call_count",
                   "rejected_call_count", "avg_call_duration", "avg_ring_duration"],
}  # fmt: skip
OUTCOMES = {
    "queues": ["answered_count", "abandon_count", "timeout_count"],
    "recipients": ["call_count", "missed_call_count", "rejected_call_count"],
}
LINE = {"queues": "service_level", "recipients": "answer_rate"}  # the line shown by default
# CONTRACT 3: a rate's or average's divisor; where it is 0 the API answers 0 and the page
# draws no value (a gap: null)
DIVISOR = {"service_level": ["call_count"], "avg_wait": ["call_count"],
           "answer_rate": ["offered_count"], "occupancy": [
               "ready_time", "ringing_time", "talk_time", "wrapup_time"]}  # fmt: skip


def drawn(data: dict[str, Any], metric: str, buckets: list[str]) -> list[Any]:
    """The values a chart of ``metric`` must draw: the API's, and null where its divisor
    is 0 (a bucket with no calls has no service level)."""
    return [
        None if sum(data[m][b] for m in DIVISOR[metric]) == 0 else data[metric][b] for b in buckets
    ]


@pytest.fixture(scope="module")
def chromium() -> str:
    if shutil.which(CHROMIUM) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    return CHROMIUM


@dataclass
class Seeded:
    account: SeededAccount
    start: date
    end: date
    names: dict[str, str]  # the name the page must show for each id
    unnamed_agent: str = ""
    hostile_queue: str = ""


@pytest.fixture(scope="module")
async def seeded(couch: Couch, session_accounts: Any) -> Seeded:
    end = datetime.now(UTC).date()
    start = end - timedelta(days=DAYS - 1)
    acc = await seed_account(
        couch,
        session_accounts.new(),
        seed=41,
        queues=4,
        recipients=8,
        days=DAYS,
        calls_per_day=30,
        start=start,
    )
    db = account_db(acc.account_id)
    unnamed = acc.recipient_ids[2]
    user = await couch.get_doc(db, unnamed)
    assert user is not None
    await couch.put_doc(db, {k: v for k, v in user.items() if k not in ("first_name", "last_name")})
    names = {**acc.queue_names, **acc.recipient_names, unnamed: unnamed}  # no name: its id
    return Seeded(acc, start, end, names, unnamed_agent=unnamed)


@pytest.fixture(scope="module")
async def hostile(couch: Couch, session_accounts: Any, seeded: Seeded) -> Seeded:
    """A small sub-account of the main one (its token reads it) with a queue named like HTML."""
    acc = await seed_account(couch, session_accounts.new(), seed=42)
    db = account_db(acc.account_id)
    account_doc = await couch.get_doc(db, acc.account_id)
    queue = await couch.get_doc(db, acc.queue_ids[0])
    assert account_doc is not None and queue is not None
    await couch.put_doc(db, {**account_doc, "pvt_tree": [seeded.account.account_id]})
    await couch.put_doc(db, {**queue, "name": HOSTILE})
    start = date(2024, 1, 30)  # conftest.SMALL_ACCOUNT: three days
    names = {**acc.queue_names, **acc.recipient_names, acc.queue_ids[0]: HOSTILE}
    return Seeded(acc, start, start + timedelta(days=2), names, hostile_queue=acc.queue_ids[0])


@dataclass
class Api:
    url: str
    account: str
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)  # method, path, Origin


async def _serve(app: web.Application) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture(scope="module")
async def api(couch_url: str, seeded: Seeded) -> AsyncIterator[Api]:
    settings = Settings(
        couchdb_url=couch_url, tokens={TOKEN: seeded.account.account_id}, report_timeout=600
    )
    app = create_app(settings)
    out = Api("", seeded.account.account_id)

    async def record(request: web.Request, response: web.StreamResponse) -> None:
        out.seen.append((request.method, request.path, request.headers.get("Origin")))

    app.on_response_prepare.append(record)
    server = await _serve(app)
    out.url = str(server.make_url("")).rstrip("/")
    # build every view once, so the browser measures reports, not index builds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=900)) as http:
        for report in ("queues", "recipients"):
            await api_report(http, out, state(seeded, report=report, period="daily"))
    yield out
    await server.close()


@pytest.fixture(scope="module")
async def browser(chromium: str) -> AsyncIterator[Browser]:
    # playwright gives every launch a fresh temporary --user-data-dir of its own
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=chromium, args=FLAGS, headless=True)
        yield b
        await b.close()


async def new_context(browser: Browser, width: int = 1920, height: int = 1080) -> BrowserContext:
    return await browser.new_context(
        viewport={"width": width, "height": height},
        locale="en-US",
        timezone_id="America/New_York",
        accept_downloads=True,
    )


class Watch:
    """Everything a page did that a test may want to refuse: dialogs, errors, token leaks."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.urls: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.urls.append(r.url))
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )


# -- what the API says ------------------------------------------------------------------------


def state(seeded: Seeded, **kw: Any) -> dict[str, Any]:
    """The parameters of one view; defaults: queues, the whole seeded range, UTC, daily."""
    s = {
        "report": "queues",
        "start": seeded.start.isoformat(),
        "end": seeded.end.isoformat(),
        "period": "daily",
        "tz": "UTC",
        "ids": [],
        "queue_ids": [],
        "threshold": 20,
    }
    return {**s, **kw}


def api_data(s: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "report": s["report"],
        "start_date": s["start"],
        "end_date": s["end"],
        "period": s["period"],
        "timezone": s["tz"],
        "metrics": QUEUE_METRICS if s["report"] == "queues" else RECIPIENT_METRICS,
        "totals": True,
    }
    if s["ids"]:
        data["identifiers"] = s["ids"]
    if s["report"] == "queues":
        data["service_level_threshold"] = s["threshold"]
    elif s["queue_ids"]:
        data["queue_ids"] = s["queue_ids"]
    return data


async def api_report(http: aiohttp.ClientSession, api: Api, s: dict[str, Any]) -> dict[str, Any]:
    async with http.post(
        f"{api.url}/v2/accounts/{api.account}/qubicle_reports",
        json={"data": api_data(s)},
        headers={"X-Auth-Token": TOKEN},
    ) as r:
        assert r.status == 200, await r.text()
        return (await r.json())["data"][0]


async def api_csv(api: Api, s: dict[str, Any]) -> bytes:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{api.url}/v2/accounts/{api.account}/qubicle_reports",
            json={"data": {**api_data(s), "format": "csv"}},
            headers={"X-Auth-Token": TOKEN},
        ) as r,
    ):
        assert r.status == 200
        return await r.read()


# -- what the page shows ----------------------------------------------------------------------

READ_PAGE = """() => {
  const chart = (id) => {
    const c = Chart.getChart(document.getElementById(id));
    return c ? { labels: c.data.labels,
                 datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data })) } : null;
  };
  const value = (v) => (v === "" || v === undefined ? null : Number(v));
  const cells = (tr) => !tr ? null : Object.fromEntries([...tr.querySelectorAll("td[data-metric]")]
    .map((td) => [td.dataset.metric, value(td.dataset.value)]));
  return {
    tiles: Object.fromEntries([...document.querySelectorAll("#tiles .tile")]
      .map((t) => [t.dataset.metric, value(t.dataset.value)])),
    tileText: Object.fromEntries([...document.querySelectorAll("#tiles .tile")]
      .map((t) => [t.dataset.metric, t.querySelector(".tile-value").textContent])),
    outcomes: chart("chart-outcomes"),
    line: chart("chart-line"),
    ranked: chart("chart-ranked"),
    rows: [...document.querySelectorAll("#table tbody tr")].map((tr) => ({
      id: tr.dataset.id, name: tr.querySelector("th.name span").textContent, cells: cells(tr) })),
    footer: cells(document.querySelector("#table tfoot tr")),
    empty: !document.getElementById("empty").hidden,
    controls: {
      report: document.querySelector("input[name=report]:checked").value,
      preset: document.getElementById("preset").value,
      start: document.getElementById("start").value,
      end: document.getElementById("end").value,
      period: document.getElementById("period").value,
      tz: document.getElementById("tz").value,
      threshold: Number(document.getElementById("threshold").value),
    },
    hash: location.hash,
    href: location.href,
  };
}"""


READ_PERF = """() => {
  const m = (name) => performance.getEntriesByName(name, "measure").at(-1).duration;
  const fetches = performance.getEntriesByType("resource")
    .filter((r) => r.initiatorType === "fetch" && r.name.includes("/qubicle_reports"));
  return { api_ms: m("qr:api"), page_ms: m("qr:page"), shown_ms: m("qr:shown"),
           fetch_ms: fetches.at(-1).duration };
}"""


async def after(page: Page, action: Callable[[], Awaitable[Any]], what: str = "loaded") -> None:
    """Run ``action``, then wait until the page has drawn (or failed) one more report."""
    n = int(await page.get_attribute("body", f"data-{what}") or 0)
    await action()
    await page.wait_for_selector(f'body[data-{what}="{n + 1}"]', state="attached", timeout=WAIT_MS)


async def type_in(page: Page, selector: str, text: str) -> None:
    """Type into a text field and press Enter, as a person does (``change`` fires then)."""
    await page.fill(selector, text)
    await page.press(selector, "Enter")


async def sign_in(page: Page, api: Api, token: str = TOKEN, path: str = "/") -> None:
    await page.goto(api.url + path)
    await page.wait_for_selector("#sign-in:not([hidden])")
    await page.fill("#token", token)
    await page.fill("#account", api.account)
    await page.click("#sign-in-form button[type=submit]")


async def check_page(page: Page, api: Api, seeded: Seeded, s: dict[str, Any]) -> dict[str, Any]:
    """Assert the page shows exactly the API's answer for ``s``; return what it showed."""
    shown = await page.evaluate(READ_PAGE)
    async with aiohttp.ClientSession() as http:
        answer = await api_report(http, api, s)
    report = s["report"]
    items = {item["id"]: item["data"] for item in answer["report"]}
    total = items.pop("total")
    buckets = [k for k in total["call_count"] if k != "total"]

    assert shown["controls"]["report"] == report
    for key in ("start", "end", "period", "tz"):
        assert shown["controls"][key] == s[key], key
    assert shown["tiles"] == {m: total[m]["total"] for m in TILES[report]}
    assert all(text and text != "—" for text in shown["tileText"].values())
    assert len(shown["outcomes"]["labels"]) == len(buckets)
    assert [d["data"] for d in shown["outcomes"]["datasets"]] == [
        [total[m][b] for b in buckets] for m in OUTCOMES[report]
    ]
    assert shown["line"]["datasets"][0]["data"] == drawn(total, LINE[report], buckets)
    assert {r["id"] for r in shown["rows"]} == set(items)
    for row in shown["rows"]:
        assert row["name"] == seeded.names[row["id"]]
        assert row["cells"] == {m: items[row["id"]][m]["total"] for m in row["cells"]}
        assert set(row["cells"]) <= set(items[row["id"]])
    assert shown["footer"] == {m: total[m]["total"] for m in shown["footer"]}
    ranked = sorted(items, key=lambda i: -items[i]["call_count"]["total"])
    assert shown["ranked"]["datasets"][0]["data"] == [
        items[i]["call_count"]["total"] for i in ranked
    ]
    assert sorted(shown["ranked"]["labels"]) == sorted(seeded.names[i] for i in items)
    assert TOKEN not in shown["href"]
    return shown


def today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


# -- the tests --------------------------------------------------------------------------------


async def test_sign_in_then_every_control_shows_what_the_api_answers(
    browser: Browser, api: Api, seeded: Seeded
) -> None:
    context = await new_context(browser)
    page = await context.new_page()
    watch = Watch(page)
    await after(page, lambda: sign_in(page, api))
    assert page.url.startswith(api.url + "/dashboard/")

    # defaults: last 7 days in the browser's own zone, daily
    today = today_in("America/New_York")
    s = state(
        seeded,
        start=(today - timedelta(days=6)).isoformat(),
        end=today.isoformat(),
        tz="America/New_York",
    )
    shown = await check_page(page, api, seeded, s)
    assert shown["controls"]["preset"] == "last7"

    # the 3-month range, daily, in UTC
    s = state(seeded)
    await after(page, lambda: type_in(page, "#tz", "UTC"))
    await after(page, lambda: page.select_option("#preset", "custom"))
    await after(page, lambda: page.fill("#start", s["start"]))
    await after(page, lambda: page.fill("#end", s["end"]))
    await check_page(page, api, seeded, s)  # 92 days: daily by default

    # period, zone, threshold, identifiers
    s["period"] = "weekly"
    await after(page, lambda: page.select_option("#period", "weekly"))
    await check_page(page, api, seeded, s)
    s["tz"] = "Asia/Kolkata"
    await after(page, lambda: type_in(page, "#tz", "Asia/Kolkata"))
    await check_page(page, api, seeded, s)
    s["threshold"] = 60
    await after(page, lambda: page.select_option("#threshold", "60"))
    await check_page(page, api, seeded, s)
    await page.click("#ids-summary")
    chosen = [seeded.account.queue_ids[0], seeded.account.queue_ids[1]]
    for queue_id in chosen:
        await after(page, lambda q=queue_id: page.check(f'#ids-list input[value="{q}"]'))
    s["ids"] = chosen
    shown = await check_page(page, api, seeded, s)
    assert [r["id"] for r in shown["rows"]] != [] and len(shown["rows"]) == 2

    # hourly over two days, and the presets
    s.update(ids=[], start=(seeded.end - timedelta(days=1)).isoformat(), period="hourly")
    await after(page, lambda: page.click('#ids-picker button[data-clear="ids"]'))
    await after(page, lambda: page.fill("#start", s["start"]))
    await check_page(page, api, seeded, s)  # two days: hourly by default
    kolkata = today_in("Asia/Kolkata")
    await after(page, lambda: page.select_option("#preset", "yesterday"))
    yesterday = (kolkata - timedelta(days=1)).isoformat()
    await check_page(page, api, seeded, {**s, "start": yesterday, "end": yesterday})
    await after(page, lambda: page.select_option("#preset", "last_month"))
    first = kolkata.replace(day=1)
    last_month = ((first - timedelta(days=1)).replace(day=1), first - timedelta(days=1))
    s.update(start=last_month[0].isoformat(), end=last_month[1].isoformat(), period="daily")
    await check_page(page, api, seeded, s)

    # sorting, by keyboard
    await page.focus('#table button[data-sort="service_level"]')
    await page.keyboard.press("Enter")
    shown = await page.evaluate(READ_PAGE)
    levels = [r["cells"]["service_level"] for r in shown["rows"]]
    assert levels == sorted(levels, reverse=True)
    await page.keyboard.press("Enter")
    shown = await page.evaluate(READ_PAGE)
    assert [r["cells"]["service_level"] for r in shown["rows"]] == sorted(levels)
    order = [r["id"] for r in shown["rows"]]

    # the state is in the URL, without the token; a new tab signs in and shows the same view
    hash_ = (await page.evaluate(READ_PAGE))["hash"]
    assert "account=" + api.account in hash_ and TOKEN not in hash_
    tab = await context.new_page()  # sessionStorage is per tab: sign in again
    await tab.goto(f"{api.url}/dashboard/{hash_}")
    await tab.wait_for_selector("#sign-in:not([hidden])")
    assert await tab.input_value("#account") == api.account
    await tab.fill("#token", TOKEN)
    await after(tab, lambda: tab.click("#sign-in-form button[type=submit]"))
    await check_page(tab, api, seeded, s)
    assert [r["id"] for r in (await tab.evaluate(READ_PAGE))["rows"]] == order  # sort too

    assert watch.dialogs == [] and watch.errors == []
    assert not [u for u in watch.urls if TOKEN in u]
    await context.close()


async def test_agents_view_with_queue_ids(browser: Browser, api: Api, seeded: Seeded) -> None:
    context = await new_context(browser)
    page = await context.new_page()
    watch = Watch(page)
    s = state(seeded, report="recipients", period="weekly", tz="Europe/Paris")
    hash_ = f"#account={api.account}&report=recipients&preset=custom&start={s['start']}" + (
        f"&end={s['end']}&period=weekly&tz=Europe/Paris"
    )
    await after(page, lambda: sign_in(page, api, path="/dashboard/" + hash_))
    shown = await check_page(page, api, seeded, s)
    assert any(r["name"] == seeded.unnamed_agent for r in shown["rows"])  # no name: its id

    await page.click("#queues-summary")
    s["queue_ids"] = [seeded.account.queue_ids[0]]
    await after(page, lambda: page.check(f'#queues-list input[value="{s["queue_ids"][0]}"]'))
    await check_page(page, api, seeded, s)
    assert "queue_ids=" + s["queue_ids"][0] in (await page.evaluate(READ_PAGE))["hash"]

    # back to queues, via the keyboard-reachable radio
    await after(page, lambda: page.check('input[name=report][value="queues"]'))
    await check_page(page, api, seeded, {**s, "report": "queues", "queue_ids": []})
    assert watch.dialogs == [] and watch.errors == []
    await context.close()


async def test_csv_download_equals_the_api_csv(browser: Browser, api: Api, seeded: Seeded) -> None:
    context = await new_context(browser)
    page = await context.new_page()
    s = state(seeded, period="weekly", tz="America/Chicago", threshold=30)
    hash_ = (
        f"#account={api.account}&report=queues&preset=custom&start={s['start']}&end={s['end']}"
        "&period=weekly&tz=America/Chicago&threshold=30"
    )
    await after(page, lambda: sign_in(page, api, path="/dashboard/" + hash_))
    answer = await check_page(page, api, seeded, s)
    await page.select_option("#line", "avg_wait")  # redrawn from the answer already there
    shown = await page.evaluate(READ_PAGE)
    async with aiohttp.ClientSession() as http:
        [total] = [i for i in (await api_report(http, api, s))["report"] if i["id"] == "total"]
    buckets = [k for k in total["data"]["avg_wait"] if k != "total"]
    assert shown["line"]["datasets"][0]["data"] == drawn(total["data"], "avg_wait", buckets)
    assert "line=avg_wait" in shown["hash"]
    assert shown["tiles"] == answer["tiles"]
    async with page.expect_download() as info:
        await page.click("#csv")
    download = await info.value
    assert download.suggested_filename.endswith(".csv")
    assert TOKEN not in download.url
    got = Path(await download.path()).read_bytes()
    assert got == await api_csv(api, s)
    assert b"\ntotal," in got or b",total," in got
    await context.close()


async def test_hostile_names_are_shown_as_text(browser: Browser, api: Api, hostile: Seeded) -> None:
    api = dataclasses.replace(api, account=hostile.account.account_id)
    seeded = hostile
    context = await new_context(browser, 390, 844)
    page = await context.new_page()
    watch = Watch(page)
    s = state(seeded)
    hash_ = f"#account={api.account}&preset=custom&start={s['start']}&end={s['end']}&tz=UTC"
    await after(page, lambda: sign_in(page, api, path="/dashboard/" + hash_))
    shown = await check_page(page, api, seeded, s)
    [row] = [r for r in shown["rows"] if r["id"] == seeded.hostile_queue]
    assert row["name"] == HOSTILE
    assert await page.locator("img").count() == 0
    label = page.locator(f'#ids-list input[value="{seeded.hostile_queue}"] + span')
    assert await label.text_content() == HOSTILE
    assert HOSTILE in shown["ranked"]["labels"]
    assert watch.dialogs == []
    await context.close()


async def test_an_entity_called_total_and_a_failed_names_lookup_break_nothing(
    browser: Browser, api: Api, seeded: Seeded
) -> None:
    """The totals are the report's last item, never an entity that happens to be called
    ``total`` (here put first by the browser's own network layer), and a names lookup the
    API refuses leaves the page whole, its ids shown as ids."""
    context = await new_context(browser)
    page = await context.new_page()
    watch = Watch(page)

    async def with_total_entity(route: Any) -> None:
        response = await route.fetch()
        body = await response.json()
        items = body["data"][0]["report"]
        ones = {m: dict.fromkeys(series, 1) for m, series in items[0]["data"].items()}
        body["data"][0]["report"] = [{"id": "total", "data": ones}, *items]
        await route.fulfill(response=response, body=json.dumps(body))

    refused = []

    async def refuse(route: Any) -> None:
        refused.append(route.request.url)
        error = {"data": {"ids": {"maxLength": {"message": "too long"}}}, "error": "400",
                 "message": "validation error", "status": "error"}  # fmt: skip
        await route.fulfill(status=400, content_type="application/json", body=json.dumps(error))

    await page.route("**/qubicle_reports", with_total_entity)
    await page.route("**/qubicle_names?**", refuse)
    s = state(seeded)
    hash_ = f"#account={api.account}&preset=custom&start={s['start']}&end={s['end']}&tz=UTC"
    await after(page, lambda: sign_in(page, api, path="/dashboard/" + hash_))
    shown = await page.evaluate(READ_PAGE)
    async with aiohttp.ClientSession() as http:
        answer = await api_report(http, api, s)
    items = {item["id"]: item["data"] for item in answer["report"]}
    total = items.pop("total")
    assert refused
    assert shown["tiles"] == {m: total[m]["total"] for m in TILES["queues"]}
    assert {r["id"] for r in shown["rows"]} == {*items, "total"}
    assert all(r["name"] == r["id"] for r in shown["rows"])  # no names: ids
    assert await page.locator("#error").is_hidden()
    assert watch.dialogs == []
    await context.close()


async def test_empty_range_and_readable_errors(browser: Browser, api: Api, seeded: Seeded) -> None:
    context = await new_context(browser)
    page = await context.new_page()
    before = seeded.start - timedelta(days=40)
    s = state(seeded, start=before.isoformat(), end=(before + timedelta(days=9)).isoformat())
    hash_ = f"#account={api.account}&preset=custom&start={s['start']}&end={s['end']}&tz=UTC"
    await after(page, lambda: sign_in(page, api, path="/dashboard/" + hash_))
    shown = await page.evaluate(READ_PAGE)
    assert shown["empty"] is True
    assert shown["tiles"]["call_count"] == 0
    assert await page.is_hidden("#results")

    await after(page, lambda: type_in(page, "#tz", "Mars/Olympus_Mons"), what="failed")
    error = await page.text_content("#error")
    assert error is not None
    assert error.startswith("400 validation error")
    assert "timezone" in error
    assert await page.is_visible("#error")
    await context.close()


async def test_bad_token_goes_back_to_sign_in_with_the_message(browser: Browser, api: Api) -> None:
    context = await new_context(browser)
    page = await context.new_page()
    await sign_in(page, api, token="not-a-token")
    await page.wait_for_selector("#sign-in-error:not([hidden])", timeout=WAIT_MS)
    message = await page.text_content("#sign-in-error")
    assert message is not None
    assert "401 invalid_credentials" in message and "invalid credentials" in message
    assert await page.is_hidden("#dashboard")
    assert await page.evaluate("() => sessionStorage.getItem('qubicle_reports.token')") is None

    # a good token for an account it may not read: back to sign in, told why
    await page.fill("#token", TOKEN)
    await page.fill("#account", "0" * 32)
    await page.click("#sign-in-form button[type=submit]")
    await page.wait_for_selector("#sign-in-error:has-text('403 forbidden')", timeout=WAIT_MS)
    assert await page.is_hidden("#dashboard")
    await context.close()


async def test_a_page_on_another_origin_calls_the_api_through_cors(
    browser: Browser, api: Api, couch_url: str, seeded: Seeded
) -> None:
    async def blank(request: web.Request) -> web.Response:
        return web.Response(
            text="<!doctype html><title>other origin</title>", content_type="text/html"
        )

    other_app = web.Application()
    other_app.router.add_get("/", blank)
    other = await _serve(other_app)
    origin = str(other.make_url("")).rstrip("/")
    # an API that lists only some other origin: the browser must refuse its answers
    listing = create_app(
        Settings(
            couchdb_url=couch_url,
            tokens={TOKEN: api.account},
            cors_origins=("http://127.0.0.1:1",),
        )
    )
    closed = await _serve(listing)
    context = await new_context(browser)
    page = await context.new_page()
    try:
        await page.goto(origin + "/")
        assert origin != api.url
        got = await page.evaluate(
            """async ({ api, closed, account, token, start, end }) => {
              const path = `/v2/accounts/${account}/qubicle_reports`;
              const json = { "Content-Type": "application/json", "X-Auth-Token": token };
              const body = JSON.stringify({ data: { report: "queues", start_date: start,
                                                   end_date: end, period: "monthly" } });
              const post = await fetch(api + path, { method: "POST", headers: json, body });
              const query = `start_date=${start}&end_date=${end}`;
              const get = await fetch(`${api}${path}/recipients?${query}`,
                                      { headers: { "X-Auth-Token": token } });
              const bad = await fetch(api + path, { method: "POST", body,
                headers: { ...json, "X-Auth-Token": "wrong" } });
              const csv = await fetch(`${api}${path}/queues?${query}&format=csv`,
                                      { headers: { "X-Auth-Token": token } });
              let refused = null;
              try { await fetch(closed + path, { method: "POST", headers: json, body }); }
              catch (e) { refused = e.name; }
              return {
                post: [post.status, post.headers.get("X-Request-ID"), (await post.json()).status],
                get: [get.status, (await get.json()).data[0].report.length],
                bad: [bad.status, await bad.json()],
                csv: [csv.status, csv.headers.get("Content-Disposition")],
                refused,
              };
            }""",
            {
                "api": api.url,
                "closed": str(closed.make_url("")).rstrip("/"),
                "account": api.account,
                "token": TOKEN,
                "start": seeded.start.isoformat(),
                "end": seeded.end.isoformat(),
            },
        )
    finally:
        await context.close()
        await other.close()
        await closed.close()
    assert got["post"][0] == 200 and got["post"][1] and got["post"][2] == "success"
    assert got["get"][0] == 200 and got["get"][1] == len(seeded.account.recipient_ids)
    assert got["bad"][0] == 401
    assert got["bad"][1]["message"] == "invalid_credentials"
    assert got["csv"][0] == 200 and got["csv"][1].startswith("attachment;")  # exposed header
    assert got["refused"] == "TypeError"
    cross = [(m, p) for m, p, o in api.seen if o == origin]
    report_path = f"/v2/accounts/{api.account}/qubicle_reports"
    assert ("OPTIONS", report_path) in cross  # the preflight the browser sent
    assert ("POST", report_path) in cross


async def test_screenshots_and_the_page_s_own_work(
    browser: Browser, api: Api, seeded: Seeded
) -> None:
    """A 3-month daily queues view: screenshots at both sizes, and the Performance API's
    figures for the page's own work (last API answer -> charts drawn) vs the API calls."""
    ARTIFACTS.mkdir(exist_ok=True)
    s = state(seeded)
    hash_ = (
        f"#account={api.account}&report=queues&preset=custom&start={s['start']}"
        f"&end={s['end']}&period=daily&tz=UTC"
    )
    runs = []
    for width, height in ((1920, 1080), (390, 844)):
        context = await new_context(browser, width, height)
        page = await context.new_page()
        await after(page, lambda p=page: sign_in(p, api, path="/dashboard/" + hash_))
        await check_page(page, api, seeded, s)
        folded = width < 600  # a phone shows the settings folded into one line
        settings = page.locator("#settings")
        assert (await settings.get_attribute("open") is None) == folded
        if folded:
            summary = await page.text_content("#settings-summary")
            assert summary == f"Queues · {s['start']} \u2013 {s['end']} · daily · UTC"
            await page.click("#settings-summary")
        loads = []
        for threshold in ("30", "20", "30", "20", "30", "20"):  # warm reloads, as people see it
            await after(page, lambda p=page, t=threshold: p.select_option("#threshold", t))
            loads.append(await page.evaluate(READ_PERF))
        figures = {
            key: round(statistics.median(load[key] for load in loads), 1)
            for key in ("api_ms", "page_ms", "shown_ms", "fetch_ms")
        }
        runs.append({"viewport": f"{width}x{height}", **figures})
        if folded:
            await page.click("#settings-summary")
        await page.screenshot(path=str(ARTIFACTS / f"dashboard-{width}x{height}.png"))
        await page.screenshot(
            path=str(ARTIFACTS / f"dashboard-{width}x{height}-full.png"), full_page=True
        )
        await context.close()
    perf = {
        "view": f"queues, daily, {s['start']}..{s['end']} ({DAYS} days), 4 queues",
        "what": "medians of 6 reloads: api_ms = first request sent .. last answer parsed "
        "(Performance API marks), page_ms = last answer parsed .. tiles, table and charts "
        "drawn, shown_ms = last answer parsed .. the next frame, "
        "fetch_ms = the report fetch's Resource Timing duration",
        "runs": runs,
        "page_share_of_api": [round(r["page_ms"] / r["api_ms"], 3) for r in runs],
    }
    (ARTIFACTS / "perf.json").write_text(json.dumps(perf, indent=2) + "\n")
    print("\ndashboard performance:", json.dumps(perf, indent=2))
    # timings are printed and written (the bar, page work under 20 % of the API time,
    # is read there, not asserted: a loaded machine would fail it); the page did its work
    for r in runs:
        assert r["page_ms"] > 0 and r["api_ms"] > 0, r
    assert all(
        (ARTIFACTS / f"dashboard-{w}.png").stat().st_size > 10_000 for w in ("1920x1080", "390x844")
    )


async def test_date_presets_and_default_periods(browser: Browser, api: Api) -> None:
    """state.js's pure functions, run in the browser, against dates worked out here."""
    context = await new_context(browser)
    page = await context.new_page()
    await page.goto(api.url + "/dashboard/")
    cases = [  # (now, zone): month, year and leap-day edges, a zone behind UTC
        (datetime(2024, 3, 1, 3, 0, tzinfo=UTC), "America/New_York"),
        (datetime(2024, 1, 1, 12, 0, tzinfo=UTC), "UTC"),
        (datetime(2024, 12, 31, 20, 0, tzinfo=UTC), "Asia/Kathmandu"),
    ]
    presets = ["today", "yesterday", "last7", "this_month", "last_month", "last90"]
    got = await page.evaluate(
        """async ({ cases, presets, spans }) => {
          const S = await import("/dashboard/js/state.js");
          return {
            ranges: cases.map(([iso, zone]) =>
              presets.map((p) => S.presetRange(p, zone, new Date(iso)))),
            periods: spans.map((n) =>
              S.defaultPeriod("2024-01-01", S.addDays("2024-01-01", n - 1))),
            hash: S.toHash(S.fromHash("#account=" + "a".repeat(32) +
              "&report=recipients&ids=ok1,<b>x</b>,ok2&queue_ids=q1&tz=Asia/Kolkata&period=weekly")),
          };
        }""",
        {
            "cases": [[now.isoformat(), zone] for now, zone in cases],
            "presets": presets,
            "spans": [1, 2, 3, 93, 94, 190, 191, 366],
        },
    )
    for (now, zone), ranges in zip(cases, got["ranges"], strict=True):
        today = now.astimezone(ZoneInfo(zone)).date()
        first = today.replace(day=1)
        last_month_end = first - timedelta(days=1)
        expected = {
            "today": (today, today),
            "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
            "last7": (today - timedelta(days=6), today),
            "this_month": (first, today),
            "last_month": (last_month_end.replace(day=1), last_month_end),
            "last90": (today - timedelta(days=89), today),
        }
        assert ranges == [[d.isoformat() for d in expected[p]] for p in presets], (now, zone)
    assert got["periods"] == [
        "hourly", "hourly", "daily", "daily", "weekly", "weekly", "monthly", "monthly",
    ]  # fmt: skip
    assert got["hash"] == (
        f"#account={'a' * 32}&report=recipients&preset=last7&period=weekly&tz=Asia%2FKolkata"
        "&ids=ok1%2Cok2&queue_ids=q1"
    )
    await context.close()
