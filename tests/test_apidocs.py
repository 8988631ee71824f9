"""``GET /docs``: the API reference, the service's own ``/openapi.json`` rendered by the
vendored, pinned Swagger UI under the dashboard's strict Content-Security-Policy.

Served like the dashboard's files (one policy, nothing inline, everything from this origin);
in a real headless Chromium (Debian's, as the dashboard's browser tests drive it) the page
shows every operation the document has, with no error and no request to another origin. The
screenshot is written to ``test-artifacts/api-docs.png`` (the docs show a copy).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import async_playwright
from test_dashboard_browser import FLAGS
from test_dashboard_static import STATIC, Page

from app.config import Settings
from app.web.dashboard import CSP
from app.web.server import create_app

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "app" / "web" / "dashboard"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("QUBICLE_REPORTS_CHROMIUM", "/usr/bin/chromium")
METHODS = ("get", "post", "put", "delete", "patch", "options", "head")


@pytest.fixture(scope="module")
async def server(couch_url: str) -> AsyncIterator[TestServer]:
    s = TestServer(create_app(Settings(couchdb_url=couch_url, tokens={"t": "a" * 32})))
    await s.start_server()
    yield s
    await s.close()


@pytest.fixture
async def client(server: TestServer) -> AsyncIterator[aiohttp.ClientSession]:
    # a session of its own: a TestClient would close the module's server when it is done
    async with aiohttp.ClientSession(base_url=str(server.make_url(""))) as c:
        yield c


def docs_page() -> Page:
    p = Page()
    p.feed((STATIC / "docs.html").read_text())
    return p


async def test_docs_is_served_under_the_strict_policy_with_nothing_inline(
    client: aiohttp.ClientSession,
) -> None:
    async with client.get("/docs") as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        assert r.headers["Content-Security-Policy"] == CSP
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "ETag" in r.headers
    p = docs_page()
    assert p.inline == []
    for url in [*p.scripts, *p.styles]:
        assert url.startswith("/dashboard/"), url  # this origin only
        async with client.get(url) as r:
            assert r.status == 200, url
    dashboard = (STATIC / "index.html").read_text()
    assert 'href="/docs"' in dashboard  # linked from the dashboard


def test_vendored_swagger_ui_is_the_pinned_version() -> None:
    lock = json.loads((VENDOR / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/swagger-ui-dist"]["version"]
    wanted = json.loads((VENDOR / "package.json").read_text())["dependencies"]["swagger-ui-dist"]
    assert wanted == pinned
    licences = (STATIC / "vendor" / "swagger-ui" / "LICENSES.txt").read_text()
    assert licences.startswith(f"swagger-ui-dist {pinned}\n") and "Apache License" in licences
    bundle = (STATIC / "vendor" / "swagger-ui" / "swagger-ui-bundle.js").read_text()
    assert "sourceMappingURL" not in bundle[-400:]


def chromium() -> str:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium missing at {CHROMIUM}: .ci/run installs Debian's chromium")
        pytest.skip("Chromium missing (apt-get install chromium)")
    return CHROMIUM


async def test_chromium_shows_every_operation_of_the_openapi_document(
    server: TestServer, client: aiohttp.ClientSession
) -> None:
    async with client.get("/openapi.json") as r:
        spec = await r.json()
    wanted = sorted(
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method in item
        if method in METHODS
    )
    assert len(wanted) >= 10
    base = str(server.make_url("")).rstrip("/")
    errors: list[str] = []
    urls: list[str] = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium(), args=FLAGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("request", lambda r: urls.append(r.url))
            await page.goto(base + "/docs")
            await page.wait_for_selector(".opblock", timeout=60_000)
            shown = await page.eval_on_selector_all(
                ".opblock .opblock-summary",
                """els => els.map(e => [
                    e.querySelector('.opblock-summary-method').textContent.trim(),
                    e.querySelector('.opblock-summary-path').getAttribute('data-path')])""",
            )
            title = await page.text_content(".info .title")
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "api-docs.png"))
            # open the report operation: its parameters, request body and answers render too
            report = page.locator(".opblock-post .opblock-summary").first
            await report.click()
            await page.wait_for_selector(".opblock-post .opblock-body .responses-table")
            opened = await page.text_content(".opblock-post .opblock-body")
            await page.screenshot(path=str(ARTIFACTS / "api-docs-report.png"))
        finally:
            await browser.close()
    assert sorted(map(tuple, shown)) == wanted
    assert title and spec["info"]["title"] in title
    assert opened and "503" in opened and "400" in opened  # its errors are documented
    assert errors == []  # a CSP violation is a console error
    assert all(u.startswith(base + "/") for u in urls), [u for u in urls if base not in u]
