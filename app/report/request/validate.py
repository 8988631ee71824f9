"""A request's parameters checked against its report's model: the :class:`ReportRequest`
the pipeline runs, or an :class:`errors.ApiError` naming every bad field in Crossbar's shape
(CONTRACT.md section 5). Also how a GET's query string carries what a POST's body would."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

from app import errors
from app.report.metrics import DEFAULT_THRESHOLD, TOTAL
from app.report.record_kinds import RECORDS
from app.report.request.models import Limits, request_models
from app.report.request.types import FromQuery, id_list, split_list
from app.report.start_key import Place

DEFAULT_LIMITS = Limits()
REQUIRED_MSG = "Field is required but missing"
# every keyword validate() may name in a 400 (app.report adds maxCells, app.errors invalid)
KEYWORDS = (
    "required",
    "enum",
    "type",
    "format",
    "date_range",
    "minItems",
    "maxItems",
    "maxLength",
    "pattern",
    "forbidden",
    "minimum",
    "maximum",
)


@dataclass(frozen=True)
class ReportRequest:
    report: str
    start: date  # local calendar days in ``timezone``, inclusive
    end: date
    period: str
    metrics: tuple[str, ...]
    identifiers: tuple[str, ...] | None
    queue_ids: tuple[str, ...] | None
    format: str
    timezone: str
    threshold: int = DEFAULT_THRESHOLD  # service_level_threshold (app.metrics.THRESHOLDS)
    totals: bool = False


@dataclass(frozen=True)
class RecordRequest:
    """A record report's request (CONTRACT.md 8): the range, and which rows of it."""

    report: str
    start: date
    end: date
    timezone: str
    period: str | None  # with bucket: only that bucket's rows
    bucket: str | None
    identifiers: tuple[str, ...] | None  # in id order: rows are (8c)
    queue_ids: tuple[str, ...] | None
    values: tuple[str, ...] | None  # results (visits, offers) or states (agent_intervals)
    wait_min: int | None
    wait_max: int | None
    format: str
    page_size: int | None  # None: every row (CSV), the default page size (JSON)
    start_key: Place | None  # decoded: the place after which the page begins
    start_key_text: str | None  # as given, echoed in the answer


def _crossbar_errors(e: ValidationError, top: str = "") -> dict[str, dict[str, Any]]:
    """pydantic's failures in Crossbar's shape: field -> keyword -> detail, one per field."""
    out: dict[str, dict[str, Any]] = {}
    for failure in e.errors(include_url=False):
        detail = dict(failure.get("ctx") or {})
        field = str(detail.pop("field", None) or (failure["loc"] or (top,))[0])
        if failure["type"] == "missing":
            out.setdefault(field, {"required": {"message": REQUIRED_MSG}})
        else:
            out.setdefault(field, {failure["type"]: {"message": failure["msg"], **detail}})
    return out


@lru_cache(maxsize=32)
def _id_list_adapter(limit: int, max_length: int) -> TypeAdapter[list[str]]:
    return TypeAdapter(id_list(limit, max_length, "ids"), config=ConfigDict(strict=True))


def validate_ids(value: Any, *, field: str, limit: int, max_length: int) -> list[str]:
    """Ids checked exactly as a report's ``identifiers`` are (a query string's text split on
    commas; none at all is a missing field), or an :class:`errors.ApiError` naming ``field``."""
    items = split_list(value)
    if not items:
        raise errors.invalid(field, "required", REQUIRED_MSG)
    try:
        ids: list[str] = _id_list_adapter(limit, max_length).validate_python(items)
    except ValidationError as e:
        raise errors.validation(_crossbar_errors(e, field)) from None
    return list(dict.fromkeys(ids))


def validate(
    params: dict[str, Any],
    *,
    path_report: str | None = None,
    today: date | None = None,
    limits: Limits = DEFAULT_LIMITS,
    csv_requested: bool = False,
) -> ReportRequest | RecordRequest:
    """The validated request, or an :class:`errors.ApiError` naming every bad field."""
    given = {k: v for k, v in params.items() if v is not None}  # JSON null = omitted
    models = request_models(limits)
    report = given.get("report", path_report)
    errs: dict[str, dict[str, Any]] = {}
    if path_report is not None and report != path_report:
        errs["report"] = {
            "enum": {
                "message": "Must match the report in the URL",
                "value": report,
                "target": [path_report],
            }
        }
    known = models.by_report.get(report) if isinstance(report, str) else None
    model = known or models.any_report  # an unknown report: check every other field anyway
    for name in given.keys() & models.any_report.model_fields.keys() - model.model_fields.keys():
        names = models.only_in(name)
        reports = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        errs[name] = {
            "forbidden": {
                "message": f"{name} applies only to the {reports} report{'s' * (len(names) > 1)}",
                "value": given[name],
            }
        }
    data = given if report is None else {**given, "report": report}
    try:
        valid = model.model_validate(data, context={"today": today})
    except ValidationError as e:
        errs = _crossbar_errors(e) | errs
    ids = given.get("identifiers")
    if given.get("totals") is True and isinstance(ids, list) and TOTAL in ids:
        errs.setdefault(
            "identifiers",
            {
                "forbidden": {
                    "message": f'"{TOTAL}" is the id of the totals item: it cannot be an '
                    "identifier when totals is true",
                    "value": TOTAL,
                }
            },
        )
    if errs:
        raise errors.validation(errs)
    p = valid.__dict__
    fmt = p["format"] if "format" in given or not csv_requested else "csv"
    if p["report"] in RECORDS:
        kind = RECORDS[p["report"]]
        ids = _unique(p["identifiers"])
        return RecordRequest(
            report=p["report"],
            start=p["start_date"],
            end=p["end_date"],
            timezone=p["timezone"],
            period=p["period"],
            bucket=p["bucket"],
            identifiers=tuple(sorted(ids)) if ids is not None else None,
            queue_ids=_unique(p.get("queue_ids")),
            values=_unique(p[kind.filter]),
            wait_min=p.get("wait_min"),
            wait_max=p.get("wait_max"),
            format=fmt,
            page_size=p["page_size"],
            start_key=p["start_key"],
            start_key_text=given.get("start_key"),
        )
    return ReportRequest(
        report=p["report"],
        start=p["start_date"],
        end=p["end_date"],
        period=p["period"],
        metrics=tuple(dict.fromkeys(p["metrics"])),
        identifiers=_unique(p["identifiers"]),
        queue_ids=_unique(p.get("queue_ids")),
        format=fmt,
        timezone=p["timezone"],
        threshold=p.get("service_level_threshold", DEFAULT_THRESHOLD),
        totals=p["totals"],
    )


def _unique(ids: list[str] | None) -> tuple[str, ...] | None:
    return None if ids is None else tuple(dict.fromkeys(ids))


@cache
def _query_parsers() -> dict[str, Callable[[str], Any]]:
    fields = request_models(DEFAULT_LIMITS).any_report.model_fields
    return {
        name: meta.parse
        for name, field in fields.items()
        for meta in field.metadata
        if isinstance(meta, FromQuery)
    }


def from_query(query: Mapping[str, str]) -> dict[str, Any]:
    """A GET's query string as a POST's ``data`` would carry it: lists split on commas,
    numbers and booleans parsed (text that is neither stays text, and fails validation)."""
    params: dict[str, Any] = dict(query)
    for name, parse in _query_parsers().items():
        if isinstance(params.get(name), str):
            params[name] = parse(params[name])
    return params
