"""devcouch answers like CouchDB 3.x where stock pouchdb-server does not.

Each test proves one correction listed in the project spec COUCH_FACTS.md
("Stock pouchdb-server is NOT CouchDB-compatible enough out of the box") or
one view feature the design docs rely on, against a real devcouch process.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from qubicle_dev.devcouch import DevCouch

MODB = "account/4f/e2/a1c0ffee00000000000000000000d0-202403"
MODB_PATH = "/" + quote(MODB, safe="")


class Reply:
    def __init__(self, status: int, headers: dict[str, str], raw: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = raw

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


class Client:
    """Minimal sync HTTP client: no redirects, no retries, explicit Basic auth."""

    def __init__(self, base_url: str, user: str | None, password: str | None) -> None:
        self.base_url = base_url
        self.auth = (
            "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
            if user is not None
            else None
        )

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = self.base_url + path + ("?" + urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.auth:
            request.add_header("Authorization", self.auth)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, dict(error.headers), error.read())


@pytest.fixture(scope="module")
def devcouch() -> Iterator[DevCouch]:
    with DevCouch() as server:
        yield server


@pytest.fixture(scope="module")
def admin(devcouch: DevCouch) -> Client:
    return Client(devcouch.base_url, devcouch.user, devcouch.password)


@pytest.fixture(scope="module")
def reader(devcouch: DevCouch) -> Client:
    return Client(devcouch.base_url, devcouch.reader_user, devcouch.reader_password)


@pytest.fixture(scope="module")
def anonymous(devcouch: DevCouch) -> Client:
    return Client(devcouch.base_url, None, None)


# Sessions of two queues: key [queue, day, hour], value [visits, wait seconds].
SESSIONS = [
    ("q1", 20240301, 9, 30),
    ("q1", 20240301, 9, 50),
    ("q1", 20240301, 10, 5),
    ("q1", 20240302, 11, 7),
    ("q2", 20240301, 9, 100),
    ("q2", 20240303, 8, 1),
]

DESIGN = {
    "_id": "_design/compat",
    "language": "javascript",
    "views": {
        "sum_arrays": {
            "map": "function (doc) { if (doc.queue) "
            "{ emit([doc.queue, doc.day, doc.hour], [1, doc.wait]); } }",
            "reduce": "_sum",
        },
        "stats_number": {
            "map": "function (doc) { if (doc.queue) { emit([doc.queue, doc.day], doc.wait); } }",
            "reduce": "_stats",
        },
        "count": {
            "map": "function (doc) { if (doc.queue) { emit([doc.queue, doc.day], null); } }",
            "reduce": "_count",
        },
    },
}


@pytest.fixture(scope="module")
def modb(admin: Client) -> str:
    """The slash-named MoDB holding SESSIONS and the design doc; returns its URL path."""
    assert admin("PUT", MODB_PATH).status == 201
    docs = [
        {"_id": f"s{i}", "queue": q, "day": day, "hour": hour, "wait": wait}
        for i, (q, day, hour, wait) in enumerate(SESSIONS)
    ]
    reply = admin("POST", MODB_PATH + "/_bulk_docs", {"docs": [*docs, DESIGN]})
    assert reply.status == 201, reply.raw
    return MODB_PATH


def view(client: Client, db_path: str, name: str, **params: Any) -> Reply:
    query = [(key, json.dumps(value)) for key, value in params.items()]
    return client("GET", f"{db_path}/_design/compat/_view/{name}", query=query)


# --- GET / ---------------------------------------------------------------------


def test_root_answers_couchdb_welcome_without_credentials(anonymous: Client) -> None:
    reply = anonymous("GET", "/")
    assert reply.status == 200
    assert reply.json["couchdb"] == "Welcome"
    assert reply.json["version"] == "3.4.3-devcouch"


# --- fact 1: slashes in database names -------------------------------------------


def test_slash_db_name_is_listed_decoded_and_usable_until_deleted(admin: Client) -> None:
    name = "account/ab/cd/00000000000000000000000000000000-202401"
    path = "/" + quote(name, safe="")
    assert admin("PUT", path).status == 201
    assert name in admin("GET", "/_all_dbs").json
    assert admin("GET", path).json["db_name"] == name
    assert admin("PUT", path + "/doc", {"n": 1}).status == 201
    assert admin("GET", path + "/doc").json["n"] == 1
    assert admin("DELETE", path).status == 200
    assert name not in admin("GET", "/_all_dbs").json
    assert admin("GET", path).status == 404


def test_slash_db_name_does_not_collide_with_its_slashless_twin(admin: Client) -> None:
    slashed = "account/11/22/33000000000000000000000000000000-202401"
    flat = slashed.replace("/", "")
    assert admin("PUT", "/" + quote(slashed, safe="")).status == 201
    assert admin("PUT", "/" + flat).status == 201
    dbs = admin("GET", "/_all_dbs").json
    assert slashed in dbs and flat in dbs


def test_invalid_db_name_is_refused_like_couchdb(admin: Client) -> None:
    reply = admin("PUT", "/Bad%20Name")
    assert reply.status == 400
    assert reply.json["error"] == "illegal_database_name"


# --- fact 2: Content-Type -------------------------------------------------------


@pytest.mark.parametrize("accept", ["text/plain", "*/*", "text/html"])
def test_json_replies_are_application_json_whatever_accept_says(
    admin: Client, modb: str, accept: str
) -> None:
    headers = {"Accept": accept}
    for path in ("/_all_dbs", modb, modb + "/s0", modb + "/missing"):
        reply = admin("GET", path, headers=headers)
        assert reply.headers["Content-Type"] == "application/json", path
        reply.json  # noqa: B018 - and it parses
    streamed = admin("GET", modb + "/_changes", headers=headers)
    assert streamed.headers["Content-Type"] == "application/json"


# --- fact 3: PUT id ----------------------------------------------------------------


def test_put_document_url_id_wins_over_body_id(admin: Client, modb: str) -> None:
    reply = admin("PUT", modb + "/url-id", {"_id": "body-id", "n": 1})
    assert reply.status == 201
    assert reply.json["id"] == "url-id"
    assert admin("GET", modb + "/url-id").json["n"] == 1
    assert admin("GET", modb + "/body-id").status == 404


def test_put_design_doc_url_id_wins_over_body_id(admin: Client, modb: str) -> None:
    reply = admin("PUT", modb + "/_design/url", {"_id": "_design/body", "views": {}})
    assert reply.status == 201
    assert reply.json["id"] == "_design/url"
    assert admin("GET", modb + "/_design/body").status == 404


# --- fact 4: authentication and the read-only user ---------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/_all_dbs"), ("PUT", "/anon-db"), ("GET", MODB_PATH), ("DELETE", MODB_PATH)],
)
def test_requests_without_credentials_get_401_unauthorized(
    anonymous: Client, modb: str, method: str, path: str
) -> None:
    reply = anonymous(method, path)
    assert reply.status == 401
    assert reply.json["error"] == "unauthorized"


def test_wrong_password_gets_401_even_on_session(devcouch: DevCouch) -> None:
    wrong = Client(devcouch.base_url, devcouch.user, "not-" + devcouch.password)
    for path in ("/_all_dbs", "/_session"):
        reply = wrong("GET", path)
        assert reply.status == 401
        assert reply.json["error"] == "unauthorized"


def test_session_names_the_authenticated_user(admin: Client, reader: Client) -> None:
    assert admin("GET", "/_session").json["userCtx"]["roles"] == ["_admin"]
    ctx = reader("GET", "/_session").json["userCtx"]
    assert ctx == {"name": "reader", "roles": []}


def test_reader_can_read_docs_and_query_views(reader: Client, modb: str) -> None:
    assert reader("GET", "/_all_dbs").status == 200
    assert reader("GET", modb + "/s0").json["queue"] == "q1"
    assert view(reader, modb, "count").json["rows"] == [{"key": None, "value": len(SESSIONS)}]
    posted = reader(
        "POST",
        modb + "/_design/compat/_view/count",
        {"keys": [["q2", 20240303]]},
        query=[("reduce", "false")],
    )
    assert posted.status == 200
    assert [row["id"] for row in posted.json["rows"]] == ["s5"]
    all_docs = reader("POST", modb + "/_all_docs", {"keys": ["s1"]})
    assert [row["id"] for row in all_docs.json["rows"]] == ["s1"]


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PUT", "/reader-doc", {"n": 1}),
        ("POST", "", {"n": 1}),
        ("POST", "/_bulk_docs", {"docs": [{"n": 1}]}),
        ("PUT", "/_design/reader", {"views": {}}),
        ("DELETE", "/s0", None),
    ],
)
def test_reader_cannot_write_documents_403_forbidden(
    reader: Client, admin: Client, modb: str, method: str, suffix: str, body: Any
) -> None:
    before = admin("GET", modb).json["doc_count"]
    reply = reader(method, modb + suffix, body)
    assert reply.status == 403
    assert reply.json["error"] == "forbidden"
    assert admin("GET", modb).json["doc_count"] == before


def test_reader_cannot_create_or_delete_databases(reader: Client, admin: Client, modb: str) -> None:
    created = reader("PUT", "/reader-db")
    assert created.status in (401, 403)
    assert created.json["error"] in ("unauthorized", "forbidden")
    assert "reader-db" not in admin("GET", "/_all_dbs").json
    assert reader("DELETE", modb).status in (401, 403)
    assert admin("GET", modb).status == 200


# --- 412 and 404 shapes --------------------------------------------------------------


def test_creating_an_existing_db_answers_412_file_exists(admin: Client, modb: str) -> None:
    reply = admin("PUT", modb)
    assert reply.status == 412
    assert reply.json["error"] == "file_exists"


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_missing_db_answers_404_database_does_not_exist(admin: Client, method: str) -> None:
    reply = admin(method, "/" + quote("account/00/00/missing-202401", safe=""))
    assert reply.status == 404
    assert reply.json == {"error": "not_found", "reason": "Database does not exist."}


def test_missing_document_answers_404_not_found(admin: Client, modb: str) -> None:
    reply = admin("GET", modb + "/no-such-doc")
    assert reply.status == 404
    assert reply.json["error"] == "not_found"


# --- fact 5: ETag ----------------------------------------------------------------------


def test_document_etag_is_the_quoted_rev_on_get_and_head(admin: Client, modb: str) -> None:
    rev1 = admin("PUT", modb + "/etag-doc", {"n": 1}).json["rev"]
    got = admin("GET", modb + "/etag-doc")
    assert got.headers["ETag"] == f'"{rev1}"' == f'"{got.json["_rev"]}"'
    rev2 = admin("PUT", modb + "/etag-doc", {"_rev": rev1, "n": 2}).json["rev"]
    assert rev2 != rev1
    assert admin("HEAD", modb + "/etag-doc").headers["ETag"] == f'"{rev2}"'


# --- fact 6: JSON query parameters --------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        [("startkey", "abc")],
        [("endkey", "[1,")],
        [("key", "q1")],
        [("keys", "not json")],
        [("startkey", '"a"'), ("startkey", '"b"')],
        [("key", '"s0"'), ("key", '"s1"')],
    ],
    ids=[
        "startkey-not-json",
        "endkey-not-json",
        "key-not-json",
        "keys-not-json",
        "startkey-repeated",
        "key-repeated",
    ],
)
def test_non_json_or_repeated_key_parameter_answers_400(
    admin: Client, modb: str, query: list[tuple[str, str]]
) -> None:
    for path in ("/_all_docs", "/_design/compat/_view/count"):
        reply = admin("GET", modb + path, query=query)
        assert reply.status == 400, path
        assert reply.json["error"] == "bad_request"


def test_valid_json_key_parameters_are_accepted(admin: Client, modb: str) -> None:
    reply = admin("GET", modb + "/_all_docs", query=[("startkey", '"s1"'), ("endkey", '"s2"')])
    assert reply.status == 200
    assert [row["id"] for row in reply.json["rows"]] == ["s1", "s2"]


# --- update_seq ------------------------------------------------------------------------


def test_db_update_seq_changes_when_the_db_changes(admin: Client) -> None:
    path = "/" + quote("account/5e/90/5e900000000000000000000000000000-202402", safe="")
    assert admin("PUT", path).status == 201
    before = admin("GET", path).json["update_seq"]
    assert admin("GET", path).json["update_seq"] == before  # stable while idle
    assert admin("PUT", path + "/d", {"n": 1}).status == 201
    after = admin("GET", path).json["update_seq"]
    assert after != before
    # devcouch reports a number (CouchDB 3 an opaque string): compare only for change.
    assert isinstance(after, int | str)


# --- builtin reduces and keys the design docs rely on ------------------------------


def test_sum_over_number_arrays_is_element_wise_with_group_level(admin: Client, modb: str) -> None:
    rows = view(admin, modb, "sum_arrays", group_level=2).json["rows"]
    assert rows == [
        {"key": ["q1", 20240301], "value": [3, 85]},
        {"key": ["q1", 20240302], "value": [1, 7]},
        {"key": ["q2", 20240301], "value": [1, 100]},
        {"key": ["q2", 20240303], "value": [1, 1]},
    ]


def test_stats_over_single_numbers(admin: Client, modb: str) -> None:
    rows = view(admin, modb, "stats_number", group_level=1).json["rows"]
    assert rows[0] == {
        "key": ["q1"],
        "value": {"sum": 92, "count": 4, "min": 5, "max": 50, "sumsqr": 900 + 2500 + 25 + 49},
    }
    assert rows[1]["key"] == ["q2"] and rows[1]["value"]["count"] == 2


def test_count_with_group_level(admin: Client, modb: str) -> None:
    rows = view(admin, modb, "count", group_level=1).json["rows"]
    assert rows == [{"key": ["q1"], "value": 4}, {"key": ["q2"], "value": 2}]


def test_array_range_with_empty_object_high_key_selects_one_queue(admin: Client, modb: str) -> None:
    one_queue = view(admin, modb, "sum_arrays", startkey=["q1"], endkey=["q1", {}], group_level=1)
    assert one_queue.json["rows"] == [{"key": ["q1"], "value": [4, 92]}]
    days = view(
        admin, modb, "count", startkey=["q1", 20240302], endkey=["q2", 20240301, {}], group_level=2
    )
    assert days.json["rows"] == [
        {"key": ["q1", 20240302], "value": 1},
        {"key": ["q2", 20240301], "value": 1},
    ]


# -- _db_updates: CouchDB's feed of database events (server admins only) ---------------------

DBU_MODB = "account/4f/e2/a1c0ffee00000000000000000000d0-202405"


def seq_of(seq: str) -> int:
    return int(seq.split("-", 1)[0])


def test_db_updates_needs_the_global_changes_db(admin: Client) -> None:
    """CouchDB 3.4 keeps the feed in ``_global_changes``, which it does not create."""
    admin("DELETE", "/_global_changes")
    assert admin("GET", "/_db_updates").json == {
        "error": "not_found",
        "reason": "Database does not exist.",
    }
    assert admin("PUT", "/_global_changes").status == 201
    assert admin("GET", "/_db_updates").status == 200


@pytest.fixture
def global_changes(admin: Client) -> None:
    assert admin("PUT", "/_global_changes").status in (201, 412)


@pytest.mark.usefixtures("global_changes")
def test_db_updates_lists_created_updated_deleted_since_a_seq(admin: Client) -> None:
    start = admin("GET", "/_db_updates", query=[("since", "now")])
    assert start.status == 200 and start.json["results"] == []
    since = start.json["last_seq"]
    path = "/" + quote(DBU_MODB, safe="")
    assert admin("PUT", path).status == 201
    assert admin("PUT", path + "/d1", {"x": 1}).status == 201
    assert admin("DELETE", path).status == 200
    feed = admin("GET", "/_db_updates", query=[("since", since)])
    assert feed.status == 200
    events = [(e["db_name"], e["type"]) for e in feed.json["results"]]
    assert events == [(DBU_MODB, "created"), (DBU_MODB, "updated"), (DBU_MODB, "deleted")]
    seqs = [seq_of(e["seq"]) for e in feed.json["results"]]
    assert seqs == sorted(seqs) and seq_of(feed.json["last_seq"]) == seqs[-1]
    # since the last seq: nothing new
    later = admin("GET", "/_db_updates", query=[("since", feed.json["last_seq"])])
    assert later.json["results"] == []
    # a later event of a type replaces the database's earlier one of that type
    assert admin("PUT", path).status == 201
    assert admin("PUT", path + "/d2", {"x": 2}).status == 201
    again = admin("GET", "/_db_updates", query=[("since", since)])
    assert [(e["db_name"], e["type"]) for e in again.json["results"]] == [
        (DBU_MODB, "deleted"),
        (DBU_MODB, "created"),
        (DBU_MODB, "updated"),
    ]
    admin("DELETE", path)


@pytest.mark.usefixtures("global_changes")
def test_db_updates_longpoll_waits_for_an_event_or_the_timeout(admin: Client) -> None:
    since = admin("GET", "/_db_updates", query=[("since", "now")]).json["last_seq"]
    idle = admin(
        "GET", "/_db_updates", query=[("feed", "longpoll"), ("since", since), ("timeout", "300")]
    )
    assert idle.status == 200 and idle.json["results"] == []
    path = "/" + quote(DBU_MODB, safe="")
    assert admin("PUT", path).status == 201
    try:
        got = admin(
            "GET",
            "/_db_updates",
            query=[("feed", "longpoll"), ("since", since), ("timeout", "5000")],
        )
        assert [(e["db_name"], e["type"]) for e in got.json["results"]] == [(DBU_MODB, "created")]
    finally:
        admin("DELETE", path)


@pytest.mark.usefixtures("global_changes")
def test_db_updates_continuous_streams_events_then_last_seq(admin: Client) -> None:
    since = admin("GET", "/_db_updates", query=[("since", "now")]).json["last_seq"]
    path = "/" + quote(DBU_MODB, safe="")
    assert admin("PUT", path).status == 201
    admin("DELETE", path)
    got = admin(
        "GET",
        "/_db_updates",
        query=[("feed", "continuous"), ("since", since), ("timeout", "300"), ("heartbeat", "100")],
    )
    lines = [json.loads(line) for line in got.raw.splitlines() if line.strip()]
    assert [(e["db_name"], e["type"]) for e in lines[:-1]] == [
        (DBU_MODB, "created"),
        (DBU_MODB, "deleted"),
    ]
    assert list(lines[-1]) == ["last_seq"]


def test_db_updates_is_for_server_admins_only(reader: Client) -> None:
    assert reader("GET", "/_db_updates").status == 401


@pytest.mark.usefixtures("global_changes")
def test_db_updates_from_a_seq_another_server_made_is_412_nodedown(
    admin: Client, devcouch: DevCouch
) -> None:
    """CouchDB 3.4.3 on a cluster that lost the node a seq names: 412 nodedown "progress not
    possible"; here a seq of another server process (before a restart)."""
    seq = admin("GET", "/_db_updates", query=[("since", "now")]).json["last_seq"]
    assert admin("GET", "/_db_updates", query=[("since", seq)]).status == 200
    number, _, epoch = seq.partition("-devcouch-")
    other = f"{number}-devcouch-{'x' if epoch[0] != 'x' else 'y'}{epoch[1:]}"
    reply = admin("GET", "/_db_updates", query=[("since", other)])
    assert (reply.status, reply.json) == (
        412,
        {"error": "nodedown", "reason": "progress not possible"},
    )


