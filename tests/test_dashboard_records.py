"""The dashboard's click-through and an agent's day, in a real headless Chromium against the
service and the tests' CouchDB, over one account holding both shapes (Qubicle sessions and
ACDC call and status stats).

A number of any view opens a panel whose rows are exactly the record report's answer for
the same range, zone, bucket, entity and the metric's filter (CONTRACT 8d, asked of the API
here, never written down); a count's panel holds as many rows as the number says; *Load
more* goes on without repeating a row; Esc closes it and focus goes back. The timeline's
strips hold exactly the day's ``agent_intervals``. A bucket without calls is a gap (null, not
0) that says why on hover; today's bucket is marked as so far. Screenshots of the panel and
the timeline at 390x844 and 1920x1080 go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from conftest import seed_account
from playwright.async_api import Browser, Page
from test_dashboard_browser import (
    ARTIFACTS,
    READ_PAGE,
    TOKEN,
    WAIT_MS,
    Api,
    Watch,
    _serve,
    after,
    browser,
    chromium,
    new_context,
    sign_in,
)

from app.config import Settings
from app.couch.client import Couch
from app.web.server import create_app

__all__ = ["browser", "chromium"]

DAYS = 6  # the days before today, and today
CLOCK = re.compile(r"^\d+:\d{2}(:\d{2})?$")  # a duration as the panel shows it: m:ss
WALL = re.compile(r"^[A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2}$")  # "Nov 2 07:56:29"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass
class Mixed:
    account_id: str
    queue_ids: list[str]
    agent_ids: list[str]
    today: date
    past: tuple[str, str]  # a range in the past: its figures no longer move


@pytest.fixture(scope="module")
async def mixed(couch: Couch, session_accounts: Any) -> Mixed:
    today = datetime.now(UTC).date()
    start = today - timedelta(days=DAYS)
    acc = await seed_account(
        couch,
        session_accounts.new(),
        seed=47,
        source="both",
        queues=3,
        recipients=5,
        days=DAYS + 1,
        calls_per_day=40,
        start=start,
    )
    yesterday = (today - timedelta(days=1)).isoformat()
    return Mixed(
        acc.account_id,
        acc.queue_ids,
        acc.recipient_ids,
        today,
        (start.isoformat(), yesterday),
    )


@pytest.fixture(scope="module")
async def api(couch_url: str, mixed: Mixed) -> AsyncIterator[Api]:
    settings = Settings(couchdb_url=couch_url, tokens={TOKEN: mixed.account_id}, report_timeout=600)
    server: TestServer = await _serve(create_app(settings))
    out = Api(str(server.make_url("")).rstrip("/"), mixed.account_id)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=900)) as http:
        for report in ("queues", "recipients", "agent_states"):  # build the indexes first
            await post(
                http,
                out,
                {
                    "report": report,
                    "start_date": mixed.past[0],
                    "end_date": mixed.past[1],
                    "period": "monthly",
                },
            )
    yield out
    await server.close()


async def post(http: aiohttp.ClientSession, api: Api, data: dict[str, Any]) -> dict[str, Any]:
    async with http.post(
        f"{api.url}/v2/accounts/{api.account}/qubicle_reports",
        json={"data": data},
        headers={"X-Auth-Token": TOKEN},
    ) as r:
        assert r.status == 200, await r.text()
        return dict(await r.json())


async def aggregate(api: Api, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """An aggregate report's items by id, with totals."""
    async with aiohttp.ClientSession() as http:
        body = await post(http, api, {**data, "totals": True})
    return {item["id"]: item["data"] for item in body["data"][0]["report"]}


async def records(api: Api, data: dict[str, Any], pages: int = 1000) -> list[dict[str, Any]]:
    """Up to ``pages`` pages of 50 rows of a record report, as the API answers them."""
    rows: list[dict[str, Any]] = []
    key = None
    async with aiohttp.ClientSession() as http:
        for _ in range(pages):
            page = {**data, "page_size": 50, **({"start_key": key} if key else {})}
            body = await post(http, api, page)
            rows.extend(body["data"])
            key = body.get("next_start_key")
            if not key:
                break
    return rows


