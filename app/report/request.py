"""The report request, defined once: validation and the OpenAPI schema both come from it.

The request is a typed pydantic v2 model per report (:func:`request_models`). pydantic v2
because it does both halves of the job from one annotation: it validates every field and
collects *every* failure in one pass (Crossbar answers every bad field at once; msgspec, the
other fast candidate, stops at the first), and it generates JSON Schema from the same types
and constraints, which :mod:`app.web.openapi` serves. It is widely used, actively maintained,
and its Rust core keeps validation well under a millisecond.

Errors keep Crossbar's validation shape (CONTRACT.md section 5):
``{field: {keyword: {"message": ..., "value": ..., "target": ...}}}``. Each field's type
carries a wrap validator that turns pydantic's own failure into that field's Crossbar
keyword and message; :func:`validate` collects them into an :class:`errors.ApiError`.
Pure: no I/O.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app import errors
from app.report.buckets import PERIODS, UnsupportedTimezone, plan
from app.report.metrics import DEFAULT_THRESHOLD, REPORTS, THRESHOLDS, TOTAL, ReportKind
from app.report.render import DEFAULT_FORMAT, FORMATS

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]*$")
# Room for a report's local window and the MoDB month after it inside Python's calendar
# (years 1..9999, where plan() would overflow), with four-digit years in every bucket key
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(9998, 12, 31)
ENUM_MSG = "Value not found in enumerated list of values"
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
)


@dataclass(frozen=True)
class Limits:
    max_range_days: int = 366
    max_identifiers: int = 1000
    max_queue_ids: int = 100
    max_id_length: int = 128


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


@cache
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


# -- building blocks: a pydantic type, its JSON Schema, and its Crossbar error --------------


class Component:
    """Names a type's JSON Schema, so OpenAPI describes it once under components/schemas."""

    def __init__(self, name: str, description: str | None = None) -> None:
        self.name, self.description = name, description

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return {**handler(source), "ref": self.name}

    def __get_pydantic_json_schema__(self, core: Any, handler: GetJsonSchemaHandler) -> Any:
        schema = handler(core)
        if self.description:
            handler.resolve_ref_schema(schema)["description"] = self.description
        return schema


@dataclass(frozen=True)
class FromQuery:
    """How a query string (GET) carries the field: its text is parsed before validation."""

    parse: Callable[[str], Any]


def fail(keyword: str, message: str, **detail: Any) -> PydanticCustomError:
    """A Crossbar detail (``value``, ``target``); ``field=`` files it under another field."""
    return PydanticCustomError(keyword, message, detail)


Failures = list[Any]  # pydantic's error dicts, located relative to the field
Translate = Callable[[Any, Failures], PydanticCustomError]


def crossbar(translate: Translate) -> WrapValidator:
    """Validate as the annotated type says; any failure becomes one Crossbar error."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as e:
            raise translate(value, e.errors(include_url=False)) from None

    return WrapValidator(check)


def one_of(
    values: tuple[Any, ...], *, keyword: str = "enum", message: str = ENUM_MSG, listed: bool = True
) -> Any:
    """One of ``values``; anything else is ``keyword``, listing them as target if ``listed``."""
    target = {"target": list(values)} if listed else {}
    return Annotated[
        Literal[values],
        crossbar(lambda value, _: fail(keyword, message, value=value, **target)),
    ]


def split_list(value: Any) -> Any:
    """Query strings carry lists comma-separated."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _integer_text(text: str) -> Any:
    return int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else text


def _boolean_text(text: str) -> Any:
    return {"true": True, "false": False}.get(text, text)


def _list_error(value: Any, failures: Failures, items: Callable[[Failures], Any]) -> Any:
    """The list's own failure (type, then length) first, else ``items`` of its items'."""
    whole = {f["type"]: f.get("ctx", {}) for f in failures if not f["loc"]}
    if "list_type" in whole:
        return fail("type", "Value did not match type(s): array", value=value)
    if "too_short" in whole:
        n = whole["too_short"]["min_length"]
        return fail("minItems", f"The list must have at least {n} item", target=n)
    if "too_long" in whole:
        n = whole["too_long"]["max_length"]
        return fail("maxItems", f"The list has more than {n} items", target=n)
    return items([f for f in failures if f["loc"]])


def _first_bad_id(failures: Failures) -> PydanticCustomError:
    first = failures[0]
    item = first["input"]
    if first["type"] == "string_too_long":
        n = first["ctx"]["max_length"]
        return fail("maxLength", f"An id is longer than {n} characters", value=item[:64], target=n)
    if first["type"] == "string_pattern_mismatch":
        return fail("pattern", "An id may hold only letters, digits and _ . @ : + -", value=item)
    return fail("type", "Each item must be a string", value=item)


def id_list(limit: int, max_length: int, description: str) -> Any:
    """Ids, at most ``limit``; duplicates dropped, order kept."""
    entity_id = Annotated[
        str, Field(max_length=max_length, pattern=ID_RE.pattern), Component("EntityId")
    ]
    return Annotated[
        list[entity_id],
        Field(min_length=1, max_length=limit, description=description),
        crossbar(lambda value, failures: _list_error(value, failures, _first_bad_id)),
        FromQuery(split_list),
    ]


