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

CouchDB counts per client address, so the pause is shared by every process of this host that
uses the same credentials (the service, a second instance, ``install-views``, ``status``): a
refusal is remembered in a small file of the temporary directory, named by a hash of
``COUCHDB_URL`` and holding only until when (no credential), and a process that finds it waits
the pause out too instead of trying again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

import orjson

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
            else "CouchDB refused the service's credentials (those of COUCHDB_URL)"
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

    def __init__(
        self, pause: float, telemetry: Telemetry, who: str = "", memo: Path | None = None
    ) -> None:
        """``memo``: the file a refusal is remembered in for this host's other processes."""
        self.pause = pause
        self.telemetry = telemetry
        self.who = who  # how the log names the user (never the password)
        self.memo = memo
        self.state: State = "unverified"
        self.until = 0.0  # monotonic: no attempt before this while refused or locked
        self._one = asyncio.Lock()
        self._export()

    def check(self) -> None:
        """Raise :class:`CredentialsRefused` while a pause runs (this process's or, before
        an attempt, one another process of this host remembered)."""
        if self.state == "accepted":
            return
        left = self.until - time.monotonic()
        if left <= 0:
            self._recall()
            left = self.until - time.monotonic()
        if self.state in ("refused", "locked") and left > 0:
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
            if self.memo is not None:
                with contextlib.suppress(OSError):
                    self.memo.unlink(missing_ok=True)

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
        self._remember()
        if again:
            what = "locked the CouchDB user" if state == "locked" else "refused the credentials"
            LOG.error(
                "CouchDB %s%s: nothing is sent to CouchDB for %.0f s, then one attempt "
                "(fix COUCHDB_URL, or the user on CouchDB's side; no restart needed)",
                what, self._of(), pause,
            )

    def _remember(self) -> None:
        if self.memo is None:
            return
        left = self.until - time.monotonic()
        with contextlib.suppress(OSError):
            self.memo.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            part = self.memo.with_suffix(f".{os.getpid()}")
            part.write_bytes(orjson.dumps({"state": self.state, "until": time.time() + left}))
            part.replace(self.memo)

    def _recall(self) -> None:
        """Take on a pause another process of this host remembered, if one runs."""
        if self.memo is None:
            return
        try:
            found = orjson.loads(self.memo.read_bytes())
            state, until = found["state"], float(found["until"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        left = until - time.time()
        if state in ("refused", "locked") and left > 0:
            self.state = state
            self.until = time.monotonic() + min(left, self.pause * (1 + JITTER))
            self._export()

    def _of(self) -> str:
        return f" of user {self.who!r}" if self.who else ""

    def _export(self) -> None:
        for state in STATES:
            self.telemetry.couch_credentials.labels(state).set(int(state == self.state))


def memo_for(url: str) -> Path:
    """Where this host's processes remember a refusal of ``url``'s credentials: named by a
    hash of the URL (credentials included), so different credentials never share one."""
    name = hashlib.sha256(url.encode()).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / "qubicle-reports-credentials" / f"{name}.json"
