"""Assemble ``couch_design_docs/<ddoc>/`` (couchapp layout) into CouchDB design documents.

The JavaScript stays in plain files so it is readable and diffable. What every map function
needs (the shared libraries) is said once, in ``<ddoc>/shared.js``: the assembler puts it at
the top of each map function's body, so a ``map.js`` carries only its own logic. Then
``// !code <path>`` is replaced by that file (relative to the design doc folder), as couchapp
did, and ``// !const NAME`` by ``var NAME = <JSON>;`` of a constant the service also uses (so
the service-level thresholds are said once, here as :data:`THRESHOLDS`).

A design doc is named by its content: ``_design/qubicle_reports-<version>``, the version being
a hash of the assembled views, so any changed file or constant is a new name. An index belongs
to a design doc's content, not its name (CouchDB), so two releases side by side never write
each other's design doc and a release never reads rows of a layout it does not know; a new
release's indexes are built beside the running one's (``install-views --warm``) and the old
ones removed once it is gone (``install-views --prune``). Releases up to 0.1.0 wrote
``_design/qubicle_reports`` (the :data:`LEGACY` name): it still marks an account that reports,
and is never read.
"""

from __future__ import annotations

import hashlib
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import orjson

DDOC = "qubicle_reports"  # the family name: every release's design doc is named after it
LEGACY = f"_design/{DDOC}"  # the one name every release up to 0.1.0 wrote, whatever its views
VERSION_FIELD = "qubicle_reports_version"
# ours: the legacy name, or the family name and a content version (never KAZOO's own)
OURS = re.compile(rf"_design/{DDOC}(?:-([0-9a-f]{{16}}))?")
# what an index is made of (CouchDB's signature): a design doc is read only when these equal ours
INDEXED = ("language", "views", "options")
CODE_MACRO = re.compile(r"^[ \t]*// !code (\S+)[ \t]*$", re.MULTILINE)
CONST_MACRO = re.compile(r"^[ \t]*// !const (\w+)[ \t]*$", re.MULTILINE)
SHARED = "shared.js"  # in the design doc folder: the top of every map function's body
BODY = re.compile(r"\A\s*function\s*\(\s*\w+\s*\)\s*\{[ \t]*\n")


# the service_level thresholds (seconds) the views count visits answered within: a fact of
# the views (inlined by ``// !const``), offered by the reports (app.report.metrics)
THRESHOLDS = (5, 10, 15, 20, 25, 30, 40, 45, 60, 75, 90, 120, 180, 240, 300, 600)


def constants() -> dict[str, Any]:
    """What ``// !const`` may inline."""
    return {"THRESHOLDS": list(THRESHOLDS)}


def design_docs_dir() -> Path:
    env = os.environ.get("QUBICLE_REPORTS_DESIGN_DOCS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "couch_design_docs"


def _expand(source: str, ddoc_dir: Path) -> str:
    def include(m: re.Match[str]) -> str:
        path = (ddoc_dir / m.group(1)).resolve()
        if ddoc_dir.resolve() not in path.parents:
            raise ValueError(f"!code outside the design doc: {m.group(1)}")
        return path.read_text()

    def const(m: re.Match[str]) -> str:
        return f"var {m.group(1)} = {orjson.dumps(constants()[m.group(1)]).decode()};"

    return CONST_MACRO.sub(const, CODE_MACRO.sub(include, source))


def _with_shared(source: str, shared: str) -> str:
    """``source`` (a ``function (doc) {`` ... ``}``) with ``shared`` opening its body."""
    if not shared:
        return source
    head = BODY.match(source)
    if head is None:
        raise ValueError("a map.js must start with `function (doc) {` and a line break")
    return source[: head.end()] + shared + source[head.end() :]


def assemble(ddoc_dir: Path) -> dict[str, Any]:
    """The design document for one folder, with its content-derived version."""
    shared_file = ddoc_dir / SHARED
    shared = shared_file.read_text() if shared_file.exists() else ""
    views: dict[str, dict[str, str]] = {}
    for view_dir in sorted(p for p in (ddoc_dir / "views").iterdir() if p.is_dir()):
        source = _with_shared((view_dir / "map.js").read_text(), shared)
        view = {"map": _expand(source, ddoc_dir).strip()}
        reduce_file = view_dir / "reduce"
        if reduce_file.exists():
            view["reduce"] = reduce_file.read_text().strip()
        views[view_dir.name] = view
    return named({"language": "javascript", "views": views}, ddoc_dir.name)


def named(doc: dict[str, Any], family: str = DDOC) -> dict[str, Any]:
    """``doc`` (``language``, ``views``) under the name its views give it, and saying its
    version (for people reading it in CouchDB; what counts is the views)."""
    version = _hash(doc["views"])
    return {**doc, "_id": f"_design/{family}-{version}", VERSION_FIELD: version}


def _hash(views: Any) -> str:
    return hashlib.sha256(orjson.dumps(views, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


@cache
def load(name: str = DDOC) -> dict[str, Any]:
    """The assembled design doc (read once per process)."""
    return assemble(design_docs_dir() / name)


def name_of(doc: dict[str, Any]) -> str:
    """The design doc's name as view paths use it (``qubicle_reports-<version>``)."""
    return str(doc["_id"]).removeprefix("_design/")


def current_name() -> str:
    """This release's design doc name."""
    return name_of(load())


def version_of(doc: dict[str, Any] | None) -> str | None:
    """The version a design doc's *content* has (its views hashed), whatever it says of
    itself: a design doc is what its views are."""
    if doc is None or not isinstance(doc.get("views"), dict):
        return None
    try:
        return _hash(doc["views"])
    except TypeError:  # views holding something JSON cannot sort
        return None


def is_ours(doc_id: str) -> bool:
    """A design doc of some release of this service (never KAZOO's own, never another's)."""
    return OURS.fullmatch(doc_id) is not None


def named_version(doc_id: str) -> str | None:
    """The version a design doc's name claims (None for the legacy name and for others)."""
    found = OURS.fullmatch(doc_id)
    return found.group(1) if found else None


def matches(found: dict[str, Any] | None, ours: dict[str, Any]) -> bool:
    """``found`` has exactly our content (what CouchDB builds an index from), so its rows are
    rows of our layout; anything else under our name is never read, only written over."""
    return found is not None and all(found.get(k) == ours.get(k) for k in INDEXED)