def view(api: Api, report: str, start: str, end: str, period: str = "daily", **kw: str) -> str:
    extra = "".join(f"&{k}={v}" for k, v in kw.items())
    return (
        f"/dashboard/#account={api.account}&report={report}&preset=custom&start={start}"
        f"&end={end}&period={period}&tz=UTC{extra}"
    )


READ_PANEL = """() => {
  const d = document.getElementById("records");
  return {
    open: d.open,
    pages: Number(d.dataset.pages),
    title: document.getElementById("records-title").textContent,
    head: [...d.querySelectorAll("thead th")].map((th) => th.textContent),
    rows: [...d.querySelectorAll("tbody tr")].map((tr) => JSON.parse(tr.dataset.row)),
    cells: [...d.querySelectorAll("tbody tr")].map((tr) =>
      [...tr.querySelectorAll("td")].map((td) => td.textContent)),
    more: !document.getElementById("records-more").hidden,
    count: document.getElementById("records-count").textContent,
  };
}"""


async def panel_after(page: Page, pages: int) -> dict[str, Any]:
    await page.wait_for_selector(
        f'#records[open][data-pages="{pages}"]', state="attached", timeout=WAIT_MS
    )
    return dict(await page.evaluate(READ_PANEL))


async def opened(page: Page) -> dict[str, Any]:
    """The panel just opened, with every row loaded."""
    await panel_after(page, 1)
    return await read_all(page)


async def read_all(page: Page) -> dict[str, Any]:
    """Press Load more until the panel has every row; return what it shows."""
    shown = dict(await page.evaluate(READ_PANEL))
    while shown["more"]:
        await page.click("#records-more")
        shown = await panel_after(page, shown["pages"] + 1)
    return shown


def wall(iso: str) -> str:
    """How the panel shows a record's time: its own wall clock, "Nov 2 07:56:29"."""
    moment = datetime.fromisoformat(iso)
    return f"{MONTHS[moment.month - 1]} {moment.day} {moment:%H:%M:%S}"


def clock(seconds: float) -> str:
    s = round(seconds)
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


async def focused(page: Page) -> dict[str, Any]:
    return dict(
        await page.evaluate("""() => {
      const a = document.activeElement;
      return { tag: a.tagName, id: a.id, metric: a.closest("td")?.dataset.metric,
               row: a.closest("tr")?.dataset.id, agent: a.dataset.agent };
    }""")
    )


# -- the tests --------------------------------------------------------------------------------


async def test_a_table_cell_opens_exactly_its_records(
    browser: Browser, api: Api, mixed: Mixed
) -> None:
    """An abandoned-calls cell of one queue: the panel lists the API's visits, as many as the
    cell says, readable; Esc closes and focus is back on the cell; its CSV is the API's."""
    start, end = mixed.past
    items = await aggregate(
        api,
        {
            "report": "queues",
            "start_date": start,
            "end_date": end,
            "period": "daily",
            "metrics": ["abandon_count"],
        },
    )
    queue = max(mixed.queue_ids, key=lambda q: items[q]["abandon_count"]["total"])
    count = items[queue]["abandon_count"]["total"]
    assert count > 0

    context = await new_context(browser)
    page = await context.new_page()
    watch = Watch(page)
    await after(page, lambda: sign_in(page, api, path=view(api, "queues", start, end)))
    cell = page.locator(f'#table tr[data-id="{queue}"] td[data-metric="abandon_count"] button')
    assert await cell.text_content() == str(count)
    await cell.focus()
    await page.keyboard.press("Enter")
    await panel_after(page, 1)
    shown = await read_all(page)
    want = await records(
        api,
        {
            "report": "visits",
            "start_date": start,
            "end_date": end,
            "timezone": "UTC",
            "identifiers": [queue],
            "results": ["abandoned"],
        },
    )
    assert shown["rows"] == want
    assert len(shown["rows"]) == count
    assert {r["result"] for r in want} == {"abandoned"} and {r["queue_id"] for r in want} == {queue}
    assert "Abandoned" in shown["title"] and "all shown" in shown["count"]
    head = shown["head"]
    for row, cells in zip(want, shown["cells"], strict=True):
        assert cells[head.index("Entered")] == wall(row["entered"])
        assert cells[head.index("Wait")] == clock(row["wait_time"])
        assert CLOCK.match(cells[head.index("Wait")]) and WALL.match(cells[head.index("Entered")])

    async with page.expect_download() as info:
        await page.click("#records-csv")
    got = Path(await (await info.value).path()).read_bytes()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{api.url}/v2/accounts/{api.account}/qubicle_reports",
            json={
                "data": {
                    "report": "visits",
                    "start_date": start,
                    "end_date": end,
                    "timezone": "UTC",
                    "identifiers": [queue],
                    "results": ["abandoned"],
                    "format": "csv",
                }
            },
            headers={"X-Auth-Token": TOKEN},
        ) as r,
    ):
        assert r.status == 200
        assert got == await r.read()
    assert got.count(b"\n") == count + 1  # a header line and the rows

    await page.keyboard.press("Escape")
    await page.wait_for_selector("#records:not([open])", state="attached")
    assert await focused(page) == {
        "tag": "BUTTON",
        "id": "",
        "metric": "abandon_count",
        "row": queue,
        "agent": None,
    }
    assert watch.dialogs == [] and watch.errors == []
    await context.close()


