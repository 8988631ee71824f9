"""The request, defined once: a pydantic v2 model per report (:func:`request_models`), from
which both validation (:mod:`app.report.request.validate`) and the OpenAPI schema
(:mod:`app.web.openapi`) come.

pydantic v2 because it does both halves of the job from one annotation: it validates every
field and collects *every* failure in one pass (Crossbar answers every bad field at once;
msgspec, the other fast candidate, stops at the first), and it generates JSON Schema from
the same types and constraints. Its Rust core keeps validation well under a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, create_model, model_validator

from app.report.buckets import PERIODS, UnsupportedTimezone, plan
from app.report.formats import DEFAULT_FORMAT, FORMATS
from app.report.metrics import DEFAULT_THRESHOLD, REPORTS, THRESHOLDS, ReportKind
from app.report.record_kinds import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RECORDS, RecordKind
from app.report.request.dates import MAX_DATE, MIN_DATE, last_day, parse_day, time_zones
from app.report.request.types import (
    Component,
    FromQuery,
    boolean_text,
    camel,
    crossbar,
    fail,
    id_list,
    integer_text,
    metric_list,
    one_of,
    value_list,
    whole_number,
)
from app.report.start_key import NotOurs, decode

Kind = ReportKind | RecordKind
ALL_REPORTS = (*REPORTS, *RECORDS)  # every report a request may name


@dataclass(frozen=True)
class Limits:
    max_range_days: int = 366
    max_identifiers: int = 1000
    max_queue_ids: int = 100
    max_id_length: int = 128


class Parameters(BaseModel):
    """What every report's parameters share: strict JSON types (a string is no number, a
    number no boolean), unknown fields ignored, and a range the pipeline can plan."""

    model_config = ConfigDict(strict=True, frozen=True)

    @model_validator(mode="after")
    def _plannable(self) -> Parameters:
        values = self.__dict__
        period = values["period"] or "daily"  # a record report without a bucket: any period
        try:
            plan(values["start_date"], values["end_date"], period, values["timezone"])
        except UnsupportedTimezone:
            raise fail(
                "date_range",
                "The zone's UTC offset in this range is not a whole number of quarter hours",
                value=values["timezone"],
                field="timezone",
            ) from None
        return self


class RecordParameters(Parameters):
    """A record report's: ``period`` and ``bucket`` both or neither, the bucket one of the
    range's, ``wait_min`` at most ``wait_max``."""

    @model_validator(mode="after")
    def _drill_down(self) -> RecordParameters:
        values = self.__dict__
        period, bucket = values.get("period"), values.get("bucket")
        if (period is None) != (bucket is None):
            missing = "bucket" if bucket is None else "period"
            raise fail("required", "period and bucket go together", field=missing)
        if period is not None:
            buckets = plan(values["start_date"], values["end_date"], period, values["timezone"])
            if bucket not in buckets.buckets:
                raise fail(
                    "enum",
                    f"Not a {period} bucket key of the range (first {buckets.buckets[0]}, "
                    f"last {buckets.buckets[-1]})",
                    value=bucket,
                    field="bucket",
                )
        low, high = values.get("wait_min"), values.get("wait_max")
        if low is not None and high is not None and low > high:
            raise fail(
                "minimum", "wait_max is below wait_min", value=high, target=low, field="wait_max"
            )
        return self


def _start_key(report: str | None) -> Any:
    """An opaque next_start_key of this report (before the report is known: any text)."""

    def check(value: Any) -> Any:
        if report is None:
            if not isinstance(value, str):
                raise fail("type", "Value did not match type(s): string", value=value)
            return value
        try:
            return decode(report, value)
        except NotOurs:
            raise fail(
                "format",
                "Not a next_start_key this report gave: ask for the first page without it",
                value=value if isinstance(value, str) and len(value) <= 64 else None,
            ) from None

    return Annotated[
        str,
        PlainValidator(check, json_schema_input_type=str),
        Field(
            description="the `next_start_key` of the page before (opaque): this page goes on "
            "right after its last row; default: the first page"
        ),
    ]


def _record_fields(kind: RecordKind | None, limits: Limits) -> dict[str, Any]:
    """What a record report adds (CONTRACT.md 8b, 8c); ``None``: every record report's."""
    fields: dict[str, Any] = {
        "bucket": (
            Annotated[
                str,
                crossbar(
                    lambda value, _: fail(
                        "type", "Value did not match type(s): string", value=value
                    )
                ),
                Field(
                    description="record reports: only the rows of this bucket of `period` "
                    "(its key, as the aggregate report names it): the records behind one cell"
                ),
            ],
            None,
        ),
    }
    kinds = [kind] if kind is not None else list(RECORDS.values())
    for name in dict.fromkeys(k.filter for k in kinds):
        values = tuple(dict.fromkeys(v for k in kinds if k.filter == name for v in k.values))
        which = " and ".join(k.name for k in kinds if k.filter == name)
        fields[name] = (
            value_list(
                values if kind is not None else None,
                f"{which}: only rows with these {name} ({', '.join(values)}); default all",
            ),
            None,
        )
    if kind is None or kind.waits:
        for name, side in (("wait_min", "at least"), ("wait_max", "at most")):
            fields[name] = (
                Annotated[
                    whole_number(0, 2**32 - 1),
                    Field(
                        description=f"visits: only visits that waited {side} this many "
                        "seconds (inclusive)"
                    ),
                    FromQuery(integer_text),
                ],
                None,
            )
    fields["page_size"] = (
        Annotated[
            whole_number(1, MAX_PAGE_SIZE),
            Field(
                description=f"record reports: rows per page, 1 to {MAX_PAGE_SIZE}; default "
                f"{DEFAULT_PAGE_SIZE} in JSON; CSV without it streams every row of the range"
            ),
            FromQuery(integer_text),
        ],
        None,
    )
    fields["start_key"] = (_start_key(kind.name if kind is not None else None), None)
    return fields


