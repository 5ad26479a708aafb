-- Users, their sessions and API tokens, and the access log of sensitive
-- views. Secrets are stored only as hashes. Nothing here is deleted:
-- sessions and tokens are revoked, users disabled.

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL, -- argon2id, PHC string
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    disabled_at   TEXT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY, -- SHA-256 of the cookie's secret
    user_name  TEXT NOT NULL REFERENCES users (name),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_name  TEXT NOT NULL REFERENCES users (name),
    scope      TEXT NOT NULL, -- read or write
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Who saw what sensitive material, when: graphic media revealed,
-- originals downloaded.
CREATE TABLE access_log (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    user_name TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL
);
