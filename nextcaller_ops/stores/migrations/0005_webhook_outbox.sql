-- Outgoing webhooks (issue 27): one row per event and receiver, delivered in order per receiver.
-- The SQLite store makes the same table in webhooks.sqlite3 (sqlite_webhooks.py).
CREATE TABLE nextcaller_webhook_outbox (
    id           bigserial PRIMARY KEY,
    event_id     text NOT NULL,                 -- the webhook-id header, the same on every attempt
    type         text NOT NULL,
    url          text NOT NULL,
    body         text NOT NULL,                 -- the JSON exactly as signed
    status       text NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt double precision NOT NULL,
    lease_until  double precision NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    created      double precision NOT NULL,
    sent         double precision,
    UNIQUE (event_id, url)
);
-- A receiver's queue head: its oldest row not yet sent.
CREATE INDEX nextcaller_webhook_outbox_waiting ON nextcaller_webhook_outbox (url, id)
    WHERE status IN ('pending', 'sending');
