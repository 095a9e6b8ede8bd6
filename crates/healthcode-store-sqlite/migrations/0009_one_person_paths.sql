-- Closing the one-person paths to a red code (issue 13).

-- A device that can look people up works only once a provincial officer approved it.
-- Devices registered before this migration wait for approval like new ones.
ALTER TABLE devices ADD COLUMN approved_by TEXT;
ALTER TABLE devices ADD COLUMN approved_at INTEGER;

-- Whose input each rejection was: a data source reads its own, offices and auditors all.
ALTER TABLE rejections ADD COLUMN owner TEXT;
CREATE INDEX rejections_by_owner ON rejections (owner, id);

-- A code's revision: a save is refused unless it follows the revision it was evaluated
-- from, so that a stale evaluation never overwrites a newer code (or its log entry).
ALTER TABLE codes ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

-- Persons turned red, orange or yellow per hour, by origin and residence city: what the
-- burst alarms compare with the week before.
CREATE TABLE colour_change_counts (
    origin  TEXT NOT NULL,
    area    TEXT NOT NULL,
    hour    INTEGER NOT NULL,
    persons INTEGER NOT NULL,
    alarmed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (origin, area, hour)
) WITHOUT ROWID;
