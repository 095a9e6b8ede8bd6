-- Which key signed each record of another region this region holds, and when the hub
-- accepted it (issue 15, a revoked region key): when that region revokes the key from
-- the time it was stolen, the records it signed from then on are withdrawn here. The same
-- tables as PostgreSQL's 0016_national_signers.

-- Records of other regions in use here: evidence about a person of this region (or a
-- retraction of such), or a designation of the region's area (no person). Personal: erased
-- with the person, emptied by the destruction.
CREATE TABLE national_admitted (
    region    TEXT NOT NULL,
    record_id TEXT NOT NULL,
    kind      TEXT NOT NULL,
    person_id TEXT,
    -- NULL: unsigned (admitted before the region published its keys).
    kid       TEXT,
    hub_at    INTEGER NOT NULL,
    hub_index INTEGER NOT NULL,
    PRIMARY KEY (region, record_id)
) WITHOUT ROWID;
CREATE INDEX national_admitted_by_key ON national_admitted (region, kid, hub_at);
CREATE INDEX national_admitted_person ON national_admitted (person_id);

-- The same of the records parked until their person comes, read from the entries parked
-- before this migration (SQLite's JSON functions read the canonical JSON as published).
ALTER TABLE national_parked ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE national_parked ADD COLUMN kid TEXT;
ALTER TABLE national_parked ADD COLUMN hub_at INTEGER NOT NULL DEFAULT 0;
UPDATE national_parked
SET region = coalesce(json_extract(entry, '$.region'), ''),
    kid = json_extract(entry, '$.kid'),
    hub_at = coalesce(json_extract(entry, '$.at'), 0)
WHERE json_valid(entry);
CREATE INDEX national_parked_by_key ON national_parked (region, kid, hub_at);