async def test_load_more_goes_on_without_repeating(
    browser: Browser, api: Api, mixed: Mixed
) -> None:
    """A queue's calls over the range (more than a page): each Load more adds the API's next
    page, none twice; the totals row lists every queue's calls."""
    start, end = mixed.past
    context = await new_context(browser)
    page = await context.new_page()
    await after(page, lambda: sign_in(page, api, path=view(api, "queues", start, end)))
    counts = await aggregate(
        api,
        {"report": "queues", "start_date": start, "end_date": end, "metrics": ["call_count"]},
    )
    # the busiest queue: its calls fill more than a page whatever weekdays the range holds
    queue = max(mixed.queue_ids, key=lambda q: counts[q]["call_count"]["total"])
    calls = counts[queue]["call_count"]["total"]
    assert calls > 50
    await page.click(f'#table tr[data-id="{queue}"] td[data-metric="call_count"] button')
    first = await panel_after(page, 1)
    assert len(first["rows"]) == 50 and first["more"]
    await page.click("#records-more")
    second = await panel_after(page, 2)
    want = await records(
        api,
        {
            "report": "visits",
            "start_date": start,
            "end_date": end,
            "timezone": "UTC",
            "identifiers": [queue],
        },
        pages=2,
    )
    assert second["rows"] == want and len(want) == min(100, calls)
    keys = [r["id"] for r in second["rows"]]
    assert len(set(keys)) == len(keys)
    assert second["rows"][:50] == first["rows"]
    await page.click("#records-close")

    # the totals row's calls: every queue's (no identifiers), all of them
    items = await aggregate(
        api,
        {
            "report": "queues",
            "start_date": start,
            "end_date": end,
            "period": "daily",
            "metrics": ["call_count"],
        },
    )
    await page.click('#table tfoot td[data-metric="timeout_count"] button')
    await panel_after(page, 1)
    shown = await read_all(page)
    want = await records(
        api,
        {
            "report": "visits",
            "start_date": start,
            "end_date": end,
            "timezone": "UTC",
            "results": ["timeout"],
        },
    )
    assert shown["rows"] == want
    totals = await aggregate(
        api,
        {
            "report": "queues",
            "start_date": start,
            "end_date": end,
            "period": "monthly",
            "metrics": ["timeout_count"],
            "totals": True,
        },
    )
    assert len(want) == totals["total"]["timeout_count"]["total"]
    assert {r["queue_id"] for r in want} <= set(items)
    await context.close()