def _metric_definitions(kinds: list[ReportKind]) -> str:
    seen = dict.fromkeys(f"`{m}`: {k.metrics[m].description}" for k in kinds for m in k.metrics)
    return "; ".join(seen)


def metric_list(kind: ReportKind | None) -> Any:
    """The report's metrics. Before the report is known (``None``) the names go unchecked:
    an unknown report is an error of its own, and names are checked against a report."""
    if kind is None:
        names = tuple(dict.fromkeys(m for k in REPORTS.values() for m in k.metrics))
        item: Any = Annotated[
            Any,
            PlainValidator(lambda v: v, json_schema_input_type=Literal[names]),
            Component(
                "Metric", "a metric of either report: " + _metric_definitions([*REPORTS.values()])
            ),
        ]
    else:
        names = tuple(kind.metrics)
        item = Annotated[
            Literal[names],
            Component(
                f"{kind.name[:-1].capitalize()}Metric",  # queues -> QueueMetric
                f"a metric of the {kind.name} report: {_metric_definitions([kind])}",
            ),
        ]

    def unknown(failures: Failures) -> PydanticCustomError:
        bad = [f["input"] for f in failures]
        return fail("enum", ENUM_MSG, value=bad[0] if len(bad) == 1 else bad, target=list(names))

    return Annotated[
        list[item],
        Field(
            min_length=1,
            description="metrics to return, in this order (duplicates dropped); default: the "
            "report's published metrics",
        ),
        crossbar(lambda value, failures: _list_error(value, failures, unknown)),
        FromQuery(split_list),
    ]


# -- the request --------------------------------------------------------------------------

DATE_MSG = "Must be an ISO 8601 date (YYYY-MM-DD) or date-time"


def _day(value: Any, info: ValidationInfo) -> date:
    """An ISO 8601 date, or a date-time whose day is taken in the report's zone."""
    zone = info.data.get("timezone")
    try:
        if not isinstance(value, str):
            raise TypeError
        text = value.strip()
        if len(text) == 10:
            day = date.fromisoformat(text)
        else:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            if dt.tzinfo is not None and zone is not None:
                dt = dt.astimezone(zoneinfo.ZoneInfo(zone))
            day = dt.date()
    except (TypeError, ValueError, OverflowError):
        raise fail("format", DATE_MSG, value=value) from None
    if not MIN_DATE <= day <= MAX_DATE:
        bounds = [MIN_DATE.isoformat(), MAX_DATE.isoformat()]
        message = f"Must be between {bounds[0]} and {bounds[1]}"
        raise fail("date_range", message, value=day.isoformat(), target=bounds)
    return day


