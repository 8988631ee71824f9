"""The contact-center floor every demo document comes from.

Callers arrive (:mod:`.arrivals`), wait in their queue and ring the longest-idle agents of
that queue who are logged in and ready; an agent answers most rings, misses or rejects a
few; callers who wait too long hang up, press the exit key or time out. Agents work the
shifts :mod:`.staffing` planned for the forecast, take a lunch and two breaks when their
call at hand ends, call out now and then. Played out as an event simulation, so an agent is
on one call at a time and the shapes rendered from it (:mod:`.sessions`,
:mod:`.call_stats`, :mod:`.status_stats`) agree with one another. Pure: everything is drawn
from one ``random.Random``.

Every day also has two hard cases the reports must get right: a call entering in the day's
last quarter hour whose first ring comes after midnight (it straddles midnight, and a month
end on a month's last day), and, on ACDC, a daytime call rung at two agents at once and
answered at the first ring (its only miss a LOSE_RACE). Both are played like any call, within
their queue's timeout: the late caller enters a queue someone on duty answers, no sooner than
its timeout allows, and the racing caller enters as two of its queue's agents are free.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .arrivals import day_arrivals, expected_calls
from .clock import DAY, random_hex_id, to_gregorian
from .names import FIRST_NAMES, LAST_NAMES
from .queues import ACDC, QUBICLE, QueuePlan, plan_queues
from .staffing import SLOT, Pause, Shift, plan_shifts

TALK_MEDIAN, TALK_SIGMA = 210, 0.6  # talk seconds: lognormal, mean about 250 s
QUBICLE_AFTER_CALL = (5, 30)  # seconds an agent takes after a Qubicle call (not recorded)
ANSWER_SHARE = 0.94  # rings an agent answers
# a ring the agent did not take, after acdc_agent_fsm:missed_reason/1: ALLOTTED_TIMEOUT ->
# timeout, NO_USER_RESPONSE | CALL_REJECTED | USER_BUSY -> rejected, other causes verbatim
MISS_REASONS = (
    ("timeout", 0.62),
    ("rejected", 0.26),
    ("NO_ANSWER", 0.04),
    ("USER_NOT_REGISTERED", 0.04),
    ("NORMAL_TEMPORARY_FAILURE", 0.04),
)
ANSWERED = "answered"
LOSE_RACE = "LOSE_RACE"  # rung at once, another agent answered first
CANCELLED = "ORIGINATOR_CANCEL"  # the caller hung up while the agent rang
EXIT_SHARE = 0.07  # callers giving up who press the exit key rather than hang up
LOST_LOGOUT_SHARE = 0.05  # logouts that never reached the stats (a node crash), at most
LOST_LOGOUT_GAP = 21 * DAY  # one per agent in three weeks (its day then looks 12 h long)
PENDING_LOGOUT_SHARE = 0.3  # calls of a shift's last quarter hour during which the agent
LAST_CALL = 900  # asks to log out (pending_logged_out), so it logs out as the call ends
RACE_FROM, RACE_UNTIL = 9 * 3600, 20 * 3600  # the day's race call enters in these hours, as
RACE_LOOK = (10, 60)  # soon as two of its agents are free (looked for every 10-60 s)
LAST_QUARTER = 900  # the day's late call enters in its last quarter hour
LATE_RING = 120  # and first rings within two minutes after midnight
LATE_MARGIN = 45  # seconds of the queue's timeout left for ringing the late call
EXTRA_SLOTS = 4  # staff two hours past the last day, for its calls after midnight
PATIENCE_SIGMA = 0.7  # spread of callers' patience (lognormal around the queue's median)
RING_TIME = 8  # the forecast's seconds an answered call rings


@dataclass
class Ring:
    """One ring of one agent for one call, from ``start`` until it was answered or not."""

    agent: str
    start: int
    end: int
    outcome: str  # ANSWERED, a miss reason, LOSE_RACE or CANCELLED


@dataclass(eq=False)
class Call:
    """One caller's visit to one queue, as the floor played it."""

    call_id: str
    queue: QueuePlan
    entered: int
    caller: dict[str, Any]
    give_up: int | None  # when the caller leaves unanswered; None: waits until answered
    leave_reason: str  # member_hangup | member_exit | member_timeout, if it comes to that
    not_before: int  # the first moment it may ring anyone
    archive_delay: int  # seconds after the archive window at which KAZOO archives it
    hung_up_by: str
    late: bool = False  # the day's call after midnight: its queue is chosen as it enters
    race: bool = False  # the day's call rung at two agents at once
    dropped: bool = False  # the race call of a day two agents of its queue were never free
    rings: list[Ring] = field(default_factory=list)
    agent: str | None = None
    handled: int | None = None
    talk: int = 0
    left: int | None = None  # when it was abandoned (or timed out)
    reason: str = ""  # why it was abandoned
    ringing_until: int = -1
    done: bool = False

    @property
    def processed(self) -> int:
        assert self.handled is not None
        return self.handled + self.talk


