-- Complaints that end in a fix (issue 18); the same changes as SQLite's.

-- The department a correction request waits for.
ALTER TABLE complaints ADD COLUMN awaiting TEXT;
-- The deadline of an open complaint (milliseconds), and whether it passed unhandled.
ALTER TABLE complaints ADD COLUMN due_at BIGINT;
ALTER TABLE complaints ADD COLUMN escalated BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX complaints_awaiting ON complaints (awaiting, filed_at) WHERE awaiting IS NOT NULL;
CREATE INDEX complaints_due ON complaints (due_at) WHERE status = 'open' AND NOT escalated;
