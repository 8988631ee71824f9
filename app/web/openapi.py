"""The service's own OpenAPI 3.0.3 description, served at ``GET /openapi.json``.

The request's schemas are not written here: pydantic generates them from the request models
that validate every request (:func:`app.report.request.request_models`), and this module only
adapts them to OpenAPI 3.0 (:func:`openapi30`), names the per-report variants and lays the
GET query parameters out from them. So the document cannot drift from the validator.
Request schemas say what a client should send (the service is more lenient: unknown fields
are ignored and JSON ``null`` counts as omitted); response schemas are closed
(``additionalProperties: false``) wherever the shape is fixed, so a response checker such
as schemathesis can hold the service to them.

Paths come from the route table (:class:`app.web.context.Route`: each route's operation and
the errors it answers), errors from the one catalogue (:data:`app.errors.CATALOGUE`), output
formats from the renderer registry (:data:`app.report.render.RENDERERS`): :func:`document`
only lays them out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from http import HTTPStatus
from itertools import groupby
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from app import __version__, errors
from app.couch.modb import ACCOUNT_ID_RE
from app.report.metrics import REPORTS, Metric
from app.report.record_kinds import COLUMNS, RECORDS
from app.report.render import DEFAULT_FORMAT, FORMATS, RENDERERS
from app.report.request import KEYWORDS, Limits, request_models
from app.report.request.types import camel
from app.web.context import REQUEST_ID_RE, Route, Schema

# every key of a 400's data: the request's fields, and "json" for the body
REPORT_FIELDS = (*request_models(Limits()).any_report.model_fields, "json")
# app.report.request's keywords, app.report.pipeline's (maxCells) and app.errors' (invalid)
VALIDATION_KEYWORDS = (*KEYWORDS, "maxCells", "invalid")
FORMAT_NOTE = (
    f"Another format than {DEFAULT_FORMAT}: `format`, `accept` (the format's name or media "
    "type), or the `Accept` header (OpenAPI 3.0 ignores `Accept` header parameters, so it is "
    "documented here and by the responses' media types). An explicit `format` wins."
)


def ref(kind: str, name: str) -> Schema:
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_ref(name: str) -> Schema:
    return ref("schemas", name)


def obj(properties: Schema, *, required: list[str] | None = None, closed: bool = True) -> Schema:
    """An object schema; ``closed`` forbids properties not listed."""
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if closed:
        out["additionalProperties"] = False
    return out


def enum(values: list[Any] | tuple[Any, ...], **extra: Any) -> Schema:
    return {"type": "string", "enum": list(values), **extra}


def json_content(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def response(description: str, content: Schema | None = None) -> Schema:
    """Every response carries ``X-Request-ID`` (the client's, when well-formed, else new)."""
    out: Schema = {
        "description": description,
        "headers": {"X-Request-ID": ref("headers", "XRequestId")},
    }
    if content is not None:
        out["content"] = content
    return out


# -- request: generated from the request models ------------------------------------------


class OpenApi30(GenerateJsonSchema):
    """pydantic's JSON Schema, less what OpenAPI 3.0 does not take (per-field titles)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def openapi30(node: Any) -> Any:
    """JSON Schema 2020-12 -> OpenAPI 3.0: ``const`` becomes ``enum``, a ``default`` of null
    (a default computed per request) goes, and a ``$ref`` with siblings moves into
    ``allOf`` (3.0 ignores a reference's siblings)."""
    if isinstance(node, list):
        return [openapi30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: openapi30(v) for k, v in node.items() if not (k == "default" and v is None)}
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "$ref" in out and len(out) > 1:
        out["allOf"] = [{"$ref": out.pop("$ref")}]
    return out


TRANSPORT: Schema = {  # read by app.web.reports, not parameters of the report
    "accept": enum(
        [v for r in RENDERERS.values() if r.name != DEFAULT_FORMAT for v in (r.name, r.media_type)],
        description="another way to ask for a format",
    ),
    "auth_token": {"type": "string", "description": "the token, if not in a header"},
}


def request_schemas(limits: Limits) -> Schema:
    """components/schemas of the request: each report's ``data`` (``<Report>ReportData``, and
    ``...InPath`` where the path names the report), ``ReportParameters`` (either report: the
    query string), and the types they share."""
    models = request_models(limits)
    _, top = models_json_schema(
        [(m, "validation") for m in (*models.by_report.values(), models.any_report)],
        ref_template="#/components/schemas/{model}",
        schema_generator=OpenApi30,
    )
    schemas: Schema = top["$defs"]
    for name in [model.__name__ for model in models.by_report.values()]:
        data = schemas[name]
        data["properties"] |= TRANSPORT
        schemas[f"{name}InPath"] = {
            **data,
            "title": f"{name}InPath",
            "required": [f for f in data["required"] if f != "report"],
        }
    adapted: Schema = openapi30(schemas)
    return adapted


def _request_body(*, in_path: bool) -> Schema:
    suffix = "InPath" if in_path else ""
    models = request_models(Limits()).by_report
    names = {r: f"{model.__name__}{suffix}" for r, model in models.items()}
    variants = [schema_ref(name) for name in names.values()]
    data: Schema = (
        {"anyOf": variants}
        if in_path
        else {
            "oneOf": variants,
            "discriminator": {
                "propertyName": "report",
                "mapping": {r: f"#/components/schemas/{n}" for r, n in names.items()},
            },
        }
    )
    example_data = {
        "start_date": "2017-01-01",
        "end_date": "2017-01-10",
        "period": "daily",
        "metrics": ["call_count"],
    }
    if not in_path:
        example_data = {"report": "queues", **example_data}
    return {
        "required": True,
        "description": "Crossbar's request envelope: the parameters under `data`. A JSON "
        "`null` counts as an omitted field; unknown fields are ignored.",
        "content": json_content(
            {
                **obj(
                    {"data": data, "auth_token": TRANSPORT["auth_token"]},
                    required=["data"],
                    closed=False,
                ),
                "example": {"data": example_data},
            }
        ),
    }


def _query_parameters(*, in_path: bool, limits: Limits) -> list[Schema]:
    """GET: the parameters of either report in the query string, lists comma-separated."""
    schemas = request_schemas(limits)
    either = schemas[request_models(limits).any_report.__name__]
    out = []
    for name, prop in {**either["properties"], "accept": TRANSPORT["accept"]}.items():
        schema = {k: v for k, v in prop.items() if k != "description"}
        if "allOf" in schema and len(schema) == 1:
            schema = schema["allOf"][0]
        named = prop.get("allOf", [{}])[0].get("$ref", "").rsplit("/", 1)[-1]
        param: Schema = {
            "name": name,
            "in": "query",
            "description": prop.get("description") or schemas[named]["description"],
            "schema": schema,
        }
        if name in either["required"] and not (in_path and name == "report"):
            param["required"] = True
        if schema.get("type") == "array":
            param |= {"style": "form", "explode": False}
        out.append(param)
    return out


# -- responses: the error catalogue ------------------------------------------------------


def _status_name(status: int) -> str:
    """A response's component name: its reason phrase, ``ServiceUnavailable``."""
    return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")


def _error_response(status: int, kinds: list[errors.Kind]) -> Schema:
    """Every catalogued error of one status: Crossbar's envelope, its messages and data."""
    data = [kind.data for kind in kinds]
    headers: Schema = {"X-Request-ID": ref("headers", "XRequestId")}
    for kind in kinds:
        headers |= kind.headers
    envelope = obj(
        {
            "data": data[0] if len(data) == 1 else {"anyOf": data},
            "error": enum([str(status)]),
            "message": enum(list(dict.fromkeys(kind.message for kind in kinds))),
            "status": enum(["error"]),
            "request_id": schema_ref("RequestId"),
            "auth_token": {"type": "string", "description": "the token presented, or empty"},
        },
        required=["data", "error", "message", "status", "request_id", "auth_token"],
    )
    return {
        "description": "; ".join(kind.description for kind in kinds),
        "headers": headers,
        "content": json_content(envelope),
    }


def error_responses() -> Schema:
    """components/responses: one per status of the catalogue, named by its phrase."""
    by_status = groupby(sorted(errors.CATALOGUE, key=lambda k: k.status), lambda k: k.status)
    return {_status_name(s): _error_response(s, list(kinds)) for s, kinds in by_status}


RECORDS_CSV = (
    "; a record report (visits, offers, agent_intervals): a header of its row's fields, then "
    "every row of the range in order, streamed (with `page_size` or `start_key`: one page, "
    "the next page's key in `X-Next-Start-Key`)"
)


def _report_ok() -> Schema:
    """200 of a report: one media type per registered renderer; JSON is the aggregate's
    envelope, or a record report's page."""
    content: Schema = {}
    for renderer in (RENDERERS[name] for name in FORMATS):
        schema: Schema = {"type": "string", "description": renderer.description + RECORDS_CSV}
        if renderer.media_type == "application/json":
            schema = {"oneOf": [schema_ref("ReportEnvelope"), schema_ref("RecordPage")]}
        content[renderer.media_type] = {"schema": schema}
    return response("The report. " + FORMAT_NOTE, content) | {
        "headers": {
            "X-Request-ID": ref("headers", "XRequestId"),
            "Content-Disposition": ref("headers", "ContentDisposition"),
            "X-Next-Start-Key": {
                "description": "a record report's page as CSV: the next page's `start_key` "
                "(absent on the last page)",
                "schema": {"type": "string"},
            },
        }
    }


def _record_schemas() -> Schema:
    """A record report's JSON page (Crossbar's paginated list) and each report's row."""
    rows: Schema = {}
    for kind in RECORDS.values():
        props = {c: {**COLUMNS[c][0], "description": COLUMNS[c][1]} for c in kind.columns}
        if "result" in props:
            props["result"] = {
                "type": "string",
                "enum": list(kind.values),
                "description": COLUMNS["result"][1],
            }
        rows[f"{camel(kind.name)}Row"] = {
            **obj(props, required=list(kind.always)),
            "description": f"{kind.name}: one row per {kind.one_row_per}",
        }
    page = obj(
        {
            "data": {
                "type": "array",
                "items": {"oneOf": [schema_ref(name) for name in rows]},
                "description": "the page's rows, in order: by entity id, then time, then "
                "document id and place",
            },
            "page_size": {"type": "integer", "minimum": 0, "description": "rows returned"},
            "start_key": {"type": "string", "description": "the `start_key` asked for"},
            "next_start_key": {
                "type": "string",
                "description": "the next page's `start_key`, opaque; absent on the last page",
            },
            "request_id": schema_ref("RequestId"),
            "status": enum(["success"]),
            "auth_token": {"type": "string"},
        },
        required=["data", "page_size", "request_id", "status", "auth_token"],
    )
    return {**rows, "RecordPage": page}


# -- schemas ------------------------------------------------------------------------------


def _series(metric: Metric) -> Schema:
    """A metric's values: counts and agent seconds are integers, rates, averages and maxima
    numbers."""
    value = {"type": "integer" if metric.integer else "number", "minimum": 0}
    return {
        "type": "object",
        "properties": {
            "total": {**value, "description": "with `totals`: the whole range"},
        },
        "additionalProperties": value,
        "description": "bucket key (daily `YYYYMMDD`, weekly `YYYYWW` of the starting "
        "Sunday, monthly `YYYYMM`, hourly `YYYYMMDDHH`) -> value; every bucket of the "
        'range, zero-filled; and with `totals`, `"total"` over the whole range',
    }


def _schemas(limits: Limits, validated: Sequence[str]) -> Schema:
    series = {m: _series(metric) for kind in REPORTS.values() for m, metric in kind.metrics.items()}
    return {
        **request_schemas(limits),
        "RequestId": {
            "type": "string",
            "pattern": REQUEST_ID_RE.pattern,
            "description": "the client's X-Request-ID when well-formed, else a new one",
        },
        "ExecutionTimes": obj(
            {k: {"type": "number", "minimum": 0} for k in ("load", "filter", "render")},
            required=["load", "filter", "render"],
        ),
        "ReportEntry": obj(
            {
                "id": {
                    "type": "string",
                    "description": 'the entity; with `totals`, the last item is `"total"`: '
                    "every entity of the report together",
                },
                "data": obj(series),
            },
            required=["id", "data"],
        ),
        "ReportEnvelope": obj(
            {
                "data": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1,
                    "items": obj(
                        {
                            "execution_times": schema_ref("ExecutionTimes"),
                            "report": {"type": "array", "items": schema_ref("ReportEntry")},
                        },
                        required=["execution_times", "report"],
                    ),
                },
                "request_id": schema_ref("RequestId"),
                "status": enum(["success"]),
                "auth_token": {"type": "string"},
            },
            required=["data", "request_id", "status", "auth_token"],
        ),
        **_record_schemas(),
        "ValidationDetail": obj(
            {"message": {"type": "string"}, "value": {}, "target": {}}, required=["message"]
        ),
        "FieldErrors": {
            "type": "object",
            "properties": {k: schema_ref("ValidationDetail") for k in VALIDATION_KEYWORDS},
            "additionalProperties": False,
            "minProperties": 1,
            "description": "keyword -> detail",
        },
        "ValidationErrors": {
            "type": "object",
            "properties": {f: schema_ref("FieldErrors") for f in validated},
            "additionalProperties": False,
            "minProperties": 1,
            "description": "field -> keyword -> {message, value, target}",
        },
    }


# -- operations: what the route table names -----------------------------------------------

Operation = Callable[[str, Limits], Schema]
ACCOUNT_SECURITY: list[dict[str, list[str]]] = [
    {"XAuthToken": []},
    {"BearerAuth": []},
    {"AuthTokenQuery": []},
]


def report_operation(*, in_path: bool) -> Operation:
    """Either report (``in_path``: the one the path names), by query string or JSON body."""

    def operation(method: str, limits: Limits) -> Schema:
        which = "a report named in the path" if in_path else "a report"
        get = method == "GET"
        op: Schema = {
            "tags": ["reports"],
            "operationId": f"{method.lower()}{'Named' if in_path else ''}Report",
            "summary": f"Run {which} ({'query string' if get else 'JSON body'})",
            "description": "Per request: authenticate, check the account id, authorize, "
            "validate every field (all errors at once), read the reduced views of the month "
            "databases, render. A trailing slash on the path is accepted too. " + FORMAT_NOTE,
            "parameters": [
                ref("parameters", "AccountId"),
                *([ref("parameters", "Report")] if in_path else []),
                ref("parameters", "XRequestId"),
                ref("parameters", "CacheControl"),
                *(_query_parameters(in_path=in_path, limits=limits) if get else []),
            ],
            "security": ACCOUNT_SECURITY,
            "responses": {"200": _report_ok()},
        }
        if not get:
            op["requestBody"] = _request_body(in_path=in_path)
        return op

    return operation


def names_operation(method: str, limits: Limits) -> Schema:
    """app.web.names: display names of the ids a report shows (the dashboard's labels)."""
    names = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "tags": ["reports"],
        "operationId": "getNames",
        "summary": "Names of queues (`name`) and agents (`first_name last_name`) by id",
        "description": "Ids without a name are left out. Authorized like the reports; `ids` "
        "are checked as a report's `identifiers` are.",
        "parameters": [
            ref("parameters", "AccountId"),
            ref("parameters", "XRequestId"),
            {
                "name": "ids",
                "in": "query",
                "required": True,
                "description": "comma-separated queue and user ids",
                "schema": {
                    "type": "array",
                    "items": schema_ref("EntityId"),
                    "minItems": 1,
                    "maxItems": limits.max_identifiers + limits.max_queue_ids,
                },
                "style": "form",
                "explode": False,
            },
        ],
        "security": ACCOUNT_SECURITY,
        "responses": {
            "200": response(
                "Names found, by kind",
                json_content(
                    obj(
                        {
                            "data": obj(
                                {"queues": names, "recipients": names},
                                required=["queues", "recipients"],
                            ),
                            "status": enum(["success"]),
                            "request_id": schema_ref("RequestId"),
                            "auth_token": {"type": "string"},
                        },
                        required=["data", "status", "request_id", "auth_token"],
                    )
                ),
            ),
        },
    }


