-- Same tables as the SQLite backend's 0001_initial. Identifiers and area codes use the
-- "C" collation so that ordering and prefix ranges are by bytes, as in SQLite.
CREATE TABLE persons (
    id             TEXT COLLATE "C" PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('domestic', 'international')),
    registered_at  BIGINT NOT NULL,
    residence_area TEXT
);

CREATE TABLE sequence (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO sequence (name, value) VALUES ('events', 0);

CREATE TABLE evidence (
    person_id TEXT COLLATE "C" NOT NULL REFERENCES persons (id),
    at        BIGINT NOT NULL,
    seq       BIGINT NOT NULL,
    id        TEXT NOT NULL UNIQUE,
    kind      TEXT NOT NULL,
    value     TEXT,
    t1        BIGINT,
    t2        BIGINT,
    text      TEXT,
    n         BIGINT,
    extra     TEXT,
    PRIMARY KEY (person_id, at, seq)
);

CREATE TABLE stays (
    seq         BIGINT PRIMARY KEY,
    person_id   TEXT COLLATE "C" NOT NULL,
    area_normal TEXT COLLATE "C" NOT NULL,
    ended_at    BIGINT
);
CREATE INDEX stays_by_area ON stays (area_normal, ended_at, person_id);

CREATE TABLE designations (
    seq     BIGINT PRIMARY KEY,
    id      TEXT NOT NULL UNIQUE,
    at      BIGINT NOT NULL,
    body    TEXT NOT NULL,
    applied BOOLEAN NOT NULL DEFAULT false
);

CREATE TABLE codes (
    person_id     TEXT COLLATE "C" PRIMARY KEY,
    colour        TEXT NOT NULL,
    reasons       TEXT NOT NULL,
    evidence      TEXT NOT NULL,
    since         BIGINT NOT NULL,
    evaluated_at  BIGINT NOT NULL,
    rules_version TEXT NOT NULL,
    next_change   BIGINT
);

CREATE TABLE reevaluation_queue (
    person_id TEXT COLLATE "C" PRIMARY KEY,
    due       BIGINT NOT NULL
);
CREATE INDEX reevaluation_queue_by_due ON reevaluation_queue (due, person_id);

CREATE TABLE rejections (
    id          BIGSERIAL PRIMARY KEY,
    received_at BIGINT NOT NULL,
    origin      TEXT NOT NULL,
    input       TEXT NOT NULL,
    field       TEXT,
    reason      TEXT NOT NULL
);
