"""The pure parts of the record reports: the start_key (any text is a place we made or
:class:`NotOurs`, never another failure) and the documents read as the views read them."""

from __future__ import annotations

import base64

import pytest
import reference as ref
from hypothesis import given, settings
from hypothesis import strategies as st

from app.report.records.docs import visit_of
from app.report.start_key import NotOurs, decode, encode

places = st.tuples(
    st.text(min_size=1, max_size=40),
    st.integers(0, 2**37),
    st.sampled_from(["", "ready", "paused", "connected"]),
    st.text(max_size=60),
    st.integers(0, 1000),
)


@settings(max_examples=300)
@given(report=st.sampled_from(["visits", "offers", "agent_intervals"]), place=places)
def test_a_key_we_made_reads_back_as_its_place(report: str, place: tuple) -> None:
    assert decode(report, encode(report, place)) == place


@settings(max_examples=500)
@given(
    text=st.text(max_size=200)
    | st.binary(max_size=120).map(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="))
    | st.from_type(object).map(repr)
)
def test_any_other_text_is_not_ours(text: str) -> None:
    try:
        place = decode("visits", text)
    except NotOurs:
        return
    assert encode("visits", place) == text  # only a key we would have made


def test_keys_of_one_report_are_not_another_s() -> None:
    key = encode("visits", ("q1", 63877000000, "", "doc", 0))
    with pytest.raises(NotOurs):
        decode("offers", key)
    for bad in (key + "=", key[:-1], " " + key, None, 5, ["x"]):
        with pytest.raises(NotOurs):
            decode("visits", bad)


def test_documents_are_read_as_the_views_read_them() -> None:
    """Every malformed document of the oracle's lists is skipped whole; the good ones are
    visits with their offers in the views' order (ACDC: misses, then the answer)."""
    account, queue, agent, t = "a" * 32, "q" * 32, "r" * 32, 63877000000
    for doc in ref.malformed_docs(account, queue, agent, t):
        assert visit_of(doc) is None, doc["_id"]
    for doc in ref.malformed_call_stats(account, queue, agent, t):
        assert visit_of(doc) is None, doc["_id"]
    good = ref.good_call_stat(
        account,
        queue,
        "c1",
        t,
        agent_id=agent,
        misses=[
            ref.miss("x1", t + 1, "rejected"),
            ref.miss("x2", t + 2, "LOSE_RACE"),
            ref.miss("x3", t + 3, "NO_ANSWER"),
        ],
    )
    v = visit_of(good)
    assert v is not None and v.result == "answered"
    assert [(o.recipient, o.result) for o in v.offers] == [
        ("x1", "rejected"),
        ("x3", "missed"),
        (agent, "answered"),
    ]
