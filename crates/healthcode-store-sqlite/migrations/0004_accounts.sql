-- Staff and system accounts. Passwords as argon2 PHC strings; keys and sessions only as
-- SHA-256 hashes.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role          TEXT NOT NULL,
    jurisdiction  TEXT,
    department    TEXT,
    created_at    INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE credentials (
    key_hash   TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind       TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
) WITHOUT ROWID;

-- A decision's whole record as JSON: it is read and written whole, never queried inside.
CREATE TABLE decisions (
    id          TEXT PRIMARY KEY,
    proposed_at INTEGER NOT NULL,
    body        TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE alarms (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    detail       TEXT NOT NULL,
    log_index    INTEGER
);
