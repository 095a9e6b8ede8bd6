-- When a record about a person not known here was parked, so that records nobody came to
-- claim are deleted after a while (`FederationStore::delete_parked_before`): they are
-- another region's data about someone who never registered here. Records parked before
-- this migration count as parked now. (SQLite's 0013_national_parked_at.)
ALTER TABLE national_parked ADD COLUMN parked_at BIGINT NOT NULL DEFAULT 0;
UPDATE national_parked SET parked_at = (extract(epoch FROM now()) * 1000)::bigint;
CREATE INDEX national_parked_by_time ON national_parked (parked_at);
