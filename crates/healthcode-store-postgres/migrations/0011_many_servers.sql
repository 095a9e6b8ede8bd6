-- Several servers over one database (issue 16); the same changes as SQLite's.

-- Until when a server has taken a queued person to evaluate (milliseconds): others skip
-- the entry until then; saving the person's code ends the claim.
ALTER TABLE reevaluation_queue ADD COLUMN claimed_until BIGINT;

-- Jobs that run once per province (the scheduler's): who does them, until when.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  BIGINT NOT NULL
);
