"""The three record reports (CONTRACT.md 8): what each lists, its filter's values and its
columns. Pure and a leaf: the request model, the readers and the renderers all read it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VISIT_RESULTS = ("answered", "abandoned", "timeout")
OFFER_RESULTS = ("answered", "missed", "rejected")
# the states of CONTRACT.md 7b as a row names them; logged-out time has no rows
STATES = ("logged_in", "ready", "ringing", "talking", "wrapup", "paused", "outbound")


_TEXT: dict[str, Any] = {"type": "string"}
_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_SECOND: dict[str, Any] = {"type": "integer", "minimum": 0}
_SECONDS: dict[str, Any] = {"type": "number", "minimum": 0}
# every column's JSON Schema and meaning (CONTRACT.md 8a): the OpenAPI document's rows
COLUMNS: dict[str, tuple[dict[str, Any], str]] = {
    "id": (_TEXT, "the document's id"),
    "source": (
        {"type": "string", "enum": ["qubicle_session", "call_stat"]},
        "the document's shape",
    ),
    "queue_id": (_TEXT, "the queue"),
    "call_id": (_TEXT, "the call"),
    "entered": (_TIME, "when the caller entered the queue, with the offset of `timezone`"),
    "entered_timestamp": (_SECOND, "the same, in Gregorian seconds"),
    "result": (
        _TEXT,
        "visits: answered, abandoned or timeout; offers: answered, missed or "
        "rejected (a call_stat read as KAZOO ACDC's table says)",
    ),
    "wait_time": (_SECONDS, "seconds waited until answered, abandoned or timed out"),
    "recipient_id": (_TEXT, "visits: who answered; offers: who was offered the call"),
    "talk_time": (_SECONDS, "answered visits: talk seconds"),
    "caller_id_name": (_TEXT, "as the document has it"),
    "caller_id_number": (_TEXT, "as the document has it"),
    "abandoned_reason": (_TEXT, "ACDC: why the caller left"),
    "offered": (_TIME, "when the offer was made (ACDC: handled, or the miss's time)"),
    "offered_timestamp": (_SECOND, "the same, in Gregorian seconds"),
    "ring_time": (_SECONDS, "Qubicle only: seconds of ringing"),
    "call_duration": (_SECONDS, "talk seconds of an answered offer, else 0"),
    "agent_id": (_TEXT, "the agent"),
    "state": ({"type": "string", "enum": list(STATES)}, "the state"),
    "from": (_TIME, "where the row begins (the state's start, or the range's or bucket's)"),
    "to": (_TIME, "where it ends (the next event, the 12-hour cap, the range, or now)"),
    "from_timestamp": (_SECOND, "`from` in Gregorian seconds"),
    "to_timestamp": (_SECOND, "`to` in Gregorian seconds"),
    "seconds": (_SECOND, "to - from (0 for two events in one second)"),
    "event_timestamp": (_SECOND, "the status event that started the state"),
    "capped": ({"type": "boolean"}, "the 12-hour cap ended it"),
    "pause_alias": (_TEXT, "paused: the pause's name"),
    "planned": (_SECONDS, "the planned pause (pause_time) or wrap-up (wait_time)"),
}


@dataclass(frozen=True)
class RecordKind:
    name: str
    one_row_per: str  # what a row is (the OpenAPI document says it)
    entity: str  # what ``identifiers`` name
    filter: str  # the list filter: "results" or "states"
    values: tuple[str, ...]  # its values
    columns: tuple[str, ...]  # a row's fields, in CSV column order
    always: tuple[str, ...]  # the columns every row has (the others: where recorded)
    queue_ids: bool = False  # takes queue_ids (offers of visits to those queues)
    waits: bool = False  # takes wait_min / wait_max


VISITS = RecordKind(
    name="visits",
    one_row_per="queue visit the queues report counts (a qubicle_session, or a call_stat)",
    entity="queue",
    filter="results",
    values=VISIT_RESULTS,
    columns=(
        "id",
        "source",
        "queue_id",
        "call_id",
        "entered",
        "entered_timestamp",
        "result",
        "wait_time",
        "recipient_id",
        "talk_time",
        "caller_id_name",
        "caller_id_number",
        "abandoned_reason",
    ),
    always=("id", "source", "queue_id", "entered", "entered_timestamp", "result", "wait_time"),
    waits=True,
)
OFFERS = RecordKind(
    name="offers",
    one_row_per="offer the recipients report counts (a Qubicle offer; an ACDC answered "
    "call or counted miss)",
    entity="recipient",
    filter="results",
    values=OFFER_RESULTS,
    columns=(
        "id",
        "source",
        "recipient_id",
        "queue_id",
        "call_id",
        "offered",
        "offered_timestamp",
        "result",
        "ring_time",
        "call_duration",
    ),
    always=(
        "id",
        "source",
        "recipient_id",
        "queue_id",
        "offered",
        "offered_timestamp",
        "result",
        "call_duration",
    ),
    queue_ids=True,
)
AGENT_INTERVALS = RecordKind(
    name="agent_intervals",
    one_row_per="stretch of one state of one agent, as the agent_states report counts it, "
    "cut to the range (and to the bucket)",
    entity="agent",
    filter="states",
    values=STATES,
    columns=(
        "agent_id",
        "state",
        "from",
        "to",
        "from_timestamp",
        "to_timestamp",
        "seconds",
        "event_timestamp",
        "capped",
        "queue_id",
        "call_id",
        "pause_alias",
        "planned",
    ),
    always=(
        "agent_id",
        "state",
        "from",
        "to",
        "from_timestamp",
        "to_timestamp",
        "seconds",
        "event_timestamp",
        "capped",
    ),
)
RECORDS: dict[str, RecordKind] = {k.name: k for k in (VISITS, OFFERS, AGENT_INTERVALS)}
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
