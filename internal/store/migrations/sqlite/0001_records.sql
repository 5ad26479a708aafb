-- Case records are kept as documents: one row per record holding its
-- current version as canonical JSON, and one history row per version ever
-- written. Rows are never deleted; retiring a record sets retired_at and
-- writes a history row.

CREATE TABLE records (
    kind       TEXT    NOT NULL,
    slug       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    sha256     TEXT,             -- evidence only: the original's digest
    created_at TEXT    NOT NULL, -- RFC 3339, UTC
    created_by TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    retired_at TEXT,
    PRIMARY KEY (kind, slug)
);

CREATE UNIQUE INDEX records_sha256 ON records (sha256);

CREATE TABLE record_history (
    kind       TEXT    NOT NULL,
    slug       TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    op         TEXT    NOT NULL, -- create, update, retire
    body       TEXT    NOT NULL,
    changed_at TEXT    NOT NULL,
    changed_by TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    PRIMARY KEY (kind, slug, version)
);

-- References from each record's current version to other records,
-- rewritten with every version, so that "what refers to X" is one query.
CREATE TABLE record_refs (
    kind     TEXT NOT NULL,
    slug     TEXT NOT NULL,
    ref_kind TEXT NOT NULL,
    ref_slug TEXT NOT NULL,
    PRIMARY KEY (kind, slug, ref_kind, ref_slug)
);

CREATE INDEX record_refs_target ON record_refs (ref_kind, ref_slug);

-- Originals acknowledged in the locker. Append-only.
CREATE TABLE blobs (
    sha256     TEXT    PRIMARY KEY,
    size       INTEGER NOT NULL,
    media_type TEXT    NOT NULL,
    stored_at  TEXT    NOT NULL
);
