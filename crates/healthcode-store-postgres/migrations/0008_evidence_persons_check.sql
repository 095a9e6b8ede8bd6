-- Evidence names registered persons. The foreign key checked that row by row: a trigger
-- per row, each taking a share lock on its person's row (writing that row's header).
-- On a bulk feed it was a third of the time (BENCHMARKS.md, issue 7). Persons are never
-- deleted one by one, only all together by the destruction (which locks evidence first),
-- so the store now checks a whole batch's persons with one query in the inserting
-- transaction instead (src/batch.rs).
ALTER TABLE evidence DROP CONSTRAINT IF EXISTS evidence_person_id_fkey;
