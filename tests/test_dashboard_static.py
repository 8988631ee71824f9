"""The dashboard's files as HTTP serves them: redirects, compression, cache validators, the
page's Content-Security-Policy, the transfer budget, and the pinned chart library."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from app.config import Settings
from app.web.server import create_app

ROOT = Path(__file__).resolve().parent.parent / "app" / "web" / "dashboard"
STATIC = ROOT / "static"
BUDGET = 400 * 1024  # bytes of JS + CSS the page may transfer, compressed


@pytest.fixture(scope="module")
async def client(couch_url: str) -> AsyncIterator[TestClient]:
    server = TestServer(create_app(Settings(couchdb_url=couch_url)))
    async with TestClient(server, auto_decompress=False) as c:
        yield c


class Page(HTMLParser):
    """What index.html loads, and anything inline that a strict CSP would refuse."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"] or "")
            else:
                self.inline.append("<script> without src")
        if tag == "link" and a.get("rel") == "stylesheet":
            self.styles.append(a.get("href") or "")
        if tag == "style":
            self.inline.append("<style>")
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.inline.append(f"{tag}[{name}]")


def page() -> Page:
    p = Page()
    p.feed((STATIC / "index.html").read_text())
    return p


def module_imports(path: Path) -> list[Path]:
    """Every JS module reachable from ``path`` by static imports."""
    seen: list[Path] = []
    todo = [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.append(current)
        for spec in re.findall(r'from\s+"(\./[^"]+)"', current.read_text()):
            todo.append((current.parent / spec).resolve())
    return seen


async def test_root_and_bare_path_redirect_to_the_dashboard(client: TestClient) -> None:
    for path in ("/", "/dashboard"):
        async with client.get(path, allow_redirects=False) as r:
            assert r.status == 302
            assert r.headers["Location"] == "/dashboard/"


async def test_page_has_a_strict_csp_and_nothing_inline(client: TestClient) -> None:
    async with client.get("/dashboard/") as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/html; charset=utf-8"
        csp = {
            d.split()[0]: d.split()[1:] for d in r.headers["Content-Security-Policy"].split("; ")
        }
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    assert csp["default-src"] == ["'none'"]
    for directive in ("script-src", "style-src", "connect-src", "img-src"):
        assert csp[directive] == ["'self'"], directive
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert page().inline == []


@pytest.mark.parametrize("name", ["index.html", "app.css", "js/main.js", "vendor/chart.umd.min.js"])
async def test_files_are_gzipped_with_validators(client: TestClient, name: str) -> None:
    raw = (STATIC / name).read_bytes()
    url = "/dashboard/" + ("" if name == "index.html" else name)
    async with client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}) as r:
        assert r.status == 200
        assert r.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in r.headers["Vary"]
        body = await r.read()
        etag, modified = r.headers["ETag"], r.headers["Last-Modified"]
    assert gzip.decompress(body) == raw
    assert len(body) < len(raw)
    async with client.get(url, headers={"Accept-Encoding": "identity"}) as r:
        assert "Content-Encoding" not in r.headers
        assert await r.read() == raw
        assert r.headers["ETag"] == etag
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        async with client.get(url, headers=headers) as r:
            assert r.status == 304
            assert await r.read() == b""
            assert r.headers["ETag"] == etag
    async with client.get(url, headers={"If-None-Match": '"something-else"'}) as r:
        assert r.status == 200


async def test_what_the_page_loads_fits_the_budget(client: TestClient) -> None:
    p = page()
    assert p.styles == ["app.css"]
    modules = module_imports(STATIC / "js" / "main.js")
    assert {m.name for m in modules} >= {"main.js", "api.js", "charts.js", "state.js", "view.js"}
    urls = [*p.styles, *p.scripts, *(m.relative_to(STATIC).as_posix() for m in modules)]
    total = 0
    for url in dict.fromkeys(urls):
        async with client.get("/dashboard/" + url, headers={"Accept-Encoding": "gzip"}) as r:
            assert r.status == 200, url
            total += len(await r.read())
    print(f"\ndashboard JS+CSS transferred: {total / 1024:.1f} KB gzip ({len(urls)} files)")
    assert total <= BUDGET


async def test_unknown_files_are_404s(client: TestClient) -> None:
    for url in ("/dashboard/nope.js", "/dashboard/../app/http.py", "/dashboard/js/../../x"):
        async with client.get(url) as r:
            assert r.status == 404
            assert (await r.json())["message"] == "not_found"


def test_vendored_chart_library_is_the_pinned_version() -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/chart.js"]["version"]
    assert json.loads((ROOT / "package.json").read_text())["dependencies"]["chart.js"] == pinned
    head = (STATIC / "vendor" / "chart.umd.min.js").read_text()[:200]
    assert f"Chart.js v{pinned}\n" in head
    licences = (STATIC / "vendor" / "LICENSES.txt").read_text()
    assert f"Chart.js {pinned}" in licences and "MIT License" in licences
