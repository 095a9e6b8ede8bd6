-- The transparency log (see healthcode-log): leaves, node hashes one level in four,
-- the size the stored tree has reached, and signed checkpoints.
CREATE TABLE log_leaves (
    idx  INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

CREATE TABLE log_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

-- One row: appends check and move it in the same transaction, so that two writers can
-- never both write leaf N.
CREATE TABLE log_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO log_state (id, size) VALUES (1, 0);

-- Private: which entries are a person's, to show them their own (never published).
CREATE TABLE person_log (
    person_id TEXT NOT NULL,
    idx       INTEGER NOT NULL,
    PRIMARY KEY (person_id, idx)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    size      INTEGER PRIMARY KEY,
    note      TEXT NOT NULL,
    signed_at INTEGER NOT NULL
);
