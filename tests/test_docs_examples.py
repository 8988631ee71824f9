"""Every ``curl`` example in the documentation runs, as written, against the service over the
stand-in's data seeded as ``make demo`` seeds it, and prints what the page says it prints.

A shell block holding ``curl`` must be followed by its output block (``json``, ``csv`` or
``text``). In an output, ``"…"`` stands for any value, a ``"…"`` key for any further keys, a
last list item ``"…"`` for any further items, and a line ``…`` (text, CSV) for any lines.
JSON is compared as parsed, so a page may lay it out for reading.
``DOCS_EXAMPLES_SHOW=1`` prints each example's actual output.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestServer
from conftest import seed_account

from app.config import Settings
from app.couch.client import Couch
from app.web.server import create_app
from qubicle_dev.demo import DEMO_ACCOUNTS, DEMO_AGENTS, DEMO_CALLS_PER_DAY, DEMO_QUEUES

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
DEMO_URL = "http://127.0.0.1:8000"
START, END = "2026-11-01", "2026-11-03"  # what the examples' $START and $END are here
ANY = "…"


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    command: str
    kind: str
    expected: str

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def examples() -> list[Example]:
    found = []
    for page in PAGES:
        text = page.read_text()
        blocks = list(FENCE.finditer(text))
        for i, block in enumerate(blocks):
            if block.group(1) not in ("sh", "bash", "shell") or "curl " not in block.group(2):
                continue
            line = text.count("\n", 0, block.start()) + 1
            name = str(page.relative_to(ROOT))
            after = blocks[i + 1] if i + 1 < len(blocks) else None
            between = text[block.end() : after.start()] if after else ""
            assert after is not None and not between.strip(), (
                f"{name}:{line}: a curl example needs its output block right after it"
            )
            found.append(Example(name, line, block.group(2), after.group(1), after.group(2)))
    return found


EXAMPLES = examples()


def matches(want: Any, got: Any) -> bool:
    if want == ANY:
        return True
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return False
        keys = set(want) - {ANY}
        if ANY not in want and keys != set(got):
            return False
        return keys <= set(got) and all(matches(want[k], got[k]) for k in keys)
    if isinstance(want, list):
        if not isinstance(got, list):
            return False
        if want and want[-1] == ANY:
            want = want[:-1]
            got = got[: len(want)]
        return len(want) == len(got) and all(map(matches, want, got))
    return bool(want == got)


def lines_match(want: list[str], got: list[str]) -> bool:
    """``want``'s lines in order, a line ``…`` standing for any lines (none included)."""
    if not want:
        return not got
    if want[0] == ANY:
        return any(lines_match(want[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and want[0] == got[0] and lines_match(want[1:], got[1:])


@pytest.fixture(scope="module")
async def demo(couch: Couch, session_accounts: Any) -> dict[str, str]:
    """The demo's two accounts (seed 1, its sizes) over START..END, and their tokens."""
    env = {"START": START, "END": END}
    names = {"qubicle": ("TOKEN", "ACCOUNT"), "acdc": ("ACDC_TOKEN", "ACDC_ACCOUNT")}
    start = date.fromisoformat(START)
    for source, token in DEMO_ACCOUNTS:
        account_id = session_accounts.new()
        await seed_account(
            couch,
            account_id,
            seed=1,
            source=source,
            queues=DEMO_QUEUES,
            recipients=DEMO_AGENTS,
            days=3,
            calls_per_day=DEMO_CALLS_PER_DAY,
            start=start,
        )
        token_name, account_name = names[source]
        env |= {token_name: token, account_name: account_id}
    return env


@pytest.fixture(scope="module")
async def service(couch_url: str, demo: dict[str, str]) -> Any:
    tokens = {demo["TOKEN"]: demo["ACCOUNT"], demo["ACDC_TOKEN"]: demo["ACDC_ACCOUNT"]}
    server = TestServer(create_app(Settings(couchdb_url=couch_url, tokens=tokens)))
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


def test_the_docs_hold_curl_examples_with_outputs() -> None:
    assert len(EXAMPLES) >= 8
    assert any(e.page == "README.md" for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=str)
async def test_a_curl_example_prints_what_the_page_says(
    example: Example, service: str, demo: dict[str, str]
) -> None:
    command = example.command.replace(DEMO_URL, service)
    assert "$" not in command.replace("$TOKEN", "").replace("$ACCOUNT", "").replace(
        "$START", ""
    ).replace("$END", "").replace("$ACDC_TOKEN", "").replace("$ACDC_ACCOUNT", ""), (
        "an example uses only the variables `make demo` prints"
    )
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-euo",
        "pipefail",
        "-c",
        command,
        env={"PATH": os.environ["PATH"], **demo},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, (str(example), err.decode())
    got = out.decode()
    if os.environ.get("DOCS_EXAMPLES_SHOW"):
        print(f"\n--- {example}\n{got}")
    for name in ("ACCOUNT", "ACDC_ACCOUNT"):
        got = got.replace(demo[name], f"${name}")  # the pages show the variable's name
    if example.kind == "json":
        assert matches(orjson.loads(example.expected), orjson.loads(got)), (str(example), got)
    else:
        want = example.expected.splitlines()
        assert lines_match(want, got.splitlines()), (str(example), got)  # CSV lines end \r\n
