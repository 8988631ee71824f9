"""CORS as Crossbar answers it (CONTRACT.md section 6), so KAZOO's web UI can call us.

Two parts, because they act at different moments:

- :func:`add_cors_headers` runs on every response just before it is sent (aiohttp's
  ``on_response_prepare``), so errors, 404s, 405s, streamed CSV and static files all carry
  the headers, whoever produced them;
- :func:`preflight_middleware` answers ``OPTIONS`` on every route with 204 before any
  token is looked at (a browser's preflight never carries one).

Allowed origins: ``*`` (the default, as Crossbar) sends ``Access-Control-Allow-Origin: *`` on
every response. A list echoes the request's ``Origin`` when it is in the list, with
``Vary: Origin`` on every response so caches keep the answers apart; any other origin gets no
CORS headers at all and the browser refuses the answer. Tokens travel in headers, never in
cookies, so ``Access-Control-Allow-Credentials`` is never sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from app.config import ANY_ORIGIN as ANY

EXPOSE_HEADERS = "X-Request-ID, Content-Disposition, Content-Type, Content-Length, X-Next-Start-Key"
ALLOW_HEADERS = (
    "Content-Type, X-Auth-Token, Authorization, X-Request-ID, X-Kazoo-Cluster-ID, "
    "If-Match, Accept, Cache-Control"
)
MAX_AGE = "86400"  # seconds a browser may reuse a preflight answer
CORS_ORIGINS = web.AppKey("cors_origins", tuple)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def allowed_origin(origins: tuple[str, ...], origin: str | None) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for a request from ``origin``, if any."""
    if origins == (ANY,):
        return ANY
    if origin and origin in origins:
        return origin
    return None


async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    origins = request.app[CORS_ORIGINS]
    if origins != (ANY,):
        vary = response.headers.get(hdrs.VARY)
        response.headers[hdrs.VARY] = f"{vary}, Origin" if vary else "Origin"
    allow = allowed_origin(origins, request.headers.get(hdrs.ORIGIN))
    if allow is None:
        return
    response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = allow
    response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSE_HEADERS


@web.middleware
async def preflight_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``OPTIONS`` on a route that exists: 204 naming the route's methods; no token needed.

    A path that does not exist goes on to the ordinary 404 (with CORS headers).
    """
    if request.method != hdrs.METH_OPTIONS:
        return await handler(request)
    methods = route_methods(request)
    if methods is None:
        return await handler(request)
    response = web.Response(status=204)
    if allowed_origin(request.app[CORS_ORIGINS], request.headers.get(hdrs.ORIGIN)):
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = ", ".join(methods)
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = ALLOW_HEADERS
        response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = MAX_AGE
    response.headers[hdrs.ALLOW] = ", ".join(methods)
    return response


def route_methods(request: web.Request) -> list[str] | None:
    """The methods the matched path answers (plus OPTIONS), or None when no route matches.

    aiohttp resolves ``OPTIONS`` on a path with other methods to a 405 whose exception lists
    them; a path with no route at all resolves to a 404.
    """
    error = getattr(request.match_info, "http_exception", None)
    if not isinstance(error, web.HTTPMethodNotAllowed):
        return None
    allowed = set(error.allowed_methods)
    allowed.discard(hdrs.METH_HEAD)
    order = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [m for m in order if m in allowed] + sorted(allowed - set(order)) + ["OPTIONS"]


def setup(app: web.Application, origins: tuple[str, ...]) -> None:
    """Headers on every response; the preflight middleware is listed in ``create_app``."""
    app[CORS_ORIGINS] = origins
    app.on_response_prepare.append(add_cors_headers)
