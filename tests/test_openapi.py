"""The OpenAPI document: valid OpenAPI 3.0, true to the routes and the validator, served at
``/openapi.json``; and a schemathesis run against the real app that every answer conforms.

The app runs on a loopback port (aiohttp ``TestServer`` on its own event loop in a thread, so
schemathesis's synchronous ``requests`` calls can reach it) in front of the real
CouchDB-protocol server of ``conftest.py``, with one tiny seeded account and a static token.
Generated cases are steered (hypothesis draws which account, token placement and dates to
use) so that happy paths are reached as well as every error.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import reference
import requests
import schemathesis
import urllib3
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import TOKEN
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import errors
from app.config import Settings
from app.couch.modb import ACCOUNT_ID_RE
from app.report.buckets import PERIODS
from app.report.metrics import REPORTS
from app.report.record_kinds import RECORDS
from app.report.request import FORMATS, ID_RE, time_zones
from app.web.context import REQUEST_ID_RE
from app.web.openapi import REPORT_FIELDS
from app.web.routes import spec
from app.web.server import create_app
from qubicle_dev.seed import SeededAccount

START = date(2024, 3, 9)  # three seeded days across the US DST change of 2024-03-10
DAYS = 3
REPORT_OPS = [
    f"{method} /v2/accounts/{{account_id}}/qubicle_reports{suffix}"
    for suffix in ("", "/{report}")
    for method in ("POST", "GET")
]
SERVICE_OPS = ["GET /health", "GET /health/live", "GET /health/ready", "GET /openapi.json"]
SEEDED = {"seed": 11, "queues": 2, "recipients": 3, "days": DAYS, "start": START}
EXAMPLES = {GenerationMode.POSITIVE: 50, GenerationMode.NEGATIVE: 40}
SERVICE_EXAMPLES = 5  # no parameters: only the steering varies
PUBLISHED = {"queues": reference.QUEUE_METRICS, "recipients": reference.RECIPIENT_METRICS}
EVERY_METRIC = {
    *reference.QUEUE_ALL_METRICS,
    *reference.RECIPIENT_ALL_METRICS,
    *reference.AGENT_METRICS,
}


# -- the document ---------------------------------------------------------------------------


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
        mapping = node.get("discriminator", {}).get("mapping", {})
        yield from (v for v in mapping.values() if isinstance(v, str))
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _resolve(doc: dict[str, Any], pointer: str) -> Any:
    assert pointer.startswith("#/"), pointer
    node: Any = doc
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _deref(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = _resolve(doc, node["$ref"])
    return node


def _type(doc: dict[str, Any], schema: Any) -> Any:
    """The named type of a property: ``{"$ref": ...}`` or ``{"allOf": [{"$ref": ...}], ...}``."""
    return _deref(doc, schema["allOf"][0] if "allOf" in schema else schema)


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            yield path, method, op


def test_document_is_valid_openapi_3_0() -> None:
    """The official OpenAPI 3.0 meta-schema (shipped with schemathesis, jsonschema-rs)."""
    doc = spec()
    assert doc["openapi"] == "3.0.3"
    schemathesis.openapi.from_dict(doc).validate()
    broken = spec()
    del broken["paths"]["/health"]["get"]["responses"]
    with pytest.raises(Exception, match="responses"):  # the check is not vacuous
        schemathesis.openapi.from_dict(broken).validate()


def test_document_is_self_consistent() -> None:
    doc = spec()
    for pointer in set(_refs(doc)):
        _resolve(doc, pointer)  # every $ref resolves
    ids = [op["operationId"] for _, _, op in _operations(doc)]
    assert len(ids) == len(set(ids))
    json.dumps(doc)  # plain JSON, as served
    for path, _, op in _operations(doc):
        params = [_deref(doc, p) for p in op.get("parameters", [])]
        declared = {p["name"] for p in params if p["in"] == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), path
        assert all(p["required"] for p in params if p["in"] == "path")
        for code, resp in op["responses"].items():
            shared = resp.get("$ref", "").startswith("#/components/responses/")
            resp = _deref(doc, resp)
            assert "X-Request-ID" in resp["headers"], (path, code)
            if code >= "400" and shared:  # Crossbar's error envelope (not /health's 503)
                schema = _deref(doc, resp["content"]["application/json"]["schema"])
                assert schema["additionalProperties"] is False
                assert schema["properties"]["error"]["enum"] == [code]
                assert set(schema["required"]) == {
                    "data",
                    "error",
                    "message",
                    "status",
                    "request_id",
                    "auth_token",
                }
        if path.startswith("/v2/"):
            assert set(op["responses"]) >= {"200", "400", "401", "403", "404", "500", "503"}
            assert ("413" in op["responses"]) == ("requestBody" in op)
            assert len(op["security"]) == 3


def test_document_covers_every_route_of_the_app() -> None:
    """Each route create_app registers is documented (a trailing slash is the same route)."""
    app = create_app(Settings(couchdb_url="http://127.0.0.1:9"))
    routes = {
        (route.method.lower(), (route.resource.canonical.rstrip("/") or "/"))
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(method, path) for path, method, _ in _operations(spec())}
    assert routes == documented


def test_document_uses_the_validators_own_values() -> None:
    doc = spec()
    schemas = doc["components"]["schemas"]
    params = doc["components"]["parameters"]
    assert _deref(doc, params["Report"]["schema"])["enum"] == [*REPORTS, *RECORDS]
    assert params["AccountId"]["schema"]["pattern"] == ACCOUNT_ID_RE.pattern
    assert schemas["QueueMetric"]["enum"] == reference.QUEUE_ALL_METRICS
    assert schemas["RecipientMetric"]["enum"] == reference.RECIPIENT_ALL_METRICS
    assert schemas["Period"]["enum"] == list(PERIODS)
    assert schemas["Format"]["enum"] == list(FORMATS)
    assert set(schemas["Timezone"]["enum"]) == time_zones()
    assert schemas["EntityId"]["pattern"] == ID_RE.pattern
    assert schemas["RequestId"]["pattern"] == REQUEST_ID_RE.pattern
    assert schemas["ServiceLevelThreshold"] == {
        "type": "integer",
        "enum": reference.THRESHOLDS,
        "description": schemas["ServiceLevelThreshold"]["description"],
    }
    # queue_ids exists for the recipients report only; metrics per report
    for name, report in (("Queues", "queues"), ("Recipients", "recipients")):
        for suffix in ("", "InPath"):
            data = schemas[f"{name}ReportData{suffix}"]
            props = data["properties"]
            assert ("queue_ids" in props) == (report == "recipients")
            assert props["report"]["enum"] == [report]
            assert ("report" in data["required"]) == (suffix == "")
            assert props["metrics"]["default"] == PUBLISHED[report]
            assert props["service_level_threshold"]["default"] == reference.DEFAULT_THRESHOLD
            assert props["totals"]["type"] == "boolean"
            assert props["totals"]["default"] is False
    for suffix in ("", "InPath"):  # neither queue_ids nor a threshold in agent_states
        props = schemas[f"AgentStatesReportData{suffix}"]["properties"]
        assert "queue_ids" not in props and "service_level_threshold" not in props
        assert props["metrics"]["default"] == reference.AGENT_METRICS
    assert schemas["AgentStateMetric"]["enum"] == reference.AGENT_METRICS
    series = schemas["ReportEntry"]["properties"]["data"]["properties"]
    assert set(series) == EVERY_METRIC
    for metric, values in series.items():
        # CONTRACT.md 3, 3b, 7c: counts and agent seconds are integers (not avg_*_time)
        seconds = metric.endswith("_time") and metric in reference.AGENT_METRICS
        kind = "integer" if metric.endswith("_count") or seconds else "number"
        assert values["additionalProperties"]["type"] == kind, metric
        assert values["properties"]["total"]["type"] == kind, metric


def test_get_takes_every_parameter_of_either_report_in_the_query_string() -> None:
    """Derived from the same model: one query parameter per field of ``ReportParameters``."""
    doc = spec()
    fields = [f for f in REPORT_FIELDS if f != "json"]
    checked = 0
    for path, method, op in _operations(doc):
        if "/qubicle_reports" not in path or method != "get":
            continue
        checked += 1
        query = {p["name"]: p for p in (_deref(doc, p) for p in op["parameters"])}
        query = {n: p for n, p in query.items() if p["in"] == "query"}
        assert list(query) == [*fields, "accept"]
        assert query["start_date"]["required"] is True
        assert query.get("report", {}).get("required", False) == ("{report}" not in path)
        threshold = _type(doc, query["service_level_threshold"]["schema"])
        assert threshold["enum"] == reference.THRESHOLDS
        assert query["totals"]["schema"]["type"] == "boolean"
        for name in ("metrics", "identifiers", "queue_ids"):
            assert (query[name]["style"], query[name]["explode"]) == ("form", False)
        metric_names = _deref(doc, query["metrics"]["schema"]["items"])["enum"]
        assert set(metric_names) == EVERY_METRIC
        assert all(p["description"] for p in query.values()), path
    assert checked == 2  # with and without the report in the path


# -- the app on a loopback port -------------------------------------------------------------


class ThreadedServer:
    """An aiohttp TestServer on its own event loop in a daemon thread."""

    def __init__(self, app: web.Application) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def __enter__(self) -> str:
        self.thread.start()
        self._run(self.server.start_server())
        return str(self.server.make_url("")).rstrip("/")

    def __exit__(self, *_: object) -> None:
        try:
            self._run(self.server.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()


@pytest.fixture(scope="module")
def base_url(couch_url: str, seeded: SeededAccount) -> Iterator[str]:
    settings = Settings(couchdb_url=couch_url, tokens={TOKEN: seeded.account_id})
    with ThreadedServer(create_app(settings)) as url:
        yield url


def test_document_is_served_at_openapi_json(base_url: str) -> None:
    response = requests.get(f"{base_url}/openapi.json", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == json.loads(json.dumps(spec()))
    assert REQUEST_ID_RE.fullmatch(response.headers["X-Request-ID"])


# -- schemathesis ---------------------------------------------------------------------------

SCHEMA = schemathesis.openapi.from_dict(spec())
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}


def no_server_error_but_a_documented_503(ctx: Any, response: Any, case: Any) -> bool | None:
    """Nothing in 5xx, except 503 (CouchDB trouble, or too busy), which is documented."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(
            f"{case.method} {case.formatted_path} answered {response.status_code}: "
            f"{response.text[:500]}"
        )
    return None


