-- Triage channels (issue #13): watched channels, the messages replied to, sightings of numbers.
-- The same tables as the SQLite store (stores/sqlite_triage.py), with the project's prefix.

CREATE TABLE nextcaller_triage_watch (
    channel_id text PRIMARY KEY,
    watched    boolean NOT NULL,
    changed_by text,
    changed_at double precision NOT NULL
);

CREATE TABLE nextcaller_triage_items (
    channel_id   text NOT NULL,
    message_ts   text NOT NULL,
    thread_ts    text NOT NULL,
    poster       text,
    numbers      jsonb NOT NULL,
    created      double precision NOT NULL,
    stage        text NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt double precision NOT NULL DEFAULT 0,
    lease_until  double precision NOT NULL DEFAULT 0,
    reply_ts     text,
    cards        jsonb,
    summary      text NOT NULL DEFAULT '',
    claimed_by   text,
    claimed_at   double precision,
    resolved_by  text,
    resolved_at  double precision,
    flagged_by   text,
    flagged_at   double precision,
    PRIMARY KEY (channel_id, message_ts)
);
CREATE INDEX nextcaller_triage_items_due ON nextcaller_triage_items (stage, next_attempt);
CREATE INDEX nextcaller_triage_items_open ON nextcaller_triage_items (channel_id, created);

CREATE TABLE nextcaller_triage_sightings (
    channel_id text NOT NULL,
    phone      text NOT NULL,
    message_ts text NOT NULL,
    seen_at    double precision NOT NULL,
    PRIMARY KEY (channel_id, phone, message_ts)
);
CREATE INDEX nextcaller_triage_sightings_seen ON nextcaller_triage_sightings (channel_id, phone, seen_at);
