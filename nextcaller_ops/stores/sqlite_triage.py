"""Triage channels' state in ``triage.sqlite3`` (mode 0600): watched channels, items, sightings.

Plain SQL a PostgreSQL store can repeat statement for statement: ``INSERT … ON
CONFLICT DO NOTHING`` for the first claim of a message, a conditional ``UPDATE``
for every race (two claimers, two workers), ``SELECT`` for the rest.  Several
processes may open the same file: SQLite serialises the writers.

A file made before the lease columns (PostgreSQL's ``0003_triage_lease``) gets
them when it is opened (:data:`ADDED_COLUMNS`, one transaction, idempotent).
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from .base import CLAIM, DONE, FLAG, GAVE_UP, RELEASE, RESOLVE, FlagSeen, OpenItem, Snooze, TriageItem
from .person import REDACT, Person
from .private_db import open_private_db

__all__ = ["SqliteTriageStore", "SCHEMA", "ADDED_COLUMNS"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS triage_watch (
        channel_id TEXT PRIMARY KEY, watched BOOLEAN NOT NULL, changed_by TEXT, changed_at REAL NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS triage_items (
        channel_id TEXT NOT NULL, message_ts TEXT NOT NULL, thread_ts TEXT NOT NULL, poster TEXT,
        numbers TEXT NOT NULL, created REAL NOT NULL, stage TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL DEFAULT 0, lease_until REAL NOT NULL DEFAULT 0, reply_ts TEXT,
        cards TEXT, summary TEXT NOT NULL DEFAULT '',
        claimed_by TEXT, claimed_at REAL, resolved_by TEXT, resolved_at REAL, flagged_by TEXT, flagged_at REAL,
        PRIMARY KEY (channel_id, message_ts))""",
    "CREATE INDEX IF NOT EXISTS triage_items_due ON triage_items (stage, next_attempt)",
    "CREATE INDEX IF NOT EXISTS triage_items_open ON triage_items (channel_id, created)",
    """CREATE TABLE IF NOT EXISTS triage_sightings (
        channel_id TEXT NOT NULL, phone TEXT NOT NULL, message_ts TEXT NOT NULL, seen_at REAL NOT NULL,
        PRIMARY KEY (channel_id, phone, message_ts))""",
    "CREATE INDEX IF NOT EXISTS triage_sightings_seen ON triage_sightings (channel_id, phone, seen_at)",
    # PostgreSQL's 0004_triage_lifecycle: a number snoozed in a channel
    """CREATE TABLE IF NOT EXISTS triage_snoozes (
        channel_id TEXT NOT NULL, phone TEXT NOT NULL, snoozed_until REAL NOT NULL, snoozed_by TEXT,
        message_ts TEXT NOT NULL, PRIMARY KEY (channel_id, phone))""",
    """CREATE TABLE IF NOT EXISTS triage_digests (
        channel_id TEXT PRIMARY KEY, slot TEXT NOT NULL, last_posted_at REAL)""",
)
# Columns added after the first release, as PostgreSQL's migrations add them (0003_triage_lease):
# the lease holder's token, a post under way, what the reply was last drawn with.
# And (0004_triage_lifecycle) snoozed, dropped with a reason, the claimer reminded.
ADDED_COLUMNS = (
    ("lease_id", "TEXT"),
    ("posting_at", "REAL"),
    ("shown_digest", "TEXT"),
    ("snoozed_by", "TEXT"),
    ("snoozed_until", "REAL"),
    ("dropped_by", "TEXT"),
    ("dropped_at", "REAL"),
    ("drop_reason", "TEXT"),
    ("reminded_at", "REAL"),
)
ADDED_INDEXES = (
    "CREATE INDEX IF NOT EXISTS triage_items_unresolved ON triage_items (channel_id, created)"
    " WHERE resolved_at IS NULL",
)