def _fields(kind: Kind | None, limits: Limits) -> dict[str, Any]:
    """The parameters of one report (``None``: before the report is known), in the order
    they are checked: the dates need the zone, the range needs both dates."""
    day = Annotated[
        date,
        PlainValidator(parse_day, json_schema_input_type=date | datetime),
        Component(
            "DateOrDateTime",
            "ISO 8601 date (`2017-01-01`) or date-time, whose day is taken in `timezone`; "
            f"both ends inclusive, at most {limits.max_range_days} days "
            f"(QUBICLE_REPORTS_MAX_RANGE_DAYS), between {MIN_DATE} and {MAX_DATE}",
        ),
    ]
    report = (
        Annotated[one_of(ALL_REPORTS), Component("Report", "the report to run")]
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
                last_day(limits.max_range_days),
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
                    "of that Sunday), monthly `YYYYMM`, hourly `YYYYMMDDHH`; default daily "
                    "(record reports: none, and only with `bucket`)",
                ),
            ],
            None if isinstance(kind, RecordKind) else "daily",
        ),
    }
    if not isinstance(kind, RecordKind):
        fields["metrics"] = (metric_list(kind), kind.published if kind else None)
    fields |= {
        "identifiers": (
            id_list(
                limits.max_identifiers,
                limits.max_id_length,
                "ids to report on (queues, or agents for recipients, agent_states, offers and "
                "agent_intervals), in this order (duplicates dropped; record reports: in id "
                "order); default: every entity with data, sorted",
            ),
            None,
        ),
    }
    if kind is None or (kind.queue_ids if isinstance(kind, RecordKind) else kind.queue_views):
        fields["queue_ids"] = (
            id_list(
                limits.max_queue_ids,
                limits.max_id_length,
                "recipients and offers reports only: count only offers made from visits to "
                "these queues",
            ),
            None,
        )
    fields["format"] = (
        Annotated[
            one_of(FORMATS),
            Component(
                "Format",
                f"{' or '.join(FORMATS)}; default {DEFAULT_FORMAT}; `accept` (or the "
                "`Accept` header) may ask for another by its name or media type",
            ),
        ],
        DEFAULT_FORMAT,
    )
    if isinstance(kind, RecordKind):
        return fields | _record_fields(kind, limits)
    if kind is None or kind.takes_threshold:
        fields["service_level_threshold"] = (
            Annotated[
                one_of(THRESHOLDS),
                Component(
                    "ServiceLevelThreshold",
                    "seconds: `service_level` counts the visits answered within this wait; "
                    f"default {DEFAULT_THRESHOLD}",
                ),
                FromQuery(integer_text),
            ],
            DEFAULT_THRESHOLD,
        )
    fields["totals"] = (
        Annotated[
            bool,
            crossbar(
                lambda value, _: fail("type", "Value did not match type(s): boolean", value=value)
            ),
            Field(
                description='add a `"total"` key (the whole range) to every series and a '
                'last item `{"id": "total", ...}` over every entity of the report; in CSV, '
                "rows whose period is `total` and rows whose id is `total`; default false"
            ),
            FromQuery(boolean_text),
        ],
        False,
    )
    return fields if kind is not None else fields | _record_fields(None, limits)


@dataclass(frozen=True)
class RequestModels:
    by_report: dict[str, type[Parameters]]  # report name -> its parameters
    any_report: type[Parameters]  # before the report is known; the GET query string

    def only_in(self, name: str) -> list[str]:
        """The reports that have parameter ``name``."""
        return [r for r, model in self.by_report.items() if name in model.model_fields]


@lru_cache(maxsize=32)  # one Limits in a service; tests try many
def request_models(limits: Limits) -> RequestModels:
    def model(name: str, kind: Kind | None) -> type[Parameters]:
        base = RecordParameters if isinstance(kind, RecordKind) else Parameters
        return create_model(name, __base__=base, **_fields(kind, limits))

    kinds: dict[str, Kind] = {**REPORTS, **RECORDS}
    return RequestModels(
        by_report={r: model(f"{camel(r)}ReportData", kind) for r, kind in kinds.items()},
        any_report=model("ReportParameters", None),
    )
