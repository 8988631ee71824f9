"""Authentication (static tokens, KAZOO RS256 JWTs) and Crossbar's account isolation.

Key material is generated per test session into a temporary directory: nothing secret, or
even test-only, is committed. Everything that reads accounts (the tree tests and the HTTP
tests) runs against the CouchDB-protocol server of ``conftest.py`` with real account databases
and documents; CouchDB failures are real ones (a refused connection, a refused login).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import TestClient
from conftest import Accounts, error_body, make_client
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from yarl import URL

from app import errors
from app.config import Settings
from app.couch.client import Couch, CouchUnavailable, CredentialsRefused
from app.couch.modb import account_db
from app.web import auth as auth_module
from app.web.auth import (
    AccountTree,
    AuthConfigError,
    JwtTokens,
    StaticTokens,
    build_authenticator,
    load_public_key,
)

BODY = {"data": {"report": "queues", "start_date": "2024-01-01", "end_date": "2024-01-02"}}


# -- key material and token helpers ----------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    private: RSAPrivateKey
    public_pem: bytes
    public_path: Path
    other: RSAPrivateKey  # a key the service does not trust


def _rsa() -> RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    private = _rsa()
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = tmp_path_factory.mktemp("keys") / "kazoo_public.pem"
    path.write_bytes(pem)
    return Keys(private, pem, path, _rsa())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segment(obj: dict[str, Any]) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


def claims(account_id: str, *, exp_in: float = 3600, **extra: Any) -> dict[str, Any]:
    """What crossbar_auth:create_auth_token/3 puts in a KAZOO token."""
    return {
        "iss": "kazoo",
        "account_id": account_id,
        "owner_id": uuid.uuid4().hex,
        "method": "cb_user_auth",
        "exp": int(time.time() + exp_in),
        **extra,
    }


def kazoo_token(key: RSAPrivateKey, payload: dict[str, Any], alg: str = "RS256") -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"typ": "JWT", "kid": "system"})


@pytest.fixture
def tree(couch: Couch) -> AccountTree:
    """A tree over the real server, for the token tests (they stop before ``authorize``)."""
    return AccountTree(couch)


def _jwt_tokens(keys: Keys, tree: AccountTree, leeway: float = 5.0) -> JwtTokens:
    return JwtTokens(load_public_key(str(keys.public_path)), tree, leeway=leeway)


async def _rejects(authenticator: Any, token: str | None) -> None:
    with pytest.raises(errors.ApiError) as caught:
        await authenticator.authenticate(token)
    assert (caught.value.status, caught.value.message) == (401, "invalid_credentials")
    assert caught.value.data == {"message": "invalid credentials"}  # never says why


# -- JwtTokens ---------------------------------------------------------------------------------


async def test_jwt_valid_token_speaks_for_its_account(keys: Keys, tree: AccountTree) -> None:
    account = uuid.uuid4().hex
    token = kazoo_token(keys.private, claims(account))
    assert await _jwt_tokens(keys, tree).authenticate(token) == account


async def test_jwt_expired_token(keys: Keys, tree: AccountTree) -> None:
    token = kazoo_token(keys.private, claims(uuid.uuid4().hex, exp_in=-60))
    await _rejects(_jwt_tokens(keys, tree, leeway=5), token)


async def test_jwt_leeway_tolerates_small_clock_skew(keys: Keys, tree: AccountTree) -> None:
    account = uuid.uuid4().hex
    token = kazoo_token(keys.private, claims(account, exp_in=-2))
    assert await _jwt_tokens(keys, tree, leeway=30).authenticate(token) == account
    await _rejects(_jwt_tokens(keys, tree, leeway=0), token)


async def test_jwt_without_exp(keys: Keys, tree: AccountTree) -> None:
    payload = claims(uuid.uuid4().hex)
    del payload["exp"]
    await _rejects(_jwt_tokens(keys, tree), kazoo_token(keys.private, payload))


async def test_jwt_tampered_payload(keys: Keys, tree: AccountTree) -> None:
    mine, theirs = uuid.uuid4().hex, uuid.uuid4().hex
    header, _, signature = kazoo_token(keys.private, claims(mine)).split(".")
    forged = f"{header}.{_segment(claims(theirs))}.{signature}"
    await _rejects(_jwt_tokens(keys, tree), forged)


async def test_jwt_signed_by_another_key(keys: Keys, tree: AccountTree) -> None:
    await _rejects(_jwt_tokens(keys, tree), kazoo_token(keys.other, claims(uuid.uuid4().hex)))


@pytest.mark.parametrize("signature", ["", "AAAA"])
async def test_jwt_alg_none(keys: Keys, tree: AccountTree, signature: str) -> None:
    header = _segment({"alg": "none", "typ": "JWT"})
    token = f"{header}.{_segment(claims(uuid.uuid4().hex))}.{signature}"
    await _rejects(_jwt_tokens(keys, tree), token)


async def test_jwt_hs256_keyed_with_the_public_pem(keys: Keys, tree: AccountTree) -> None:
    """The RS/HS confusion: a forger knows the public key, so it must never be an HMAC secret."""
    signing_input = f"{_segment({'alg': 'HS256', 'typ': 'JWT'})}.{_segment(claims('a' * 32))}"
    mac = hmac.new(keys.public_pem, signing_input.encode(), hashlib.sha256).digest()
    await _rejects(_jwt_tokens(keys, tree), f"{signing_input}.{_b64(mac)}")


@pytest.mark.parametrize("alg", ["RS384", "RS512", "PS256"])
async def test_jwt_other_algorithms_even_with_the_right_key(
    keys: Keys, tree: AccountTree, alg: str
) -> None:
    await _rejects(
        _jwt_tokens(keys, tree), kazoo_token(keys.private, claims(uuid.uuid4().hex), alg)
    )


async def test_jwt_missing_account_claim(keys: Keys, tree: AccountTree) -> None:
    payload = claims(uuid.uuid4().hex)
    del payload["account_id"]
    await _rejects(_jwt_tokens(keys, tree), kazoo_token(keys.private, payload))


@pytest.mark.parametrize(
    "account",
    [
        None,
        "",
        "A" * 32,
        "a" * 31,
        "a" * 33,
        "g" * 32,
        "a" * 32 + "\n",
        "account/aa/aa/" + "a" * 28,
        1234,
        ["a" * 32],
        {"id": "a" * 32},
    ],
)
async def test_jwt_malformed_account_claim(keys: Keys, tree: AccountTree, account: Any) -> None:
    payload = claims("0" * 32)
    payload["account_id"] = account
    await _rejects(_jwt_tokens(keys, tree), kazoo_token(keys.private, payload))


@pytest.mark.parametrize(
    "token",
    [None, "", "garbage", "a.b.c", "..", "a.b", "a.b.c.d", "é.é.é", "x" * 20_000, "eyJ.eyJ.AA"],
)
async def test_jwt_garbage(keys: Keys, tree: AccountTree, token: str | None) -> None:
    await _rejects(_jwt_tokens(keys, tree), token)


async def test_jwt_rejection_logs_no_token(
    keys: Keys, tree: AccountTree, caplog: pytest.LogCaptureFixture
) -> None:
    token = kazoo_token(keys.other, claims(uuid.uuid4().hex))
    with caplog.at_level("DEBUG", logger="qubicle_reports.auth"):
        await _rejects(_jwt_tokens(keys, tree), token)
    assert caplog.records, "a rejection is logged at debug"
    assert all(part not in caplog.text for part in token.split("."))


async def test_jwt_issuer_checked_where_configured(keys: Keys, tree: AccountTree) -> None:
    key = load_public_key(str(keys.public_path))
    account = uuid.uuid4().hex
    checking = JwtTokens(key, tree, issuer="kazoo")
    assert await checking.authenticate(kazoo_token(keys.private, claims(account))) == account
    await _rejects(checking, kazoo_token(keys.private, claims(account, iss="evil")))
    no_iss = claims(account)
    del no_iss["iss"]
    await _rejects(checking, kazoo_token(keys.private, no_iss))
    # not configured: any issuer (as before)
    lax = JwtTokens(key, tree)
    assert await lax.authenticate(kazoo_token(keys.private, claims(account, iss="x"))) == account


@pytest.mark.parametrize(
    "exp",
    [
        1e30,  # never expires
        str(int(time.time() + 600)),  # a numeric string (PyJWT would take it)
        "beyond the longest lifetime",  # made when the test runs: a day and 2 minutes on
        True,
    ],
)
async def test_jwt_absurd_or_mistyped_expiry_is_refused(
    keys: Keys, tree: AccountTree, exp: Any
) -> None:
    if exp == "beyond the longest lifetime":
        exp = int(time.time() + 86_400 + 120)
    token = kazoo_token(keys.private, {**claims(uuid.uuid4().hex), "exp": exp})
    await _rejects(_jwt_tokens(keys, tree), token)


async def test_jwt_expiry_within_the_lifetime_is_fine(keys: Keys, tree: AccountTree) -> None:
    account = uuid.uuid4().hex
    key = load_public_key(str(keys.public_path))
    for exp in (int(time.time() + 86_000), time.time() + 60.5):
        token = kazoo_token(keys.private, {**claims(account), "exp": exp})
        assert await JwtTokens(key, tree).authenticate(token) == account
    short = JwtTokens(key, tree, max_lifetime=60)
    await _rejects(short, kazoo_token(keys.private, claims(account, exp_in=3600)))


def test_jwt_negative_leeway_is_a_configuration_error(keys: Keys, tree: AccountTree) -> None:
    with pytest.raises(AuthConfigError):
        _jwt_tokens(keys, tree, leeway=-1)


# -- StaticTokens ------------------------------------------------------------------------------


async def test_static_right_token(tree: AccountTree) -> None:
    account = uuid.uuid4().hex
    assert (
        await StaticTokens({"s3cret": account, "other": "b" * 32}, tree).authenticate("s3cret")
        == account
    )


@pytest.mark.parametrize("token", [None, "", "wrong", "s3cre", "s3cret ", "S3CRET"])
async def test_static_wrong_or_empty_token(token: str | None, tree: AccountTree) -> None:
    await _rejects(StaticTokens({"s3cret": uuid.uuid4().hex}, tree), token)


async def test_static_compares_every_token_in_constant_time(
    monkeypatch: pytest.MonkeyPatch, tree: AccountTree
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth_module.hmac, "compare_digest", spy)
    tokens = StaticTokens({"one": "a" * 32, "two": "b" * 32, "three": "c" * 32}, tree)
    assert await tokens.authenticate("one") == "a" * 32  # found first, still compares the rest
    assert len(calls) == 3
    calls.clear()
    await _rejects(tokens, "four")
    assert len(calls) == 3


# -- AccountTree, over account documents in CouchDB -------------------------------------------


async def _account(couch: Couch, account_id: str, tree: Any, **extra: Any) -> str:
    """Create the account's database and its KAZOO account document (``pvt_tree``: ancestors)."""
    await couch.create_db(account_db(account_id))
    doc = {"_id": account_id, "pvt_type": "account", "name": "t", "pvt_tree": tree, **extra}
    await couch.put_doc(account_db(account_id), doc)
    return account_id


