"""The service's own OpenAPI 3.0.3 description, served at ``GET /openapi.json``.

The request's schemas are not written here: pydantic generates them from the request models
that validate every request (:func:`app.request.request_models`), and this module only
adapts them to OpenAPI 3.0 (:func:`openapi30`), names the per-report variants and lays the
GET query parameters out from them. So the document cannot drift from the validator.
Request schemas say what a client should send (the service is more lenient: unknown fields
are ignored and JSON ``null`` counts as omitted); response schemas are closed
(``additionalProperties: false``) wherever the shape is fixed, so a response checker such
as schemathesis can hold the service to them.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from app import __version__
from app.couch.modb import ACCOUNT_ID_RE
from app.report.metrics import REPORTS
from app.report.request import KEYWORDS, Limits, request_models

Schema = dict[str, Any]

# every key of a 400's data: the request's fields, and "json" for the body
REPORT_FIELDS = (*request_models(Limits()).any_report.model_fields, "json")
# app.request's keywords, app.report's (maxCells) and app.errors' (invalid)
VALIDATION_KEYWORDS = (*KEYWORDS, "maxCells", "invalid")
CSV_NOTE = (
    "CSV instead of JSON: `format=csv`, `accept=csv` (or `text/csv`), or the header "
    "`Accept: text/csv` (OpenAPI 3.0 ignores `Accept` header parameters, so it is "
    "documented here and by the `text/csv` response). An explicit `format` wins."
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


TRANSPORT: Schema = {  # read by app.http, not parameters of the report
    "accept": enum(["csv", "text/csv"], description="another way to ask for CSV"),
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
    return openapi30(schemas)


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


# -- responses ----------------------------------------------------------------------------


def _error_envelope(status: int, messages: list[str], data: Schema) -> Schema:
    return obj(
        {
            "data": data,
            "error": enum([str(status)]),
            "message": enum(messages),
            "status": enum(["error"]),
            "request_id": schema_ref("RequestId"),
            "auth_token": {"type": "string", "description": "the token presented, or empty"},
        },
        required=["data", "error", "message", "status", "request_id", "auth_token"],
    )


def _message_only(messages: list[str] | None = None) -> Schema:
    message: Schema = enum(messages) if messages else {"type": "string"}
    return obj({"message": message}, required=["message"])


def _error(status: int, description: str, messages: list[str], data: Schema) -> Schema:
    return response(description, json_content(_error_envelope(status, messages, data)))


def _responses() -> Schema:
    return {
        "ReportOk": response(
            "The report. " + CSV_NOTE,
            {
                "application/json": {"schema": schema_ref("ReportEnvelope")},
                "text/csv": {
                    "schema": {
                        "type": "string",
                        "description": "header `id,period,<metrics...>`, then one row per "
                        "entity per bucket (with `totals`: a row whose period is `total` "
                        "after each entity's buckets, and last the rows whose id is `total`), "
                        "CRLF line ends; cells a spreadsheet would run as a formula are "
                        "prefixed with `'`",
                    }
                },
            },
        )
        | {
            "headers": {
                "X-Request-ID": ref("headers", "XRequestId"),
                "Content-Disposition": ref("headers", "ContentDisposition"),
            }
        },
        "ValidationError": _error(
            400,
            "A bad body (`invalid request`: not JSON; `validation error`: not "
            '`{"data": {...}}`), or bad fields, every one of them at once',
            ["validation error", "invalid request"],
            schema_ref("ValidationErrors"),
        ),
        "Unauthorized": _error(
            401,
            "No token, or not a valid one",
            ["invalid_credentials"],
            _message_only(["invalid credentials"]),
        ),
        "Forbidden": _error(
            403,
            "The token's account may not read this account (or it does not exist)",
            ["forbidden"],
            _message_only(["forbidden"]),
        ),
        "NotFound": _error(
            404,
            "`bad_identifier`: the account id is not 32 lowercase hex digits; "
            "`not_found`: no such route",
            ["bad_identifier", "not_found"],
            {
                "anyOf": [
                    obj(
                        {"message": enum(["bad identifier"]), "cause": {"type": "string"}},
                        required=["message", "cause"],
                    ),
                    _message_only(["not found"]),
                ]
            },
        ),
        "MethodNotAllowed": _error(
            405, "Another HTTP method on this path", ["method not allowed"], _message_only()
        ),
        "TooLarge": _error(
            413,
            "The body is larger than QUBICLE_REPORTS_MAX_BODY_BYTES (64 KiB by default)",
            ["request too large"],
            _message_only(),
        ),
        "InternalError": _error(
            500,
            "An unexpected failure (logged with the request id; no details are returned)",
            ["internal error"],
            _message_only(["internal error"]),
        ),
        "Unavailable": _error(
            503,
            "`datastore fatal error`: CouchDB unreachable, failing or too slow; `too busy`: "
            "too many reports in progress, retry shortly",
            ["datastore fatal error", "too busy"],
            _message_only(),
        ),
    }


def _series(name: str) -> Schema:
    """A metric's values: counts and agent seconds are integers, rates, averages and maxima
    numbers."""
    integer = name.endswith(("_count", "_time"))
    value = {"type": "integer" if integer else "number", "minimum": 0}
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


def _schemas(limits: Limits) -> Schema:
    series = {m: _series(m) for kind in REPORTS.values() for m in kind.metrics}
    detail = obj(
        {"message": {"type": "string"}, "value": {}, "target": {}},
        required=["message"],
    )
    field_errors = {
        "type": "object",
        "properties": {k: schema_ref("ValidationDetail") for k in VALIDATION_KEYWORDS},
        "additionalProperties": False,
        "minProperties": 1,
        "description": "keyword -> detail",
    }
    return {
        **request_schemas(limits),
        "RequestId": {
            "type": "string",
            "pattern": _request_id_pattern(),
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
        "ValidationDetail": detail,
        "FieldErrors": field_errors,
        "ValidationErrors": {
            "type": "object",
            "properties": {f: schema_ref("FieldErrors") for f in REPORT_FIELDS},
            "additionalProperties": False,
            "minProperties": 1,
            "description": "field -> keyword -> {message, value, target}",
        },
    }


def _request_id_pattern() -> str:
    from app.web.server import REQUEST_ID_RE  # app.http imports this module: import late

    return REQUEST_ID_RE.pattern


# -- operations ---------------------------------------------------------------------------

ERRORS = {
    "400": "ValidationError",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "405": "MethodNotAllowed",
    "500": "InternalError",
    "503": "Unavailable",
}
REPORT_SECURITY = [{"XAuthToken": []}, {"BearerAuth": []}, {"AuthTokenQuery": []}]


def _report_operation(method: str, *, in_path: bool, limits: Limits) -> Schema:
    which = "a report named in the path" if in_path else "a report"
    op: Schema = {
        "tags": ["reports"],
        "operationId": f"{method}{'Named' if in_path else ''}Report",
        "summary": f"Run {which} ({'query string' if method == 'get' else 'JSON body'})",
        "description": "Per request: authenticate, check the account id, authorize, validate "
        "every field (all errors at once), read the reduced views of the month databases, "
        "render. A trailing slash on the path is accepted too. " + CSV_NOTE,
        "parameters": [
            ref("parameters", "AccountId"),
            *([ref("parameters", "Report")] if in_path else []),
            ref("parameters", "XRequestId"),
            ref("parameters", "CacheControl"),
            *(_query_parameters(in_path=in_path, limits=limits) if method == "get" else []),
        ],
        "security": REPORT_SECURITY,
        "responses": {
            "200": ref("responses", "ReportOk"),
            **{code: ref("responses", name) for code, name in ERRORS.items()},
        },
    }
    if method == "post":
        op["requestBody"] = _request_body(in_path=in_path)
        op["responses"]["413"] = ref("responses", "TooLarge")
        op["responses"] = dict(sorted(op["responses"].items()))
    return op


def _probe(description: str, status: str, couchdb: str | None = None) -> Schema:
    """A health answer: its ``status``, and whether CouchDB is ``up``."""
    properties = {"status": enum([status])}
    if couchdb is not None:
        properties["couchdb"] = enum([couchdb])
    return response(description, json_content(obj(properties, required=list(properties))))


def _names_operation(limits: Limits) -> Schema:
    """app.names: display names of the ids a report shows (the dashboard's labels)."""
    names = {"type": "object", "additionalProperties": {"type": "string"}}
    field_errors = schema_ref("FieldErrors")
    return {
        "tags": ["reports"],
        "operationId": "getNames",
        "summary": "Names of queues (`name`) and agents (`first_name last_name`) by id",
        "description": "Ids without a name are left out. Authorized like the reports.",
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
        "security": REPORT_SECURITY,
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
            "400": _error(
                400,
                "`ids` missing, too many, or not ids",
                ["validation error"],
                obj({"ids": field_errors}, required=["ids"]),
            ),
            **{code: ref("responses", name) for code, name in ERRORS.items() if code != "400"},
        },
    }


