"""Demo data: realistic, deterministic KAZOO call-center documents.

The shapes the reports read (CONTRACT.md 2, 2b and 7a): ``qubicle_session`` (one per queue
visit, :mod:`.sessions`), ACDC ``call_stat`` (one per call per queue, :mod:`.call_stats`) and
ACDC ``status_stat`` (every agent status change, consistent with the call_stats,
:mod:`.status_stats`). ``--source both`` puts sessions and ACDC documents in one account,
over the same queue and agent ids (an operator who moved from Qubicle to ACDC, or the
reverse, keeps the queue and user documents). The account database gets the account document,
a ``queue`` document per queue and a ``user`` document per recipient (:mod:`.accounts`).

Generation is pure (everything comes from ``random.Random`` streams seeded from the seed
number and account index, one per document shape) so tests can regenerate exactly what was
written (:mod:`.writer`). It never installs design documents: reports install the views
they need themselves.
"""

from .accounts import SOURCES, AccountPlan, plan_account
from .call_stats import CALL_STAT_TYPE, generate_call_stats
from .clock import GREGORIAN_OFFSET, from_gregorian, modb_month, random_hex_id, to_gregorian
from .command import seed_command
from .sessions import SESSION_TYPE, generate_sessions
from .status_stats import STATUS_STAT_TYPE
from .writer import SeededAccount, SeedError, _write_batch, seed

__all__ = [
    "CALL_STAT_TYPE",
    "GREGORIAN_OFFSET",
    "SESSION_TYPE",
    "SOURCES",
    "STATUS_STAT_TYPE",
    "AccountPlan",
    "SeedError",
    "SeededAccount",
    "_write_batch",
    "from_gregorian",
    "generate_call_stats",
    "generate_sessions",
    "modb_month",
    "plan_account",
    "random_hex_id",
    "seed",
    "seed_command",
    "to_gregorian",
]
