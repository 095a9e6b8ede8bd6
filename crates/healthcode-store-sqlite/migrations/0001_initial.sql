-- Persons are pseudonymous: no name, no ID number.
CREATE TABLE persons (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('domestic', 'international')),
    registered_at  INTEGER NOT NULL,
    residence_area TEXT
) WITHOUT ROWID;

-- The ingestion order shared by evidence and designations.
CREATE TABLE sequence (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO sequence (name, value) VALUES ('events', 0);

-- Clustered by person: one person's evidence is contiguous on disk, so reading it is
-- one range scan, not a seek per event. Columns rather than JSON: decoding is the
-- cost of bulk re-evaluation.
CREATE TABLE evidence (
    person_id TEXT NOT NULL REFERENCES persons (id),
    at        INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    id        TEXT NOT NULL UNIQUE,
    -- The event in columns (see src/codec.rs): its type, its enumerated value
    -- (result, status, mode or colour), up to two times, a text (area, country or
    -- basis), a number (days) and the approvers of a decision as a JSON list.
    kind      TEXT NOT NULL,
    value     TEXT,
    t1        INTEGER,
    t2        INTEGER,
    text      TEXT,
    n         INTEGER,
    extra     TEXT,
    PRIMARY KEY (person_id, at, seq)
) WITHOUT ROWID;

-- One row per stay, to find who stayed under an area code (normal form) recently.
CREATE TABLE stays (
    seq         INTEGER PRIMARY KEY,
    person_id   TEXT NOT NULL,
    area_normal TEXT NOT NULL,
    ended_at    INTEGER
);
CREATE INDEX stays_by_area ON stays (area_normal, ended_at, person_id);

-- `applied`: the persons it can affect have been re-evaluated (or queued). A designation
-- left unapplied by a crash is applied again at start.
CREATE TABLE designations (
    seq     INTEGER PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    at      INTEGER NOT NULL,
    body    TEXT NOT NULL,
    applied INTEGER NOT NULL DEFAULT 0
);

-- Derived: each person's last evaluation. Recomputable from the tables above.
CREATE TABLE codes (
    person_id     TEXT PRIMARY KEY,
    colour        TEXT NOT NULL,
    reasons       TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    since         INTEGER NOT NULL,
    evaluated_at  INTEGER NOT NULL,
    rules_version TEXT NOT NULL,
    next_change   INTEGER
) WITHOUT ROWID;

-- Who must be evaluated again, and from when.
CREATE TABLE reevaluation_queue (
    person_id TEXT PRIMARY KEY,
    due       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX reevaluation_queue_by_due ON reevaluation_queue (due, person_id);

CREATE TABLE rejections (
    id          INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    origin      TEXT NOT NULL,
    input       TEXT NOT NULL,
    field       TEXT,
    reason      TEXT NOT NULL
);
