"""The shared stores on PostgreSQL (``NEXTCALLER_OPS_DATABASE_URL``): one pool, the schema, audit, dedupe.

Any number of processes open the same database.  :func:`migrate` (the bot at
start unless ``NEXTCALLER_OPS_AUTO_MIGRATE=0``, and ``nextcaller-ops db migrate``)
applies the numbered SQL files in ``migrations/`` that the database has not
seen, inside one transaction holding an advisory lock, and records each in
``nextcaller_schema_version``: processes starting at the same moment wait for
one another and the schema is created once.  Every other opener (the CLI, the
notebook) only checks the version (:func:`check_version`): it runs no DDL.  A
schema newer than the code is refused by both (:mod:`.schema`).  The outbox is in
:mod:`.postgres_outbox`.

Tables live in the connection's ``search_path`` (``public`` unless the URL says
``?options=-csearch_path%3Dother``).  No message here ever holds the URL.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .. import metrics
from ..errors import MissingExtraError, UsageError
from .at_rest import at_rest, query_for
from .base import AuditEntry, StoreUnavailableError
from .person import Person
from .schema import SchemaBehindError, SchemaNewerError, code_version, migrations

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

__all__ = [
    "open_pool",
    "migrate",
    "migrations",
    "check_version",
    "schema_status",
    "describe",
    "PostgresAuditStore",
    "PostgresDedupeStore",
    "SCHEMA_TABLE",
]

log = logging.getLogger("nextcaller_ops.stores.postgres")

Clock = Callable[[], float]

SCHEMA_TABLE = "nextcaller_schema_version"
# One lock for every nextcaller-ops schema in the database: upgrades are rare and quick.
_ADVISORY_LOCK = 0x6E63_6F70_7300  # "ncops"
CONNECT_TIMEOUT = 5  # seconds: a dead server is reported, not waited for
_AUDIT_COLUMNS = "ts, user_id, channel_id, action, phone, outcome, detail"
_HINT = "check NEXTCALLER_OPS_DATABASE_URL and that PostgreSQL is running (`nextcaller-ops status` checks it)"


def _psycopg() -> Any:
    try:
        import psycopg
        import psycopg_pool  # noqa: F401 - present, or the extra is missing
    except ImportError as exc:
        raise MissingExtraError(
            "shared",
            "PostgreSQL (NEXTCALLER_OPS_DATABASE_URL is set)",
            missing=exc.name or "psycopg",
            otherwise="unset NEXTCALLER_OPS_DATABASE_URL to use the embedded SQLite stores",
        ) from None
    return psycopg


def _register_password(url: str) -> None:
    from psycopg.conninfo import conninfo_to_dict

    from ..redact import register_secret

    try:
        password = conninfo_to_dict(url).get("password")
    except Exception:  # a malformed URL: psycopg says so when connecting
        return
    if password:
        register_secret(str(password))


def applied_versions(conn: Any) -> set[int]:
    """The versions recorded in the database (empty: no schema yet).  Reads only."""
    if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (SCHEMA_TABLE,)).fetchone()[0]:
        return set()
    return {row[0] for row in conn.execute(f"SELECT version FROM {SCHEMA_TABLE}")}


def check_version(conn: Any) -> int:
    """The schema's version when it is the code's; behind or newer: one clear error.  Runs no DDL."""
    found, known = max(applied_versions(conn), default=0), code_version()
    if found > known:
        raise SchemaNewerError(found, known)
    if found < known:
        raise SchemaBehindError(found, known)
    return found


def migrate(conn: Any) -> int:
    """Bring the schema up to date (under the advisory lock, in one transaction); the version it is at.

    A schema newer than the code is refused before anything is changed.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK,))
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} ("
            "version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())"
        )
        applied = {row[0] for row in conn.execute(f"SELECT version FROM {SCHEMA_TABLE}")}
        version = max(applied, default=0)
        if version > code_version():
            raise SchemaNewerError(version, code_version())
        for number, name, sql in migrations():
            if number in applied:
                continue
            conn.execute(sql)
            conn.execute(f"INSERT INTO {SCHEMA_TABLE} (version, name) VALUES (%s, %s)", (number, name))
            log.info("database schema: applied %04d_%s", number, name)
            version = max(version, number)
    return version


_apply_migrations = migrate  # open_pool's parameter of the same name hides the function there


