"""What the routes share, and the one sequence every account-scoped route runs.

A leaf of :mod:`app.web`: the application and request keys, the request id, the Crossbar
envelope of answers and errors, CouchDB trouble as 503s, and :func:`account_route`, which
turns a route's own steps (validate, load, respond) into a handler that runs them in order
after the shared ones: authenticate -> account -> authorize -> validate -> load -> envelope.
Routes import this module; nothing here imports a route or the app's assembly.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import orjson
from aiohttp import web

from app import errors
from app.config import Settings
from app.couch.build_eta import month_of, retry_after
from app.couch.client import CouchError, CouchUnavailable, IndexBuilding
from app.couch.installer import ViewsNotInstallable
from app.couch.modb import is_account_id
from app.report.load import Loader, MonthUnreadable
from app.report.request import Limits, from_query
from app.report.shares import Shares
from app.web.auth import Authenticator
from app.web.slow_clients import read_body

SETTINGS = web.AppKey("settings", Settings)
LOADER = web.AppKey("loader", Loader)
LIMITS = web.AppKey("limits", Limits)
REPORT_SLOTS = web.AppKey("report_slots", asyncio.Semaphore)
REPORT_SHARES = web.AppKey("report_shares", Shares)
AUTH = web.AppKey("auth", Authenticator)
REQUEST_ID = web.RequestKey("request_id", str)
TOKEN = web.RequestKey("auth_token", str)
LOG_EXTRA = web.RequestKey("log_extra", dict)
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Params = dict[str, Any]
MAX_DEPTH = 10  # levels a body may nest: {"data": {field: [...]}} needs 3


def json_response(status: int, body: dict[str, Any]) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def envelope(request: web.Request) -> dict[str, Any]:
    """The Crossbar fields around a successful answer's ``data`` (``status`` comes last)."""
    return {"request_id": request[REQUEST_ID], "auth_token": request.get(TOKEN) or ""}


def error_response(request: web.Request, err: errors.ApiError) -> web.Response:
    request_id, token = request.get(REQUEST_ID, ""), request.get(TOKEN) or ""
    try:
        response = json_response(err.status, err.body(request_id, token))
    except orjson.JSONEncodeError:  # data that cannot be written (nested too deep): not echoed
        response = json_response(500, errors.internal().body(request_id, token))
    response.headers.update(err.headers)
    return response


@contextmanager
def datastore_errors() -> Iterator[None]:
    """Any CouchDB trouble is a Crossbar 503 that names no URL and no credential."""
    try:
        yield
    except (ViewsNotInstallable, MonthUnreadable) as e:
        raise errors.datastore(str(e)) from None
    except IndexBuilding as e:
        state = e.state
        raise errors.index_being_built(
            month_of(state.db), state.progress, retry_after(state)
        ) from None
    except CouchUnavailable as e:
        raise errors.datastore(f"the datastore is unavailable: {e}") from None
    except CouchError as e:
        raise errors.datastore(f"the datastore failed: {e.status} {e.error}") from None
    except TimeoutError:
        raise errors.datastore("the datastore did not answer in time") from None


# -- the token ---------------------------------------------------------------------------


def token_of(request: web.Request, from_params: str | None) -> str | None:
    """``X-Auth-Token``, else ``Authorization: Bearer``, else the one the parameters carry."""
    header = request.headers.get("X-Auth-Token")
    if header:
        return _utf8(header)
    authorization = request.headers.get("Authorization", "")
    if authorization[:7].lower() == "bearer ":
        return _utf8(authorization[7:].strip())
    return from_params


def _utf8(token: str) -> str:
    """A header that is not UTF-8 (aiohttp keeps such bytes as surrogates) holds no token."""
    try:
        token.encode()
    except UnicodeEncodeError:
        return ""
    return token


async def read_params(request: web.Request) -> tuple[Params, str | None]:
    """The parameters (a GET's query string, a POST's ``data``) and a token they carry."""
    if request.method == "GET":
        params = from_query(request.query)
        return params, params.pop("auth_token", None)
    raw = await read_body(request, request.app[SETTINGS].body_timeout)
    if not raw.strip():
        return {}, request.query.get("auth_token")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise errors.invalid_json() from None
    if not isinstance(body, dict) or not isinstance(body.get("data", {}), dict):
        raise errors.not_an_envelope()
    deep = too_deep(body, MAX_DEPTH)
    if deep is not None:
        raise errors.too_deep(deep, MAX_DEPTH - 2)
    data = dict(body.get("data", {}))
    token = (
        body.get("auth_token") or data.pop("auth_token", None) or request.query.get("auth_token")
    )
    return data, token if isinstance(token, str) else None


