-- Same tables as the SQLite backend's 0003_log.
CREATE TABLE log_leaves (
    idx  BIGINT PRIMARY KEY,
    data BYTEA NOT NULL
);

CREATE TABLE log_nodes (
    level SMALLINT NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE log_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size BIGINT NOT NULL
);
INSERT INTO log_state (id, size) VALUES (1, 0);

CREATE TABLE person_log (
    person_id TEXT COLLATE "C" NOT NULL,
    idx       BIGINT NOT NULL,
    PRIMARY KEY (person_id, idx)
);

CREATE TABLE checkpoints (
    size      BIGINT PRIMARY KEY,
    note      TEXT NOT NULL,
    signed_at BIGINT NOT NULL
);