def schema_status(url: str) -> dict[str, Any]:
    """For ``db status``: the versions applied, the code's, the ones pending.  Reads only, never raises
    for an unreachable server (``ok`` False, ``error`` says why; never the URL)."""
    try:
        psycopg = _psycopg()
    except UsageError as exc:
        return {"ok": False, "error": exc.message}
    _register_password(url)
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, application_name="nextcaller-ops db") as conn:
            applied = applied_versions(conn)
    except psycopg.Error as exc:
        return {"ok": False, "error": f"not reachable ({type(exc).__name__})"}
    pending = [f"{number:04d}_{name}" for number, name, _ in migrations() if number not in applied]
    return {"ok": True, "version": max(applied, default=0), "code": code_version(), "pending": pending}


def migrate_url(url: str) -> tuple[int, int]:
    """For ``db migrate``: ``(version before, version after)``; unreachable or newer: one clear error."""
    psycopg = _psycopg()
    _register_password(url)
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, application_name="nextcaller-ops db") as conn:
            before = max(applied_versions(conn), default=0)
            return before, migrate(conn)
    except psycopg.Error as exc:
        raise StoreUnavailableError(
            f"the PostgreSQL database could not be migrated ({type(exc).__name__})", hint=_HINT
        ) from None


def open_pool(
    url: str, *, max_size: int = 10, timeout: float = CONNECT_TIMEOUT, migrate: bool = True
) -> ConnectionPool:
    """A connection pool on ``url``; raises one clear error if unreachable.

    ``migrate``: the schema is brought up to date first; otherwise it must already be the
    code's (:func:`check_version`: behind or newer is a :class:`~.schema.SchemaError`).
    """
    psycopg = _psycopg()
    from psycopg_pool import ConnectionPool, PoolTimeout

    _register_password(url)
    try:  # one direct connection first: a refused or misspelt URL fails at once, not after the pool's wait
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, application_name="nextcaller-ops") as conn:
            if migrate:
                _apply_migrations(conn)
            else:
                check_version(conn)
    except psycopg.Error as exc:
        raise StoreUnavailableError(
            f"the PostgreSQL database could not be used ({type(exc).__name__})", hint=_HINT
        ) from None
    pool = _counting(ConnectionPool)(
        url,
        min_size=1,
        max_size=max_size,
        open=False,
        timeout=timeout,
        kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "nextcaller-ops"},
        check=ConnectionPool.check_connection,  # a server restart costs one failed check, not an error
        name="nextcaller-ops",
    )
    try:
        pool.open(wait=True, timeout=timeout)
    except (PoolTimeout, psycopg.Error) as exc:
        pool.close()
        raise StoreUnavailableError(
            f"the PostgreSQL database could not be used ({type(exc).__name__})", hint=_HINT
        ) from None
    return pool


@functools.cache
def _counting(pool_class: type) -> type:
    """``pool_class`` whose connections count each PostgreSQL error in ``nextcaller_ops_store_errors_total``."""

    class CountingPool(pool_class):
        @contextmanager
        def connection(self, timeout: float | None = None) -> Iterator[Any]:
            try:
                with super().connection(timeout) as conn:
                    yield conn
            except _psycopg().Error:  # unreachable, a timeout waiting for a connection (PoolTimeout), a query refused
                metrics.STORE_ERRORS.labels(store="postgresql").inc()
                raise

    return CountingPool


def describe(url: str) -> dict[str, Any]:
    """For ``status``: reachable, the schema version, the outbox's counts.  Never raises, never migrates."""
    try:
        psycopg = _psycopg()
    except UsageError as exc:
        return {"ok": False, "error": exc.message}
    _register_password(url)
    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, application_name="nextcaller-ops status") as conn:
            exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (SCHEMA_TABLE,)).fetchone()[0]
            if not exists:
                return {"ok": True, "schema": 0, "outbox": None}
            schema = conn.execute(f"SELECT COALESCE(MAX(version), 0) FROM {SCHEMA_TABLE}").fetchone()[0]
            rows = conn.execute("SELECT status, COUNT(*) FROM nextcaller_outbox GROUP BY status").fetchall()
    except psycopg.Error as exc:
        return {"ok": False, "error": f"not reachable ({type(exc).__name__})"}
    counts = {"pending": 0, "delivered": 0, "rejected": 0}
    for status, n in rows:
        key = "pending" if status == "delivering" else status
        counts[key] = counts.get(key, 0) + n
    return {"ok": True, "schema": schema, "latest": migrations()[-1][0], "outbox": counts}


