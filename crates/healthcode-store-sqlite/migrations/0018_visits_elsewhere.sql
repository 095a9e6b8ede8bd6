-- A resident's check-ins at another region's venues (their app scanned the venue's code,
-- verified with that region's keys from the national trust list). Kept here only: the
-- venue's region never learns who came. When it approves a trace through the venue it
-- publishes the venue and the window (no person) through the hub, and this region
-- matches them here. No reference to `venues`: the venue is the other region's.
CREATE TABLE visits_elsewhere (
    id        INTEGER PRIMARY KEY,
    region    TEXT NOT NULL,
    venue_id  TEXT NOT NULL,
    at        INTEGER NOT NULL,
    person_id TEXT NOT NULL,
    colour    TEXT NOT NULL,
    outcome   TEXT NOT NULL
);
CREATE INDEX visits_elsewhere_by_venue ON visits_elsewhere (region, venue_id, at);
CREATE INDEX visits_elsewhere_by_person ON visits_elsewhere (person_id, at);