def too_deep(body: dict[str, Any], limit: int) -> str | None:
    """Where ``body`` holds a value nested more than ``limit`` levels deep: the name of the
    ``data`` field holding it, or ``""`` (elsewhere); None when nothing is. Iterative, so no
    depth can exhaust the stack."""
    stack: list[tuple[Any, int, str]] = [(body, 1, "")]
    while stack:
        value, depth, where = stack.pop()
        if depth > limit:
            return where
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            if not isinstance(child, dict | list):
                continue
            if depth == 1:
                field = "data" if key == "data" else ""
            else:
                field = str(key) if (depth, where) == (2, "data") else where
            stack.append((child, depth + 1, field))
    return None


# -- the sequence ------------------------------------------------------------------------


async def authorized_account(request: web.Request, token: str | None) -> str:
    """The path's account id once the token may read it: 401, 404 ``bad_identifier``, 403,
    or a 503 when CouchDB cannot say."""
    request[TOKEN] = token or ""
    auth = request.app[AUTH]
    principal = await auth.authenticate(token)
    account_id = request.match_info["account_id"]
    if not is_account_id(account_id):
        raise errors.bad_identifier(account_id)
    with datastore_errors():
        async with asyncio.timeout(request.app[SETTINGS].report_timeout):
            await auth.authorize(principal, account_id)
    return account_id


V = TypeVar("V")  # what a route's validation makes of the parameters
R = TypeVar("R")  # what it loads


def _unlimited(app: web.Application, account_id: str) -> AbstractAsyncContextManager[None]:
    return nullcontext()


@dataclass(frozen=True)
class AccountRoute(Generic[V, R]):
    """An account-scoped route's own steps, run by :meth:`handle` in the shared order.

    ``validate(request, params)``: the parameters checked (a 400 names every bad one);
    ``load(request, account_id, valid)``: the answer from CouchDB, under the report timeout
    and :func:`datastore_errors`; ``respond(request, valid, loaded)``: the response, in
    Crossbar's envelope; ``admit(app, account_id)``: what a request waits for before loading
    (a slot).
    """

    validate: Callable[[web.Request, Params], V]
    load: Callable[[web.Request, str, V], Awaitable[R]]
    respond: Callable[[web.Request, V, R], Awaitable[web.StreamResponse]]
    admit: Callable[[web.Application, str], AbstractAsyncContextManager[None]] = field(
        default=_unlimited
    )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        params, param_token = await read_params(request)
        account_id = await authorized_account(request, token_of(request, param_token))
        request[LOG_EXTRA] = {"account_id": account_id}
        valid = self.validate(request, params)
        async with self.admit(request.app, account_id):
            with datastore_errors():
                async with asyncio.timeout(request.app[SETTINGS].report_timeout):
                    loaded = await self.load(request, account_id, valid)
        return await self.respond(request, valid, loaded)


# -- the route table's entries -----------------------------------------------------------

Schema = dict[str, Any]
# every route may answer these: another method on its path, an unexpected failure
EVERY_ROUTE: tuple[errors.Kind, ...] = (errors.METHOD_NOT_ALLOWED, errors.INTERNAL)
# an account-scoped route's shared steps: authenticate, account, authorize, validate, load
ACCOUNT_SCOPED: tuple[errors.Kind, ...] = (
    errors.VALIDATION,
    errors.UNAUTHORIZED,
    errors.FORBIDDEN,
    errors.BAD_IDENTIFIER,
    errors.DATASTORE,
)
# what a route reading a JSON body adds
WITH_BODY: tuple[errors.Kind, ...] = (errors.INVALID_JSON, errors.TOO_LARGE, errors.REQUEST_TIMEOUT)


def always(settings: Settings) -> bool:
    return True


@dataclass(frozen=True)
class Route:
    """One entry of the route table: what aiohttp routes and what OpenAPI documents.

    ``operation(method, limits)``: the OpenAPI operation, its own responses included (the
    errors are added from ``error_kinds`` and :data:`EVERY_ROUTE`, per status, from the
    catalogue :data:`app.errors.CATALOGUE`); ``patterns``: the paths aiohttp matches when
    they differ from the documented ``path`` (a trailing slash, a regex);
    ``enabled``: whether the settings serve it at all.
    """

    path: str
    methods: tuple[str, ...]
    handler: Handler
    operation: Callable[[str, Limits], Schema]
    error_kinds: tuple[errors.Kind, ...] = ()
    fields: tuple[str, ...] = ()  # what a 400 "validation error" may name
    patterns: tuple[str, ...] = ()
    enabled: Callable[[Settings], bool] = always

    def errors_of(self, method: str) -> tuple[errors.Kind, ...]:
        body = WITH_BODY if method == "POST" else ()
        return (*self.error_kinds, *body, *EVERY_ROUTE)
