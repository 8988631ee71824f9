"""Refused credentials are not weather: once CouchDB refuses ours, stop sending them.

CouchDB 3.4 counts failed authentications per user and client address and, after a few
(``[chttpd_auth_lockout]``: 5, remembered for 5 minutes from the first), refuses that user to
everyone connecting from the address (403 "Account is temporarily locked ..."), and the user
may be KAZOO's own. A mistyped password in ``COUCHDB_URL`` must therefore cost CouchDB at most
one failed attempt per pause, whatever mix of reports, probes and the follower asks:

- until CouchDB has accepted the credentials, they are checked first, by one cheap request
  (``GET /_session``) at a time, every other request waiting for its answer;
- a refusal (401 "Name or password is incorrect.") or a lock (403 with CouchDB's lockout
  reason) stops all sending for a pause (minutes, with jitter); every request meanwhile fails
  at once with :class:`CredentialsRefused`, without asking CouchDB;
- after the pause one check tries again while the others wait for its answer: accepted,
  everything flows again; refused, another pause.

(Requests already in flight when CouchDB starts refusing credentials it accepted before, a
password changed on CouchDB's side, each fail once: at most the CouchDB concurrency.)

A 401 for want of a role ("You are not a server admin.") is an answer, not a refusal: those
credentials were accepted.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Literal

from app.couch.wire import CouchUnavailable, json_or_none
from app.telemetry import Telemetry

LOG = logging.getLogger("qubicle_reports.couchdb")
REFUSED = "Name or password is incorrect."  # CouchDB's reason for a wrong name or password
LOCKED = "Account is temporarily locked"  # how CouchDB's lockout reason begins
JITTER = 0.2  # a pause lasts between 1 and 1 + JITTER times the configured pause

State = Literal["unverified", "accepted", "refused", "locked"]
STATES: tuple[State, ...] = ("unverified", "accepted", "refused", "locked")


class CredentialsRefused(CouchUnavailable):
    """CouchDB refused our credentials (or locked our user) a moment ago: not asked again
    before ``retry_in`` seconds."""

    def __init__(self, locked: bool, retry_in: float) -> None:
        self.locked = locked
        self.retry_in = max(0.0, retry_in)
        what = (
            "CouchDB has locked the service's CouchDB user after failed logins"
            if locked
            else "CouchDB refused the service's credentials (wrong user or password in "
            "COUCHDB_URL)"
        )
        super().__init__(f"{what}; next attempt in {self.retry_in:.0f} s")


def refusal(status: int, raw: bytes) -> State | None:
    """``refused`` or ``locked`` when this answer is CouchDB turning our credentials away."""
    if status not in (401, 403):
        return None
    body = json_or_none(raw)
    reason = str(body.get("reason", "")) if isinstance(body, dict) else ""
    if status == 401 and reason == REFUSED:
        return "refused"
    if status == 403 and reason.startswith(LOCKED):
        return "locked"
    return None


class CredentialGate:
    """Whether our credentials may be sent now (see the module's docstring)."""

    def __init__(self, pause: float, telemetry: Telemetry, who: str = "") -> None:
        self.pause = pause
        self.telemetry = telemetry
        self.who = who  # how the log names the user (never the password)
        self.state: State = "unverified"
        self.until = 0.0  # monotonic: no attempt before this while refused or locked
        self._one = asyncio.Lock()
        self._export()

    def check(self) -> None:
        """Raise :class:`CredentialsRefused` while a pause runs."""
        if self.state in ("refused", "locked"):
            left = self.until - time.monotonic()
            if left > 0:
                raise CredentialsRefused(self.state == "locked", left)

    async def verified(self, ask: Callable[[], Awaitable[tuple[int, bytes]]]) -> None:
        """Before a request: raise while a pause runs; while the credentials are not known to
        be accepted, have them checked by ``ask`` (one cheap request, e.g. ``GET /_session``),
        one asker at a time, the others waiting for its answer."""
        self.check()
        if self.accepted():
            return
        async with self._one:
            self.check()  # the check before ours may have been refused
            if not self.accepted():  # nor accepted while we waited
                self.answered(*await ask())
                self.check()

    def accepted(self) -> bool:
        return self.state == "accepted"

    def answered(self, status: int, raw: bytes) -> None:
        found = refusal(status, raw)
        if found is not None:
            self._refuse(found)
        elif self.state != "accepted":
            if self.state in ("refused", "locked"):
                LOG.warning("CouchDB accepts the credentials%s again", self._of())
            self.state = "accepted"
            self._export()

    def refused_now(self) -> State | None:
        """``refused``/``locked`` while a pause runs (what readiness reports), else None."""
        try:
            self.check()
        except CredentialsRefused as e:
            return "locked" if e.locked else "refused"
        return None

    def _refuse(self, state: State) -> None:
        pause = self.pause * (1 + random.uniform(0, JITTER))
        again = self.state != state
        self.state = state
        self.until = max(self.until, time.monotonic() + pause)
        self._export()
        if again:
            what = "locked the CouchDB user" if state == "locked" else "refused the credentials"
            LOG.error(
                "CouchDB %s%s: nothing is sent to CouchDB for %.0f s, then one attempt "
                "(fix COUCHDB_URL, or the user on CouchDB's side; no restart needed)",
                what, self._of(), pause,
            )

    def _of(self) -> str:
        return f" of user {self.who!r}" if self.who else ""

    def _export(self) -> None:
        for state in STATES:
            self.telemetry.couch_credentials.labels(state).set(int(state == self.state))