def _dashboard_paths() -> Schema:
    """app.dashboard: the static page, and the redirects to it."""
    redirect = response("To `/dashboard/`") | {
        "headers": {
            "X-Request-ID": ref("headers", "XRequestId"),
            "Location": {"schema": {"type": "string", "enum": ["/dashboard/"]}},
        }
    }

    def page(operation_id: str, summary: str, responses: Schema, *parameters: Schema) -> Schema:
        return {
            "get": {
                "tags": ["dashboard"],
                "operationId": operation_id,
                "summary": summary,
                "security": [],
                "parameters": list(parameters),
                "responses": responses,
            }
        }

    file_ok = response(
        "The file (revalidated with ETag / Last-Modified)",
        {m: {"schema": {"type": "string"}} for m in ("text/html", "text/css", "text/javascript")},
    )
    return {
        "/": page("getRoot", "Redirects to the dashboard", {"302": redirect}),
        "/dashboard": page("getDashboardRedirect", "Redirects to `/dashboard/`", {"302": redirect}),
        "/dashboard/{path}": page(
            "getDashboardFile",
            "A file of the dashboard: `/dashboard/{path}` (`/dashboard/` is index.html)",
            {
                "200": file_ok,
                "304": response("Not modified"),
                "404": ref("responses", "NotFound"),
            },
            ref("parameters", "DashboardFile"),
        ),
    }


