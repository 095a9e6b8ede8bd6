-- PostgreSQL's alone (issue 16): every re-evaluation rewrites a code, and with full pages
-- each new row version goes to another page and into the primary key's index again. With
-- room left on each page, an update stays on its page (a heap-only tuple: no index entry,
-- a third of the WAL), which is most of what a province-wide designation writes.
-- Pages written from now on keep the room; `VACUUM FULL codes` repacks older ones.
ALTER TABLE codes SET (fillfactor = 70);
