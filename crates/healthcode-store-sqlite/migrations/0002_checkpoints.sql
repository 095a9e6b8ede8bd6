-- What a checkpoint may know of a person: a code id (not the person id) and a masked name.
CREATE TABLE person_profiles (
    person_id   TEXT PRIMARY KEY REFERENCES persons (id),
    code_id     TEXT NOT NULL UNIQUE,
    masked_name TEXT
) WITHOUT ROWID;

CREATE TABLE venues (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    category          TEXT NOT NULL,
    area              TEXT,
    registered_at     INTEGER NOT NULL,
    operator_key_hash TEXT NOT NULL UNIQUE
) WITHOUT ROWID;

CREATE TABLE devices (
    id            TEXT PRIMARY KEY,
    venue_id      TEXT NOT NULL REFERENCES venues (id),
    label         TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    registered_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Every attempt at a door, allowed or not: contact tracing reads it by venue and time,
-- a person's history by person and time.
CREATE TABLE checkins (
    id        INTEGER PRIMARY KEY,
    venue_id  TEXT NOT NULL REFERENCES venues (id),
    at        INTEGER NOT NULL,
    person_id TEXT NOT NULL,
    method    TEXT NOT NULL,
    device_id TEXT,
    colour    TEXT NOT NULL,
    outcome   TEXT NOT NULL
);
CREATE INDEX checkins_by_venue ON checkins (venue_id, at);
CREATE INDEX checkins_by_person ON checkins (person_id, at);