def _probe(
    description: str, status: str, couchdb: list[str] | None = None, release: bool = False
) -> Schema:
    """A health answer: its ``status``, what it found of CouchDB, and (``/health``) which
    release answers with which design doc."""
    properties = {"status": enum([status])}
    if couchdb is not None:
        properties["couchdb"] = enum(couchdb)
    if release:
        properties["release"] = {"type": "string", "description": "the release answering"}
        properties["design_doc"] = {
            "type": "string",
            "description": "the design doc it reads (`qubicle_reports-<version>`)",
        }
    return response(description, json_content(obj(properties, required=list(properties))))


def service_operation(operation_id: str, summary: str, responses: Schema) -> Operation:
    """A route of the service itself: no token."""

    def operation(method: str, limits: Limits) -> Schema:
        return {
            "tags": ["service"],
            "operationId": operation_id,
            "summary": summary,
            "security": [],
            "responses": responses,
        }

    return operation


def probe_operation(
    operation_id: str,
    summary: str,
    up: tuple[str, str],
    down: tuple[str, str] | None = None,
    *,
    couchdb_down: tuple[str, ...] = ("down",),
    release: bool = False,
) -> Operation:
    """A health probe: 200 ``up``, and 503 ``down`` (description, ``status`` value) saying
    what it found of CouchDB (``couchdb_down``)."""
    responses = {"200": _probe(*up, ["up"] if down else None, release)}
    if down:
        responses["503"] = _probe(*down, list(couchdb_down), release)
    return service_operation(operation_id, summary, responses)


