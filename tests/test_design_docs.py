"""Assembling couch_design_docs/qubicle_reports into a design document (couchapp layout)."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest

from app.couch.design_docs import (
    VERSION_FIELD,
    assemble,
    design_docs_dir,
    is_ours,
    matches,
    named_version,
    version_of,
)
from app.report import events
from app.report.metrics import REPORTS
from app.report.records import read

SOURCE = Path(__file__).resolve().parent.parent / "couch_design_docs" / "qubicle_reports"
ALL_VIEWS = sorted(p.name for p in (SOURCE / "views").iterdir() if p.is_dir())
# the views sharing lib/ (agent_events, the agent_states report's events, is self-contained)
VIEW_NAMES = [name for name in ALL_VIEWS if name != "agent_events"]
# an unexpanded macro: a line holding only `// !code <path>`
MACRO_LINE = re.compile(r"^\s*//\s*!(code|const)\s+\S+\s*$", re.MULTILINE)
LIBS = ("common.js", "session.js", "call_stat.js", "visit.js")


def test_every_view_is_read_by_an_aggregate_and_the_records_add_none() -> None:
    """The index the record reports cost (issue 21: at most 10 % more): none of its own.
    They read views the aggregate reports read, and the design doc holds no other view."""
    aggregates = {events.VIEW} | {
        name
        for kind in REPORTS.values()
        for view in (*kind.views, *kind.queue_views)
        for name in view.names.values()
    }
    assert set(ALL_VIEWS) == aggregates
    assert set(read.VIEWS.values()) <= aggregates


@pytest.fixture
def ddoc(tmp_path: Path) -> Path:
    """A private copy of the design doc folder, safe to edit."""
    target = tmp_path / "couch_design_docs" / "qubicle_reports"
    shutil.copytree(SOURCE, target)
    return target


def test_the_source_folder_has_the_report_views() -> None:
    assert ["agent_events", *VIEW_NAMES] == ALL_VIEWS
    assert VIEW_NAMES == [
        "offers_by_queue_recipient_by_quarter",
        "offers_by_recipient_by_quarter",
        "queue_visits_by_quarter",
        "queue_waits_by_quarter",
    ]
    # the shared includes are said once, in shared.js, and no map.js repeats them
    assert MACRO_LINE.search((SOURCE / "shared.js").read_text())
    for name in VIEW_NAMES:
        assert MACRO_LINE.search((SOURCE / "views" / name / "map.js").read_text()) is None, name


def test_the_shared_includes_open_every_map_body(ddoc: Path) -> None:
    doc = assemble(ddoc)
    common = (ddoc / "lib" / "common.js").read_text().strip()
    for name, view in doc["views"].items():
        own = (ddoc / "views" / name / "map.js").read_text().split("{", 1)[1].strip()
        assert view["map"].index(common) < view["map"].index(own), name


def test_a_map_that_is_not_a_function_of_doc_raises(ddoc: Path) -> None:
    (ddoc / "views" / VIEW_NAMES[0] / "map.js").write_text("emit(doc._id, 1);\n")
    with pytest.raises(ValueError, match="function"):
        assemble(ddoc)


def test_design_docs_dir_points_at_the_repository_folder_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("QUBICLE_REPORTS_DESIGN_DOCS", raising=False)
    assert design_docs_dir().resolve() == SOURCE.parent


def test_assembled_doc_has_id_language_views_and_version(ddoc: Path) -> None:
    doc = assemble(ddoc)
    assert re.fullmatch(r"[0-9a-f]{16}", doc[VERSION_FIELD])
    # named by its content: two layouts never share a name
    assert doc["_id"] == f"_design/qubicle_reports-{doc[VERSION_FIELD]}"
    assert doc["language"] == "javascript"
    assert sorted(doc["views"]) == ALL_VIEWS


def test_a_design_docs_version_is_what_its_views_are_whatever_it_says(ddoc: Path) -> None:
    doc = assemble(ddoc)
    assert version_of(doc) == doc[VERSION_FIELD]
    lying = {**doc, VERSION_FIELD: "0123456789abcdef"}
    assert version_of(lying) == doc[VERSION_FIELD]
    other = copy.deepcopy(doc)
    other["views"]["agent_events"]["reduce"] = "_sum"
    assert version_of(other) != doc[VERSION_FIELD]
    assert matches(doc, doc) and not matches(other, doc) and not matches(None, doc)
    assert not matches({**doc, "options": {"collation": "raw"}}, doc)
    assert version_of(None) is None and version_of({"views": "not views"}) is None


@pytest.mark.parametrize(
    ("doc_id", "ours", "version"),
    [
        ("_design/qubicle_reports", True, None),
        ("_design/qubicle_reports-0123456789abcdef", True, "0123456789abcdef"),
        ("_design/qubicle_reports-0123456789ABCDEF", False, None),
        ("_design/qubicle_reports-0123", False, None),
        ("_design/qubicle_reportsx", False, None),
        ("_design/callflows", False, None),  # KAZOO's own
        ("_design/cdrs", False, None),
        ("qubicle_reports", False, None),
    ],
)
def test_which_design_docs_are_ours(doc_id: str, ours: bool, version: str | None) -> None:
    assert is_ours(doc_id) is ours
    assert named_version(doc_id) == version


def test_code_macro_is_expanded_into_every_map(ddoc: Path) -> None:
    libs = [(ddoc / "lib" / name).read_text().strip() for name in LIBS]
    doc = assemble(ddoc)
    for name in VIEW_NAMES:
        view = doc["views"][name]
        assert MACRO_LINE.search(view["map"]) is None, name
        assert all(lib in view["map"] for lib in libs), name
        assert "function sessionVisit(doc)" in view["map"], name
        assert "function callStatVisit(doc)" in view["map"], name
        assert view["map"].startswith("function (doc) {"), name
        assert view["map"].endswith("}"), name


def test_expansion_keeps_the_rest_of_each_map(ddoc: Path) -> None:
    doc = assemble(ddoc)
    for name in VIEW_NAMES:
        source = (ddoc / "views" / name / "map.js").read_text()
        for line in source.splitlines():
            if MACRO_LINE.fullmatch(line) or not line.strip():
                continue
            assert line in doc["views"][name]["map"], (name, line)


def test_every_view_reduces_with_a_builtin_both_servers_share(ddoc: Path) -> None:
    # COUCH_FACTS.md: _sum over number arrays and _stats over single numbers only
    doc = assemble(ddoc)
    reduces = {name: view["reduce"] for name, view in doc["views"].items() if "reduce" in view}
    expected = {name: "_stats" if "_waits_" in name else "_sum" for name in VIEW_NAMES}
    assert reduces == {"agent_events": "_count", **expected}  # _count: an account's agents


def test_const_macro_inlines_the_service_level_thresholds(ddoc: Path) -> None:
    from app.report.metrics import THRESHOLDS

    line = f"var THRESHOLDS = [{','.join(map(str, THRESHOLDS))}];"
    views = assemble(ddoc)["views"]
    for name in VIEW_NAMES:
        assert line in views[name]["map"], name


def test_version_is_stable_when_nothing_changes(ddoc: Path, tmp_path: Path) -> None:
    first = assemble(ddoc)[VERSION_FIELD]
    assert assemble(ddoc)[VERSION_FIELD] == first
    # a second copy of the same files, elsewhere, has the same version too
    other = tmp_path / "elsewhere" / "qubicle_reports"
    shutil.copytree(SOURCE, other)
    assert assemble(other)[VERSION_FIELD] == first
    assert assemble(SOURCE)[VERSION_FIELD] == first


@pytest.mark.parametrize("view", VIEW_NAMES)
def test_version_changes_when_a_map_changes(ddoc: Path, view: str) -> None:
    before = assemble(ddoc)[VERSION_FIELD]
    map_js = ddoc / "views" / view / "map.js"
    map_js.write_text(map_js.read_text().replace("var v = visitOf(doc);", "var v = visitOf(doc);;"))
    after = assemble(ddoc)
    assert "var v = visitOf(doc);;" in after["views"][view]["map"]
    assert after[VERSION_FIELD] != before


def test_version_changes_when_the_shared_lib_changes(ddoc: Path) -> None:
    before = assemble(ddoc)[VERSION_FIELD]
    lib = ddoc / "lib" / "session.js"
    lib.write_text(lib.read_text() + "\nvar ADDED_FOR_TEST = 1;\n")
    after = assemble(ddoc)
    assert after[VERSION_FIELD] != before
    assert all("var ADDED_FOR_TEST = 1;" in after["views"][v]["map"] for v in VIEW_NAMES)


def test_version_changes_when_a_reduce_changes(ddoc: Path) -> None:
    before = assemble(ddoc)[VERSION_FIELD]
    (ddoc / "views" / VIEW_NAMES[0] / "reduce").write_text("_count\n")
    after = assemble(ddoc)
    assert after["views"][VIEW_NAMES[0]]["reduce"] == "_count"
    assert after[VERSION_FIELD] != before


@pytest.mark.parametrize("path", ["../outside.js", "lib/../../outside.js", "/etc/hostname"])
def test_a_code_macro_escaping_the_design_doc_folder_raises(ddoc: Path, path: str) -> None:
    (ddoc.parent / "outside.js").write_text("var LEAKED = 1;\n")
    shared = ddoc / "shared.js"
    shared.write_text(shared.read_text().replace("// !code lib/session.js", f"// !code {path}"))
    with pytest.raises(ValueError, match="outside"):
        assemble(ddoc)


def test_a_code_macro_through_a_symlink_leaving_the_folder_raises(ddoc: Path) -> None:
    (ddoc.parent / "outside.js").write_text("var LEAKED = 1;\n")
    (ddoc / "lib" / "link.js").symlink_to(ddoc.parent / "outside.js")
    shared = ddoc / "shared.js"
    shared.write_text(shared.read_text().replace("lib/session.js", "lib/link.js"))
    with pytest.raises(ValueError, match="outside"):
        assemble(ddoc)


def test_a_code_macro_to_another_file_inside_the_folder_is_inlined(ddoc: Path) -> None:
    (ddoc / "lib" / "extra.js").write_text("var EXTRA_INLINED = 2;\n")
    map_js = ddoc / "views" / VIEW_NAMES[0] / "map.js"
    map_js.write_text(map_js.read_text().replace("{\n", "{\n  // !code lib/extra.js\n", 1))
    view = assemble(ddoc)["views"][VIEW_NAMES[0]]
    assert "var EXTRA_INLINED = 2;" in view["map"]
    assert MACRO_LINE.search(view["map"]) is None