async def _change(couch: Couch, account_id: str, **fields: Any) -> None:
    """Update the account document in CouchDB (``_deleted=True`` deletes it)."""
    doc = await couch.get_doc(account_db(account_id), account_id)
    assert doc is not None
    await couch.put_doc(account_db(account_id), {**doc, **fields})


async def _forbidden(tree: AccountTree, principal: str, account_id: str) -> None:
    with pytest.raises(errors.ApiError) as caught:
        await tree.authorize(principal, account_id)
    assert (caught.value.status, caught.value.data) == (403, {"message": "forbidden"})


class Clock:
    """The tree's injected clock: time moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


class Outage:
    """A loopback port where CouchDB is down: a socket is bound to it but does not listen, so
    every connection is really refused. :meth:`recover` brings it up as a plain TCP relay to
    the real server, so the same client, at the same URL, then reaches CouchDB."""

    def __init__(self, couch_url: str) -> None:
        real = URL(couch_url.split(",")[0])  # COUCHDB_URL may list several nodes
        self._upstream = (real.host, real.port)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self.url = str(real.with_host("127.0.0.1").with_port(self._sock.getsockname()[1]))
        self._server: asyncio.Server | None = None

    async def recover(self) -> None:
        self._sock.listen()
        self._server = await asyncio.start_server(self._relay, sock=self._sock)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        self._sock.close()


async def test_tree_hierarchy_from_pvt_tree(couch: Couch, accounts: Accounts) -> None:
    parent = await _account(couch, accounts.new(), [])
    child = await _account(couch, accounts.new(), [parent])
    grandchild = await _account(couch, accounts.new(), [parent, child])
    sibling = await _account(couch, accounts.new(), [parent])
    tree = AccountTree(couch)
    for principal, target in [
        (parent, parent),
        (parent, child),
        (parent, grandchild),
        (child, grandchild),
        (child, child),
    ]:
        await tree.authorize(principal, target)
    for principal, target in [(child, parent), (grandchild, child), (child, sibling)]:
        await _forbidden(tree, principal, target)


async def test_tree_missing_deleted_or_malformed_accounts(couch: Couch, accounts: Accounts) -> None:
    parent = await _account(couch, accounts.new(), [])
    deleted = await _account(couch, accounts.new(), [parent], pvt_deleted=True)  # KAZOO's way
    erased = await _account(couch, accounts.new(), [parent])
    await _change(couch, erased, _deleted=True)  # the document itself deleted in CouchDB
    disabled = await _account(couch, accounts.new(), [parent], pvt_enabled=False)
    broken = await _account(couch, accounts.new(), {"not": "a list"})
    missing = accounts.new()  # well formed, no account database
    no_doc = accounts.new()  # an account database without its account document
    await couch.create_db(account_db(no_doc))
    tree = AccountTree(couch)
    await _forbidden(tree, missing, missing)  # a token never reads an account that is not there
    await _forbidden(tree, parent, missing)
    await _forbidden(tree, no_doc, no_doc)
    await _forbidden(tree, parent, no_doc)
    await _forbidden(tree, deleted, deleted)  # deleted == gone
    await _forbidden(tree, parent, deleted)
    await _forbidden(tree, erased, erased)
    await _forbidden(tree, parent, erased)
    await tree.authorize(parent, disabled)  # disabled accounts stay readable (choice documented)
    await tree.authorize(broken, broken)  # an unreadable pvt_tree only ever grants self
    await _forbidden(tree, parent, broken)
    await _forbidden(tree, parent, "NOT-AN-ID")


async def test_tree_unreachable_couch_raises_and_the_failure_is_not_cached(
    couch_url: str, couch: Couch, accounts: Accounts
) -> None:
    account = await _account(couch, accounts.new(), [])
    missing = accounts.new()
    await AccountTree(couch).authorize(account, account)  # readable through a working client
    outage = Outage(couch_url)
    down = Couch(outage.url, timeout=5)
    try:
        tree = AccountTree(down)
        # "could not check" is neither answer, for an existing account or a missing one, and
        # each attempt goes to CouchDB again
        for target in (account, missing, account):
            with pytest.raises(CouchUnavailable):
                await tree.authorize(account, target)
        await outage.recover()  # CouchDB is back at the same address
        await tree.authorize(account, account)
        await _forbidden(tree, account, missing)
    finally:
        await down.close()
        await outage.close()


async def test_tree_couch_error_is_raised_not_turned_into_a_verdict(
    couch_url: str, couch: Couch, accounts: Accounts
) -> None:
    account = await _account(couch, accounts.new(), [])
    first_node = URL(couch_url.split(",")[0])  # COUCHDB_URL may list several nodes
    wrong_login = first_node.with_user("qubicle-nobody").with_password(uuid.uuid4().hex)
    refused = Couch(str(wrong_login), timeout=5)
    try:
        with pytest.raises(CredentialsRefused) as caught:  # CouchDB's 401: not a verdict
            await AccountTree(refused).authorize(account, account)
    finally:
        await refused.close()
    assert not caught.value.locked and caught.value.retry_in > 60


async def test_tree_cache_keeps_a_hierarchy_change_until_the_ttl_passes(
    couch: Couch, accounts: Accounts
) -> None:
    parent = await _account(couch, accounts.new(), [])
    child = await _account(couch, accounts.new(), [parent])
    clock = Clock()
    tree = AccountTree(couch, ttl=30, clock=clock)
    await tree.authorize(parent, child)
    await _change(couch, child, pvt_tree=[])  # moved out of parent's subtree
    await _forbidden(AccountTree(couch), parent, child)  # what CouchDB now says
    clock.now += 29
    await tree.authorize(parent, child)  # the decision read 29 s ago
    clock.now += 2
    await _forbidden(tree, parent, child)


async def test_tree_cache_keeps_a_deleted_account_until_the_ttl_passes(
    couch: Couch, accounts: Accounts
) -> None:
    account = await _account(couch, accounts.new(), [])
    clock = Clock()
    tree = AccountTree(couch, ttl=30, clock=clock)
    await tree.authorize(account, account)
    await _change(couch, account, _deleted=True)
    await _forbidden(AccountTree(couch), account, account)
    clock.now += 29
    await tree.authorize(account, account)
    clock.now += 2
    await _forbidden(tree, account, account)


async def test_tree_cache_keeps_a_missing_account_missing_until_the_ttl_passes(
    couch: Couch, accounts: Accounts
) -> None:
    """An account that does not exist is cached too: made-up ids cost one read each per TTL."""
    account = accounts.new()
    clock = Clock()
    tree = AccountTree(couch, ttl=30, clock=clock)
    await _forbidden(tree, account, account)
    await _account(couch, account, [])  # created meanwhile
    await AccountTree(couch).authorize(account, account)
    clock.now += 29
    await _forbidden(tree, account, account)
    clock.now += 2
    await tree.authorize(account, account)


async def test_tree_cache_holds_at_most_max_entries_and_evicts_the_oldest(
    couch: Couch, accounts: Accounts
) -> None:
    a, b, c = [await _account(couch, accounts.new(), []) for _ in range(3)]
    tree = AccountTree(couch, ttl=30, max_entries=2, clock=Clock())  # time stands still
    for account in (a, b, c):  # c evicts a, the oldest
        await tree.authorize(account, account)
    for account in (a, b, c):
        await _change(couch, account, _deleted=True)
    await tree.authorize(c, c)  # still cached
    await tree.authorize(b, b)  # still cached
    await _forbidden(tree, a, a)  # evicted, so read again; caching it evicts b
    await _forbidden(tree, b, b)  # evicted, read again; caching it evicts c
    await _forbidden(tree, c, c)


async def test_tree_ttl_zero_disables_the_cache(couch: Couch, accounts: Accounts) -> None:
    account = await _account(couch, accounts.new(), [])
    tree = AccountTree(couch, ttl=0, clock=Clock())  # time stands still
    await tree.authorize(account, account)
    await _change(couch, account, _deleted=True)
    await _forbidden(tree, account, account)  # seen at once


# -- configuration -----------------------------------------------------------------------------


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "QUBICLE_REPORTS_AUTH",
        "QUBICLE_REPORTS_JWT_PUBLIC_KEY",
        "QUBICLE_REPORTS_JWT_LEEWAY",
        "QUBICLE_REPORTS_ACCOUNT_CACHE_TTL",
    ):
        monkeypatch.delenv(name, raising=False)
    default = Settings.from_env()
    assert (default.auth, default.jwt_public_key) == ("static", None)
    assert 0 <= default.jwt_leeway <= 30
    assert default.account_cache_ttl == 30
    monkeypatch.setenv("QUBICLE_REPORTS_AUTH", "JWT")
    monkeypatch.setenv("QUBICLE_REPORTS_JWT_PUBLIC_KEY", "/etc/kazoo/public.pem")
    monkeypatch.setenv("QUBICLE_REPORTS_JWT_LEEWAY", "10")
    monkeypatch.setenv("QUBICLE_REPORTS_ACCOUNT_CACHE_TTL", "5")
    s = Settings.from_env()
    assert (s.auth, s.jwt_public_key, s.jwt_leeway, s.account_cache_ttl) == (
        "jwt",
        "/etc/kazoo/public.pem",
        10,
        5,
    )


async def test_build_authenticator_modes(keys: Keys, couch: Couch) -> None:
    assert isinstance(build_authenticator(Settings(), couch), StaticTokens)
    jwt_settings = Settings(auth="jwt", jwt_public_key=str(keys.public_path))
    assert isinstance(build_authenticator(jwt_settings, couch), JwtTokens)
    with pytest.raises(AuthConfigError, match="QUBICLE_REPORTS_AUTH"):
        build_authenticator(Settings(auth="ldap"), couch)


async def test_jwt_mode_without_a_usable_key_fails_at_start_up(
    tmp_path: Path, couch: Couch
) -> None:
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    ec_pem = tmp_path / "ec.pem"
    ec_pem.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for path, says in [
        (None, "needs QUBICLE_REPORTS_JWT_PUBLIC_KEY"),
        (str(tmp_path / "missing.pem"), "not a readable PEM public key"),
        (str(tmp_path), "not a readable PEM public key"),  # a directory
        (str(not_pem), "not a readable PEM public key"),
        (str(ec_pem), "not an RSA public key"),
    ]:
        with pytest.raises(AuthConfigError, match=says):
            build_authenticator(Settings(auth="jwt", jwt_public_key=path), couch)


# -- through the HTTP API, against CouchDB -----------------------------------------------------


@dataclass(frozen=True)
class Family:
    parent: str
    child: str
    grandchild: str
    sibling: str  # the child's sibling: another child of parent
    unrelated: str
    nonexistent: str  # well formed, no account database


@pytest.fixture
async def family(couch: Couch, accounts: Accounts) -> Family:
    parent = await _account(couch, accounts.new(), [])
    child = await _account(couch, accounts.new(), [parent])
    return Family(
        parent=parent,
        child=child,
        grandchild=await _account(couch, accounts.new(), [parent, child]),
        sibling=await _account(couch, accounts.new(), [parent]),
        unrelated=await _account(couch, accounts.new(), []),
        nonexistent=accounts.new(),
    )


@pytest.fixture
async def jwt_api(couch_url: str, keys: Keys) -> AsyncIterator[TestClient[Any, Any]]:
    settings = Settings(couchdb_url=couch_url, auth="jwt", jwt_public_key=str(keys.public_path))
    async with make_client(settings) as client:
        yield client


def _url(account_id: str) -> str:
    return f"/v2/accounts/{account_id}/qubicle_reports"


async def _post(
    client: TestClient[Any, Any], account_id: str, token: str | None
) -> tuple[int, dict[str, Any], str]:
    request_id = uuid.uuid4().hex
    headers = {"X-Request-ID": request_id}
    if token is not None:
        headers["X-Auth-Token"] = token
    resp = await client.post(_url(account_id), json=BODY, headers=headers)
    return resp.status, await resp.json(), request_id


def _assert_zero_report(body: dict[str, Any], rid: str, token: str) -> None:
    assert body["status"] == "success"
    assert (body["request_id"], body["auth_token"]) == (rid, token)
    assert isinstance(body["data"], list) and "report" in body["data"][0]


async def test_http_ancestors_read_descendants(
    jwt_api: TestClient[Any, Any], family: Family, keys: Keys
) -> None:
    token = kazoo_token(keys.private, claims(family.parent))
    for target in (family.parent, family.child, family.grandchild):
        status, body, rid = await _post(jwt_api, target, token)
        assert status == 200, body
        _assert_zero_report(body, rid, token)
    child_token = kazoo_token(keys.private, claims(family.child))
    status, body, rid = await _post(jwt_api, family.grandchild, child_token)
    assert status == 200, body


async def test_http_forbidden_outside_the_subtree(
    jwt_api: TestClient[Any, Any], family: Family, keys: Keys
) -> None:
    child_token = kazoo_token(keys.private, claims(family.child))
    parent_token = kazoo_token(keys.private, claims(family.parent))
    ghost_token = kazoo_token(keys.private, claims(family.nonexistent))
    for token, target in [
        (child_token, family.parent),
        (child_token, family.sibling),
        (child_token, family.unrelated),
        (parent_token, family.unrelated),
        (parent_token, family.nonexistent),
        (ghost_token, family.nonexistent),  # a token for an account that does not exist
    ]:
        status, body, rid = await _post(jwt_api, target, token)
        assert (status, body) == (
            403,
            error_body(403, "forbidden", {"message": "forbidden"}, rid, token),
        )


async def test_http_malformed_account_id(
    jwt_api: TestClient[Any, Any], family: Family, keys: Keys
) -> None:
    token = kazoo_token(keys.private, claims(family.parent))
    bad = family.parent.upper()
    status, body, rid = await _post(jwt_api, bad, token)
    data = {"message": "bad identifier", "cause": bad}
    assert (status, body) == (404, error_body(404, "bad_identifier", data, rid, token))


async def test_http_no_or_bad_token(
    jwt_api: TestClient[Any, Any], family: Family, keys: Keys
) -> None:
    invalid = {"message": "invalid credentials"}
    status, body, rid = await _post(jwt_api, family.parent, None)
    assert (status, body) == (401, error_body(401, "invalid_credentials", invalid, rid, ""))
    for token in (
        "garbage",
        kazoo_token(keys.other, claims(family.parent)),
        kazoo_token(keys.private, claims(family.parent, exp_in=-3600)),
    ):
        status, body, rid = await _post(jwt_api, family.parent, token)
        assert (status, body) == (401, error_body(401, "invalid_credentials", invalid, rid, token))
    status, body, rid = await _post(jwt_api, "NOT-AN-ID", "garbage")  # 401 comes before 404
    assert (status, body) == (401, error_body(401, "invalid_credentials", invalid, rid, "garbage"))


async def test_http_token_places(jwt_api: TestClient[Any, Any], family: Family, keys: Keys) -> None:
    token = kazoo_token(keys.private, claims(family.parent))
    url = _url(family.child)
    resp = await jwt_api.post(url, json=BODY, headers={"Authorization": f"Bearer {token}"})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["auth_token"] == token
    resp = await jwt_api.post(url, json={**BODY, "auth_token": token})
    assert resp.status == 200, await resp.text()
    resp = await jwt_api.post(url, json=BODY, params={"auth_token": token})
    assert resp.status == 200, await resp.text()
    query = {**BODY["data"], "auth_token": token}
    resp = await jwt_api.get(url, params=query)
    assert resp.status == 200, await resp.text()


async def test_http_static_tokens_share_the_tree(couch_url: str, family: Family) -> None:
    tokens = {"child-token": family.child, "ghost-token": family.nonexistent}
    async with make_client(Settings(couchdb_url=couch_url, tokens=tokens)) as client:
        assert (await _post(client, family.child, "child-token"))[0] == 200
        assert (await _post(client, family.grandchild, "child-token"))[0] == 200
        assert (await _post(client, family.parent, "child-token"))[0] == 403
        assert (await _post(client, family.sibling, "child-token"))[0] == 403
        assert (await _post(client, family.nonexistent, "ghost-token"))[0] == 403
        assert (await _post(client, family.child, "wrong"))[0] == 401


async def test_http_couch_down_is_never_allowed_or_forbidden() -> None:
    """An unreachable CouchDB while reading the tree is a server error, not a verdict."""
    account = uuid.uuid4().hex
    settings = Settings(couchdb_url="http://127.0.0.1:9", couch_timeout=5, tokens={"t": account})
    async with make_client(settings) as client:
        status, body, _ = await _post(client, account, "t")
    assert status >= 500 and body["status"] == "error"
    assert "127.0.0.1" not in json.dumps(body)
