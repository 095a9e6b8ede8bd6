-- A bulk re-evaluation's work in pages (issue 16), as SQLite's 0014: a province-wide
-- designation splits the persons it can affect into pages (ids in person order, one per
-- line), and servers take a page at a time (`FOR UPDATE SKIP LOCKED`, `claimed_until`)
-- instead of queueing, locking and rewriting a row per person. A page is deleted once its
-- persons' codes are saved.
CREATE TABLE bulk_pages (
    id            BIGSERIAL PRIMARY KEY,
    due           BIGINT NOT NULL,
    persons       TEXT NOT NULL,
    size          INTEGER NOT NULL,
    claimed_until BIGINT
);
CREATE INDEX bulk_pages_by_due ON bulk_pages (due, id);