CONFORMANCE = [  # the answer is documented: its status, media type, body and headers
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
CHECKS = [no_server_error_but_a_documented_503, *CONFORMANCE]

# ranges at the ends of Python's calendar, where local windows and MoDB months overflow
CALENDAR_ENDS = [
    ("0001-01-01", "0001-01-02"),
    ("0001-01-01T00:00:00Z", "0001-01-03"),
    ("9999-12-30", "9999-12-31"),
    ("9999-12-31T23:00:00-05:00", "9999-12-31"),
]


def _seeded_range(offsets: tuple[int, int]) -> tuple[str, str]:
    first = START + timedelta(days=offsets[0])
    return first.isoformat(), (first + timedelta(days=offsets[1])).isoformat()


# how to steer a generated case: which account, where the token goes, which dates; weighted
# so that about half the cases reach a report (hypothesis still shrinks each choice)
steering = st.fixed_dictionaries(
    {
        "account": st.sampled_from(["seeded"] * 5 + ["generated"]),
        "auth": st.sampled_from(
            ["x-auth-token"] * 4 + ["bearer", "query", "body", "generated", "wrong", "wrong-bearer"]
        ),
        # any Latin-1 text: requests sends it as single bytes, often not UTF-8
        "garbage": st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)))
        .map(str.strip)
        .filter(bool),
        "dates": st.sampled_from(["seeded"] * 4 + ["generated", "calendar ends"]),
        "seeded_range": st.tuples(st.integers(0, DAYS - 1), st.integers(0, DAYS + 1)).map(
            _seeded_range
        ),
        "calendar_end": st.sampled_from(CALENDAR_ENDS),
        "trim": st.sampled_from([True, True, False]),  # drop metrics and ids: fewer 400s
        "accept": st.sampled_from([None, None, "text/csv", "application/json"]),
    }
)