_COLUMNS = (
    "channel_id, message_ts, thread_ts, poster, numbers, created, stage, attempts, reply_ts, cards, summary,"
    " claimed_by, claimed_at, resolved_by, resolved_at, flagged_by, flagged_at, lease_id, posting_at, shown_digest,"
    " snoozed_by, snoozed_until, dropped_by, dropped_at, drop_reason, reminded_at"
)
_KEY = "channel_id = ? AND message_ts = ?"
_HELD = f"{_KEY} AND lease_id = ?"  # a write by the lease holder: a stale worker's changes nothing
_DUE = f"stage NOT IN ('{DONE}', '{GAVE_UP}', '{REDACT}') AND next_attempt <= :now AND lease_until < :now"
_OPEN = f"channel_id = ? AND created >= ? AND resolved_at IS NULL AND dropped_at IS NULL AND stage <> '{REDACT}'"
_LIVE = "resolved_at IS NULL AND dropped_at IS NULL"  # neither resolved nor dropped
# What a forgotten item keeps: where its reply is, nothing of the person.
_REDACTED = (
    "stage = ?, numbers = '[]', cards = NULL, summary = '', poster = NULL, next_attempt = 0, lease_until = 0,"
    " lease_id = NULL, posting_at = NULL, shown_digest = NULL"
)

# Each action as one conditional UPDATE: it changes the row only when the action is still possible.
_ACTIONS = {
    # a claim starts its own reminder timer (reminded_at cleared)
    CLAIM: ("claimed_by = ?, claimed_at = ?, reminded_at = NULL", f"claimed_by IS NULL AND {_LIVE}", False),
    RELEASE: ("claimed_by = NULL, claimed_at = NULL", f"claimed_by = ? AND {_LIVE}", True),
    RESOLVE: ("resolved_by = ?, resolved_at = ?", _LIVE, False),
    FLAG: ("flagged_by = ?, flagged_at = ?", "flagged_at IS NULL", False),
}


def _item(row: tuple) -> TriageItem:
    (channel, ts, thread, poster, numbers, created, stage, attempts, reply, cards, summary, *state) = row
    lease_id, posting_at, shown_digest, snoozed_by, snoozed_until, dropped_by, dropped_at, drop_reason, reminded = (
        state[6:]
    )
    return TriageItem(
        channel_id=channel,
        message_ts=ts,
        thread_ts=thread,
        poster=poster,
        numbers=json.loads(numbers),
        created=created,
        stage=stage,
        attempts=attempts,
        reply_ts=reply,
        cards=json.loads(cards) if cards else None,
        summary=summary,
        claimed_by=state[0],
        claimed_at=state[1],
        resolved_by=state[2],
        resolved_at=state[3],
        flagged_by=state[4],
        flagged_at=state[5],
        lease_id=lease_id,
        posting_at=posting_at,
        shown_digest=shown_digest,
        snoozed_by=snoozed_by,
        snoozed_until=snoozed_until,
        dropped_by=dropped_by,
        dropped_at=dropped_at,
        drop_reason=drop_reason,
        reminded_at=reminded,
    )


def _lease_id() -> str:
    return secrets.token_hex(8)


