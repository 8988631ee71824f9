"""Building blocks of the request models: a pydantic type, its JSON Schema name, and the
Crossbar error (CONTRACT.md section 5) its failure becomes.

Each field's type carries a wrap validator (:func:`crossbar`) that turns pydantic's own
failure into that field's Crossbar keyword and message, so a 400 names every bad field in
Crossbar's shape ``{field: {keyword: {"message", "value", "target"}}}``. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    PlainValidator,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError

from app.report.metrics import REPORTS, ReportKind

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@:+-]*$")
ENUM_MSG = "Value not found in enumerated list of values"


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


def integer_text(text: str) -> Any:
    return int(text) if re.fullmatch(r"-?[0-9]{1,9}", text) else text


def boolean_text(text: str) -> Any:
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


def camel(name: str) -> str:
    """``agent_states`` -> ``AgentStates``: a report's name in schema names."""
    return "".join(part.capitalize() for part in name.split("_"))


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
                "Metric", "a metric of any report: " + _metric_definitions([*REPORTS.values()])
            ),
        ]
    else:
        names = tuple(kind.metrics)
        singular = kind.name[:-1] if kind.name.endswith("s") else kind.name
        item = Annotated[
            Literal[names],
            Component(
                f"{camel(singular)}Metric",  # queues -> QueueMetric
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


def value_list(values: tuple[str, ...] | None, description: str) -> Any:
    """Some of ``values`` (``None``: before the report is known, unchecked, as for metrics)."""
    item: Any = Literal[values] if values is not None else str

    def unknown(failures: Failures) -> PydanticCustomError:
        bad = [f["input"] for f in failures]
        target = {"target": list(values)} if values is not None else {}
        return fail("enum", ENUM_MSG, value=bad[0] if len(bad) == 1 else bad, **target)

    return Annotated[
        list[item],
        Field(min_length=1, description=description),
        crossbar(lambda value, failures: _list_error(value, failures, unknown)),
        FromQuery(split_list),
    ]


def whole_number(low: int, high: int) -> Any:
    """An integer from ``low`` to ``high``: ``type``, ``minimum`` or ``maximum`` otherwise."""

    def translate(value: Any, failures: Failures) -> PydanticCustomError:
        kinds = {f["type"] for f in failures}
        if "greater_than_equal" in kinds:
            return fail("minimum", f"Must be at least {low}", value=value, target=low)
        if "less_than_equal" in kinds:
            return fail("maximum", f"Must be at most {high}", value=value, target=high)
        return fail("type", "Value did not match type(s): integer", value=value)

    return Annotated[int, Field(ge=low, le=high), crossbar(translate)]