Event = tuple[int, str, dict[str, Any], Call | None]  # (time, status, fields, queue call)


@dataclass
class Floor:
    """What happened: the queues, every call in entry order, every agent's status changes
    (in time order; those of a Qubicle call carry it, ACDC sees them otherwise) and the
    shifts."""

    queues: list[QueuePlan]
    calls: list[Call]
    events: dict[str, list[Event]]
    shifts: list[Shift]


@dataclass(eq=False)
class _Agent:
    agent_id: str
    queues: frozenset[str]
    events: list[Event] = field(default_factory=list)
    shift: Shift | None = None
    pauses: list[Pause] = field(default_factory=list)
    idle_since: int | None = None  # ready and free since then; None: not available
    leaving: bool = False  # the shift is over: log out when free
    pending: bool = False  # asked to log out during the call at hand
    call: Call | None = None  # the call it talks on or wraps up
    lost_at: int | None = None  # when its last logout was lost


def _caller(rng: random.Random) -> dict[str, Any]:
    number = f"+1{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    caller: dict[str, Any] = {
        "caller_id_name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "caller_id_number": number,
    }
    if rng.random() < 0.1:  # Caller-Priority is set by some callflows only
        caller["caller_priority"] = rng.randint(1, 5)
    return caller


def _new_call(rng: random.Random, queue: QueuePlan, entered: int, *, forced: bool = False) -> Call:
    """A caller entering ``queue``; one who must be answered (``forced``) never gives up."""
    median = math.log(queue.abandon_mean)
    patience = rng.randint(5, 15) + round(rng.lognormvariate(median, PATIENCE_SIGMA))
    if patience >= queue.timeout:
        reason = "member_timeout"
    else:
        reason = "member_exit" if rng.random() < EXIT_SHARE else "member_hangup"
    return Call(
        call_id=random_hex_id(rng),
        queue=queue,
        entered=entered,
        caller=_caller(rng),
        give_up=None if forced else entered + min(patience, queue.timeout),
        leave_reason=reason,
        not_before=entered + rng.randint(1, 3),
        archive_delay=rng.randrange(60),
        hung_up_by="member" if rng.random() < 0.6 else "agent",
    )


def _arrivals(
    rng: random.Random, queues: list[QueuePlan], start: date, days: int, calls_per_day: int
) -> list[Call]:
    weights = [q.weight for q in queues]
    racing = [q for q in queues if q.ring_at_once >= 2]
    calls: list[Call] = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        specials = 2 if racing else 1
        midnight, arrivals = day_arrivals(rng, day, calls_per_day, queues, weights, specials)
        calls += [_new_call(rng, queue, entered) for entered, queue in arrivals]
        if racing:  # enters at the first moment from then that two of its agents are free
            entered = midnight + rng.randrange(RACE_FROM, RACE_UNTIL - 4 * 3600)
            call = _new_call(rng, rng.choice(racing), entered, forced=True)
            call.race = True
            calls.append(call)
        # looks for its queue as the last quarter hour begins, then enters (see _on_late)
        entered = midnight + DAY - LAST_QUARTER
        call = _new_call(rng, rng.choices(queues, weights)[0], entered, forced=True)
        call.late = True
        calls.append(call)
    calls.sort(key=lambda c: c.entered)
    return calls


