"""The pure parts of the cluster and index-build handling, on values CouchDB really sends."""

from __future__ import annotations

import time

import pytest

from app.commands.status import bar
from app.couch.build_eta import month_of, retry_after
from app.couch.index_state import IndexState, from_answers, seconds_left, seq_number, task_db
from app.couch.nodes import node_urls
from app.couch.view_cache import ViewCache
from app.couch.wire import operation

CLUSTER_SEQ = "1234-g1AAAAFTeJzLYWBg4MhgTmHgzcvPy09JdcjLz8gvLskBCScyJNX___8"


@pytest.mark.parametrize(
    ("seq", "number"),
    [
        (42, 42),
        ("42", 42),
        (CLUSTER_SEQ, 1234),
        ("0-g1AAAA", 0),
        (None, None),
        (True, None),
        ("g1AAAA-12", None),
        ({"n": 1}, None),
    ],
)
def test_seq_number_is_the_number_before_the_dash(seq: object, number: int | None) -> None:
    assert seq_number(seq) == number


def test_the_cache_hits_on_the_number_whatever_the_opaque_part() -> None:
    cache = ViewCache(1 << 20, ttl=60)
    key = ViewCache.key("db", "view", {"group_level": 2})
    cache.put(key, "10-aaaa", b'{"rows":[]}')
    assert cache.get(key, "10-bbbb") == b'{"rows":[]}'
    assert cache.get(key, 10) == b'{"rows":[]}'
    assert cache.get(key, "11-aaaa") is None  # a write: the number moved
    assert (cache.hits, cache.misses) == (2, 1)


def test_a_cached_answer_expires_after_its_ttl_even_with_the_same_seq() -> None:
    cache = ViewCache(1 << 20, ttl=0.05)
    key = ViewCache.key("db", "view", {})
    cache.put(key, "7-x", b"answer")
    assert cache.get(key, "7-y") == b"answer"
    time.sleep(0.06)
    assert cache.get(key, "7-y") is None
    assert len(cache) == 0 and cache.size == 0


def test_evictions_are_counted_and_bytes_stay_bounded() -> None:
    cache = ViewCache(10, ttl=60)
    for i in range(4):
        cache.put(ViewCache.key("db", f"v{i}", {}), 1, b"12345")
    assert cache.size <= 10 and len(cache) == 2
    assert cache.stats() == {"hits": 0, "misses": 0, "evictions": 2, "bytes": 10, "entries": 2}


def test_an_unreadable_seq_is_never_cached() -> None:
    cache = ViewCache(1 << 20)
    key = ViewCache.key("db", "view", {})
    cache.put(key, "not-a-seq", b"answer")
    assert len(cache) == 0


def test_node_urls_split_a_comma_separated_list() -> None:
    assert node_urls(" http://a:b@n1:5984 , http://a:b@n2:5984,") == [
        "http://a:b@n1:5984",
        "http://a:b@n2:5984",
    ]
    with pytest.raises(ValueError):
        node_urls(" , ")


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", "account%2Fab%2Fcd%2Fef-202401/_design/qubicle_reports/_view/v", "view"),
        ("GET", "account%2Fab%2Fcd%2Fef-202401/_design/qubicle_reports/_info", "design_info"),
        ("GET", "account%2Fab%2Fcd%2Fef-202401/_design/qubicle_reports", "design_doc_get"),
        ("PUT", "account%2Fab%2Fcd%2Fef-202401/_design/qubicle_reports", "design_doc_put"),
        ("GET", "account%2Fab%2Fcd%2Fef-202401", "db_get"),
        ("GET", "account%2Fab%2Fcd%2Fef/ab12", "doc_get"),
        ("POST", "account%2Fab%2Fcd%2Fef-202401/_bulk_docs", "bulk_docs"),
        ("GET", "_active_tasks", "active_tasks"),
        ("GET", "", "root"),
    ],
)
def test_operation_names_never_carry_a_database_name(method: str, path: str, name: str) -> None:
    assert operation(method, path) == name


def test_an_active_task_names_its_database_as_a_shard_file_on_a_cluster() -> None:
    db = "account/ab/cd/efefefefefefefefefefefefefef-202401"
    assert task_db(f"shards/00000000-1fffffff/{db}.1700000000") == db
    assert task_db(db) == db


def test_a_build_over_shards_is_as_far_as_its_index_not_as_its_tasks() -> None:
    """As CouchDB 3.4.3 showed a 22,578-document MoDB (q=2) mid-build: one shard with two
    indexer tasks (the view was being compacted), the other shard's task already gone."""
    db = "account/ab/cd/efefefefefefefefefefefefefef-202404"
    shard = f"shards/00000000-7fffffff/{db}.1796173833"
    task = {"type": "indexer", "design_document": "_design/qubicle_reports", "database": shard}
    tasks = [
        {**task, "changes_done": 2222, "total_changes": 8701},
        {**task, "changes_done": 5959, "total_changes": 11226},
        {
            "type": "view_compaction",
            "design_document": "_design/qubicle_reports",
            "database": shard,
            "changes_done": 35461,
            "total_changes": 45824,
        },
    ]
    info = {"view_index": {"update_seq": 9191, "updater_running": True}}
    found = from_answers(db, "qubicle_reports", tasks, info, {"update_seq": "22578-g1AAAA"})
    assert (found.building, found.running, found.progress, found.changes_done) == (
        True,
        True,
        40,
        9191,
    )
    # where the index does not say how far it is, the tasks still do
    found = from_answers(db, "qubicle_reports", tasks, {}, {"update_seq": "22578-g1AAAA"})
    assert (found.building, found.running, found.progress) == (True, True, 41)  # 8181/19927


def state(progress: int | None, indexed: int | None = None, total: int | None = None) -> IndexState:
    return IndexState("account/ab/cd/ef-202403", True, progress, indexed, total, "_info")


def test_seconds_left_from_two_looks_at_a_build() -> None:
    assert seconds_left(state(40), state(50), 0.5) == pytest.approx(2.5)  # 20 %/s, 50 % left
    assert seconds_left(state(40), state(40), 0.2) == float("inf")  # no visible progress
    assert seconds_left(state(None), state(50), 0.2) == float("inf")


def test_retry_after_follows_the_changes_left_within_bounds() -> None:
    assert retry_after(state(50, 10_000, 50_000)) == 40
    assert retry_after(state(99, 49_990, 50_000)) == 2  # never less than 2 s
    assert retry_after(state(0, 0, 10_000_000)) == 300  # never more than 5 minutes
    assert retry_after(state(None)) == 10


def test_month_and_progress_bar_as_shown() -> None:
    assert month_of("account/ab/cd/efefefefefefefefefefefefefef-202403") == "2024-03"
    assert bar(45) == "[" + "#" * 9 + "." * 11 + "]  45%"
    assert bar(None).startswith("[????")
