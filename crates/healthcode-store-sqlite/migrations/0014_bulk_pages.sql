-- A bulk re-evaluation's work in pages (issue 16): a province-wide designation splits the
-- persons it can affect into pages of persons (ids in person order, one per line), and
-- servers take a page at a time (`claimed_until`), instead of queueing and claiming every
-- person on its own. A page is deleted once its persons' codes are saved.
CREATE TABLE bulk_pages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    due           INTEGER NOT NULL,
    persons       TEXT NOT NULL,
    size          INTEGER NOT NULL,
    claimed_until INTEGER
);
CREATE INDEX bulk_pages_by_due ON bulk_pages (due, id);
