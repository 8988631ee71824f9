"""Who may read which account. One small interface, so the schemes can change behind it.

``authenticate`` turns a presented token into the account it speaks for (or 401);
``authorize`` decides whether that account may read the requested one (or 403).

Two schemes authenticate (static tokens, KAZOO's JWTs); both authorize the same way, as
Crossbar does (``kzd_accounts:is_in_account_hierarchy/3``): an account may read itself and
every account whose ``pvt_tree`` (the ancestor ids kept on its account document) names it.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from app import errors
from app.config import Settings
from app.couch.client import Couch
from app.couch.modb import account_db, is_account_id
from app.web.ttlcache import MISS, TtlCache

log = logging.getLogger("qubicle_reports.auth")

AUTH_MODES = ("static", "jwt")
# KAZOO signs with RS256 by default (kz_auth_jwt.erl ?DEFAULT_ALGORITHM); accepting exactly one
# asymmetric algorithm is what rules out `none` and HS256-keyed-with-the-public-PEM tokens.
JWT_ALGORITHMS = ["RS256"]
ACCOUNT_CLAIM = "account_id"  # crossbar_auth:create_auth_token/3 puts the account id here
ACCOUNT_CACHE_SIZE = 10_000


class AuthConfigError(ValueError):
    """The authentication settings cannot work; raised at start-up, never per request."""


class Authenticator(Protocol):
    async def authenticate(self, token: str | None) -> str:
        """The account id the token speaks for; raises a 401 ApiError otherwise."""
        ...

    async def authorize(self, principal: str, account_id: str) -> None:
        """Raises a 403 ApiError unless ``principal`` may read ``account_id``."""
        ...


class AccountTree:
    """Crossbar's hierarchy rule over account documents, with a short, bounded cache.

    The cache keeps one CouchDB read per target account per ``ttl`` seconds; accounts that do
    not exist are cached too, so a flood of made-up ids costs at most one read each. CouchDB
    failures are not cached and propagate as ``CouchUnavailable``/``CouchError``: "could not
    check" must never turn into either answer.
    """

    def __init__(
        self,
        couch: Couch,
        *,
        ttl: float = 30.0,
        max_entries: int = ACCOUNT_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._couch = couch
        self._cache: TtlCache[frozenset[str] | None] = TtlCache(ttl, max_entries, clock)

    async def ancestors(self, account_id: str) -> frozenset[str] | None:
        """The ids in the account's ``pvt_tree``; None when the account does not exist.

        A soft-deleted account (``pvt_deleted: true``) counts as not existing. A disabled one
        (``pvt_enabled: false``) still exists: Crossbar's hierarchy check ignores the flag, and
        a reseller reading a suspended customer's history is expected.
        """
        if not is_account_id(account_id):
            return None
        now = self._cache.clock()
        hit = self._cache.get(account_id, now)
        if hit is not MISS:
            return hit
        doc = await self._couch.get_doc(account_db(account_id), account_id)
        found = _ancestors(doc)
        self._cache.put(account_id, found, now)
        return found

    async def authorize(self, principal: str, account_id: str) -> None:
        """403 unless the account exists and is ``principal`` or one of its descendants."""
        ancestors = await self.ancestors(account_id)
        if ancestors is None or (principal != account_id and principal not in ancestors):
            raise errors.forbidden()


def _ancestors(doc: dict[str, Any] | None) -> frozenset[str] | None:
    if not isinstance(doc, dict) or doc.get("pvt_deleted") is True:
        return None
    tree = doc.get("pvt_tree")
    return frozenset(a for a in tree if is_account_id(a)) if isinstance(tree, list) else frozenset()


class _TreeAuthorized:
    """Both schemes authorize by the account hierarchy."""

    _tree: AccountTree

    async def authorize(self, principal: str, account_id: str) -> None:
        await self._tree.authorize(principal, account_id)


class StaticTokens(_TreeAuthorized):
    """``QUBICLE_REPORTS_TOKENS="token1=ACCOUNT_ID,..."``: each token speaks for its account."""

    def __init__(self, tokens: dict[str, str], tree: AccountTree) -> None:
        self._tokens = [(t.encode(), account) for t, account in tokens.items()]
        self._tree = tree

    async def authenticate(self, token: str | None) -> str:
        if not token:
            raise errors.unauthorized()
        presented = token.encode()
        found: str | None = None
        for known, account in self._tokens:  # compare with every token: constant time
            if hmac.compare_digest(known, presented):
                found = account
        if found is None:
            raise errors.unauthorized()
        return found


class JwtTokens(_TreeAuthorized):
    """KAZOO 4.x ``X-Auth-Token``s: RS256 JWTs verified with the operator's KAZOO public key.

    Every failure is the same 401 for the client (which check failed would help a forger);
    the reason goes to the debug log, never the token itself.
    """

    def __init__(
        self,
        public_key: RSAPublicKey,
        tree: AccountTree,
        *,
        leeway: float = 5.0,
        issuer: str | None = None,
        max_lifetime: float = 86_400.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``issuer``: the ``iss`` every token must carry (None: not checked);
        ``max_lifetime``: seconds from now an ``exp`` may lie at most."""
        if leeway < 0:
            raise AuthConfigError("QUBICLE_REPORTS_JWT_LEEWAY must not be negative")
        if max_lifetime <= 0:
            raise AuthConfigError("QUBICLE_REPORTS_JWT_MAX_LIFETIME must be positive")
        self._key = public_key
        self._tree = tree
        self._leeway = leeway
        self._issuer = issuer or None
        self._max_lifetime = max_lifetime
        self._clock = clock

    async def authenticate(self, token: str | None) -> str:
        if not token:
            raise errors.unauthorized()
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=JWT_ALGORITHMS,
                leeway=self._leeway,
                issuer=self._issuer,
                options={"require": ["exp", "iss"] if self._issuer else ["exp"]},
            )
        except (jwt.PyJWTError, ValueError, TypeError) as e:
            log.debug("JWT rejected: %s: %s", type(e).__name__, e)
            raise errors.unauthorized() from None
        if not self._expiry_is_sane(claims.get("exp")):
            log.debug("JWT rejected: exp is not a number of seconds within the max lifetime")
            raise errors.unauthorized()
        account = claims.get(ACCOUNT_CLAIM)
        if not is_account_id(account):
            log.debug("JWT rejected: %r claim missing or not an account id", ACCOUNT_CLAIM)
            raise errors.unauthorized()
        return str(account)

    def _expiry_is_sane(self, exp: Any) -> bool:
        """A JSON number (PyJWT also takes a numeric string) no further ahead than the
        longest lifetime a token may have (``exp`` = 1e30 would never expire)."""
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            return False
        return exp <= self._clock() + self._max_lifetime


