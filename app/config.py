"""Settings from environment variables, read once at start-up (docs/reference/configuration.md
is generated from the fields below).

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


def couch_urls(raw: str) -> str:
    """``COUCHDB_URL``: one or several comma-separated ``http(s)://`` URLs, as given."""
    for node in filter(None, (part.strip() for part in raw.split(","))):
        if not node.startswith(("http://", "https://")):
            raise ValueError(
                f"{node.split('@')[-1]!r} has no scheme; write it like http://user:pass@host:5984"
            )
    return raw


def listen_address(raw: str) -> str:
    """``host:port`` (``QUBICLE_REPORTS_METRICS_ADDRESS``), or empty."""
    _host, sep, port = raw.strip().rpartition(":")
    if raw.strip() and (not sep or not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError(f"{raw!r} is not host:port; write it like 0.0.0.0:9100")
    return raw.strip()


def _env(name: str, default: Any = None, parse: Any = None, *, help: str = "") -> Any:
    """A setting: its variable, default, parser (else by type) and what it means (the docs'
    configuration table is generated from these)."""
    meta = {"env": name, "parse": parse, "help": help} if parse else {"env": name, "help": help}
    if isinstance(default, dict):
        return field(default_factory=dict, metadata=meta)
    return field(default=default, metadata=meta)


P = "QUBICLE_REPORTS_"


@dataclass(frozen=True)
class Settings:
    # each field: its variable, its default and (help) what it means, as the docs print it
    couchdb_url: str = _env(
        "COUCHDB_URL",
        "http://127.0.0.1:5984",
        couch_urls,
        help="CouchDB, credentials in the URL (never logged or shown); several nodes of one "
        "cluster comma-separated: `http://u:p@n1:5984,http://u:p@n2:5984`",
    )
    auth: str = _env(
        P + "AUTH",
        "static",
        lambda raw: raw.strip().lower() or "static",
        help="`static` (the tokens of `QUBICLE_REPORTS_TOKENS`) or `jwt` (KAZOO's RS256 "
        "`X-Auth-Token`s, checked with `QUBICLE_REPORTS_JWT_PUBLIC_KEY`)",
    )
    tokens: dict[str, str] = _env(
        P + "TOKENS",
        {},
        _tokens,
        help="static mode: `token1=ACCOUNT_ID,token2=ACCOUNT_ID`; `serve` refuses to start "
        "without one",
    )
    jwt_public_key: str | None = _env(
        P + "JWT_PUBLIC_KEY",
        help="jwt mode: path to the KAZOO public key (PEM); `serve` refuses to start without it",
    )
    jwt_leeway: float = _env(
        P + "JWT_LEEWAY", 5.0, help="jwt mode: seconds of clock skew tolerated on `exp`"
    )
    jwt_issuer: str | None = _env(
        P + "JWT_ISSUER",
        help="jwt mode: the `iss` every token must carry (KAZOO writes `kazoo`); unset: not "
        "checked",
    )
    jwt_max_lifetime: float = _env(
        P + "JWT_MAX_LIFETIME",
        86_400.0,
        help="jwt mode: seconds ahead an `exp` may lie at most; a later one (or an `exp` that "
        "is not a JSON number) is refused",
    )
    account_cache_ttl: float = _env(
        P + "ACCOUNT_CACHE_TTL", 30.0, help="seconds an account's ancestry (`pvt_tree`) is reused"
    )
    cors_origins: tuple[str, ...] = _env(
        P + "CORS_ORIGINS",
        ("*",),
        parse_origins,
        help="origins whose pages may call the API (CORS): `*` as Crossbar, or "
        "`https://ui.example.com,https://other.example.com`",
    )
    couch_timeout: float = _env(P + "COUCH_TIMEOUT", 30.0, help="seconds for one CouchDB request")
    couch_concurrency: int = _env(
        P + "COUCH_CONCURRENCY",
        16,
        help="CouchDB requests in flight per process (besides the `_db_updates` longpoll and "
        "the looks at index builds, which never wait for or take one of these)",
    )
    month_concurrency: int = _env(
        P + "MONTH_CONCURRENCY", 8, help="view queries in flight per report"
    )
    report_timeout: float = _env(
        P + "REPORT_TIMEOUT", 60.0, help="seconds for a whole report, then 503"
    )
    max_reports: int = _env(P + "MAX_REPORTS", 32, help="reports in progress per process")
    account_reports: int = _env(
        P + "ACCOUNT_REPORTS",
        4,
        help="reports of one account in progress at once: its fair share of `MAX_REPORTS` "
        "([Fair shares](../production.md#fair-shares-one-tenant-never-slows-another))",
    )
    account_couch_concurrency: int = _env(
        P + "ACCOUNT_COUCH_CONCURRENCY",
        8,
        help="view queries of one account in flight at once, all its reports together: its "
        "fair share of `COUCH_CONCURRENCY`",
    )
    queue_timeout: float = _env(
        P + "QUEUE_TIMEOUT",
        10.0,
        help="seconds a request waits for a report slot, then 503 `too busy`",
    )
    max_body_bytes: int = _env(P + "MAX_BODY_BYTES", 64 * 1024, help="request body size, else 413")
    header_timeout: float = _env(
        P + "HEADER_TIMEOUT",
        10.0,
        help="seconds a request's head may take once its first byte came; then the connection "
        "is closed (counted, `qubicle_reports_slow_clients_total`)",
    )
    body_timeout: float = _env(
        P + "BODY_TIMEOUT",
        10.0,
        help="seconds a request's body may take; then `408 request timeout` and the "
        "connection is closed (counted)",
    )
    max_range_days: int = _env(
        P + "MAX_RANGE_DAYS", 366, help="longest `start_date`..`end_date` span, in days"
    )
    max_identifiers: int = _env(P + "MAX_IDENTIFIERS", 1000, help="entries in `identifiers`")
    max_queue_ids: int = _env(P + "MAX_QUEUE_IDS", 100, help="entries in `queue_ids`")
    max_id_length: int = _env(
        P + "MAX_ID_LENGTH",
        128,
        help="characters in one id (letters, digits, `_ . @ : + -`)",
    )
    max_cells: int = _env(
        P + "MAX_CELLS", 500_000, help="entities × buckets in one report, else 400"
    )
    cache_mb: float = _env(
        P + "CACHE_MB",
        64.0,
        help="MiB of view answers of closed months kept in memory, as compact JSON (0 = off)",
    )
    cache_ttl: float = _env(
        P + "CACHE_TTL",
        600.0,
        help="seconds a cached closed-month answer is trusted at most (bounds staleness on a "
        "cluster)",
    )
    node_retry: float = _env(
        P + "NODE_RETRY",
        5.0,
        help="seconds a CouchDB node that failed is skipped before it is tried again",
    )
    couch_auth_pause: float = _env(
        P + "COUCH_AUTH_PAUSE",
        330.0,
        help="seconds nothing is sent after CouchDB refused the credentials (then one attempt): "
        "longer than CouchDB's memory of failed logins (5 min), so CouchDB never locks the user",
    )
    index_wait: float = _env(
        P + "INDEX_WAIT",
        1.0,
        help="seconds a view query waits for CouchDB to begin answering before asking whether "
        "an index is being built (0 = never ask)",
    )
    warm_query_timeout: float = _env(
        P + "WARM_QUERY_TIMEOUT",
        50.0,
        help="`install-views --warm`: seconds one view query waits for a build (keep it below "
        "CouchDB's 60 s view timeout); then the build is watched and the query asked again",
    )
    warm_poll: float = _env(
        P + "WARM_POLL",
        5.0,
        help="`install-views --warm`: seconds between two progress lines of a build",
    )
    ready_timeout: float = _env(
        P + "READY_TIMEOUT", 2.0, help="seconds `/health/ready` gives CouchDB to answer"
    )
    ready_interval: float = _env(
        P + "READY_INTERVAL",
        1.0,
        help="seconds one look at CouchDB answers every `/health/ready` probe (0: only probes "
        "arriving while a look is in flight share it)",
    )
    follow_db_updates: bool = _env(
        P + "FOLLOW_DB_UPDATES",
        True,
        _on_off,
        help="`serve` follows CouchDB's `_db_updates` and installs the design doc into each new "
        "MoDB of an account that holds it in an earlier month (needs a server admin; refused: "
        "logged once, off, see `/metrics`); `off`: new MoDBs get it on their first report",
    )
    follow_retry: float = _env(
        P + "FOLLOW_RETRY",
        300.0,
        help="seconds before the `_db_updates` follower asks again for a feed CouchDB does not "
        "serve (404: no `_global_changes`; 401: not a server admin), so fixing that needs no "
        "restart",
    )
    metrics: bool = _env(P + "METRICS", True, _on_off, help="`off`: no `/metrics`")
    metrics_address: str = _env(
        P + "METRICS_ADDRESS",
        "",
        listen_address,
        help="`host:port`: serve `/metrics` on a listener of its own instead of the API's port",
    )

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
                why = str(e)
                if parse in (int, float):  # "30s": say what a number looks like
                    why = f"{raw!r} is not a number; write it without a unit, like 30"
                raise ValueError(f"{f.metadata['env']}: {why}") from None
        return cls(**values)
