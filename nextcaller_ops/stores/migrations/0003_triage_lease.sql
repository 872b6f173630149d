-- Triage items (issue 20): exactly one reply per message when lookups outlast the lease.
-- The SQLite store adds the same columns when it opens a file made before them (sqlite_triage.ADDED_COLUMNS).

-- The lease holder's token, drawn at each add / lease / take_due: every write a worker makes is
-- fenced on it, so a worker whose lease was taken over changes nothing.
ALTER TABLE nextcaller_triage_items ADD COLUMN lease_id text;
-- A post of the reply was started: a taker finding it without a reply_ts looks in the thread first.
ALTER TABLE nextcaller_triage_items ADD COLUMN posting_at double precision;
-- What the reply was last drawn with: a rerun that changes nothing does not call chat.update.
ALTER TABLE nextcaller_triage_items ADD COLUMN shown_digest text;

-- `/caller triage` counts and lists a channel's open items (bounded, oldest first).
CREATE INDEX nextcaller_triage_items_unresolved ON nextcaller_triage_items (channel_id, created)
    WHERE resolved_at IS NULL;
