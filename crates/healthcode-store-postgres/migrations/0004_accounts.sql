-- Same tables as the SQLite backend's 0004_accounts.
-- Staff and system accounts. Passwords as argon2 PHC strings; keys and sessions only as
-- SHA-256 hashes.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role          TEXT NOT NULL,
    jurisdiction  TEXT,
    department    TEXT,
    created_at    BIGINT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE credentials (
    key_hash   TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    kind       TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);

-- A decision's whole record as JSON: it is read and written whole, never queried inside.
CREATE TABLE decisions (
    id          TEXT PRIMARY KEY,
    proposed_at BIGINT NOT NULL,
    body        TEXT NOT NULL
);

CREATE TABLE alarms (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    jurisdiction TEXT NOT NULL,
    detail       TEXT NOT NULL,
    log_index    BIGINT
);
