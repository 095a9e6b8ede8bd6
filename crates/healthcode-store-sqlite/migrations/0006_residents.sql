-- What residents hold and do. Keys only as SHA-256 hashes.
CREATE TABLE resident_keys (
    key_hash   TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX resident_keys_person ON resident_keys (person_id);

-- Family members a resident acts for (家庭代管).
CREATE TABLE proxies (
    proxy_id     TEXT NOT NULL,
    dependant_id TEXT NOT NULL,
    relation     TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (proxy_id, dependant_id)
) WITHOUT ROWID;
CREATE INDEX proxies_dependant ON proxies (dependant_id);

-- Every read of a person's data by someone other than the person (PIPL art. 24).
CREATE TABLE accesses (
    id        INTEGER PRIMARY KEY,
    person_id TEXT NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    what      TEXT NOT NULL
);
CREATE INDEX accesses_person ON accesses (person_id, id);

-- Complaints (申诉): queried by person, status and area; the record itself is JSON.
CREATE TABLE complaints (
    id        TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    filed_at  INTEGER NOT NULL,
    status    TEXT NOT NULL,
    area      TEXT,
    body      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX complaints_person ON complaints (person_id, filed_at);
CREATE INDEX complaints_status ON complaints (status, filed_at);

-- Personal details (name, phone) sealed with the person's own data key (XChaCha20-Poly1305,
-- the person id as associated data); the key itself is stored only wrapped by a master key
-- held outside the database. Deleting the row shreds the person's data.
CREATE TABLE personal_data (
    person_id   TEXT PRIMARY KEY,
    wrapped_key BLOB NOT NULL,
    sealed      BLOB NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Consent to each extended function, per person (seed 000: voluntary, revocable).
CREATE TABLE consents (
    person_id  TEXT NOT NULL,
    purpose    TEXT NOT NULL,
    granted_at INTEGER NOT NULL,
    revoked_at INTEGER,
    PRIMARY KEY (person_id, purpose)
) WITHOUT ROWID;
