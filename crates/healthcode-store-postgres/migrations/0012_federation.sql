-- The national exchange (互认); the same tables as SQLite's.

-- Which person of this region goes by which national pseudonym (a keyed hash of their
-- document). Personal: erased with the person, emptied by the destruction.
CREATE TABLE national_links (
    national_id TEXT COLLATE "C" PRIMARY KEY,
    person_id   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX national_links_person ON national_links (person_id);

-- Submission lines waiting for the hub, in the order they were queued.
CREATE TABLE national_submissions (
    seq  BIGSERIAL PRIMARY KEY,
    line TEXT NOT NULL
);

-- Records the hub published about persons not known here (yet), kept until they are
-- admitted as evidence. Personal: emptied by the destruction.
CREATE TABLE national_parked (
    national_id TEXT COLLATE "C" NOT NULL,
    hub_index   BIGINT NOT NULL,
    entry       TEXT NOT NULL,
    PRIMARY KEY (national_id, hub_index)
);