async def test_bars_points_and_the_keyboard_open_their_bucket(
    browser: Browser, api: Api, mixed: Mixed
) -> None:
    """A bar segment (a day's abandoned calls, every queue), a point of the service-level line
    chosen from the keyboard (answered within the threshold), and an agent's missed offers
    in the ranking: each panel is the API's records of that bucket and filter."""
    start, end = mixed.past
    context = await new_context(browser)
    page = await context.new_page()
    watch = Watch(page)
    await after(page, lambda: sign_in(page, api, path=view(api, "queues", start, end)))
    shown = await page.evaluate(READ_PAGE)
    abandoned = shown["outcomes"]["datasets"][1]
    assert abandoned["label"] == "Abandoned"
    index = max(range(len(abandoned["data"])), key=lambda i: abandoned["data"][i])
    bucket = (date.fromisoformat(start) + timedelta(days=index)).strftime("%Y%m%d")
    x, y = await page.evaluate(
        """(i) => { const c = Chart.getChart(document.getElementById("chart-outcomes"));
                    const bar = c.getDatasetMeta(1).data[i];
                    const box = c.canvas.getBoundingClientRect();
                    return [box.left + bar.x, box.top + (bar.y + bar.base) / 2]; }""",
        index,
    )
    await page.mouse.click(x, y)
    panel = await opened(page)
    want = await records(
        api,
        {
            "report": "visits",
            "start_date": start,
            "end_date": end,
            "timezone": "UTC",
            "period": "daily",
            "bucket": bucket,
            "results": ["abandoned"],
        },
    )
    assert panel["rows"] == want and len(want) == abandoned["data"][index] > 0
    await page.keyboard.press("Escape")
    assert (await focused(page))["id"] == "chart-outcomes"

    # the line, from the keyboard: Home, one to the right, Enter
    await page.focus("#chart-line")
    await page.keyboard.press("Home")
    await page.keyboard.press("ArrowRight")
    await page.keyboard.press("Enter")
    panel = await opened(page)
    second = (date.fromisoformat(start) + timedelta(days=1)).strftime("%Y%m%d")
    want = await records(
        api,
        {
            "report": "visits",
            "start_date": start,
            "end_date": end,
            "timezone": "UTC",
            "period": "daily",
            "bucket": second,
            "results": ["answered"],
            "wait_max": 20,
        },
    )
    assert panel["rows"] == want
    assert all(r["wait_time"] <= 20 for r in want)
    assert "Service level (≤ 20 s)" in panel["title"]
    await page.keyboard.press("Escape")
    assert (await focused(page))["id"] == "chart-line"

    # the agents view: the first agent of the ranking, its answered offers
    await after(page, lambda: page.check('input[name=report][value="recipients"]'))
    shown = await page.evaluate(READ_PAGE)
    await page.focus("#chart-ranked")
    await page.keyboard.press("Home")
    await page.keyboard.press("Enter")
    panel = await opened(page)
    top = max(shown["rows"], key=lambda r: r["cells"]["call_count"])

    async def offers(result: str) -> list[dict[str, Any]]:
        """The top agent's offers with that result, as the API lists them."""
        query = {"report": "offers", "start_date": start, "end_date": end, "timezone": "UTC"}
        return await records(api, {**query, "identifiers": [top["id"]], "results": [result]})

    want = await offers("answered")
    assert panel["rows"] == want and len(want) == top["cells"]["call_count"]
    # the agents' offers come from both shapes (an agent may work Qubicle queues only)
    every = await records(
        api,
        {"report": "offers", "start_date": start, "end_date": end, "results": ["answered"]},
    )
    assert {r["source"] for r in every} == {"qubicle_session", "call_stat"}
    await page.keyboard.press("Escape")
    # a missed-offers cell of the same agent
    await page.click(f'#table tr[data-id="{top["id"]}"] td[data-metric="missed_call_count"] button')
    panel = await opened(page)
    want = await offers("missed")
    assert panel["rows"] == want and len(want) == top["cells"]["missed_call_count"]
    assert watch.dialogs == [] and watch.errors == []
    await context.close()