def _upgrade(db: sqlite3.Connection) -> None:
    """Add the columns a file made by an older release lacks (several processes may open it at once)."""
    db.execute("BEGIN IMMEDIATE")  # one opener at a time: the check and the ALTERs see the same table
    try:
        have = {row[1] for row in db.execute("PRAGMA table_info(triage_items)")}
        for name, kind in ADDED_COLUMNS:
            if name not in have:
                db.execute(f"ALTER TABLE triage_items ADD COLUMN {name} {kind}")
        for statement in ADDED_INDEXES:
            db.execute(statement)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class SqliteTriageStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_private_db(self.path)
        for statement in SCHEMA:
            self._db.execute(statement)
        _upgrade(self._db)

    def _one(self, sql: str, args: tuple) -> tuple | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, args: tuple) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _change(self, sql: str, args: tuple) -> int:
        with self._lock:
            return self._db.execute(sql, args).rowcount

    # -- watching ---------------------------------------------------------------------------
    def watch_state(self, channel_id: str) -> bool | None:
        row = self._one("SELECT watched FROM triage_watch WHERE channel_id = ?", (channel_id,))
        return None if row is None else bool(row[0])

    def set_watch(self, channel_id: str, on: bool, *, by: str | None, now: float) -> None:
        self._change(
            "INSERT INTO triage_watch (channel_id, watched, changed_by, changed_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (channel_id) DO UPDATE SET watched = excluded.watched,"
            " changed_by = excluded.changed_by, changed_at = excluded.changed_at",
            (channel_id, on, by, now),
        )

    # -- items ------------------------------------------------------------------------------
    def add(self, item: TriageItem, *, lease_seconds: float) -> TriageItem | None:
        lease_id = _lease_id()
        added = self._change(
            "INSERT INTO triage_items (channel_id, message_ts, thread_ts, poster, numbers, created, stage,"
            " lease_until, lease_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, message_ts) DO NOTHING",
            (
                item.channel_id,
                item.message_ts,
                item.thread_ts,
                item.poster,
                json.dumps(item.numbers),
                item.created,
                item.stage,
                item.created + lease_seconds,
                lease_id,
            ),
        )
        return replace(item, lease_id=lease_id) if added == 1 else None

    def get(self, channel_id: str, message_ts: str) -> TriageItem | None:
        row = self._one(f"SELECT {_COLUMNS} FROM triage_items WHERE {_KEY}", (channel_id, message_ts))
        return _item(row) if row else None

    def sighted(self, channel_id: str, phone: str, message_ts: str, now: float) -> None:
        self._change(
            "INSERT INTO triage_sightings (channel_id, phone, message_ts, seen_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (channel_id, phone, message_ts) DO NOTHING",
            (channel_id, phone, message_ts, now),
        )

    def sightings(self, channel_id: str, phone: str, since: float) -> int:
        row = self._one(
            "SELECT COUNT(*) FROM triage_sightings WHERE channel_id = ? AND phone = ? AND seen_at >= ?",
            (channel_id, phone, since),
        )
        return int(row[0]) if row else 0

    def take_due(self, *, now: float, lease_seconds: float, limit: int = 20) -> list[TriageItem]:
        # Round-robin across channels: each channel's items numbered oldest first, then every
        # channel's first before any channel's second.  Each is then leased by its own conditional
        # UPDATE (another process may take one in between: it is skipped).
        with self._lock:
            keys = self._db.execute(
                "SELECT channel_id, message_ts FROM ("
                "  SELECT channel_id, message_ts, created,"
                "   ROW_NUMBER() OVER (PARTITION BY channel_id ORDER BY created, message_ts) AS turn"
                f"  FROM triage_items WHERE {_DUE})"
                " ORDER BY turn, created, message_ts LIMIT :limit",
                {"now": now, "limit": limit},
            ).fetchall()
        taken: list[TriageItem] = []
        for channel_id, message_ts in keys:
            item = self._lease(channel_id, message_ts, now, lease_seconds, due_only=True)
            if item is not None:
                taken.append(item)
        return taken

    def lease(self, channel_id: str, message_ts: str, *, now: float, lease_seconds: float) -> TriageItem | None:
        return self._lease(channel_id, message_ts, now, lease_seconds, due_only=False)

    def _lease(
        self, channel_id: str, message_ts: str, now: float, lease_seconds: float, *, due_only: bool
    ) -> TriageItem | None:
        # Whoever changes lease_until first holds the item (under a new lease_id); a second taker changes no row.
        lease_id = _lease_id()
        condition = _DUE if due_only else "lease_until < :now"
        with self._lock:
            changed = self._db.execute(
                "UPDATE triage_items SET lease_until = :until, lease_id = :lease"
                f" WHERE channel_id = :channel AND message_ts = :ts AND {condition}",
                {"until": now + lease_seconds, "lease": lease_id, "channel": channel_id, "ts": message_ts, "now": now},
            ).rowcount
        if changed != 1:
            return None
        item = self.get(channel_id, message_ts)
        return item if item is not None and item.lease_id == lease_id else None

    def renew(self, item: TriageItem, *, now: float, lease_seconds: float) -> bool:
        return self._held("lease_until = ?", (now + lease_seconds,), item)

    def save_reply(self, item: TriageItem, *, cards: list[dict[str, Any]], summary: str) -> bool:
        return self._held("cards = ?, summary = ?", (json.dumps(cards), summary), item)

    def mark_posting(self, item: TriageItem, *, now: float) -> bool:
        return self._held("posting_at = ?", (now,), item)

    def save_reply_ts(self, item: TriageItem, reply_ts: str) -> bool:
        return self._held("reply_ts = ?", (reply_ts,), item)

    def save_shown(self, channel_id: str, message_ts: str, *, reply_ts: str, digest: str) -> None:
        self._change(
            f"UPDATE triage_items SET shown_digest = ? WHERE {_KEY} AND reply_ts = ?",
            (digest, channel_id, message_ts, reply_ts),
        )

    def finish(self, item: TriageItem, *, stage: str, next_attempt: float) -> bool:
        return self._held(
            "stage = ?, next_attempt = ?, lease_until = 0, lease_id = NULL, attempts = attempts + 1",
            (stage, next_attempt),
            item,
        )

    def _held(self, sets: str, args: tuple[Any, ...], item: TriageItem) -> bool:
        """``UPDATE … SET sets`` only while ``item``'s lease is the item's lease; whether it was."""
        if not item.lease_id:
            return False
        return (
            self._change(
                f"UPDATE triage_items SET {sets} WHERE {_HELD}",
                (*args, item.channel_id, item.message_ts, item.lease_id),
            )
            == 1
        )

    def act(self, channel_id: str, message_ts: str, action: str, user_id: str, now: float) -> tuple[TriageItem, bool]:
        sets, condition, by_user = _ACTIONS[action]
        args: tuple[Any, ...] = () if by_user else (user_id, now)
        args += (channel_id, message_ts) + ((user_id,) if by_user else ())
        changed = self._change(f"UPDATE triage_items SET {sets} WHERE {_KEY} AND {condition}", args) == 1
        item = self.get(channel_id, message_ts)
        if item is None:
            raise KeyError(f"no triage item {channel_id}/{message_ts}")
        return item, changed

    def _changed(self, sql: str, args: tuple[Any, ...], channel_id: str, message_ts: str) -> tuple[TriageItem, bool]:
        changed = self._change(sql, args) == 1
        item = self.get(channel_id, message_ts)
        if item is None:
            raise KeyError(f"no triage item {channel_id}/{message_ts}")
        return item, changed

    def snooze(
        self, channel_id: str, message_ts: str, user_id: str, now: float, until: float
    ) -> tuple[TriageItem, bool]:
        item, changed = self._changed(
            f"UPDATE triage_items SET snoozed_by = ?, snoozed_until = ? WHERE {_KEY} AND {_LIVE}",
            (user_id, until, channel_id, message_ts),
            channel_id,
            message_ts,
        )
        if changed:
            for phone in item.numbers:
                self._change(
                    "INSERT INTO triage_snoozes (channel_id, phone, snoozed_until, snoozed_by, message_ts)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, phone) DO UPDATE SET"
                    " snoozed_until = excluded.snoozed_until, snoozed_by = excluded.snoozed_by,"
                    " message_ts = excluded.message_ts",
                    (channel_id, phone, until, user_id, message_ts),
                )
        return item, changed

    def drop(self, channel_id: str, message_ts: str, user_id: str, now: float, reason: str) -> tuple[TriageItem, bool]:
        return self._changed(
            f"UPDATE triage_items SET dropped_by = ?, dropped_at = ?, drop_reason = ? WHERE {_KEY} AND {_LIVE}",
            (user_id, now, reason, channel_id, message_ts),
            channel_id,
            message_ts,
        )

    def reopen(self, channel_id: str, message_ts: str, user_id: str, now: float) -> tuple[TriageItem, bool]:
        return self._changed(
            "UPDATE triage_items SET resolved_by = NULL, resolved_at = NULL, dropped_by = NULL, dropped_at = NULL,"
            " drop_reason = NULL, claimed_by = NULL, claimed_at = NULL, reminded_at = NULL"
            f" WHERE {_KEY} AND NOT ({_LIVE})",
            (channel_id, message_ts),
            channel_id,
            message_ts,
        )

    def snoozed(self, channel_id: str, phone: str, now: float) -> Snooze | None:
        row = self._one(
            "SELECT snoozed_until, snoozed_by, message_ts FROM triage_snoozes"
            " WHERE channel_id = ? AND phone = ? AND snoozed_until > ?",
            (channel_id, phone, now),
        )
        return Snooze(channel_id, phone, row[0], row[1], row[2]) if row else None

    def flags_of(self, phone: str, since: float, limit: int = 5) -> list[FlagSeen]:
        # an item's numbers are in its sightings (one row per number and message): join on them
        rows = self._all(
            "SELECT i.channel_id, i.message_ts, i.flagged_by, i.flagged_at FROM triage_sightings s"
            " JOIN triage_items i ON i.channel_id = s.channel_id AND i.message_ts = s.message_ts"
            " WHERE s.phone = ? AND i.flagged_at IS NOT NULL AND i.flagged_at >= ?"
            " ORDER BY i.flagged_at DESC LIMIT ?",
            (phone, since, limit),
        )
        return [FlagSeen(channel, ts, by, at) for channel, ts, by, at in rows]

    def seen_by_channel(self, phone: str, since: float) -> dict[str, int]:
        rows = self._all(
            "SELECT channel_id, COUNT(*) FROM triage_sightings WHERE phone = ? AND seen_at >= ? GROUP BY channel_id",
            (phone, since),
        )
        return {channel: int(n) for channel, n in rows}

    def claims_due(self, *, remind_before: float, release_before: float, limit: int = 50) -> list[TriageItem]:
        rows = self._all(
            f"SELECT {_COLUMNS} FROM triage_items WHERE claimed_by IS NOT NULL AND {_LIVE}"
            " AND (claimed_at <= ? OR (claimed_at <= ? AND reminded_at IS NULL)) ORDER BY claimed_at LIMIT ?",
            (release_before, remind_before, limit),
        )
        return [_item(r) for r in rows]

    def claim_reminder(self, item: TriageItem, *, now: float) -> bool:
        return (
            self._change(
                "UPDATE triage_items SET reminded_at = ? WHERE channel_id = ? AND message_ts = ?"
                " AND claimed_by = ? AND claimed_at = ? AND reminded_at IS NULL",
                (now, item.channel_id, item.message_ts, item.claimed_by, item.claimed_at),
            )
            == 1
        )

    def release_claim(self, item: TriageItem) -> bool:
        return (
            self._change(
                "UPDATE triage_items SET claimed_by = NULL, claimed_at = NULL, reminded_at = NULL"
                " WHERE channel_id = ? AND message_ts = ? AND claimed_by = ? AND claimed_at = ?",
                (item.channel_id, item.message_ts, item.claimed_by, item.claimed_at),
            )
            == 1
        )

    def watched_channels(self) -> list[str]:
        return [r[0] for r in self._all("SELECT channel_id FROM triage_watch WHERE watched ORDER BY channel_id", ())]

    def activity(self, channel_id: str, since: float) -> dict[str, int]:
        rows = self._all(
            "SELECT"
            " SUM(CASE WHEN created >= ? THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN claimed_at >= ? THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN resolved_at >= ? THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN dropped_at >= ? THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN flagged_at >= ? THEN 1 ELSE 0 END)"
            " FROM triage_items WHERE channel_id = ?",
            (since, since, since, since, since, channel_id),
        )
        names = ("opened", "claimed", "resolved", "dropped", "flagged")
        row = rows[0] if rows else (0,) * len(names)
        return {name: int(n or 0) for name, n in zip(names, row, strict=True)}

    def repeat_callers(self, channel_id: str | None, since: float, limit: int = 5) -> list[tuple[str, int]]:
        where = "seen_at >= ?" + (" AND channel_id = ?" if channel_id is not None else "")
        args = (since, channel_id, limit) if channel_id is not None else (since, limit)
        rows = self._all(
            f"SELECT phone, COUNT(*) AS n FROM triage_sightings WHERE {where}"
            " GROUP BY phone HAVING COUNT(*) >= 2 ORDER BY n DESC, phone LIMIT ?",
            args,
        )
        return [(phone, int(n)) for phone, n in rows]

    def recent_flags(self, since: float, limit: int = 10) -> list[FlagSeen]:
        rows = self._all(
            "SELECT channel_id, message_ts, flagged_by, flagged_at FROM triage_items"
            " WHERE flagged_at IS NOT NULL AND flagged_at >= ? ORDER BY flagged_at DESC LIMIT ?",
            (since, limit),
        )
        return [FlagSeen(channel, ts, by, at) for channel, ts, by, at in rows]

    def snoozes(self, now: float, limit: int = 20) -> list[Snooze]:
        rows = self._all(
            "SELECT channel_id, phone, snoozed_until, snoozed_by, message_ts FROM triage_snoozes"
            " WHERE snoozed_until > ? ORDER BY snoozed_until, channel_id, phone LIMIT ?",
            (now, limit),
        )
        return [Snooze(channel, phone, until, by, ts) for channel, phone, until, by, ts in rows]

    def take_digest_slot(self, channel_id: str, slot: str) -> tuple[bool, float | None]:
        # one conditional upsert: the first process to move the channel to this slot takes it
        taken = (
            self._change(
                "INSERT INTO triage_digests (channel_id, slot) VALUES (?, ?) ON CONFLICT (channel_id) DO UPDATE"
                " SET slot = excluded.slot WHERE triage_digests.slot <> excluded.slot",
                (channel_id, slot),
            )
            == 1
        )
        rows = self._all("SELECT last_posted_at FROM triage_digests WHERE channel_id = ?", (channel_id,))
        return taken, (rows[0][0] if rows else None)

    def digest_posted(self, channel_id: str, slot: str, now: float) -> None:
        self._change(
            "INSERT INTO triage_digests (channel_id, slot, last_posted_at) VALUES (?, ?, ?) ON CONFLICT (channel_id)"
            " DO UPDATE SET last_posted_at = excluded.last_posted_at",
            (channel_id, slot, now),
        )

    def open_items(self, channel_id: str, since: float) -> list[TriageItem]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM triage_items WHERE {_OPEN} ORDER BY created, message_ts",
                (channel_id, since),
            ).fetchall()
        return [_item(r) for r in rows]

    def open_summary(self, channel_id: str, since: float, limit: int) -> tuple[list[OpenItem], int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT message_ts, created, numbers, summary, claimed_by, claimed_at, flagged_by, flagged_at"
                f" FROM triage_items WHERE {_OPEN} ORDER BY created, message_ts LIMIT ?",
                (channel_id, since, limit),
            ).fetchall()
            total = self._db.execute(f"SELECT COUNT(*) FROM triage_items WHERE {_OPEN}", (channel_id, since)).fetchone()
        items = [
            OpenItem(
                message_ts=ts,
                created=created,
                numbers=json.loads(numbers),
                summary=summary,
                claimed_by=claimed_by,
                claimed_at=claimed_at,
                flagged_by=flagged_by,
                flagged_at=flagged_at,
            )
            for (ts, created, numbers, summary, claimed_by, claimed_at, flagged_by, flagged_at) in rows
        ]
        return items, int(total[0])

    def purge(self, before: float) -> int:
        self._change("DELETE FROM triage_sightings WHERE seen_at < ?", (before,))
        self._change("DELETE FROM triage_snoozes WHERE snoozed_until < ?", (before,))
        return self._change("DELETE FROM triage_items WHERE created < ?", (before,))

    # -- a person's data ------------------------------------------------------------------
    def forget(self, person: Person, *, apply: bool = True) -> tuple[int, int]:
        """Items and sightings holding ``person``: (items, sightings).  An item Slack shows a reply for
        keeps only where that reply is (stage ``redact``, for :meth:`redactions`); the others go."""
        with self._lock:
            rows = self._db.execute(
                "SELECT channel_id, message_ts, numbers, cards, summary, reply_ts FROM triage_items WHERE stage <> ?",
                (REDACT,),
            ).fetchall()
            items = [r for r in rows if person.mentions(r[2]) or person.mentions(r[3]) or person.mentions(r[4])]
            sightings = [
                r
                for r in self._db.execute("SELECT channel_id, phone, message_ts FROM triage_sightings").fetchall()
                if person.is_phone(r[1])
            ]
            if apply:
                for channel_id, message_ts, _, _, _, reply_ts in items:
                    if reply_ts:
                        self._db.execute(
                            f"UPDATE triage_items SET {_REDACTED} WHERE {_KEY}", (REDACT, channel_id, message_ts)
                        )
                    else:
                        self._db.execute(f"DELETE FROM triage_items WHERE {_KEY}", (channel_id, message_ts))
                self._db.executemany(
                    "DELETE FROM triage_sightings WHERE channel_id = ? AND phone = ? AND message_ts = ?", sightings
                )
                snoozed = [
                    r for r in self._db.execute("SELECT channel_id, phone FROM triage_snoozes") if person.is_phone(r[1])
                ]
                self._db.executemany("DELETE FROM triage_snoozes WHERE channel_id = ? AND phone = ?", snoozed)
        return len(items), len(sightings)

    def redactions(self, limit: int = 50) -> list[TriageItem]:
        """Items whose Slack reply is still to be edited to "removed on request" (oldest first)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM triage_items WHERE stage = ? ORDER BY created LIMIT ?", (REDACT, limit)
            ).fetchall()
        return [_item(r) for r in rows]

    def redacted(self, channel_id: str, message_ts: str) -> None:
        """The reply was edited: the item goes."""
        self._change(f"DELETE FROM triage_items WHERE {_KEY} AND stage = ?", (channel_id, message_ts, REDACT))

    def close(self) -> None:
        with self._lock:
            self._db.close()
