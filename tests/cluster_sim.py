"""A two-node "cluster" for running the whole suite as against a multi-node CouchDB: devcouch
behind two fault proxies, each answering cluster-shaped ``update_seq`` strings that change on
every call. Prints the comma-separated ``COUCHDB_URL`` and runs until interrupted:

    .venv/bin/python tests/cluster_sim.py &        # prints http://...:P1,http://...:P2
    COUCHDB_URL=<that> .venv/bin/pytest -q
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faultproxy import FaultProxy

from qubicle_dev.devcouch import DevCouch


async def main() -> None:
    with DevCouch() as dc:
        async with FaultProxy(dc.url) as a, FaultProxy(dc.url) as b:
            a.cluster_seqs = b.cluster_seqs = True
            print(f"{a.url},{b.url}", flush=True)
            await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