async def test_an_agents_day_is_its_intervals(browser: Browser, api: Api, mixed: Mixed) -> None:
    """Agents' time: the timeline of a past day holds exactly the day's agent_intervals, per
    agent, coloured as the stacked bars; focus and arrows show an interval, Enter lists that
    state's intervals; a cell's seconds are the sum of its intervals' seconds."""
    start, end = mixed.past
    context = await new_context(browser)
    page = await context.new_page()
    watch = Watch(page)
    await after(page, lambda: sign_in(page, api, path=view(api, "agent_states", start, end)))
    await page.wait_for_selector('body[data-timeline="1"]', state="attached", timeout=WAIT_MS)
    day = (date.fromisoformat(end) - timedelta(days=1)).isoformat()
    await page.select_option("#timeline-day", day)
    await page.wait_for_selector('body[data-timeline="2"]', state="attached", timeout=WAIT_MS)
    strips = await page.evaluate("""() => [...document.querySelectorAll(".tl-strip")].map((s) => ({
        agent: s.dataset.agent,
        rows: [...s.querySelectorAll(".tl-seg")].map((g) => JSON.parse(g.dataset.row)),
        colors: [...s.querySelectorAll(".tl-seg")]
          .map((g) => [g.dataset.state, g.style.backgroundColor]),
      }))""")
    want = await records(
        api,
        {
            "report": "agent_intervals",
            "start_date": start,
            "end_date": end,
            "timezone": "UTC",
            "period": "daily",
            "bucket": day.replace("-", ""),
        },
    )
    assert want
    got = {s["agent"]: s["rows"] for s in strips if s["rows"]}
    assert got == {
        a: [r for r in want if r["agent_id"] == a] for a in {r["agent_id"] for r in want}
    }
    palette = {
        "ready": "rgb(86, 180, 233)",
        "ringing": "rgb(230, 159, 0)",
        "talking": "rgb(0, 158, 115)",
        "wrapup": "rgb(0, 114, 178)",
        "paused": "rgb(213, 94, 0)",
        "outbound": "rgb(204, 121, 167)",
    }
    for s in strips:
        for state, color in s["colors"]:
            assert state not in palette or palette[state] == color

    # the keyboard: the first strip with a pause; End goes to its last interval
    agent = next(s["agent"] for s in strips if any(r["state"] == "paused" for r in s["rows"]))
    rows = got[agent]
    strip = page.locator(f'.tl-strip[data-agent="{agent}"]')
    await strip.focus()
    await page.keyboard.press("Home")
    tip = await page.text_content("#timeline-tip")
    first = rows[0]
    assert tip is not None and f"{wall(first['from'])[-8:]} \u2013 {wall(first['to'])[-8:]}" in tip
    assert clock(first["seconds"]) in tip
    paused = next(i for i, r in enumerate(rows) if r["state"] == "paused")
    for _ in range(paused):
        await page.keyboard.press("ArrowRight")
    tip = await page.text_content("#timeline-tip")
    assert tip is not None and tip.startswith("Paused")
    if "pause_alias" in rows[paused]:
        assert rows[paused]["pause_alias"] in tip
    if "planned" in rows[paused]:
        assert "planned" in tip
    await page.keyboard.press("Enter")
    panel = await opened(page)
    assert panel["rows"] == [r for r in rows if r["state"] == "paused"]
    await page.keyboard.press("Escape")
    assert (await focused(page))["agent"] == agent

    # the law in a cell: an agent's talk over the range is the sum of its intervals' seconds
    shown = await page.evaluate(READ_PAGE)
    row = max(shown["rows"], key=lambda r: r["cells"]["talk_time"])
    await page.click(f'#table tr[data-id="{row["id"]}"] td[data-metric="talk_time"] button')
    panel = await opened(page)
    assert {r["state"] for r in panel["rows"]} == {"talking"}
    assert sum(r["seconds"] for r in panel["rows"]) == row["cells"]["talk_time"] > 0
    await page.keyboard.press("Escape")
    # both shapes in one account: the note says why the two views' talk differs
    note = await page.text_content("#talk-note")
    assert note is not None and await page.is_visible("#talk-note")
    assert "Qubicle sessions" in note and "ACDC status events only" in note
    # the day is in the link: opened again, the page shows the same day's timeline
    link = await page.evaluate("location.href")
    assert f"day={day}" in link
    await page.goto("about:blank")  # the same tab: its sign-in is kept for it
    await page.goto(link)
    await page.wait_for_selector('body[data-timeline="1"]', state="attached", timeout=WAIT_MS)
    assert await page.input_value("#timeline-day") == day
    drawn = await page.evaluate(
        """() => [...document.querySelectorAll(".tl-strip .tl-seg")]
          .map((g) => JSON.parse(g.dataset.row))"""
    )
    assert sorted(drawn, key=lambda r: (r["agent_id"], r["from_timestamp"])) == sorted(
        want, key=lambda r: (r["agent_id"], r["from_timestamp"])
    )
    assert watch.dialogs == [] and watch.errors == []
    await context.close()