def load_public_key(path: str | None) -> RSAPublicKey:
    """The RSA public key in a PEM file, or an :class:`AuthConfigError` saying what is wrong."""
    if not path:
        raise AuthConfigError("QUBICLE_REPORTS_AUTH=jwt needs QUBICLE_REPORTS_JWT_PUBLIC_KEY")
    try:
        key = load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError, UnsupportedAlgorithm) as e:
        raise AuthConfigError(
            f"QUBICLE_REPORTS_JWT_PUBLIC_KEY={path}: not a readable PEM public key "
            f"({type(e).__name__}: {e})"
        ) from None
    if not isinstance(key, RSAPublicKey):
        raise AuthConfigError(f"QUBICLE_REPORTS_JWT_PUBLIC_KEY={path}: not an RSA public key")
    return key


def build_authenticator(settings: Settings, couch: Couch) -> Authenticator:
    """The scheme the configuration asks for; a scheme that cannot work stops the start-up."""
    tree = AccountTree(couch, ttl=settings.account_cache_ttl)
    if settings.auth == "static":
        return StaticTokens(settings.tokens, tree)
    if settings.auth == "jwt":
        key = load_public_key(settings.jwt_public_key)
        return JwtTokens(
            key,
            tree,
            leeway=settings.jwt_leeway,
            issuer=settings.jwt_issuer,
            max_lifetime=settings.jwt_max_lifetime,
        )
    raise AuthConfigError(f"QUBICLE_REPORTS_AUTH must be one of {', '.join(AUTH_MODES)}")


def auth_problem(settings: Settings) -> str | None:
    """Why the authentication settings would let no request in (what to set), or None: the
    check ``serve`` makes before it starts."""
    if settings.auth == "static" and not settings.tokens:
        return (
            "no way to authenticate: QUBICLE_REPORTS_TOKENS is empty; set it to "
            "token=ACCOUNT_ID[,token2=ACCOUNT_ID], or set QUBICLE_REPORTS_AUTH=jwt and "
            "QUBICLE_REPORTS_JWT_PUBLIC_KEY=/path/to/kazoo-public-key.pem"
        )
    if settings.auth == "jwt":
        try:
            load_public_key(settings.jwt_public_key)
        except AuthConfigError as e:
            return f"{e}: point it at the PEM public key KAZOO signs its tokens with"
        return None
    if settings.auth not in AUTH_MODES:
        return f"QUBICLE_REPORTS_AUTH={settings.auth!r}: set it to one of {', '.join(AUTH_MODES)}"
    return None
