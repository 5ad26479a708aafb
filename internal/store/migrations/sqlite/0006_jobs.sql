-- The job queue: long tasks (web capture, bulk media analysis) that run in
-- the background, are retried with backoff and survive a restart.
--
-- A job is queued, then running while a worker holds its lease, then done,
-- failed or cancelled; a failed attempt with attempts left goes back to
-- queued with a later not_before. A running job whose lease has expired
-- (its worker crashed) may be claimed again. claim counts every claim and
-- fences a worker's writes: one whose claim was superseded writes nothing.
--
-- not_before and lease_until are compared in SQL, so they are written as
-- fixed-width UTC RFC 3339 text (nine fraction digits), which sorts as
-- text in time order.

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,              -- which handler runs it: capture
    input        TEXT    NOT NULL,              -- JSON, the handler's to read
    state        TEXT    NOT NULL,              -- queued, running, done, failed or cancelled
    attempts     INTEGER NOT NULL DEFAULT 0,    -- claims that counted as attempts
    max_attempts INTEGER NOT NULL,
    claim        INTEGER NOT NULL DEFAULT 0,    -- every claim, fencing token
    not_before   TEXT    NOT NULL,              -- a queued job waits until then
    lease_until  TEXT,                          -- a running job's worker is alive until then
    progress     TEXT    NOT NULL DEFAULT '',   -- last stage reported, one line
    error        TEXT    NOT NULL DEFAULT '',   -- last error, one line
    result       TEXT,                          -- JSON, when done
    created_by   TEXT    NOT NULL,
    cancelled_by TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    started_at   TEXT,                          -- the latest claim
    finished_at  TEXT,
    updated_at   TEXT    NOT NULL
);

CREATE INDEX jobs_state_not_before ON jobs (state, not_before);
