"""``db status|migrate``: the stores' schema — its version, and bringing it up to date.

The bot migrates at start (unless ``NEXTCALLER_OPS_AUTO_MIGRATE=0``); the CLI and the notebook never
run DDL, so an admitted schema change is this verb's, run by whoever has the right to change it.
"""

from __future__ import annotations

import argparse

from .. import _common as c


# -- db status | migrate ----------------------------------------------------------------------------
# The stores' schema version, and bringing it up to date.  The bot migrates at start (unless
# NEXTCALLER_OPS_AUTO_MIGRATE=0); the CLI's other verbs and the notebook never run DDL, so an admin
# whose bots run without the right to change the schema runs `db migrate` with a role that has it.
# Exit codes: `status` 0 when the schema is the code's, 1 when it is behind (or not there yet) or
# unreachable, 2 when it is newer than the code; `migrate` 0 when done, 1 unreachable, 2 newer
# than the code (nothing changed).
def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "db",
        help="the stores' schema: status, migrate",
        description="the schema of the stores (PostgreSQL at NEXTCALLER_OPS_DATABASE_URL, or the SQLite files in "
        "the data dir): its version, and bringing it up to date",
    )
    verbs = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    verbs.add_parser("status", help="the schema's version and the code's; what `migrate` would apply").set_defaults(
        run=run_db
    )
    verbs.add_parser("migrate", help="apply the migrations the database has not seen (one transaction)").set_defaults(
        run=run_db
    )


def run_db(args: argparse.Namespace) -> int:
    from ...config import data_dir, load_settings
    from ...stores import backend_for

    url = load_settings().database_url
    backend = backend_for(url)
    if backend == "postgresql":
        assert url is not None
        return _postgres_status(url) if args.db_command == "status" else _postgres_migrate(url)
    return _sqlite_status(data_dir()) if args.db_command == "status" else _sqlite_migrate(data_dir())


def _postgres_status(url: str) -> int:
    from ...stores.postgres import schema_status

    found = schema_status(url)
    if not found["ok"]:
        print(f"database: PostgreSQL — {found['error']}")
        return c.EXIT_API
    version, code, pending = found["version"], found["code"], found["pending"]
    print(f"database: PostgreSQL, schema version {version}; this nextcaller-ops knows {code}")
    if version > code:
        print(f"state: newer than this code — upgrade nextcaller-ops (version {version} was written by a newer one)")
        return c.EXIT_USAGE
    if pending:
        state = "no schema yet" if version == 0 else "behind"
        print(f"state: {state} — `nextcaller-ops db migrate` would apply {', '.join(pending)}")
        return c.EXIT_API
    print("state: up to date")
    return c.EXIT_OK


def _postgres_migrate(url: str) -> int:
    from ...stores.postgres import migrate_url

    before, after = migrate_url(url)  # newer: SchemaNewerError (exit 2); unreachable: StoreUnavailableError (1)
    if before == after:
        print(f"database: PostgreSQL, schema version {after}: already up to date")
    else:
        print(f"database: PostgreSQL, schema version {before} -> {after}: migrated")
    return c.EXIT_OK


def _sqlite_status(root: object) -> int:
    from pathlib import Path

    from ...stores.schema import SQLITE_FILES, code_version, sqlite_version

    code, worst = code_version(), c.EXIT_OK
    print(f"database: the embedded SQLite stores in {root}; this nextcaller-ops knows schema version {code}")
    for name in SQLITE_FILES:
        version = sqlite_version(Path(str(root)) / name)
        if version is None:
            state, code_for = "not created yet (made on first use)", c.EXIT_OK
        elif version > code:
            state, code_for = f"version {version}: newer than this code — upgrade nextcaller-ops", c.EXIT_USAGE
        elif version < code:
            state, code_for = f"version {version}: upgraded by the store the next time it opens", c.EXIT_OK
        else:
            state, code_for = f"version {version}: up to date", c.EXIT_OK
        print(f"  {name}: {state}")
        worst = max(worst, code_for)
    return worst


def _sqlite_migrate(root: object) -> int:
    from pathlib import Path

    from ...stores import open_stores
    from ...stores.schema import code_version

    open_stores(Path(str(root))).close()  # each store creates or upgrades its tables and stamps the version
    print(f"database: the embedded SQLite stores in {root}: schema version {code_version()}, up to date")
    return c.EXIT_OK
