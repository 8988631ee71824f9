"""Settings from environment variables (documented in README.md), read once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw in (None, "") else float(raw)


def _tokens(raw: str) -> dict[str, str]:
    """``token1=ACCOUNT_ID,token2=ACCOUNT_ID`` -> {token: account_id}."""
    out: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        token, sep, account = item.partition("=")
        if not sep or not token.strip() or not account.strip():
            raise ValueError("QUBICLE_REPORTS_TOKENS must look like token1=ACCOUNT_ID,...")
        out[token.strip()] = account.strip()
    return out


@dataclass(frozen=True)
class Settings:
    couchdb_url: str = "http://127.0.0.1:5984"
    couch_timeout: float = 30.0
    couch_concurrency: int = 16
    month_concurrency: int = 8
    max_range_days: int = 366
    tokens: dict[str, str] = field(default_factory=dict)
    # "static" (QUBICLE_REPORTS_TOKENS) or "jwt" (KAZOO's RS256 tokens); app.auth rejects others
    auth: str = "static"
    jwt_public_key: str | None = None  # path to the KAZOO public key PEM (jwt mode)
    jwt_leeway: float = 5.0  # seconds of clock skew tolerated on ``exp``
    account_cache_ttl: float = 30.0  # seconds an account's ancestry (pvt_tree) is reused

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            couchdb_url=os.environ.get("COUCHDB_URL", cls.couchdb_url),
            couch_timeout=_float("QUBICLE_REPORTS_COUCH_TIMEOUT", cls.couch_timeout),
            couch_concurrency=_int("QUBICLE_REPORTS_COUCH_CONCURRENCY", cls.couch_concurrency),
            month_concurrency=_int("QUBICLE_REPORTS_MONTH_CONCURRENCY", cls.month_concurrency),
            max_range_days=_int("QUBICLE_REPORTS_MAX_RANGE_DAYS", cls.max_range_days),
            tokens=_tokens(os.environ.get("QUBICLE_REPORTS_TOKENS", "")),
            auth=os.environ.get("QUBICLE_REPORTS_AUTH", "").strip().lower() or cls.auth,
            jwt_public_key=os.environ.get("QUBICLE_REPORTS_JWT_PUBLIC_KEY") or None,
            jwt_leeway=_float("QUBICLE_REPORTS_JWT_LEEWAY", cls.jwt_leeway),
            account_cache_ttl=_float("QUBICLE_REPORTS_ACCOUNT_CACHE_TTL", cls.account_cache_ttl),
        )
