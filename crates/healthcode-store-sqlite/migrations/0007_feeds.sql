-- Bulk feeds: where each uploaded batch stands. `committed_through` is the last line of
-- the batch that is settled; it moves in the same transaction as the chunk it covers, so
-- a resumed upload skips exactly the stored lines.
CREATE TABLE feed_batches (
    owner             TEXT NOT NULL,
    batch             TEXT NOT NULL,
    format            TEXT NOT NULL,
    committed_through INTEGER NOT NULL,
    rows              INTEGER NOT NULL,
    accepted          INTEGER NOT NULL,
    duplicates        INTEGER NOT NULL,
    rejected          INTEGER NOT NULL,
    complete          INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (owner, batch)
) WITHOUT ROWID;

-- Every rejected row of a batch, by line, with its entry in the rejection log. A later
-- accepted row of the same owner with the same event id resolves it.
CREATE TABLE feed_rejections (
    owner        TEXT NOT NULL,
    batch        TEXT NOT NULL,
    line         INTEGER NOT NULL,
    event_id     TEXT,
    field        TEXT,
    reason       TEXT NOT NULL,
    rejection_id INTEGER NOT NULL,
    resolved_by  TEXT,
    PRIMARY KEY (owner, batch, line)
) WITHOUT ROWID;
CREATE INDEX feed_rejections_open ON feed_rejections (owner, event_id) WHERE resolved_by IS NULL;