def test_view_cleanup_answers_202_ok(admin: Client) -> None:
    path = "/" + quote(MODB + "-cleanup", safe="")
    assert admin("PUT", path).status == 201
    try:
        reply = admin("POST", path + "/_view_cleanup", {})
        assert (reply.status, reply.json) == (202, {"ok": True})
    finally:
        admin("DELETE", path)
    assert admin("POST", path + "/_view_cleanup", {}).status == 404


LOCKOUT = "Account is temporarily locked due to multiple authentication failures"


def test_failed_logins_lock_the_user_from_that_address_until_they_expire() -> None:
    """CouchDB 3.4's [chttpd_auth_lockout] (mode enforce): after `threshold` failures of one
    user from one address, counted from the first for `max_lifetime`, that user is refused
    403 from that address, right password or not; a success resets nothing."""
    with DevCouch(password="right", lockout_threshold=3, lockout_lifetime_ms=1500) as dc:
        right = Client(dc.base_url, dc.user, "right")
        wrong = Client(dc.base_url, dc.user, "wrong")
        assert right("GET", "/_session").status == 200
        assert [wrong("GET", "/_all_dbs").status for _ in range(2)] == [401, 401]
        assert right("GET", "/_all_dbs").status == 200  # two failures: not yet
        assert wrong("GET", "/_session").status == 401  # the third
        for client in (right, wrong):
            reply = client("GET", "/_all_dbs")
            assert (reply.status, reply.json) == (403, {"error": "forbidden", "reason": LOCKOUT})
        # another user is not locked
        assert Client(dc.base_url, "reader", "reader")("GET", "/_all_dbs").status == 200
        time.sleep(1.6)
        assert right("GET", "/_all_dbs").status == 200  # the count expired


def test_an_admins_password_is_set_at_run_time_through_the_config_api() -> None:
    with DevCouch(password="old") as dc:
        admin = Client(dc.base_url, dc.user, "old")
        assert admin("PUT", "/_node/_local/_config/admins/admin", "new").status == 200
        assert Client(dc.base_url, dc.user, "new")("GET", "/_session").status == 200
        assert admin("GET", "/_session").status == 401
        reader = Client(dc.base_url, "reader", "reader")
        assert reader("PUT", "/_node/_local/_config/admins/admin", "x").status == 401