async def test_an_empty_bucket_is_a_gap_and_today_is_so_far(
    browser: Browser, api: Api, mixed: Mixed
) -> None:
    """Hourly yesterday: an hour without calls has no service level (null, a gap, and the
    hover says why), where the API answers 0. Daily up to today: today's bucket says so far,
    in the labels, the bars, the note and every sparkline."""
    day = (mixed.today - timedelta(days=1)).isoformat()
    context = await new_context(browser)
    page = await context.new_page()
    watch = Watch(page)
    await after(page, lambda: sign_in(page, api, path=view(api, "queues", day, day, "hourly")))
    items = await aggregate(
        api,
        {
            "report": "queues",
            "start_date": day,
            "end_date": day,
            "period": "hourly",
            "metrics": ["call_count", "service_level"],
            "totals": True,
        },
    )
    total = items["total"]
    buckets = sorted(k for k in total["call_count"] if k != "total")
    line = (await page.evaluate(READ_PAGE))["line"]["datasets"][0]["data"]
    empty = [i for i, b in enumerate(buckets) if total["call_count"][b] == 0]
    assert empty, "the seeded day has hours without calls"
    assert all(total["service_level"][buckets[i]] == 0 for i in empty)  # the API says 0
    assert line == [
        None if total["call_count"][b] == 0 else total["service_level"][b] for b in buckets
    ]
    # the hover over a gap says why
    x, y = await page.evaluate(
        """(i) => { const c = Chart.getChart(document.getElementById("chart-line"));
                    const box = c.canvas.getBoundingClientRect();
                    return [box.left + c.scales.x.getPixelForValue(i),
                            box.top + (c.chartArea.top + c.chartArea.bottom) / 2]; }""",
        empty[0],
    )
    await page.mouse.move(x, y)
    lines = await page.evaluate(
        """() => Chart.getChart(document.getElementById("chart-line")).tooltip.body
                   .flatMap((b) => b.lines)"""
    )
    assert lines == ["No calls in this hour"]

    # daily up to today: today is marked
    start = (mixed.today - timedelta(days=3)).isoformat()
    await after(
        page, lambda: page.goto(api.url + view(api, "queues", start, mixed.today.isoformat()))
    )
    shown = await page.evaluate(READ_PAGE)
    labels = shown["outcomes"]["labels"]
    assert labels[-1].endswith("(so far)") and not any(x.endswith("(so far)") for x in labels[:-1])
    colors = await page.evaluate(
        """() => Chart.getChart(document.getElementById("chart-outcomes")).data.datasets
                   .map((d) => d.backgroundColor)"""
    )
    for c in colors:
        assert len(set(c[:-1])) == 1 and c[-1] != c[0]  # the last bar lighter
    assert await page.is_visible("#partial-note")
    assert "so far" in (await page.text_content("#partial-note") or "")
    sparks = await page.locator("#table tbody tr td.trend svg").count()
    assert sparks == len(shown["rows"]) > 0
    assert await page.locator("#table tbody tr td.trend svg circle.so-far").count() == sparks
    assert watch.dialogs == [] and watch.errors == []
    await context.close()


