-- The same tables as the SQLite backend's 0007_feeds.
-- Bulk feeds: where each uploaded batch stands. `committed_through` is the last line of
-- the batch that is settled; it moves in the same transaction as the chunk it covers, so
-- a resumed upload skips exactly the stored lines.
CREATE TABLE feed_batches (
    owner             TEXT NOT NULL,
    batch             TEXT NOT NULL,
    format            TEXT NOT NULL,
    committed_through BIGINT NOT NULL,
    rows              BIGINT NOT NULL,
    accepted          BIGINT NOT NULL,
    duplicates        BIGINT NOT NULL,
    rejected          BIGINT NOT NULL,
    complete          BOOLEAN NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (owner, batch)
);

-- Every rejected row of a batch, by line, with its entry in the rejection log. A later
-- accepted row of the same owner with the same event id resolves it.
CREATE TABLE feed_rejections (
    owner        TEXT NOT NULL,
    batch        TEXT NOT NULL,
    line         BIGINT NOT NULL,
    event_id     TEXT,
    field        TEXT,
    reason       TEXT NOT NULL,
    rejection_id BIGINT NOT NULL,
    resolved_by  TEXT,
    PRIMARY KEY (owner, batch, line)
);
CREATE INDEX feed_rejections_open ON feed_rejections (owner, event_id) WHERE resolved_by IS NULL;