def _steer(case: Any, how: dict[str, Any], account_id: str) -> None:
    if how["account"] == "seeded" and "account_id" in (case.path_parameters or {}):
        case.path_parameters["account_id"] = account_id
    data = None
    if isinstance(case.body, dict) and isinstance(case.body.get("data"), dict):
        data = case.body["data"]
    fields = data if data is not None else case.query
    if fields is None:
        case.query = fields = {}
    if how["dates"] != "generated":
        dates = how["seeded_range"] if how["dates"] == "seeded" else how["calendar_end"]
        fields["start_date"], fields["end_date"] = dates
    if how["trim"]:
        for name in ("metrics", "identifiers", "queue_ids"):
            fields.pop(name, None)
    headers = case.headers if case.headers is not None else {}
    if how["accept"] is not None:  # OpenAPI 3.0 cannot declare Accept: CSV by the header too
        headers["Accept"] = how["accept"]
    case.headers = headers
    auth = how["auth"]
    if auth == "generated":
        return
    for name in ("X-Auth-Token", "Authorization"):
        headers.pop(name, None)
    (case.query or {}).pop("auth_token", None)
    if auth == "x-auth-token":
        headers["X-Auth-Token"] = TOKEN
    elif auth == "bearer":
        headers["Authorization"] = f"Bearer {TOKEN}"
    elif auth == "query":
        case.query = {**(case.query or {}), "auth_token": TOKEN}
    elif auth == "body" and data is not None:
        data["auth_token"] = TOKEN
    elif auth == "wrong":
        headers["X-Auth-Token"] = how["garbage"]
    elif auth == "wrong-bearer":
        headers["Authorization"] = f"Bearer {how['garbage']}"
    case.headers = headers


