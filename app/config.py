"""Settings from environment variables (documented in README.md), read once at start-up.

Each field names its variable in its metadata, so adding a setting is one line here.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any


def _tokens(raw: str) -> dict[str, str]:
    """``token1=ACCOUNT_ID,token2=ACCOUNT_ID`` -> {token: account_id}."""
    out: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        token, sep, account = item.partition("=")
        if not sep or not token.strip() or not account.strip():
            raise ValueError("QUBICLE_REPORTS_TOKENS must look like token1=ACCOUNT_ID,...")
        out[token.strip()] = account.strip()
    return out


def _on_off(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("on", "off", "true", "false", "1", "0", "yes", "no"):
        raise ValueError("must be on or off")
    return value in ("on", "true", "1", "yes")


ANY_ORIGIN = "*"


def parse_origins(raw: str) -> tuple[str, ...]:
    """``*`` or a comma-separated list of origins (``https://ui.example.com``) whose pages may
    call the API (:mod:`app.web.cors` answers them).

    An origin is compared as the browser sends it: scheme, host and port, no path.
    """
    items = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    if not items or ANY_ORIGIN in items:
        return (ANY_ORIGIN,)
    for origin in items:
        scheme, sep, rest = origin.partition("://")
        if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
            raise ValueError(f"not an origin (scheme://host[:port]): {origin!r}")
    return items


def _env(name: str, default: Any = None, parse: Any = None) -> Any:
    meta = {"env": name, "parse": parse} if parse else {"env": name}
    if isinstance(default, dict):
        return field(default_factory=dict, metadata=meta)
    return field(default=default, metadata=meta)


P = "QUBICLE_REPORTS_"


@dataclass(frozen=True)
class Settings:
    couchdb_url: str = _env("COUCHDB_URL", "http://127.0.0.1:5984")
    couch_timeout: float = _env(P + "COUCH_TIMEOUT", 30.0)  # seconds, one CouchDB request
    couch_concurrency: int = _env(P + "COUCH_CONCURRENCY", 16)  # requests in flight, process
    month_concurrency: int = _env(P + "MONTH_CONCURRENCY", 8)  # view queries in flight, report
    report_timeout: float = _env(P + "REPORT_TIMEOUT", 60.0)  # seconds for a whole report
    max_reports: int = _env(P + "MAX_REPORTS", 32)  # reports in progress per process
    # fair shares: what one account may hold at once of the report slots above and of the
    # CouchDB requests in flight (COUCH_CONCURRENCY); past them its requests wait, then 503
    account_reports: int = _env(P + "ACCOUNT_REPORTS", 4)
    account_couch_concurrency: int = _env(P + "ACCOUNT_COUCH_CONCURRENCY", 8)
    queue_timeout: float = _env(P + "QUEUE_TIMEOUT", 10.0)  # wait for a report slot, then 503
    max_body_bytes: int = _env(P + "MAX_BODY_BYTES", 64 * 1024)
    # slow clients: seconds for a request's head once its first byte came, and for its body;
    # past them the connection is closed (counted in /metrics, not logged as an error)
    header_timeout: float = _env(P + "HEADER_TIMEOUT", 10.0)
    body_timeout: float = _env(P + "BODY_TIMEOUT", 10.0)
    max_range_days: int = _env(P + "MAX_RANGE_DAYS", 366)
    max_identifiers: int = _env(P + "MAX_IDENTIFIERS", 1000)
    max_queue_ids: int = _env(P + "MAX_QUEUE_IDS", 100)
    max_id_length: int = _env(P + "MAX_ID_LENGTH", 128)
    max_cells: int = _env(P + "MAX_CELLS", 500_000)  # entities x buckets in one report
    cache_mb: float = _env(P + "CACHE_MB", 64.0)  # closed-month view answers kept; 0 = off
    cache_ttl: float = _env(P + "CACHE_TTL", 600.0)  # seconds a cached answer is trusted at most
    node_retry: float = _env(P + "NODE_RETRY", 5.0)  # seconds a failed CouchDB node is skipped
    # seconds nothing is sent after CouchDB refused the credentials (then one attempt): longer
    # than CouchDB's memory of failed logins (5 min), so CouchDB never locks the user
    couch_auth_pause: float = _env(P + "COUCH_AUTH_PAUSE", 330.0)
    index_wait: float = _env(P + "INDEX_WAIT", 1.0)  # s before asking if an index is building
    # install-views --warm: seconds one view query may wait (below CouchDB's 60 s view
    # timeout), and between two looks at a build
    warm_query_timeout: float = _env(P + "WARM_QUERY_TIMEOUT", 50.0)
    warm_poll: float = _env(P + "WARM_POLL", 5.0)
    ready_timeout: float = _env(P + "READY_TIMEOUT", 2.0)  # /health/ready: CouchDB answers within
    ready_interval: float = _env(P + "READY_INTERVAL", 1.0)  # s one CouchDB look serves probes
    # follow CouchDB's _db_updates and install the design doc into new MoDBs of reporting
    # accounts as KAZOO creates them (needs a server admin; off: on their first report)
    follow_db_updates: bool = _env(P + "FOLLOW_DB_UPDATES", True, _on_off)
    # seconds before the follower asks again for a feed CouchDB does not serve (404: no
    # _global_changes; 401: not a server admin), so fixing that needs no restart
    follow_retry: float = _env(P + "FOLLOW_RETRY", 300.0)
    metrics: bool = _env(P + "METRICS", True, _on_off)  # /metrics served at all
    metrics_address: str = _env(P + "METRICS_ADDRESS", "")  # "host:port": own listener
    tokens: dict[str, str] = _env(P + "TOKENS", {}, _tokens)
    # "static" (QUBICLE_REPORTS_TOKENS) or "jwt" (KAZOO's RS256 tokens); app.auth rejects others
    auth: str = _env(P + "AUTH", "static", lambda raw: raw.strip().lower() or "static")
    jwt_public_key: str | None = _env(P + "JWT_PUBLIC_KEY")  # KAZOO public key PEM (jwt mode)
    jwt_leeway: float = _env(P + "JWT_LEEWAY", 5.0)  # seconds of clock skew tolerated on exp
    jwt_issuer: str | None = _env(P + "JWT_ISSUER")  # the iss every JWT must carry; unset: any
    jwt_max_lifetime: float = _env(P + "JWT_MAX_LIFETIME", 86_400.0)  # s an exp may lie ahead
    account_cache_ttl: float = _env(P + "ACCOUNT_CACHE_TTL", 30.0)  # seconds pvt_tree is reused
    # origins whose pages may call the API: "*" (as Crossbar) or a comma-separated list
    cors_origins: tuple[str, ...] = _env(P + "CORS_ORIGINS", ("*",), parse_origins)

    @classmethod
    def from_env(cls) -> Settings:
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = os.environ.get(f.metadata["env"], "")
            if raw == "":
                continue
            parse = f.metadata.get("parse") or {"int": int, "float": float}.get(str(f.type), str)
            try:
                values[f.name] = parse(raw)
            except ValueError as e:
                raise ValueError(f"{f.metadata['env']}: {e}") from None
        return cls(**values)
