"""Triage channels' state in PostgreSQL: watched channels, items, sightings — shared by every process.

The SQLite store's statements (:mod:`.sqlite_triage`), statement for statement:
``INSERT … ON CONFLICT DO NOTHING`` for the first claim of a message, one
conditional ``UPDATE`` for every race (two claimers, two workers).  Due items
are leased with ``FOR UPDATE SKIP LOCKED``, so workers in several processes
take different items without waiting for one another.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .base import CLAIM, DONE, FLAG, GAVE_UP, RELEASE, RESOLVE, FlagSeen, OpenItem, Snooze, TriageItem
from .person import REDACT, Person

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

__all__ = ["PostgresTriageStore"]

_COLUMNS = (
    "channel_id, message_ts, thread_ts, poster, numbers, created, stage, attempts, reply_ts, cards, summary,"
    " claimed_by, claimed_at, resolved_by, resolved_at, flagged_by, flagged_at, lease_id, posting_at, shown_digest,"
    " snoozed_by, snoozed_until, dropped_by, dropped_at, drop_reason, reminded_at"
)
_ITEMS = "nextcaller_triage_items"
_KEY = "channel_id = %s AND message_ts = %s"
_HELD = f"{_KEY} AND lease_id = %s"  # a write by the lease holder: a stale worker's changes nothing
_DUE = f"stage NOT IN ('{DONE}', '{GAVE_UP}', '{REDACT}') AND next_attempt <= %(now)s AND lease_until < %(now)s"
_OPEN = f"channel_id = %s AND created >= %s AND resolved_at IS NULL AND dropped_at IS NULL AND stage <> '{REDACT}'"
_LIVE = "resolved_at IS NULL AND dropped_at IS NULL"  # neither resolved nor dropped
_SNOOZES = "nextcaller_triage_snoozes"
# What a forgotten item keeps: where its reply is, nothing of the person.
_REDACTED = (
    "stage = %s, numbers = '[]'::jsonb, cards = NULL, summary = '', poster = NULL, next_attempt = 0,"
    " lease_until = 0, lease_id = NULL, posting_at = NULL, shown_digest = NULL"
)

# Each action as one conditional UPDATE: it changes the row only when the action is still possible.
_ACTIONS = {
    # a claim starts its own reminder timer (reminded_at cleared)
    CLAIM: ("claimed_by = %s, claimed_at = %s, reminded_at = NULL", f"claimed_by IS NULL AND {_LIVE}", False),
    RELEASE: ("claimed_by = NULL, claimed_at = NULL", f"claimed_by = %s AND {_LIVE}", True),
    RESOLVE: ("resolved_by = %s, resolved_at = %s", _LIVE, False),
    FLAG: ("flagged_by = %s, flagged_at = %s", "flagged_at IS NULL", False),
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
        numbers=list(numbers),
        created=created,
        stage=stage,
        attempts=attempts,
        reply_ts=reply,
        cards=cards,
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


class PostgresTriageStore:
    def __init__(self, pool: ConnectionPool):
        self._pool = pool

    def _rows(self, sql: str, args: Any) -> list[tuple]:
        with self._pool.connection() as conn:
            cur = conn.execute(sql, args)
            return cur.fetchall() if cur.description else []

    def _change(self, sql: str, args: Any) -> int:
        with self._pool.connection() as conn:
            return conn.execute(sql, args).rowcount

    # -- watching ---------------------------------------------------------------------------
    def watch_state(self, channel_id: str) -> bool | None:
        rows = self._rows("SELECT watched FROM nextcaller_triage_watch WHERE channel_id = %s", (channel_id,))
        return bool(rows[0][0]) if rows else None

    def set_watch(self, channel_id: str, on: bool, *, by: str | None, now: float) -> None:
        self._change(
            "INSERT INTO nextcaller_triage_watch (channel_id, watched, changed_by, changed_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (channel_id) DO UPDATE SET watched = EXCLUDED.watched,"
            " changed_by = EXCLUDED.changed_by, changed_at = EXCLUDED.changed_at",
            (channel_id, on, by, now),
        )

    # -- items ------------------------------------------------------------------------------
    def add(self, item: TriageItem, *, lease_seconds: float) -> TriageItem | None:
        from psycopg.types.json import Jsonb

        lease_id = _lease_id()
        added = self._change(
            f"INSERT INTO {_ITEMS} (channel_id, message_ts, thread_ts, poster, numbers, created, stage,"
            " lease_until, lease_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (channel_id, message_ts) DO NOTHING",
            (
                item.channel_id,
                item.message_ts,
                item.thread_ts,
                item.poster,
                Jsonb(item.numbers),
                item.created,
                item.stage,
                item.created + lease_seconds,
                lease_id,
            ),
        )
        return replace(item, lease_id=lease_id) if added == 1 else None

    def get(self, channel_id: str, message_ts: str) -> TriageItem | None:
        rows = self._rows(f"SELECT {_COLUMNS} FROM {_ITEMS} WHERE {_KEY}", (channel_id, message_ts))
        return _item(rows[0]) if rows else None

    def sighted(self, channel_id: str, phone: str, message_ts: str, now: float) -> None:
        self._change(
            "INSERT INTO nextcaller_triage_sightings (channel_id, phone, message_ts, seen_at) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (channel_id, phone, message_ts) DO NOTHING",
            (channel_id, phone, message_ts, now),
        )

    def sightings(self, channel_id: str, phone: str, since: float) -> int:
        rows = self._rows(
            "SELECT COUNT(*) FROM nextcaller_triage_sightings WHERE channel_id = %s AND phone = %s AND seen_at >= %s",
            (channel_id, phone, since),
        )
        return int(rows[0][0])

    def take_due(self, *, now: float, lease_seconds: float, limit: int = 20) -> list[TriageItem]:
        # One statement.  The candidates are due items round-robin across channels (each channel's
        # numbered oldest first, every channel's first before any channel's second); of those, the
        # ones no other worker holds right now (SKIP LOCKED, the due condition checked again on the
        # locked row) are leased to this one.  All under one new lease_id: it fences this take.
        rows = self._rows(
            f"UPDATE {_ITEMS} SET lease_until = %(until)s, lease_id = %(lease)s"
            " WHERE (channel_id, message_ts) IN ("
            f"  SELECT channel_id, message_ts FROM {_ITEMS}"
            "   WHERE (channel_id, message_ts) IN ("
            "    SELECT channel_id, message_ts FROM ("
            "     SELECT channel_id, message_ts, created,"
            "      ROW_NUMBER() OVER (PARTITION BY channel_id ORDER BY created, message_ts) AS turn"
            f"     FROM {_ITEMS} WHERE {_DUE}) AS due"
            "    ORDER BY turn, created, message_ts LIMIT %(limit)s)"
            f"   AND {_DUE} FOR UPDATE SKIP LOCKED)"
            f" RETURNING {_COLUMNS}",
            {"until": now + lease_seconds, "lease": _lease_id(), "now": now, "limit": limit},
        )
        return sorted((_item(r) for r in rows), key=lambda i: (i.created, i.message_ts))

    def lease(self, channel_id: str, message_ts: str, *, now: float, lease_seconds: float) -> TriageItem | None:
        # Whoever changes lease_until first holds the item (under a new lease_id); a second taker changes no row.
        rows = self._rows(
            f"UPDATE {_ITEMS} SET lease_until = %s, lease_id = %s WHERE {_KEY} AND lease_until < %s"
            f" RETURNING {_COLUMNS}",
            (now + lease_seconds, _lease_id(), channel_id, message_ts, now),
        )
        return _item(rows[0]) if rows else None

    def renew(self, item: TriageItem, *, now: float, lease_seconds: float) -> bool:
        return self._held("lease_until = %s", (now + lease_seconds,), item)

    def save_reply(self, item: TriageItem, *, cards: list[dict[str, Any]], summary: str) -> bool:
        from psycopg.types.json import Jsonb

        return self._held("cards = %s, summary = %s", (Jsonb(cards), summary), item)

    def mark_posting(self, item: TriageItem, *, now: float) -> bool:
        return self._held("posting_at = %s", (now,), item)

    def save_reply_ts(self, item: TriageItem, reply_ts: str) -> bool:
        return self._held("reply_ts = %s", (reply_ts,), item)

    def save_shown(self, channel_id: str, message_ts: str, *, reply_ts: str, digest: str) -> None:
        self._change(
            f"UPDATE {_ITEMS} SET shown_digest = %s WHERE {_KEY} AND reply_ts = %s",
            (digest, channel_id, message_ts, reply_ts),
        )

    def finish(self, item: TriageItem, *, stage: str, next_attempt: float) -> bool:
        return self._held(
            "stage = %s, next_attempt = %s, lease_until = 0, lease_id = NULL, attempts = attempts + 1",
            (stage, next_attempt),
            item,
        )

    def _held(self, sets: str, args: tuple[Any, ...], item: TriageItem) -> bool:
        """``UPDATE … SET sets`` only while ``item``'s lease is the item's lease; whether it was."""
        if not item.lease_id:
            return False
        return (
            self._change(
                f"UPDATE {_ITEMS} SET {sets} WHERE {_HELD}", (*args, item.channel_id, item.message_ts, item.lease_id)
            )
            == 1
        )

    def act(self, channel_id: str, message_ts: str, action: str, user_id: str, now: float) -> tuple[TriageItem, bool]:
        sets, condition, by_user = _ACTIONS[action]
        args: tuple[Any, ...] = () if by_user else (user_id, now)
        args += (channel_id, message_ts) + ((user_id,) if by_user else ())
        changed = self._change(f"UPDATE {_ITEMS} SET {sets} WHERE {_KEY} AND {condition}", args) == 1
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
            f"UPDATE {_ITEMS} SET snoozed_by = %s, snoozed_until = %s WHERE {_KEY} AND {_LIVE}",
            (user_id, until, channel_id, message_ts),
            channel_id,
            message_ts,
        )
        if changed:
            for phone in item.numbers:
                self._change(
                    f"INSERT INTO {_SNOOZES} (channel_id, phone, snoozed_until, snoozed_by, message_ts)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (channel_id, phone) DO UPDATE SET"
                    " snoozed_until = EXCLUDED.snoozed_until, snoozed_by = EXCLUDED.snoozed_by,"
                    " message_ts = EXCLUDED.message_ts",
                    (channel_id, phone, until, user_id, message_ts),
                )
        return item, changed

    def drop(self, channel_id: str, message_ts: str, user_id: str, now: float, reason: str) -> tuple[TriageItem, bool]:
        return self._changed(
            f"UPDATE {_ITEMS} SET dropped_by = %s, dropped_at = %s, drop_reason = %s WHERE {_KEY} AND {_LIVE}",
            (user_id, now, reason, channel_id, message_ts),
            channel_id,
            message_ts,
        )

    def reopen(self, channel_id: str, message_ts: str, user_id: str, now: float) -> tuple[TriageItem, bool]:
        return self._changed(
            f"UPDATE {_ITEMS} SET resolved_by = NULL, resolved_at = NULL, dropped_by = NULL, dropped_at = NULL,"
            " drop_reason = NULL, claimed_by = NULL, claimed_at = NULL, reminded_at = NULL"
            f" WHERE {_KEY} AND NOT ({_LIVE})",
            (channel_id, message_ts),
            channel_id,
            message_ts,
        )

    def snoozed(self, channel_id: str, phone: str, now: float) -> Snooze | None:
        rows = self._rows(
            f"SELECT snoozed_until, snoozed_by, message_ts FROM {_SNOOZES}"
            " WHERE channel_id = %s AND phone = %s AND snoozed_until > %s",
            (channel_id, phone, now),
        )
        return Snooze(channel_id, phone, rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def flags_of(self, phone: str, since: float, limit: int = 5) -> list[FlagSeen]:
        # an item's numbers are in its sightings (one row per number and message): join on them
        rows = self._rows(
            "SELECT i.channel_id, i.message_ts, i.flagged_by, i.flagged_at FROM nextcaller_triage_sightings s"
            f" JOIN {_ITEMS} i ON i.channel_id = s.channel_id AND i.message_ts = s.message_ts"
            " WHERE s.phone = %s AND i.flagged_at IS NOT NULL AND i.flagged_at >= %s"
            " ORDER BY i.flagged_at DESC LIMIT %s",
            (phone, since, limit),
        )
        return [FlagSeen(channel, ts, by, at) for channel, ts, by, at in rows]

    def seen_by_channel(self, phone: str, since: float) -> dict[str, int]:
        rows = self._rows(
            "SELECT channel_id, COUNT(*) FROM nextcaller_triage_sightings WHERE phone = %s AND seen_at >= %s GROUP BY channel_id",
            (phone, since),
        )
        return {channel: int(n) for channel, n in rows}

    def claims_due(self, *, remind_before: float, release_before: float, limit: int = 50) -> list[TriageItem]:
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM {_ITEMS} WHERE claimed_by IS NOT NULL AND {_LIVE}"
            " AND (claimed_at <= %s OR (claimed_at <= %s AND reminded_at IS NULL)) ORDER BY claimed_at LIMIT %s",
            (release_before, remind_before, limit),
        )
        return [_item(r) for r in rows]

    def claim_reminder(self, item: TriageItem, *, now: float) -> bool:
        return (
            self._change(
                f"UPDATE {_ITEMS} SET reminded_at = %s WHERE channel_id = %s AND message_ts = %s"
                " AND claimed_by = %s AND claimed_at = %s AND reminded_at IS NULL",
                (now, item.channel_id, item.message_ts, item.claimed_by, item.claimed_at),
            )
            == 1
        )

    def release_claim(self, item: TriageItem) -> bool:
        return (
            self._change(
                f"UPDATE {_ITEMS} SET claimed_by = NULL, claimed_at = NULL, reminded_at = NULL"
                " WHERE channel_id = %s AND message_ts = %s AND claimed_by = %s AND claimed_at = %s",
                (item.channel_id, item.message_ts, item.claimed_by, item.claimed_at),
            )
            == 1
        )

    def watched_channels(self) -> list[str]:
        return [
            r[0]
            for r in self._rows("SELECT channel_id FROM nextcaller_triage_watch WHERE watched ORDER BY channel_id", ())
        ]

    def activity(self, channel_id: str, since: float) -> dict[str, int]:
        rows = self._rows(
            "SELECT"
            " SUM(CASE WHEN created >= %s THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN claimed_at >= %s THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN resolved_at >= %s THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN dropped_at >= %s THEN 1 ELSE 0 END),"
            " SUM(CASE WHEN flagged_at >= %s THEN 1 ELSE 0 END)"
            " FROM nextcaller_triage_items WHERE channel_id = %s",
            (since, since, since, since, since, channel_id),
        )
        names = ("opened", "claimed", "resolved", "dropped", "flagged")
        row = rows[0] if rows else (0,) * len(names)
        return {name: int(n or 0) for name, n in zip(names, row, strict=True)}

    def repeat_callers(self, channel_id: str | None, since: float, limit: int = 5) -> list[tuple[str, int]]:
        where = "seen_at >= %s" + (" AND channel_id = %s" if channel_id is not None else "")
        args = (since, channel_id, limit) if channel_id is not None else (since, limit)
        rows = self._rows(
            f"SELECT phone, COUNT(*) AS n FROM nextcaller_triage_sightings WHERE {where}"
            " GROUP BY phone HAVING COUNT(*) >= 2 ORDER BY n DESC, phone LIMIT %s",
            args,
        )
        return [(phone, int(n)) for phone, n in rows]

    def recent_flags(self, since: float, limit: int = 10) -> list[FlagSeen]:
        rows = self._rows(
            "SELECT channel_id, message_ts, flagged_by, flagged_at FROM nextcaller_triage_items"
            " WHERE flagged_at IS NOT NULL AND flagged_at >= %s ORDER BY flagged_at DESC LIMIT %s",
            (since, limit),
        )
        return [FlagSeen(channel, ts, by, at) for channel, ts, by, at in rows]

    def snoozes(self, now: float, limit: int = 20) -> list[Snooze]:
        rows = self._rows(
            "SELECT channel_id, phone, snoozed_until, snoozed_by, message_ts FROM nextcaller_triage_snoozes"
            " WHERE snoozed_until > %s ORDER BY snoozed_until, channel_id, phone LIMIT %s",
            (now, limit),
        )
        return [Snooze(channel, phone, until, by, ts) for channel, phone, until, by, ts in rows]

    def take_digest_slot(self, channel_id: str, slot: str) -> tuple[bool, float | None]:
        # one conditional upsert: the first process to move the channel to this slot takes it
        taken = (
            self._change(
                "INSERT INTO nextcaller_triage_digests (channel_id, slot) VALUES (%s, %s) ON CONFLICT (channel_id) DO UPDATE"
                " SET slot = EXCLUDED.slot WHERE nextcaller_triage_digests.slot <> EXCLUDED.slot",
                (channel_id, slot),
            )
            == 1
        )
        rows = self._rows("SELECT last_posted_at FROM nextcaller_triage_digests WHERE channel_id = %s", (channel_id,))
        return taken, (rows[0][0] if rows else None)

    def digest_posted(self, channel_id: str, slot: str, now: float) -> None:
        self._change(
            "INSERT INTO nextcaller_triage_digests (channel_id, slot, last_posted_at) VALUES (%s, %s, %s) ON CONFLICT (channel_id)"
            " DO UPDATE SET last_posted_at = EXCLUDED.last_posted_at",
            (channel_id, slot, now),
        )

    def open_items(self, channel_id: str, since: float) -> list[TriageItem]:
        rows = self._rows(
            f"SELECT {_COLUMNS} FROM {_ITEMS} WHERE {_OPEN} ORDER BY created, message_ts", (channel_id, since)
        )
        return [_item(r) for r in rows]

    def open_summary(self, channel_id: str, since: float, limit: int) -> tuple[list[OpenItem], int]:
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT message_ts, created, numbers, summary, claimed_by, claimed_at, flagged_by, flagged_at"
                f" FROM {_ITEMS} WHERE {_OPEN} ORDER BY created, message_ts LIMIT %s",
                (channel_id, since, limit),
            ).fetchall()
            total = conn.execute(f"SELECT COUNT(*) FROM {_ITEMS} WHERE {_OPEN}", (channel_id, since)).fetchone()
        items = [
            OpenItem(
                message_ts=ts,
                created=created,
                numbers=list(numbers),
                summary=summary,
                claimed_by=claimed_by,
                claimed_at=claimed_at,
                flagged_by=flagged_by,
                flagged_at=flagged_at,
            )
            for (ts, created, numbers, summary, claimed_by, claimed_at, flagged_by, flagged_at) in rows
        ]
        return items, int(total[0]) if total else 0

    def purge(self, before: float) -> int:
        self._change("DELETE FROM nextcaller_triage_sightings WHERE seen_at < %s", (before,))
        self._change(f"DELETE FROM {_SNOOZES} WHERE snoozed_until < %s", (before,))
        return self._change(f"DELETE FROM {_ITEMS} WHERE created < %s", (before,))

    # -- a person's data ------------------------------------------------------------------
    def forget(self, person: Person, *, apply: bool = True) -> tuple[int, int]:
        """Items and sightings holding ``person``: (items, sightings).  An item Slack shows a reply for
        keeps only where that reply is (stage ``redact``, for :meth:`redactions`); the others go."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT channel_id, message_ts, numbers::text, cards::text, summary, reply_ts FROM {_ITEMS}"
                " WHERE stage <> %s",
                (REDACT,),
            ).fetchall()
            items = [r for r in rows if person.mentions(r[2]) or person.mentions(r[3]) or person.mentions(r[4])]
            sightings = [
                r
                for r in conn.execute(
                    "SELECT channel_id, phone, message_ts FROM nextcaller_triage_sightings"
                ).fetchall()
                if person.is_phone(r[1])
            ]
            if apply:
                for channel_id, message_ts, _, _, _, reply_ts in items:
                    if reply_ts:
                        conn.execute(f"UPDATE {_ITEMS} SET {_REDACTED} WHERE {_KEY}", (REDACT, channel_id, message_ts))
                    else:
                        conn.execute(f"DELETE FROM {_ITEMS} WHERE {_KEY}", (channel_id, message_ts))
                for sighting in sightings:
                    conn.execute(
                        "DELETE FROM nextcaller_triage_sightings WHERE channel_id = %s AND phone = %s AND message_ts = %s",
                        sighting,
                    )
                for snoozed in conn.execute(f"SELECT channel_id, phone FROM {_SNOOZES}").fetchall():
                    if person.is_phone(snoozed[1]):
                        conn.execute(f"DELETE FROM {_SNOOZES} WHERE channel_id = %s AND phone = %s", snoozed)
        return len(items), len(sightings)

    def redactions(self, limit: int = 50) -> list[TriageItem]:
        """Items whose Slack reply is still to be edited to "removed on request" (oldest first)."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM {_ITEMS} WHERE stage = %s ORDER BY created LIMIT %s", (REDACT, limit)
            ).fetchall()
        return [_item(r) for r in rows]

    def redacted(self, channel_id: str, message_ts: str) -> None:
        """The reply was edited: the item goes."""
        self._change(f"DELETE FROM {_ITEMS} WHERE {_KEY} AND stage = %s", (channel_id, message_ts, REDACT))

    def close(self) -> None:
        """The pool belongs to whoever opened the stores."""
