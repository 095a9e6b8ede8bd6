-- When a record about a person not known here was parked, so that records nobody came to
-- claim are deleted after a while (`FederationStore::delete_parked_before`): they are
-- another region's data about someone who never registered here. Records parked before
-- this migration count as parked now.
ALTER TABLE national_parked ADD COLUMN parked_at INTEGER NOT NULL DEFAULT 0;
UPDATE national_parked SET parked_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;
CREATE INDEX national_parked_by_time ON national_parked (parked_at);