async def test_panel_and_timeline_screenshots(browser: Browser, api: Api, mixed: Mixed) -> None:
    """At a phone's 390 px and a wallboard's 1920 px: the per-agent table scrolls sideways
    under a fixed name column with a cue, nothing else does; the panel and the timeline fit.
    Screenshots to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    start, end = mixed.past
    for width, height in ((1920, 1080), (390, 844)):
        context = await new_context(browser, width, height)
        page = await context.new_page()
        watch = Watch(page)
        await after(
            page, lambda p=page: sign_in(p, api, path=view(api, "agent_states", start, end))
        )
        await page.wait_for_selector("body[data-timeline]", state="attached", timeout=WAIT_MS)
        overflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow == 0
        more = await page.get_attribute(".table-scroll", "data-more")
        assert more == ("right" if width < 600 else "")
        if width < 600:
            assert await page.is_visible(".scroll-chip")
            name = page.locator("#table tbody th.name").first
            before = await name.bounding_box()
            await page.evaluate("document.querySelector('#table').parentElement.scrollLeft = 200")
            await page.wait_for_selector('.table-scroll[data-more="both"]', state="attached")
            assert await name.bounding_box() == before  # sticky: the names stay put
        card = page.locator("#timeline-card")
        await card.scroll_into_view_if_needed()
        await page.locator(".tl-strip").nth(1).focus()
        for _ in range(6):
            await page.keyboard.press("ArrowRight")
        assert await page.is_visible("#timeline-tip")
        tip = await page.locator("#timeline-tip").bounding_box()
        assert tip is not None and tip["x"] >= 0 and tip["x"] + tip["width"] <= width
        await card.screenshot(path=str(ARTIFACTS / f"dashboard-timeline-{width}x{height}.png"))
        await page.keyboard.press("Enter")
        await panel_after(page, 1)
        box = await page.locator("#records").bounding_box()
        assert box is not None and box["width"] <= width
        await page.screenshot(path=str(ARTIFACTS / f"dashboard-records-{width}x{height}.png"))
        await page.keyboard.press("Escape")
        await page.click('#table tfoot td[data-metric="paused_time"] button')
        await panel_after(page, 1)
        # the panel's table, wider than a phone, says so as the per-agent table does
        cue = "#records .table-scroll"
        await page.wait_for_selector(
            f'{cue}[data-more="{"right" if width < 600 else ""}"]', state="attached"
        )
        assert await page.is_visible(f"{cue} .scroll-chip") == (width < 600)
        await page.screenshot(path=str(ARTIFACTS / f"dashboard-records-all-{width}x{height}.png"))
        if width < 600:
            await page.evaluate(
                "document.querySelector('#records-table').parentElement.scrollLeft = 10000"
            )
            await page.wait_for_selector(f'{cue}[data-more="left"]', state="attached")
            assert not await page.is_visible(f"{cue} .scroll-chip")
        assert watch.dialogs == [] and watch.errors == []
        await context.close()
    for name in ("timeline", "records"):
        for size in ("1920x1080", "390x844"):
            assert (ARTIFACTS / f"dashboard-{name}-{size}.png").stat().st_size > 10_000


async def test_the_running_bucket_s_key_is_the_api_s(browser: Browser, api: Api) -> None:
    """buckets.js's keys, run in the browser, against CONTRACT 4 worked out here: weekly is
    the %Y%U of the Sunday that starts the week (a week never splits at New Year), and the
    bucket running now in a zone is the one holding the zone's wall clock."""
    context = await new_context(browser)
    page = await context.new_page()
    await page.goto(api.url + "/dashboard/")
    days = [date(2016, 12, 25) + timedelta(days=n) for n in range(0, 3000, 13)]
    days += [date(2017, 12, 31), date(2018, 1, 6), date(2023, 1, 1), date(2022, 1, 1)]
    now = datetime.now(UTC)
    zones = ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Kiritimati"]
    got = await page.evaluate(
        """async ({ days, zones }) => {
          const B = await import("/dashboard/js/buckets.js");
          const parts = (iso) => { const [y, m, d] = iso.split("-").map(Number);
                                   return { y, m, d, h: 7 }; };
          return {
            keys: days.map((iso) => ["hourly", "daily", "weekly", "monthly"]
              .map((p) => B.bucketKey(p, parts(iso)))),
            now: zones.map((z) => B.currentBucket("hourly", z)),
          };
        }""",
        {"days": [d.isoformat() for d in days], "zones": zones},
    )
    for day, keys in zip(days, got["keys"], strict=True):
        sunday = day - timedelta(days=(day.weekday() + 1) % 7)
        assert keys == [
            day.strftime("%Y%m%d07"),
            day.strftime("%Y%m%d"),
            sunday.strftime("%Y%U"),
            day.strftime("%Y%m"),
        ], day
    for zone, key in zip(zones, got["now"], strict=True):
        wall_now = now.astimezone(ZoneInfo(zone))
        later = wall_now + timedelta(minutes=1)  # the hour may turn while the page asks
        assert key in {wall_now.strftime("%Y%m%d%H"), later.strftime("%Y%m%d%H")}
    await context.close()
