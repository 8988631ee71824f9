"""The three record reports (CONTRACT.md 8): what each lists, its filter's values and its
columns. Pure and a leaf: the request model, the readers and the renderers all read it."""

from __future__ import annotations

from dataclasses import dataclass

VISIT_RESULTS = ("answered", "abandoned", "timeout")
OFFER_RESULTS = ("answered", "missed", "rejected")
# the states of CONTRACT.md 7b as a row names them; logged-out time has no rows
STATES = ("logged_in", "ready", "ringing", "talking", "wrapup", "paused", "outbound")


@dataclass(frozen=True)
class RecordKind:
    name: str
    one_row_per: str  # what a row is (the OpenAPI document says it)
    entity: str  # what ``identifiers`` name
    filter: str  # the list filter: "results" or "states"
    values: tuple[str, ...]  # its values
    columns: tuple[str, ...]  # a row's fields, in CSV column order
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
)
RECORDS: dict[str, RecordKind] = {k.name: k for k in (VISITS, OFFERS, AGENT_INTERVALS)}
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