class _Sim:
    """The event loop: (time, order, handler, subject) on a heap."""

    def __init__(self, rng: random.Random, queues: list[QueuePlan], shifts: list[Shift]):
        self.rng = rng
        self.queues = queues
        self.heap: list[tuple[int, int, str, Any]] = []
        self.order = 0
        memberships: dict[str, set[str]] = {}
        for q in queues:
            for m in q.members:
                memberships.setdefault(m, set()).add(q.queue_id)
        self.agents = {a: _Agent(a, frozenset(qs)) for a, qs in memberships.items()}
        self.idle: dict[str, _Agent] = {}
        self.waiting: list[Call] = []
        for shift in shifts:
            self.push(shift.start, "login", shift)

    def push(self, t: int, kind: str, subject: Any) -> None:
        heapq.heappush(self.heap, (t, self.order, kind, subject))
        self.order += 1

    def run(self, calls: list[Call]) -> None:
        for call in calls:
            kind = "late" if call.late else "race" if call.race else "arrive"
            self.push(call.entered, kind, call)
        while self.heap:
            t, _, kind, subject = heapq.heappop(self.heap)
            getattr(self, f"_on_{kind}")(t, subject)
        for call in self.waiting:  # nobody came before the data ends: the queue gave up
            call.left = max([call.entered + call.queue.timeout] + [r.end for r in call.rings])
            call.reason, call.done = "member_timeout", True

    # -- agents -------------------------------------------------------------------------------

    def emit(self, a: _Agent, t: int, status: str, fields: dict[str, Any] | None = None,
             call: Call | None = None) -> None:  # fmt: skip
        a.events.append((t, status, fields or {}, call))

    def ready(self, a: _Agent, t: int) -> None:
        self.emit(a, t, "ready")
        self.push(t + 1, "available", a)

    def logout(self, a: _Agent, t: int, *, lost_ok: bool = True) -> None:
        recent = a.lost_at is not None and t - a.lost_at < LOST_LOGOUT_GAP
        if not lost_ok or self.rng.random() >= LOST_LOGOUT_SHARE or recent:
            self.emit(a, t, "logged_out")
        else:
            a.lost_at = t
        a.shift, a.idle_since, a.leaving, a.pending = None, None, False, False
        self.idle.pop(a.agent_id, None)

    def take(self, a: _Agent) -> None:
        a.idle_since = None
        self.idle.pop(a.agent_id, None)

    def _on_login(self, t: int, shift: Shift) -> None:
        a = self.agents[shift.agent]
        a.shift, a.pauses, a.leaving = shift, list(shift.pauses), False
        self.emit(a, t, "logged_in")
        self.ready(a, t + self.rng.randint(10, 120))
        self.push(shift.end, "shift_end", (a, shift))
        for p in shift.pauses:
            self.push(p.due, "pause_due", (a, shift))
        for moment in shift.outbound:
            self.push(moment, "outbound", (a, shift))

    def _on_available(self, t: int, a: _Agent) -> None:
        assert a.shift is not None
        if a.leaving or t >= a.shift.end:
            self.logout(a, t)
            return
        due = [p for p in a.pauses if p.due <= t]
        if due:
            self.pause(a, t, due[0])
            return
        a.idle_since = t
        self.idle[a.agent_id] = a
        self.dispatch(t)

    def pause(self, a: _Agent, t: int, p: Pause) -> None:
        a.pauses.remove(p)
        self.take(a)
        self.emit(a, t, "paused", {"pause_time": p.planned, "pause_alias": p.alias})
        took = max(60, round(p.planned * self.rng.uniform(0.85, 1.15)))
        self.push(t + took, "back", a)

    def _on_back(self, t: int, a: _Agent) -> None:
        self.ready(a, t)

    def _on_pause_due(self, t: int, subject: tuple[_Agent, Shift]) -> None:
        a, shift = subject
        if a.shift is shift and a.idle_since is not None and not a.leaving:
            due = [p for p in a.pauses if p.due <= t]
            if due:
                self.pause(a, t, due[0])

    def _on_outbound(self, t: int, subject: tuple[_Agent, Shift]) -> None:
        a, shift = subject
        if a.shift is shift and a.idle_since is not None and not a.leaving:
            self.take(a)
            self.emit(a, t, "outbound", {"call_id": random_hex_id(self.rng)})
            talk = max(20, round(self.rng.lognormvariate(math.log(120), 0.6)))
            self.push(t + talk, "back", a)

    def _on_shift_end(self, t: int, subject: tuple[_Agent, Shift]) -> None:
        a, shift = subject
        if a.shift is not shift:
            return
        a.leaving = True
        if a.idle_since is not None:
            self.logout(a, t)

    def _on_after_call(self, t: int, a: _Agent) -> None:
        a.call = None
        if a.pending:
            self.logout(a, t, lost_ok=False)
        else:
            self.ready(a, t)

    def _on_ring_over(self, t: int, a: _Agent) -> None:
        self.ready(a, t)

    # -- calls --------------------------------------------------------------------------------

    def _on_late(self, t: int, call: Call) -> None:
        """The day's late caller: the queue most agents on duty until past midnight answer,
        entered and first rung so that its wait stays within the timeout."""
        midnight = t + LAST_QUARTER
        on_duty = Counter(
            q
            for a in self.agents.values()
            if a.shift is not None and a.shift.end > midnight + LAST_QUARTER and not a.leaving
            for q in a.queues
        )
        if on_duty and on_duty[call.queue.queue_id] < max(on_duty.values()):
            best = [q for q in self.queues if on_duty[q.queue_id] == max(on_duty.values())]
            call.queue = self.rng.choices(best, [q.weight for q in best])[0]
        budget = call.queue.timeout - LATE_MARGIN  # seconds it may wait before it rings
        before = self.rng.randint(15, min(LAST_QUARTER, budget - 5))
        call.entered = midnight - before
        call.not_before = midnight + self.rng.randint(1, min(LATE_RING, budget - before))
        self.push(call.entered, "arrive", call)

    def _on_race(self, t: int, call: Call) -> None:
        """The day's racing caller enters as two of its queue's agents are free."""
        free = [a for a in self.idle.values() if call.queue.queue_id in a.queues]
        if len(free) >= 2:
            call.entered = call.not_before = t
            self._on_arrive(t, call)
            self.dispatch(t)
        elif t - t % DAY + RACE_UNTIL > t:
            self.push(t + self.rng.randint(*RACE_LOOK), "race", call)
        else:  # never two free at once that day: no race call
            call.dropped = call.done = True

    def _on_arrive(self, t: int, call: Call) -> None:
        self.waiting.append(call)
        if call.give_up is not None:
            self.push(call.give_up, "give_up", call)
        self.push(call.not_before, "dispatch", None)

    def _on_give_up(self, t: int, call: Call) -> None:
        if call.done or call.ringing_until >= t:
            return  # answered, or the ring under way already saw the caller go
        call.left, call.reason, call.done = t, call.leave_reason, True
        self.waiting.remove(call)

    def _on_dispatch(self, t: int, _: None) -> None:
        self.dispatch(t)

    def _on_retry(self, t: int, call: Call) -> None:
        self.dispatch(t)

    def dispatch(self, t: int) -> None:
        """Ring the longest-idle free members for each waiting call, oldest call first."""
        if not self.idle:
            return
        for call in list(self.waiting):
            if call.ringing_until >= t or call.not_before > t:
                continue
            if call.give_up is not None and call.give_up <= t + 1:
                continue  # the caller is hanging up
            members = [a for a in self.idle.values() if call.queue.queue_id in a.queues]
            k = call.queue.ring_at_once
            if call.race and len(members) >= 2:
                k = max(2, k)
            if not members:
                continue
            members.sort(key=lambda a: (a.idle_since, a.agent_id))
            self.ring(call, members[:k], t)
            if not self.idle:
                return

    def _draw_ring(self, call: Call, t: int) -> tuple[str, int]:
        rng = self.rng
        if call.race or rng.random() < ANSWER_SHARE:
            return ANSWERED, t + rng.randint(2, 14)
        reason = rng.choices([r for r, _ in MISS_REASONS], [w for _, w in MISS_REASONS])[0]
        if reason == "timeout":
            return reason, t + call.queue.ring_timeout
        if reason == "rejected":
            return reason, t + rng.randint(1, 8)
        return reason, t + rng.randint(1, 3)  # the agent's leg failed to set up

    def ring(self, call: Call, agents: list[_Agent], t: int) -> None:
        """One round: ``agents`` ring at ``t``; the first to answer takes the call."""
        draws = []
        for a in agents:
            self.take(a)
            fields = {"call_id": call.call_id, **call.caller, "queue_id": call.queue.queue_id}
            self.emit(a, t, "connecting", fields, call)
            draws.append(self._draw_ring(call, t))
        answers = [(end, i) for i, (outcome, end) in enumerate(draws) if outcome == ANSWERED]
        first = min(answers) if answers else None
        if first is not None and (call.give_up is None or first[0] < call.give_up):
            handled, winner = first
            for i, (a, (outcome, end)) in enumerate(zip(agents, draws, strict=True)):
                if i == winner:
                    continue
                if outcome != ANSWERED and end <= handled:
                    call.rings.append(Ring(a.agent_id, t, end, outcome))
                else:
                    outcome, end = LOSE_RACE, handled
                    call.rings.append(Ring(a.agent_id, t, end, outcome))
                self.push(end, "ring_over", a)
            self.answer(call, agents[winner], t, handled)
            return
        over = max(end for _, end in draws)
        gone = call.give_up is not None and call.give_up <= over
        for a, (outcome, end) in zip(agents, draws, strict=True):
            if gone and (outcome == ANSWERED or end >= (call.give_up or 0)):
                outcome, end = CANCELLED, call.give_up or 0
            call.rings.append(Ring(a.agent_id, t, end, outcome))
            self.push(end, "ring_over", a)
        if gone:
            call.left, call.reason, call.done = call.give_up, call.leave_reason, True
            self.waiting.remove(call)
        else:
            call.ringing_until = over
            self.push(over + self.rng.randint(1, 5), "retry", call)

    def answer(self, call: Call, a: _Agent, rang: int, handled: int) -> None:
        rng = self.rng
        call.rings.append(Ring(a.agent_id, rang, handled, ANSWERED))
        call.agent, call.handled, call.done = a.agent_id, handled, True
        call.talk = max(5, round(rng.lognormvariate(math.log(TALK_MEDIAN), TALK_SIGMA)))
        self.waiting.remove(call)
        fields = {"call_id": call.call_id, **call.caller, "queue_id": call.queue.queue_id}
        self.emit(a, handled, "connected", fields, call)
        planned = call.queue.wrapup
        self.emit(a, call.processed, "wrapup", {"wait_time": planned}, call)
        if call.queue.shape == ACDC:
            wrap = max(5, round(planned * rng.uniform(0.6, 1.1)))
        else:
            wrap = rng.randint(*QUBICLE_AFTER_CALL)
        a.call = call
        self.push(call.processed + wrap, "after_call", a)
        shift = a.shift
        last = shift is not None and handled >= shift.end - LAST_CALL and call.talk >= 2
        if last and rng.random() < PENDING_LOGOUT_SHARE:  # logs out as this call ends
            self.emit(a, rng.randint(handled + 1, call.processed - 1), "pending_logged_out")
            a.pending = a.leaving = True