PLAN = [(label, GenerationMode.POSITIVE) for label in REPORT_OPS + SERVICE_OPS] + [
    (label, GenerationMode.NEGATIVE) for label in REPORT_OPS
]


@pytest.mark.parametrize(("label", "mode"), PLAN, ids=[f"{m.value} {lbl}" for lbl, m in PLAN])
def test_every_response_conforms_to_the_document(
    label: str, mode: GenerationMode, base_url: str, seeded: SeededAccount
) -> None:
    operation = OPERATIONS[label]
    statuses: Counter[int] = Counter()

    @settings(
        max_examples=SERVICE_EXAMPLES if label in SERVICE_OPS else EXAMPLES[mode],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(mode), how=steering)
    def run(case: Any, how: dict[str, Any]) -> None:
        _steer(case, how, seeded.account_id)
        response = case.call(base_url=base_url, timeout=60)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    run()
    assert statuses, "no request was sent"
    if mode is GenerationMode.POSITIVE:
        assert statuses[200] > 0, f"the happy path was never reached: {dict(statuses)}"
    if label in REPORT_OPS:
        assert set(statuses) - {200}, f"only successes: {dict(statuses)}"


# -- regressions the run found ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v2/accounts/{account}/qubicle_reports/queues?start_date=2024-03-09", 401),
        ("PUT", "/v2/accounts/{account}/qubicle_reports", 405),
        ("GET", "/nowhere", 404),
    ],
)
@pytest.mark.parametrize(
    "header", [("X-Auth-Token", "\xff\xfe"), ("Authorization", "Bearer caf\xe9")]
)
def test_a_token_header_that_is_not_utf8_is_no_token_not_a_500(
    base_url: str,
    seeded: SeededAccount,
    method: str,
    path: str,
    status: int,
    header: tuple[str, str],
) -> None:
    """requests sends Latin-1 bytes; aiohttp keeps the non-UTF-8 ones as surrogates."""
    url = base_url + path.format(account=seeded.account_id)
    response = requests.request(method, url, headers=dict([header]), timeout=30)
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["auth_token"] == ""