def text_operation(operation_id: str, summary: str, description: str) -> Operation:
    return service_operation(
        operation_id,
        summary,
        {"200": response(description, {"text/plain": {"schema": {"type": "string"}}})},
    )


def openapi_operation(method: str, limits: Limits) -> Schema:
    document = obj(
        {"openapi": {"type": "string"}, "info": {"type": "object"}, "paths": {"type": "object"}},
        required=["openapi", "info", "paths"],
        closed=False,
    )
    ok = response("The OpenAPI 3.0 description of this service", json_content(document))
    return service_operation("getOpenApi", "This document", {"200": ok})(method, limits)


def page_operation(
    operation_id: str, summary: str, *, file: bool = False, page: bool = False
) -> Operation:
    """app.web.dashboard: a redirect to ``/dashboard/``, one of its files, or a page of its
    own path (``page``: ``/docs``)."""

    def operation(method: str, limits: Limits) -> Schema:
        if page:
            ok = response(
                "The page (revalidated with ETag / Last-Modified)",
                {"text/html": {"schema": {"type": "string"}}},
            )
            responses = {"200": ok, "304": response("Not modified")}
        elif file:
            ok = response(
                "The file (revalidated with ETag / Last-Modified)",
                {
                    m: {"schema": {"type": "string"}}
                    for m in ("text/html", "text/css", "text/javascript")
                },
            )
            responses = {"200": ok, "304": response("Not modified")}
        else:
            redirect = response("To `/dashboard/`") | {
                "headers": {
                    "X-Request-ID": ref("headers", "XRequestId"),
                    "Location": {"schema": {"type": "string", "enum": ["/dashboard/"]}},
                }
            }
            responses = {"302": redirect}
        return {
            "tags": ["dashboard"],
            "operationId": operation_id,
            "summary": summary,
            "security": [],
            "parameters": [ref("parameters", "DashboardFile")] if file else [],
            "responses": responses,
        }

    return operation