def handle_time(queues: list[QueuePlan]) -> float:
    """The forecast's seconds per call, ring, talk and after-call work, over the queues'
    shares of the callers: an ACDC queue's planned wrap-up keeps its agents longer."""
    talk = TALK_MEDIAN * math.exp(TALK_SIGMA**2 / 2)  # the lognormal's mean
    after = {QUBICLE: sum(QUBICLE_AFTER_CALL) / 2, ACDC: 0.0}
    per_queue = [
        (q.weight, RING_TIME + talk + (0.85 * q.wrapup if q.shape == ACDC else after[QUBICLE]))
        for q in queues
    ]
    return sum(w * t for w, t in per_queue) / sum(w for w, _ in per_queue)


def simulate(
    rng: random.Random,
    queue_ids: list[str],
    agent_ids: list[str],
    source: str,
    start: date,
    days: int,
    calls_per_day: int,
) -> Floor:
    """Plan the queues, the staffing and the callers of ``days`` UTC days from ``start``,
    then play them out."""
    queues = plan_queues(rng, queue_ids, agent_ids, source)
    first = to_gregorian(datetime(start.year, start.month, start.day, tzinfo=UTC))

    def forecast(slot: int) -> float:
        day = start + timedelta(days=slot * SLOT // DAY)
        return expected_calls(calls_per_day, day, slot * SLOT % DAY // 3600)

    members = sorted({m for q in queues for m in q.members}, key=agent_ids.index)
    slots = days * DAY // SLOT + EXTRA_SLOTS
    shifts = plan_shifts(rng, members, first, slots, forecast, handle_time(queues))
    calls = _arrivals(rng, queues, start, days, calls_per_day)
    sim = _Sim(rng, queues, shifts)
    sim.run(calls)
    calls = sorted((c for c in calls if not c.dropped), key=lambda c: c.entered)
    events = {a: sorted(s.events, key=lambda e: e[0]) for a, s in sim.agents.items() if s.events}
    return Floor(queues, calls, events, shifts)


__all__ = ["ACDC", "QUBICLE", "Call", "Floor", "Ring", "simulate"]