def _last_day(max_days: int) -> WrapValidator:
    """``end_date``: default today in the zone; not before ``start_date``, at most
    ``max_days`` days after it counting both ends."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> date:
        if value is None:
            zone = info.data.get("timezone")
            today = (info.context or {}).get("today")
            today = today or datetime.now(zoneinfo.ZoneInfo(zone) if zone else UTC).date()
            value = today.isoformat()
        end: date = handler(value)
        start = info.data.get("start_date")
        if start is not None and start > end:
            raise fail(
                "date_range",
                "start_date is after end_date",
                value=start.isoformat(),
                target=end.isoformat(),
                field="start_date",
            )
        if start is not None and (end - start).days + 1 > max_days:
            message = f"The range may span at most {max_days} days"
            raise fail("date_range", message, value=(end - start).days + 1, target=max_days)
        return end

    return WrapValidator(check)


class Parameters(BaseModel):
    """What every report's parameters share: strict JSON types (a string is no number, a
    number no boolean), unknown fields ignored, and a range the pipeline can plan."""

    model_config = ConfigDict(strict=True, frozen=True)

    @model_validator(mode="after")
    def _plannable(self) -> Parameters:
        values = self.__dict__
        try:
            plan(values["start_date"], values["end_date"], values["period"], values["timezone"])
        except UnsupportedTimezone:
            raise fail(
                "date_range",
                "The zone's UTC offset in this range is not a whole number of quarter hours",
                value=values["timezone"],
                field="timezone",
            ) from None
        return self


def _fields(kind: ReportKind | None, limits: Limits) -> dict[str, Any]:
    """The parameters of one report (``None``: before the report is known), in the order
    they are checked: the dates need the zone, the range needs both dates."""
    day = Annotated[
        date,
        PlainValidator(_day, json_schema_input_type=date | datetime),
        Component(
            "DateOrDateTime",
            "ISO 8601 date (`2017-01-01`) or date-time, whose day is taken in `timezone`; "
            f"both ends inclusive, at most {limits.max_range_days} days "
            f"(QUBICLE_REPORTS_MAX_RANGE_DAYS), between {MIN_DATE} and {MAX_DATE}",
        ),
    ]
    report = (
        Annotated[one_of(tuple(REPORTS)), Component("Report", "the report to run")]
        if kind is None
        else one_of((kind.name,))
    )
    fields: dict[str, Any] = {
        "report": (
            Annotated[
                report,
                Field(
                    description="the report; in `/qubicle_reports/{report}` it may be left out "
                    "and must otherwise equal the path's"
                ),
            ],
            ...,
        ),
        "timezone": (
            Annotated[
                one_of(
                    tuple(sorted(time_zones())),
                    keyword="format",
                    message="Must be an IANA time zone name such as America/New_York",
                    listed=False,
                ),
                Component(
                    "Timezone",
                    "IANA zone whose local days/weeks/months/hours make the buckets; default UTC",
                ),
            ],
            "UTC",
        ),
        "start_date": (Annotated[day, Field(description="first day of the report")], ...),
        "end_date": (
            Annotated[
                day,
                _last_day(limits.max_range_days),
                Field(
                    validate_default=True,
                    description="last day of the report, inclusive; default: today in `timezone`",
                ),
            ],
            None,
        ),
        "period": (
            Annotated[
                one_of(PERIODS),
                Component(
                    "Period",
                    "bucket size: daily `YYYYMMDD`, weekly (weeks start on Sunday, key `%Y%U` "
                    "of that Sunday), monthly `YYYYMM`, hourly `YYYYMMDDHH`; default daily",
                ),
            ],
            "daily",
        ),
        "metrics": (metric_list(kind), kind.published if kind else None),
        "identifiers": (
            id_list(
                limits.max_identifiers,
                limits.max_id_length,
                "ids to report on, in this order (duplicates dropped); default: every entity "
                "with data, sorted",
            ),
            None,
        ),
    }
    if kind is None or kind.queue_views:
        fields["queue_ids"] = (
            id_list(
                limits.max_queue_ids,
                limits.max_id_length,
                "recipients report only: count only offers made from visits to these queues",
            ),
            None,
        )
    return fields | {
        "format": (
            Annotated[
                one_of(FORMATS),
                Component(
                    "Format",
                    f"{' or '.join(FORMATS)}; default {DEFAULT_FORMAT}; `accept` (or the "
                    "`Accept` header) may ask for another by its name or media type",
                ),
            ],
            DEFAULT_FORMAT,
        ),
        "service_level_threshold": (
            Annotated[
                one_of(THRESHOLDS),
                Component(
                    "ServiceLevelThreshold",
                    "seconds: `service_level` counts the visits answered within this wait; "
                    f"default {DEFAULT_THRESHOLD}",
                ),
                FromQuery(_integer_text),
            ],
            DEFAULT_THRESHOLD,
        ),
        "totals": (
            Annotated[
                bool,
                crossbar(
                    lambda value, _: fail(
                        "type", "Value did not match type(s): boolean", value=value
                    )
                ),
                Field(
                    description='add a `"total"` key (the whole range) to every series and a '
                    'last item `{"id": "total", ...}` over every entity of the report; in CSV, '
                    "rows whose period is `total` and rows whose id is `total`; default false"
                ),
                FromQuery(_boolean_text),
            ],
            False,
        ),
    }


@dataclass(frozen=True)
class RequestModels:
    by_report: dict[str, type[Parameters]]  # report name -> its parameters
    any_report: type[Parameters]  # before the report is known; the GET query string

    def only_in(self, name: str) -> list[str]:
        """The reports that have parameter ``name``."""
        return [r for r, model in self.by_report.items() if name in model.model_fields]


@lru_cache(maxsize=32)  # one Limits in a service; tests try many
def request_models(limits: Limits) -> RequestModels:
    def model(name: str, kind: ReportKind | None) -> type[Parameters]:
        return create_model(name, __base__=Parameters, **_fields(kind, limits))

    return RequestModels(
        by_report={r: model(f"{r.capitalize()}ReportData", kind) for r, kind in REPORTS.items()},
        any_report=model("ReportParameters", None),
    )


def _crossbar_errors(e: ValidationError, top: str = "") -> dict[str, dict[str, Any]]:
    """pydantic's failures in Crossbar's shape: field -> keyword -> detail, one per field
    (``top``: the field a failure without a location is about)."""
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
    limits: Limits = Limits(),
    csv_requested: bool = False,
) -> ReportRequest:
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
        reports = " and ".join(models.only_in(name))
        errs[name] = {
            "forbidden": {
                "message": f"{name} applies only to the {reports} report",
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
    return ReportRequest(
        report=p["report"],
        start=p["start_date"],
        end=p["end_date"],
        period=p["period"],
        metrics=tuple(dict.fromkeys(p["metrics"])),
        identifiers=_unique(p["identifiers"]),
        queue_ids=_unique(p.get("queue_ids")),
        format=p["format"] if "format" in given or not csv_requested else "csv",
        timezone=p["timezone"],
        threshold=p["service_level_threshold"],
        totals=p["totals"],
    )


def _unique(ids: list[str] | None) -> tuple[str, ...] | None:
    return None if ids is None else tuple(dict.fromkeys(ids))


@cache
def _query_parsers() -> dict[str, Callable[[str], Any]]:
    fields = request_models(Limits()).any_report.model_fields
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
