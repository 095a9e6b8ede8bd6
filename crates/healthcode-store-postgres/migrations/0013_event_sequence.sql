-- Events take their sequence numbers from a sequence object instead of the `sequence`
-- row, whose lock every insert of evidence held until it committed: ingestion from many
-- servers ran one transaction at a time (issue 16). nextval is never rolled back and never
-- waits, so numbers may have gaps and need not follow commit order; nothing reads
-- evidence by a watermark of its numbers. Designations still take the row's lock before
-- their number (the followers read them by a watermark), from this same sequence, so that
-- an event's number stays unique across evidence and designations.
CREATE SEQUENCE event_seq;
SELECT setval('event_seq', (SELECT value FROM sequence WHERE name = 'events') + 1, false);
