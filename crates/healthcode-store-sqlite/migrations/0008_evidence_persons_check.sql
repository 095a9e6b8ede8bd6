-- Nothing to change here: SQLite checks the evidence's foreign key to persons with one
-- primary-key probe per row and no lock, cheaply. The PostgreSQL backend's 0008 replaces
-- its per-row check by one per batch; migration numbers and names are shared.
SELECT 1;