# -- the document -------------------------------------------------------------------------


def _operation(route: Route, method: str, limits: Limits) -> Schema:
    """The route's own operation, and every error it answers, by status, from the catalogue."""
    op = route.operation(method, limits)
    statuses = sorted({kind.status for kind in route.errors_of(method)})
    for status in statuses:
        op["responses"].setdefault(str(status), ref("responses", _status_name(status)))
    op["responses"] = dict(sorted(op["responses"].items()))
    return op


def document(routes: Sequence[Route], limits: Limits | None = None) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (a fresh copy: callers may mutate it)."""
    limits = limits or Limits()
    paths: Schema = {}
    for route in routes:
        for method in route.methods:
            paths.setdefault(route.path, {})[method.lower()] = _operation(route, method, limits)
    validated = list(dict.fromkeys(f for route in routes for f in route.fields))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "qubicle-reports",
            "version": __version__,
            "description": "KAZOO's Qubicle Crossbar Reporting API (reports: "
            f"{', '.join(REPORTS)}; and the records behind their figures: {', '.join(RECORDS)}), "
            "answered from CouchDB map/reduce views. Errors use Crossbar's "
            "envelope: `data`, `error` (the status as a string), `message`, `status`, "
            "`request_id`, `auth_token`.",
        },
        "tags": [
            {"name": "reports", "description": "Reports, and the names of their ids"},
            {"name": "service", "description": "Health, metrics and this document"},
            {"name": "dashboard", "description": "The browser dashboard (static files)"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "XAuthToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Auth-Token",
                    "description": "Crossbar's header; wins over every other place",
                },
                "BearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "`Authorization: Bearer <token>`",
                },
                "AuthTokenQuery": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "auth_token",
                    "description": "in the query string (or, for POST, `auth_token` in the "
                    "body or in `data`)",
                },
            },
            "parameters": {
                "AccountId": {
                    "name": "account_id",
                    "in": "path",
                    "required": True,
                    "description": "the KAZOO account id: 32 lowercase hex digits",
                    "schema": {"type": "string", "pattern": ACCOUNT_ID_RE.pattern},
                },
                "Report": {
                    "name": "report",
                    "in": "path",
                    "required": True,
                    "description": "the report to run",
                    "schema": schema_ref("Report"),
                },
                "XRequestId": {
                    "name": "X-Request-ID",
                    "in": "header",
                    "description": "echoed in the response and the access log when it matches "
                    f"`{REQUEST_ID_RE.pattern}`; otherwise a new id is made",
                    "schema": {"type": "string"},
                },
                "DashboardFile": {
                    "name": "path",
                    "in": "path",
                    "required": True,
                    "description": "a file of the dashboard",
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_./-]+$"},
                },
                "CacheControl": {
                    "name": "Cache-Control",
                    "in": "header",
                    "description": "a value containing `no-cache` reads every month from "
                    "CouchDB, bypassing the closed-month row cache",
                    "schema": {"type": "string", "example": "no-cache"},
                },
            },
            "headers": {
                "XRequestId": {
                    "required": True,
                    "description": "the request id",
                    "schema": schema_ref("RequestId"),
                },
                "ContentDisposition": {
                    "description": 'CSV only: `attachment; filename="qubicle_<report>_'
                    '<period>_<start>_<end>.csv"`',
                    "schema": {"type": "string"},
                },
            },
            "schemas": _schemas(limits, validated),
            "responses": error_responses(),
        },
    }
