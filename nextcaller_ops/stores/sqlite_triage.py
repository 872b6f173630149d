"""Triage channels' state in ``triage.sqlite3`` (mode 0600): watched channels, items, sightings.

Plain SQL a PostgreSQL store can repeat statement for statement: ``INSERT … ON
CONFLICT DO NOTHING`` for the first claim of a message, a conditional ``UPDATE``
for every race (two claimers, two workers), ``SELECT`` for the rest.  Several
processes may open the same file: SQLite serialises the writers.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from ..storage import open_private_db
from .base import CLAIM, DONE, FLAG, GAVE_UP, RELEASE, RESOLVE, TriageItem

__all__ = ["SqliteTriageStore", "SCHEMA"]

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
)

_COLUMNS = (
    "channel_id, message_ts, thread_ts, poster, numbers, created, stage, attempts, reply_ts, cards, summary,"
    " claimed_by, claimed_at, resolved_by, resolved_at, flagged_by, flagged_at"
)
_KEY = "channel_id = ? AND message_ts = ?"

# Each action as one conditional UPDATE: it changes the row only when the action is still possible.
_ACTIONS = {
    CLAIM: ("claimed_by = ?, claimed_at = ?", "claimed_by IS NULL AND resolved_at IS NULL", False),
    RELEASE: ("claimed_by = NULL, claimed_at = NULL", "claimed_by = ? AND resolved_at IS NULL", True),
    RESOLVE: ("resolved_by = ?, resolved_at = ?", "resolved_at IS NULL", False),
    FLAG: ("flagged_by = ?, flagged_at = ?", "flagged_at IS NULL", False),
}


def _item(row: tuple) -> TriageItem:
    (channel, ts, thread, poster, numbers, created, stage, attempts, reply, cards, summary, *state) = row
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
    )


class SqliteTriageStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_private_db(self.path)
        for statement in SCHEMA:
            self._db.execute(statement)

    def _one(self, sql: str, args: tuple) -> tuple | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

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
    def add(self, item: TriageItem, *, lease_seconds: float) -> bool:
        return (
            self._change(
                "INSERT INTO triage_items (channel_id, message_ts, thread_ts, poster, numbers, created, stage,"
                " lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, message_ts) DO NOTHING",
                (
                    item.channel_id,
                    item.message_ts,
                    item.thread_ts,
                    item.poster,
                    json.dumps(item.numbers),
                    item.created,
                    item.stage,
                    item.created + lease_seconds,
                ),
            )
            == 1
        )

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
        taken: list[TriageItem] = []
        with self._lock:
            keys = self._db.execute(
                "SELECT channel_id, message_ts FROM triage_items"
                " WHERE stage NOT IN (?, ?) AND next_attempt <= ? AND lease_until < ? ORDER BY created LIMIT ?",
                (DONE, GAVE_UP, now, now, limit),
            ).fetchall()
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
        # Whoever changes lease_until first holds the item; a second taker changes no row.
        due = f" AND stage NOT IN ('{DONE}', '{GAVE_UP}') AND next_attempt <= ?" if due_only else ""
        args: tuple[Any, ...] = (now + lease_seconds, channel_id, message_ts, now) + ((now,) if due_only else ())
        if self._change(f"UPDATE triage_items SET lease_until = ? WHERE {_KEY} AND lease_until < ?{due}", args) != 1:
            return None
        return self.get(channel_id, message_ts)

    def save_reply(
        self,
        channel_id: str,
        message_ts: str,
        *,
        cards: list[dict[str, Any]],
        summary: str,
        reply_ts: str | None = None,
    ) -> None:
        self._change(
            f"UPDATE triage_items SET cards = ?, summary = ?, reply_ts = COALESCE(?, reply_ts) WHERE {_KEY}",
            (json.dumps(cards), summary, reply_ts, channel_id, message_ts),
        )

    def finish(self, channel_id: str, message_ts: str, *, stage: str, next_attempt: float) -> None:
        self._change(
            f"UPDATE triage_items SET stage = ?, next_attempt = ?, lease_until = 0, attempts = attempts + 1 WHERE {_KEY}",
            (stage, next_attempt, channel_id, message_ts),
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

    def open_items(self, channel_id: str, since: float) -> list[TriageItem]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM triage_items WHERE channel_id = ? AND created >= ? AND resolved_at IS NULL"
                " ORDER BY created, message_ts",
                (channel_id, since),
            ).fetchall()
        return [_item(r) for r in rows]

    def purge(self, before: float) -> int:
        self._change("DELETE FROM triage_sightings WHERE seen_at < ?", (before,))
        return self._change("DELETE FROM triage_items WHERE created < ?", (before,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
