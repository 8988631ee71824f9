"""Which format an ``Accept`` header asks for (RFC 9110 section 12.5.1), as a pure function.

Each media range may carry a weight (``q``, 0 to 1, default 1); a range that names a type
exactly outranks ``type/*``, which outranks ``*/*``; ``q=0`` means "not this". Types are
compared whole (``text/csvx`` is not ``text/csv``); parameters other than ``q`` are ignored.
"""

from __future__ import annotations

import re

QVALUE = re.compile(r"^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$")
TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def media_ranges(accept: str) -> list[tuple[str, str, float]]:
    """(type, subtype, q) of each well-formed range, lowercased; malformed ones left out."""
    out = []
    for item in accept.split(","):
        media, *params = (p.strip() for p in item.split(";"))
        kind, sep, sub = media.lower().partition("/")
        if not sep or not TOKEN.fullmatch(kind) or not TOKEN.fullmatch(sub):
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if QVALUE.fullmatch(value) else -1.0
        if q >= 0:
            out.append((kind, sub, q))
    return out


def quality(ranges: list[tuple[str, str, float]], media_type: str) -> tuple[float, int]:
    """The weight the most specific matching range gives ``media_type`` and how specific
    that range is (2 exact, 1 ``type/*``, 0 ``*/*``, -1 none: weight 0)."""
    kind, _, sub = media_type.partition("/")
    best = (0.0, -1)
    for k, s, q in ranges:
        specificity = 2 if (k, s) == (kind, sub) else 1 if (k == kind and s == "*") else 0
        if (k, s) != ("*", "*") and specificity == 0:
            continue
        if specificity > best[1]:
            best = (q, specificity)
    return best


def prefers(accept: str | None, wanted: str, default: str) -> bool:
    """``accept`` names ``wanted`` itself, with a weight above 0 and at least ``default``'s.
    Only a range naming it exactly counts: ``*/*`` (which browsers send) keeps the default."""
    if not accept:
        return False
    ranges = media_ranges(accept)
    q, specificity = quality(ranges, wanted)
    return specificity == 2 and q > 0 and q >= quality(ranges, default)[0]
