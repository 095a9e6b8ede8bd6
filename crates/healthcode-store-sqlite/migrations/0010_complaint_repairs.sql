-- Complaints that end in a fix (issue 18): the queues a complaint is read from besides
-- its area. Complaints filed before this migration have no deadline and wait for nobody.

-- The department a correction request waits for.
ALTER TABLE complaints ADD COLUMN awaiting TEXT;
-- The deadline of an open complaint (milliseconds), and whether it passed unhandled.
ALTER TABLE complaints ADD COLUMN due_at INTEGER;
ALTER TABLE complaints ADD COLUMN escalated INTEGER NOT NULL DEFAULT 0;
CREATE INDEX complaints_awaiting ON complaints (awaiting, filed_at) WHERE awaiting IS NOT NULL;
CREATE INDEX complaints_due ON complaints (due_at) WHERE status = 'open' AND escalated = 0;