@pytest.mark.parametrize(
    ("start", "end", "zone", "period"),
    [
        ("0001-01-01", "0001-01-02", "Asia/Tokyo", "daily"),
        ("9999-12-30", "9999-12-31", "UTC", "daily"),
        ("9999-12-30", "9999-12-31", "UTC", "hourly"),
        ("0001-01-01T00:00:00Z", "0001-01-02", "America/New_York", "daily"),
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_a_400_not_a_500(
    base_url: str, seeded: SeededAccount, start: str, end: str, zone: str, period: str
) -> None:
    response = requests.post(
        f"{base_url}/v2/accounts/{seeded.account_id}/qubicle_reports",
        json={
            "data": {
                "report": "queues",
                "start_date": start,
                "end_date": end,
                "timezone": zone,
                "period": period,
            }
        },
        headers={"X-Auth-Token": TOKEN},
        timeout=30,
    )
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "validation error"


# -- every error the service answers is documented ---------------------------------------------

ERRORS_ANSWERED = [
    errors.invalid_json(),
    errors.not_an_envelope(),
    errors.malformed(400, "the request line is malformed"),
    errors.validation({"start_date": {"required": {"message": "Field is required but missing"}}}),
    errors.unauthorized(),
    errors.forbidden(),
    errors.bad_identifier("not-an-account"),
    errors.not_found(),
    errors.method_not_allowed(),
    errors.too_large("Maximum request body size 65536 exceeded, actual body size 70000"),
    errors.internal(),
    errors.datastore("the datastore is unavailable: connection refused"),
    errors.too_busy(10),
    errors.index_being_built("2024-01", 40, 12),
    errors.index_being_built("unknown month", None, 300),
]


def _answer(err: errors.ApiError, method: str, url: str) -> requests.Response:
    """The answer the service gives for ``err`` (Crossbar's envelope, its headers)."""
    body = json.dumps(err.body("req-1", "")).encode()
    headers = {"Content-Type": "application/json", "X-Request-ID": "req-1", **err.headers}
    response = requests.Response()
    response.status_code = err.status
    response.url = url
    response.request = requests.Request(method, url).prepare()
    response.raw = urllib3.HTTPResponse(body=body, headers=headers, status=err.status)
    response.headers.update(headers)
    response._content = body
    return response


@pytest.mark.parametrize("err", ERRORS_ANSWERED, ids=lambda e: f"{e.status} {e.message}")
def test_every_error_the_service_answers_is_documented(err: errors.ApiError) -> None:
    """Each error, as the service renders it, conforms to the document of the report POST
    (the route that can answer every one of them): status, schema and headers."""
    operation = OPERATIONS["POST /v2/accounts/{account_id}/qubicle_reports"]
    case = operation.Case(path_parameters={"account_id": "0" * 32}, body={"data": {}})
    url = "http://127.0.0.1:9/v2/accounts/" + "0" * 32 + "/qubicle_reports"
    case.validate_response(_answer(err, "POST", url), checks=CONFORMANCE)
    undocumented = errors.ApiError(err.status, "not a catalogued message", err.data)
    with pytest.raises(FailureGroup, match="not a catalogued message"):  # not vacuous
        case.validate_response(_answer(undocumented, "POST", url), checks=CONFORMANCE)
