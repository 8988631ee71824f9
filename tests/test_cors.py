"""CORS headers as Crossbar sends them (CONTRACT.md section 6), at the HTTP level.

Every kind of answer the service gives (success, CSV, every error status, static files,
redirects) must carry them; ``OPTIONS`` is answered 204 on every route without a token. The
same in a real browser from another origin is in ``test_dashboard_browser.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import TOKEN, make_client

from app.config import Settings, parse_origins
from qubicle_dev.seed import SeededAccount

SEEDED = {"seed": 21, "queues": 2, "recipients": 2}
OTHER = "https://ui.example.com"
REQUIRED_ALLOW_HEADERS = [
    "Content-Type",
    "X-Auth-Token",
    "Authorization",
    "X-Request-ID",
    "X-Kazoo-Cluster-ID",
    "If-Match",
    "Accept",
]
REQUIRED_EXPOSE = ["X-Request-ID", "Content-Disposition"]


@pytest.fixture(scope="module")
def account(seeded: SeededAccount) -> str:
    return seeded.account_id


@pytest.fixture(scope="module")
async def listed(couch_url: str, account: str) -> AsyncIterator[TestClient]:
    settings = Settings(
        couchdb_url=couch_url,
        tokens={TOKEN: account},
        cors_origins=parse_origins(f"{OTHER}, http://127.0.0.1:9999"),
    )
    async with make_client(settings) as c:
        yield c


def _names(header: str) -> list[str]:
    return [h.strip().lower() for h in header.split(",")]


def assert_cors(headers: Any, origin: str = "*") -> None:
    assert headers["Access-Control-Allow-Origin"] == origin
    exposed = _names(headers["Access-Control-Expose-Headers"])
    for name in REQUIRED_EXPOSE:
        assert name.lower() in exposed
    assert "Access-Control-Allow-Credentials" not in headers


def report_path(account: str, suffix: str = "") -> str:
    return f"/v2/accounts/{account}/qubicle_reports{suffix}"


def answers(account: str) -> list[tuple[str, str, dict[str, Any], int]]:
    """(method, path, request kwargs, expected status): one of every kind of answer."""
    auth = {"X-Auth-Token": TOKEN}
    q = "?start_date=2024-01-30&end_date=2024-02-01"
    return [
        ("GET", report_path(account, "/queues") + q, {"headers": auth}, 200),
        (
            "POST",
            report_path(account),
            {
                "headers": auth,
                "json": {
                    "data": {
                        "report": "recipients",
                        "start_date": "2024-01-30",
                        "end_date": "2024-02-01",
                    }
                },
            },
            200,
        ),
        ("GET", report_path(account, "/queues") + q + "&format=csv", {"headers": auth}, 200),
        ("GET", report_path(account, "/queues") + q, {}, 401),
        ("GET", report_path(account, "/queues") + q, {"headers": {"X-Auth-Token": "nope"}}, 401),
        ("GET", report_path(account, "/nope") + q, {"headers": auth}, 400),
        ("POST", report_path(account), {"headers": auth, "data": b"{not json"}, 400),
        ("GET", report_path("0" * 32, "/queues") + q, {"headers": auth}, 403),
        ("GET", report_path("NOT-AN-ACCOUNT", "/queues") + q, {"headers": auth}, 404),
        ("GET", "/no/such/path", {}, 404),
        ("PUT", report_path(account), {"headers": auth}, 405),
        ("DELETE", "/health", {}, 405),
        ("GET", "/health", {}, 200),
        ("GET", "/openapi.json", {}, 200),
        ("GET", "/", {"allow_redirects": False}, 302),
        ("GET", "/dashboard/", {}, 200),
        ("GET", "/dashboard/app.css", {}, 200),
        ("GET", "/dashboard/nope.js", {}, 404),
        ("GET", f"/v2/accounts/{account}/qubicle_names?ids=a", {"headers": auth}, 200),
        ("GET", f"/v2/accounts/{account}/qubicle_names", {"headers": auth}, 400),
    ]


async def test_every_answer_carries_the_cors_headers(client: TestClient, account: str) -> None:
    for method, path, kwargs, status in answers(account):
        headers = {"Origin": OTHER, **kwargs.pop("headers", {})}
        async with client.request(method, path, headers=headers, **kwargs) as r:
            await r.read()
            assert r.status == status, (method, path, r.status)
            assert_cors(r.headers)
            assert "Vary" not in r.headers or "origin" not in _names(r.headers["Vary"])


async def test_headers_are_sent_without_an_origin_too(client: TestClient) -> None:
    async with client.get("/health") as r:
        assert_cors(r.headers)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v2/accounts/{account}/qubicle_reports", "GET, POST, OPTIONS"),
        ("/v2/accounts/{account}/qubicle_reports/", "GET, POST, OPTIONS"),
        ("/v2/accounts/{account}/qubicle_reports/queues", "GET, POST, OPTIONS"),
        ("/v2/accounts/{account}/qubicle_reports/recipients/", "GET, POST, OPTIONS"),
        ("/v2/accounts/{account}/qubicle_names", "GET, OPTIONS"),
        ("/v2/accounts/not-even-an-account/qubicle_reports", "GET, POST, OPTIONS"),
        ("/health", "GET, OPTIONS"),
        ("/openapi.json", "GET, OPTIONS"),
        ("/dashboard/", "GET, OPTIONS"),
        ("/", "GET, OPTIONS"),
    ],
)
async def test_preflight_is_204_without_a_token(
    client: TestClient, account: str, path: str, methods: str
) -> None:
    headers = {
        "Origin": OTHER,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-auth-token",
    }
    async with client.options(path.format(account=account), headers=headers) as r:
        assert r.status == 204
        assert await r.read() == b""
        assert_cors(r.headers)
        assert r.headers["Access-Control-Allow-Methods"] == methods
        allowed = _names(r.headers["Access-Control-Allow-Headers"])
        for name in REQUIRED_ALLOW_HEADERS:
            assert name.lower() in allowed
        assert int(r.headers["Access-Control-Max-Age"]) > 0
        assert r.headers["X-Request-ID"]


async def test_options_on_a_path_that_does_not_exist_is_a_404_with_cors(
    client: TestClient,
) -> None:
    async with client.options("/no/such/path", headers={"Origin": OTHER}) as r:
        assert r.status == 404
        assert (await r.json())["message"] == "not_found"
        assert_cors(r.headers)
        assert "Access-Control-Allow-Methods" not in r.headers


async def test_a_listed_origin_is_echoed_with_vary(listed: TestClient, account: str) -> None:
    for method, path, kwargs, status in answers(account):
        headers = {"Origin": OTHER, **kwargs.pop("headers", {})}
        async with listed.request(method, path, headers=headers, **kwargs) as r:
            await r.read()
            assert r.status == status, (method, path)
            assert_cors(r.headers, origin=OTHER)
            assert "origin" in _names(r.headers["Vary"])
    headers = {"Origin": OTHER, "Access-Control-Request-Method": "POST"}
    async with listed.options(report_path(account), headers=headers) as r:
        assert r.status == 204
        assert r.headers["Access-Control-Allow-Origin"] == OTHER
        assert r.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"


@pytest.mark.parametrize("origin", ["https://evil.example.com", "http://ui.example.com", None])
async def test_other_origins_get_no_cors_headers(
    listed: TestClient, account: str, origin: str | None
) -> None:
    headers = {"X-Auth-Token": TOKEN} | ({"Origin": origin} if origin else {})
    async with listed.get(
        report_path(account, "/queues?start_date=2024-01-30&end_date=2024-02-01"), headers=headers
    ) as r:
        assert r.status == 200
        assert "Access-Control-Allow-Origin" not in r.headers
        assert "Access-Control-Expose-Headers" not in r.headers
        assert "origin" in _names(r.headers["Vary"])
    headers = {"Access-Control-Request-Method": "POST"} | ({"Origin": origin} if origin else {})
    async with listed.options(report_path(account), headers=headers) as r:
        assert r.status == 204
        assert not [h for h in r.headers if h.lower().startswith("access-control-")]


def test_origins_setting() -> None:
    assert parse_origins("*") == ("*",)
    assert parse_origins("") == ("*",)
    assert parse_origins("https://a.example.com/, http://b:8080") == (
        "https://a.example.com",
        "http://b:8080",
    )
    assert parse_origins("https://a.example.com,*") == ("*",)
    for bad in ["a.example.com", "ftp://a.example.com", "https://a.example.com/path"]:
        with pytest.raises(ValueError):
            parse_origins(bad)


def test_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUBICLE_REPORTS_CORS_ORIGINS", "https://ui.example.com")
    assert Settings.from_env().cors_origins == ("https://ui.example.com",)
    monkeypatch.delenv("QUBICLE_REPORTS_CORS_ORIGINS")
    assert Settings.from_env().cors_origins == ("*",)
    monkeypatch.setenv("QUBICLE_REPORTS_CORS_ORIGINS", "not an origin")
    with pytest.raises(ValueError, match="QUBICLE_REPORTS_CORS_ORIGINS"):
        Settings.from_env()
