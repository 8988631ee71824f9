"""``qubicle-reports install-views``: this release's design doc into the MoDBs of reporting
accounts (or of one account, or all); with ``--warm`` every index built, with ``--prune`` the
design docs of every other release removed."""

from __future__ import annotations

from typing import Any

from app import __version__
from app.commands.common import CREDENTIALS_REFUSED, bad_account, command_couch, refused
from app.commands.failures import COUCHDB, CommandFailed, no_modbs
from app.couch.build import BuildFailed, BuildFollower
from app.couch.client import CouchError, CouchUnavailable, CredentialsRefused
from app.couch.installer import Installer, ViewsNotInstallable, covered_dbs
from app.couch.retire import Retired, retire


def megabytes(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB"


def retired_line(db: str, retired: list[Retired], dry_run: bool) -> str:
    names = ", ".join(
        r.ddoc_id.removeprefix("_design/")
        + (f" ({megabytes(r.index_bytes)})" if r.index_bytes else "")
        for r in retired
    )
    return f"{db}: {'would remove' if dry_run else 'removed'} {names}"


async def install_views_command(
    settings: Any,
    account_id: str | None,
    build: bool,
    every: bool = False,
    prune: bool = False,
    dry_run: bool = False,
    design_doc: dict[str, Any] | None = None,
) -> int:
    """``qubicle-reports install-views``: install (and with ``build`` wait until CouchDB has
    built the indexes; with ``prune`` retire other releases' design docs) in the MoDBs
    :func:`covered_dbs` names. 0 only when all are done. ``dry_run`` changes nothing.
    ``design_doc``: the release's design doc (default: this one's)."""
    if bad_account(account_id):
        return 2
    couch = command_couch(settings)
    installer = Installer(couch, design_doc)
    counts: dict[str, int] = {}
    failed: list[str] = []
    retired: list[Retired] = []
    views = list(installer.ddoc["views"])
    follow = BuildFollower(
        couch, installer.name, query_timeout=settings.warm_query_timeout, poll=settings.warm_poll
    )
    print(f"qubicle-reports {__version__}: design doc {installer.name}", flush=True)
    try:
        async for db in covered_dbs(couch, account_id, every):
            outcome = "listed" if dry_run else await installer.install(db)
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == "missing":
                continue
            if prune:  # first: deleting design docs is a change the index then takes in
                gone = await retire(couch, db, installer.ddoc["_id"], dry_run=dry_run)
                if gone:
                    print(retired_line(db, gone, dry_run), flush=True)
                retired.extend(gone)
            if build:
                try:
                    await follow.build(db, views)
                except BuildFailed as e:
                    print(f"{db}: index not built: {e}", flush=True)
                    failed.append(db)
    except CredentialsRefused as e:
        print(refused(settings, e.locked), flush=True)
        return CREDENTIALS_REFUSED
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
    print(f"design doc {installer.name}: {summary}" + (built if build else ""))
    if prune:
        freed = sum(r.index_bytes for r in retired)
        verb = "would remove" if dry_run else "removed"
        cleanup = "" if dry_run else "; CouchDB deletes their index files (_view_cleanup)"
        print(
            f"other releases' design docs: {verb} {len(retired)}, "
            f"{megabytes(freed)} of index files{cleanup}"
        )
    return 1 if failed else 0
