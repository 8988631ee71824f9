"""The reporting dashboard: static files under ``static/``, served at ``/dashboard/``; and the
API reference page (``/docs``, ``static/docs.html``: Swagger UI over ``/openapi.json``).

Everything the page needs ships in the package (the chart library is vendored, see
``vendor.sh``), so it works on closed networks. Files are read and gzip-compressed once at
start-up and served from memory with an ``ETag`` and ``Last-Modified``: a browser revalidates
with ``If-None-Match`` and gets a 304 when nothing changed. The page itself carries a strict
Content-Security-Policy: scripts, styles and API calls from this origin only, nothing inline.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from aiohttp import hdrs, web

STATIC = Path(__file__).parent / "static"
PREFIX = "/dashboard/"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".txt": "text/plain"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    content_type: str
    etag: str
    last_modified: str


@functools.cache
def load_assets(root: Path = STATIC) -> dict[str, Asset]:
    """Every file under ``root`` by its path relative to it, compressed once per process."""
    assets: dict[str, Asset] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        body = path.read_bytes()
        ctype = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        ctype = ctype or "application/octet-stream"
        if ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        assets[path.relative_to(root).as_posix()] = Asset(
            body=body,
            gzipped=gzip.compress(body, 9, mtime=0),
            content_type=ctype,
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            last_modified=formatdate(path.stat().st_mtime, usegmt=True),
        )
    return assets


ASSETS = web.AppKey("dashboard_assets", dict)


def _not_modified(request: web.Request, asset: Asset) -> bool:
    etags = request.headers.get(hdrs.IF_NONE_MATCH)
    if etags is not None:
        return asset.etag in (t.strip().removeprefix("W/") for t in etags.split(",")) or (
            etags.strip() == "*"
        )
    return request.headers.get(hdrs.IF_MODIFIED_SINCE) == asset.last_modified


async def static_handler(request: web.Request) -> web.StreamResponse:
    return _serve(request, request.match_info.get("path") or "index.html")


async def docs_handler(request: web.Request) -> web.StreamResponse:
    """``/docs``: the API reference, Swagger UI rendering ``/openapi.json`` (``docs.html``)."""
    return _serve(request, "docs.html")


def _serve(request: web.Request, name: str) -> web.StreamResponse:
    asset = request.app[ASSETS].get(name)
    if asset is None:
        raise web.HTTPNotFound()
    headers: dict[str, str] = {
        hdrs.ETAG: asset.etag,
        hdrs.LAST_MODIFIED: asset.last_modified,
        # revalidate every time: one 304 per file, and a new version is never missed
        hdrs.CACHE_CONTROL: "no-cache",
        hdrs.VARY: "Accept-Encoding",
    }
    if name.endswith(".html"):  # the pages: the strict policy (files are no documents)
        headers.update(SECURITY_HEADERS)
    if _not_modified(request, asset):
        return web.Response(status=304, headers=headers)
    body = asset.body
    if "gzip" in request.headers.get(hdrs.ACCEPT_ENCODING, ""):
        body = asset.gzipped
        headers[hdrs.CONTENT_ENCODING] = "gzip"
    headers[hdrs.CONTENT_TYPE] = asset.content_type
    return web.Response(body=body, headers=headers)


async def redirect_handler(request: web.Request) -> web.StreamResponse:
    return web.Response(status=302, headers={hdrs.LOCATION: PREFIX})


def setup(app: web.Application) -> None:
    """The files, read once (the route table, :mod:`app.web.routes`, routes ``/`` and
    ``/dashboard`` to :func:`redirect_handler` and the files to :func:`static_handler`)."""
    app[ASSETS] = load_assets()