def _service_operation(operation_id: str, summary: str, responses: Schema) -> Schema:
    return {
        "tags": ["service"],
        "operationId": operation_id,
        "summary": summary,
        "security": [],
        "responses": {
            **responses,
            "405": ref("responses", "MethodNotAllowed"),
            "500": ref("responses", "InternalError"),
        },
    }


def spec(limits: Limits | None = None) -> dict[str, Any]:
    """A fresh copy of the document (callers may mutate it)."""
    limits = limits or Limits()
    base = "/v2/accounts/{account_id}/qubicle_reports"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "qubicle-reports",
            "version": __version__,
            "description": "KAZOO's Qubicle Crossbar Reporting API (queue and recipient "
            "reports), answered from CouchDB map/reduce views. Errors use Crossbar's "
            "envelope: `data`, `error` (the status as a string), `message`, `status`, "
            "`request_id`, `auth_token`.",
        },
        "tags": [
            {"name": "reports", "description": "Queue and recipient reports"},
            {"name": "service", "description": "Health, metrics and this document"},
            {"name": "dashboard", "description": "The browser dashboard (static files)"},
        ],
        "paths": {
            base: {
                "post": _report_operation("post", in_path=False, limits=limits),
                "get": _report_operation("get", in_path=False, limits=limits),
            },
            base + "/{report}": {
                "post": _report_operation("post", in_path=True, limits=limits),
                "get": _report_operation("get", in_path=True, limits=limits),
            },
            "/health": {
                "get": _service_operation(
                    "getHealth",
                    "Whether CouchDB answers (no token needed)",
                    {
                        "200": _probe("CouchDB answers", "ok", "up"),
                        "503": _probe("CouchDB does not answer", "degraded", "down"),
                    },
                )
            },
            "/health/live": {
                "get": _service_operation(
                    "getLive",
                    "Whether the process answers (orchestrators restart it when not)",
                    {"200": _probe("The process answers", "ok")},
                )
            },
            "/health/ready": {
                "get": _service_operation(
                    "getReady",
                    "Whether a CouchDB node answers within QUBICLE_REPORTS_READY_TIMEOUT "
                    "(send traffic here)",
                    {
                        "200": _probe("A CouchDB node answers", "ready", "up"),
                        "503": _probe("No CouchDB node answers", "not ready", "down"),
                    },
                )
            },
            "/metrics": {
                "get": _service_operation(
                    "getMetrics",
                    "Prometheus metrics (when QUBICLE_REPORTS_METRICS is on and "
                    "QUBICLE_REPORTS_METRICS_ADDRESS gives them no listener of their own)",
                    {
                        "200": response(
                            "The Prometheus text exposition format",
                            {"text/plain": {"schema": {"type": "string"}}},
                        )
                    },
                )
            },
            "/v2/accounts/{account_id}/qubicle_names": {"get": _names_operation(limits)},
            **_dashboard_paths(),
            "/openapi.json": {
                "get": _service_operation(
                    "getOpenApi",
                    "This document",
                    {
                        "200": response(
                            "The OpenAPI 3.0 description of this service",
                            json_content(
                                obj(
                                    {
                                        "openapi": {"type": "string"},
                                        "info": {"type": "object"},
                                        "paths": {"type": "object"},
                                    },
                                    required=["openapi", "info", "paths"],
                                    closed=False,
                                )
                            ),
                        )
                    },
                )
            },
        },
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
                    f"`{_request_id_pattern()}`; otherwise a new id is made",
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
            "schemas": _schemas(limits),
            "responses": _responses(),
        },
    }
