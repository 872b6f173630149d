-- The bot's shared state: the audit log, the corrections outbox and Slack de-duplication.
-- Times are epoch seconds (double precision), as the store interfaces hand them over.

CREATE TABLE nextcaller_audit (
    id         bigserial PRIMARY KEY,
    ts         double precision NOT NULL,
    user_id    text,
    channel_id text,
    action     text NOT NULL,
    phone      text,
    outcome    text NOT NULL,
    detail     text
);
CREATE INDEX nextcaller_audit_ts ON nextcaller_audit (ts);
CREATE INDEX nextcaller_audit_user ON nextcaller_audit (user_id, ts);
CREATE INDEX nextcaller_audit_phone ON nextcaller_audit (phone, ts);

-- A work queue: claimed with FOR UPDATE SKIP LOCKED under a lease; `attempts` fences a
-- worker whose lease was taken over (its finish changes nothing).
CREATE TABLE nextcaller_outbox (
    id           bigserial PRIMARY KEY,
    key          text NOT NULL UNIQUE,          -- the idempotency key sent with every attempt
    dedupe_key   text UNIQUE,                   -- Slack's view id: one row per submission
    profile_id   text NOT NULL,
    body         jsonb NOT NULL,
    user_id      text,
    channel_id   text,
    status       text NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    next_attempt double precision NOT NULL,
    lease_until  double precision NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    created      double precision NOT NULL,
    delivered    double precision
);
CREATE INDEX nextcaller_outbox_due ON nextcaller_outbox (status, next_attempt);

CREATE TABLE nextcaller_dedupe (
    key     text PRIMARY KEY,
    claimed double precision NOT NULL
);
CREATE INDEX nextcaller_dedupe_claimed ON nextcaller_dedupe (claimed);
