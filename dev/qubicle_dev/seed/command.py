"""``qubicle-reports seed``: seed, then print the ids and curls that work against them."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, date, datetime, timedelta

from app.config import Settings
from app.couch.client import Couch, CouchError, CouchUnavailable

from .writer import SeedError, seed


async def seed_command(settings: Settings, args: argparse.Namespace) -> int:
    """``qubicle-reports seed``: seed, then print ids and a curl that works against them."""
    start: date = args.start or (datetime.now(UTC).date() - timedelta(days=args.days))
    end = start + timedelta(days=args.days - 1)
    couch = Couch(settings.couchdb_url, timeout=max(settings.couch_timeout, 120.0))
    try:
        seeded = await seed(
            couch,
            seed=args.seed,
            accounts=args.accounts,
            queues=args.queues,
            recipients=args.recipients,
            days=args.days,
            calls_per_day=args.calls_per_day,
            start=start,
            progress=not args.quiet,
            source=getattr(args, "source", "qubicle"),
        )
    except (CouchUnavailable, CouchError, SeedError) as e:
        print(f"seed failed: {e}", file=sys.stderr)
        return 1
    finally:
        await couch.close()

    per_type: dict[str, int] = {}
    for a in seeded:
        for kind, n in a.docs_per_type.items():
            per_type[kind] = per_type.get(kind, 0) + n
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(per_type.items()))
    print(
        f"Seeded {len(seeded)} account(s), {kinds} docs, "
        f"{start.isoformat()}..{end.isoformat()} (seed {args.seed}) on {couch.base}"
    )
    for a in seeded:
        months = ", ".join(
            f"{name.rsplit('-', 1)[1]}: {n}" for name, n in sorted(a.docs_per_modb.items())
        )
        note = f" ({a.already_present} already there)" if a.already_present else ""
        print(f"\naccount {a.account_id}  {a.name!r}  {a.total_docs} docs{note}")
        print(f"  MoDBs:      {months}")
        queues = ", ".join(f"{q[:8]} {a.queue_names.get(q, '')}".strip() for q in a.queue_ids)
        print(f"  queues:     {queues}")
        people = ", ".join(
            f"{r[:8]} {a.recipient_names.get(r, '')}".strip() for r in a.recipient_ids
        )
        print(f"  recipients: {people}")

    first = seeded[0]
    url = f"http://127.0.0.1:8000/v2/accounts/{first.account_id}/qubicle_reports"
    headers = '-H "X-Auth-Token: $TOKEN" -H "Content-Type: application/json"'
    span = f'"start_date":"{start.isoformat()}","end_date":"{end.isoformat()}"'
    tokens = ",".join(f"demo-token-{i + 1}={a.account_id}" for i, a in enumerate(seeded))
    print("\nServe it (tokens map to the accounts above):")
    print(f'  export QUBICLE_REPORTS_TOKENS="{tokens}"')
    print("  qubicle-reports serve")
    print("\nThen ask:")
    print("  TOKEN=demo-token-1")
    print(
        f'  curl -s {headers} {url} -d \'{{"data":{{"report":"queues",{span},"period":"daily"}}}}\''
    )
    print(
        f"  curl -s {headers} {url} "
        f'-d \'{{"data":{{"report":"recipients",{span},"period":"weekly",'
        f'"queue_ids":["{first.queue_ids[0]}"]}}}}\''
    )
    if first.source != "qubicle":  # ACDC data: where the agents' time went, too
        print(
            f"  curl -s {headers} {url} "
            f'-d \'{{"data":{{"report":"agent_states",{span},"period":"daily","totals":true}}}}\''
        )
    return 0
