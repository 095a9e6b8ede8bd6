-- The national exchange (互认); the same tables as PostgreSQL's.

-- Which person of this region goes by which national pseudonym (a keyed hash of their
-- document). Personal: erased with the person, emptied by the destruction.
CREATE TABLE national_links (
    national_id TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX national_links_person ON national_links (person_id);

-- Submission lines waiting for the hub, in the order they were queued.
CREATE TABLE national_submissions (
    seq  INTEGER PRIMARY KEY AUTOINCREMENT,
    line TEXT NOT NULL
);

-- Records the hub published about persons not known here (yet), kept until they are
-- admitted as evidence. Personal: emptied by the destruction.
CREATE TABLE national_parked (
    national_id TEXT NOT NULL,
    hub_index   INTEGER NOT NULL,
    entry       TEXT NOT NULL,
    PRIMARY KEY (national_id, hub_index)
) WITHOUT ROWID;
