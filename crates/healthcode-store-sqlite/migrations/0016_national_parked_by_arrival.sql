-- Parked records in the order the hub published them (issue 15, a compact exchange).
-- Keyed by (national_id, hub_index), every parked record went into a random place of a
-- table of whole entries: with pseudonyms as random as an HMAC's output, each sync commit
-- dirtied (and copied through the WAL) about one 16 KiB page per record, and a region
-- parked 14-16k records/s at 1,000,000 (BENCHMARKS.md). Keyed by the hub's index, the
-- entries are appended; only the narrow index on the pseudonym takes random inserts.
-- A hub index is one leaf, so one record: the same rows, under another key.
CREATE TABLE national_parked_new (
    hub_index   INTEGER PRIMARY KEY,
    national_id TEXT NOT NULL,
    entry       TEXT NOT NULL,
    parked_at   INTEGER NOT NULL DEFAULT 0,
    region      TEXT NOT NULL DEFAULT '',
    kid         TEXT,
    hub_at      INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO national_parked_new (hub_index, national_id, entry, parked_at, region, kid, hub_at)
SELECT hub_index, national_id, entry, parked_at, region, kid, hub_at FROM national_parked ORDER BY hub_index;
DROP TABLE national_parked;
ALTER TABLE national_parked_new RENAME TO national_parked;
CREATE INDEX national_parked_by_person ON national_parked (national_id);
CREATE INDEX national_parked_by_time ON national_parked (parked_at);
CREATE INDEX national_parked_by_key ON national_parked (region, kid, hub_at);
