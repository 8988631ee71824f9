"""``qubicle-reports install-views``: the design doc into the MoDBs CONTRACT.md section 1
names (reporting accounts, one account, or all), and with ``--warm`` every index built."""

from __future__ import annotations

from typing import Any

from app.commands.common import bad_account, command_couch
from app.commands.failures import COUCHDB, CommandFailed, no_modbs
from app.couch.build import BuildFailed, BuildFollower
from app.couch.client import CouchError, CouchUnavailable
from app.couch.installer import Installer, ViewsNotInstallable, covered_dbs


async def install_views_command(
    settings: Any, account_id: str | None, build: bool, every: bool = False
) -> int:
    """``qubicle-reports install-views``: install (and with ``build`` wait until CouchDB has
    built the indexes) in the MoDBs :func:`covered_dbs` names. 0 only when all are done."""
    if bad_account(account_id):
        return 2
    couch = command_couch(settings)
    installer = Installer(couch)
    counts: dict[str, int] = {}
    failed: list[str] = []
    views = list(installer.ddoc["views"])
    follow = BuildFollower(
        couch, query_timeout=settings.warm_query_timeout, poll=settings.warm_poll
    )
    try:
        async for db in covered_dbs(couch, account_id, every):
            outcome = await installer.install(db)
            counts[outcome] = counts.get(outcome, 0) + 1
            if build and outcome != "missing":
                try:
                    await follow.build(db, views)
                except BuildFailed as e:
                    print(f"{db}: index not built: {e}", flush=True)
                    failed.append(db)
    except ViewsNotInstallable as e:
        print(str(e))
        return 1
    except (CouchError, CouchUnavailable) as e:
        fix = "check COUCHDB_URL and CouchDB, then run the command again to go on"
        raise CommandFailed(COUCHDB, f"CouchDB failed: {e}; {fix}") from None
    finally:
        await couch.close()
    if account_id is not None and not counts:
        raise no_modbs(account_id)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no MoDBs found"
    built = f" ({len(failed)} indexes NOT built)" if failed else " (indexes built)"
    print(f"design doc {installer.version}: {summary}" + (built if build else ""))
    return 1 if failed else 0
