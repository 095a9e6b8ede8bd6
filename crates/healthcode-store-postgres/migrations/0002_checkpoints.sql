-- Same tables as the SQLite backend's 0002_checkpoints.
-- What a checkpoint may know of a person: a code id (not the person id) and a masked name.
CREATE TABLE person_profiles (
    person_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES persons (id),
    code_id     TEXT NOT NULL UNIQUE,
    masked_name TEXT
);

CREATE TABLE venues (
    id                TEXT COLLATE "C" PRIMARY KEY,
    name              TEXT NOT NULL,
    category          TEXT NOT NULL,
    area              TEXT,
    registered_at     BIGINT NOT NULL,
    operator_key_hash TEXT NOT NULL UNIQUE
);

CREATE TABLE devices (
    id            TEXT COLLATE "C" PRIMARY KEY,
    venue_id      TEXT COLLATE "C" NOT NULL REFERENCES venues (id),
    label         TEXT NOT NULL,
    key_hash      TEXT NOT NULL UNIQUE,
    registered_at BIGINT NOT NULL
);

-- Every attempt at a door, allowed or not: contact tracing reads it by venue and time,
-- a person's history by person and time.
CREATE TABLE checkins (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id  TEXT COLLATE "C" NOT NULL REFERENCES venues (id),
    at        BIGINT NOT NULL,
    person_id TEXT COLLATE "C" NOT NULL,
    method    TEXT NOT NULL,
    device_id TEXT,
    colour    TEXT NOT NULL,
    outcome   TEXT NOT NULL
);
CREATE INDEX checkins_by_venue ON checkins (venue_id, at);
CREATE INDEX checkins_by_person ON checkins (person_id, at);