def _entry(row: tuple) -> AuditEntry:
    ts, user_id, channel_id, action, phone, outcome, detail = row
    return AuditEntry(
        ts=ts, user_id=user_id, channel_id=channel_id, action=action, phone=phone, outcome=outcome, detail=detail
    )


class PostgresAuditStore:
    """The audit log in ``nextcaller_audit``; opening it deletes nothing (see :meth:`purge`)."""

    def __init__(self, pool: ConnectionPool, clock: Clock = time.time, *, owns_pool: bool = False):
        self._pool = pool
        self._clock = clock
        self._owns_pool = owns_pool

    def record(
        self,
        *,
        user_id: str | None,
        channel_id: str | None,
        action: str,
        phone: str | None,
        outcome: str,
        detail: str = "",
    ) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                f"INSERT INTO nextcaller_audit ({_AUDIT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (self._clock(), user_id, channel_id, action, at_rest(phone), outcome, detail[:500]),
            )

    def purge(self, before: float) -> int:
        with self._pool.connection() as conn:
            return conn.execute("DELETE FROM nextcaller_audit WHERE ts < %s", (before,)).rowcount

    def forget(self, person: Person, *, apply: bool = True) -> int:
        # Every row but the forget records themselves (they hold a keyed hash, never the number).
        with self._pool.connection() as conn:
            rows = conn.execute("SELECT id, phone, detail FROM nextcaller_audit WHERE action <> 'forget'").fetchall()
            doomed = [r[0] for r in rows if person.is_phone(r[1]) or person.mentions(r[2])]
            if apply and doomed:
                conn.execute("DELETE FROM nextcaller_audit WHERE id = ANY(%s)", (doomed,))
        return len(doomed)

    def recent(self, user_id: str, limit: int = 5) -> list[AuditEntry]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM nextcaller_audit WHERE user_id = %s AND action IN ('lookup', 'refresh')"
                " ORDER BY ts DESC, id DESC LIMIT %s",
                (user_id, limit),
            ).fetchall()
        return [_entry(r) for r in rows]

    def entries(
        self, *, since: float | None = None, user_id: str | None = None, phone: str | None = None
    ) -> list[AuditEntry]:
        where, args = ["TRUE"], []
        for clause, value in (("ts >= %s", since), ("user_id = %s", user_id)):
            if value is not None:
                where.append(clause)
                args.append(value)
        if phone is not None:  # as the log keeps numbers (hashed: the query's hash finds them)
            forms = query_for(phone)
            where.append(f"phone IN ({', '.join('%s' for _ in forms)})")
            args.extend(forms)
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_AUDIT_COLUMNS} FROM nextcaller_audit WHERE {' AND '.join(where)} ORDER BY ts, id", args
            ).fetchall()
        return [_entry(r) for r in rows]

    def close(self) -> None:
        if self._owns_pool:
            self._pool.close()


class PostgresDedupeStore:
    """Keys already handled, in ``nextcaller_dedupe``: claimed with one insert, whichever process asks.

    Expired keys are purged by the running bot's retention (``bot.retention``), hourly.
    """

    def __init__(self, pool: ConnectionPool, ttl_seconds: float = 86400.0, clock: Clock = time.time):
        self._pool = pool
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def claim(self, key: str) -> bool:
        now = self._clock()
        with self._pool.connection() as conn:
            # Inserted (new key) or taken over (expired key): one row.  Seen recently: none.
            # Concurrent inserts of one key wait for the first and then see it: exactly one wins.
            changed = conn.execute(
                "INSERT INTO nextcaller_dedupe (key, claimed) VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET claimed = EXCLUDED.claimed WHERE nextcaller_dedupe.claimed < %s",
                (key, now, now - self.ttl_seconds),
            ).rowcount
        return changed == 1

    def purge(self) -> int:
        cutoff = self._clock() - self.ttl_seconds
        with self._pool.connection() as conn:
            return conn.execute("DELETE FROM nextcaller_dedupe WHERE claimed < %s", (cutoff,)).rowcount

    def forget(self, person: Person, *, apply: bool = True) -> int:
        with self._pool.connection() as conn:
            doomed = [k for (k,) in conn.execute("SELECT key FROM nextcaller_dedupe") if person.mentions(k)]
            if apply and doomed:
                conn.execute("DELETE FROM nextcaller_dedupe WHERE key = ANY(%s)", (doomed,))
        return len(doomed)

    def close(self) -> None:
        """The pool belongs to whoever opened the stores."""
