-- Leaves of the tamper-evident log. A leaf is written here in the same
-- transaction as the change it records, then appended to the log; its
-- log_index stays NULL until the log holds it. Rows are never deleted.

CREATE TABLE ledger_leaves (
    seq        INTEGER PRIMARY KEY, -- order of writing
    subject    TEXT    NOT NULL,    -- commitment the leaf is about
    leaf       TEXT    NOT NULL,    -- the leaf's bytes (canonical JSON)
    leaf_hash  TEXT    NOT NULL UNIQUE,
    log_index  INTEGER UNIQUE,
    kind       TEXT    NOT NULL,    -- record kind, or 'blob' for an original
    ref        TEXT    NOT NULL,    -- record slug, or the original's sha256
    version    INTEGER NOT NULL,    -- record version; 0 for an original
    written_at TEXT    NOT NULL
);

CREATE INDEX ledger_leaves_subject ON ledger_leaves (subject, seq);
CREATE INDEX ledger_leaves_ref ON ledger_leaves (kind, ref, seq);
