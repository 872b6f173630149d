-- Triage II (issue 26): snooze, drop with a reason, reopen; the reminder's timer; snoozed numbers.
-- The SQLite store adds the same when it opens a file made before them (sqlite_triage.ADDED_COLUMNS, SCHEMA).

-- Snoozed: who, and until when (the reply says so; the numbers are in nextcaller_triage_snoozes).
ALTER TABLE nextcaller_triage_items ADD COLUMN snoozed_by text;
ALTER TABLE nextcaller_triage_items ADD COLUMN snoozed_until double precision;
-- Dropped: who, when, and why (noise, duplicate, internal number, test call).  A dropped item is not open.
ALTER TABLE nextcaller_triage_items ADD COLUMN dropped_by text;
ALTER TABLE nextcaller_triage_items ADD COLUMN dropped_at double precision;
ALTER TABLE nextcaller_triage_items ADD COLUMN drop_reason text;
-- The claimer was reminded (once per claim: a claim clears it; one conditional UPDATE claims the timer).
ALTER TABLE nextcaller_triage_items ADD COLUMN reminded_at double precision;

-- A number snoozed in a channel: a new message with it gets a one-line note and no lookup until then.
CREATE TABLE nextcaller_triage_snoozes (
    channel_id    text NOT NULL,
    phone         text NOT NULL,
    snoozed_until double precision NOT NULL,
    snoozed_by    text,
    message_ts    text NOT NULL,
    PRIMARY KEY (channel_id, phone)
);

-- The digest (NEXTCALLER_OPS_DIGEST_AT): per watched channel, the last scheduled time taken (one process
-- takes it, by a conditional upsert) and when a digest was last posted (counts are "since then").
CREATE TABLE nextcaller_triage_digests (
    channel_id     text PRIMARY KEY,
    slot           text NOT NULL,
    last_posted_at double precision
);
