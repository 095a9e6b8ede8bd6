//! Rows read by several capabilities, decoded in one place.

use healthcode_domain::{AreaCode, AreaRisk, Colour, Event, EventId, Evidence, PersonId, PersonKind, Timestamp};
use healthcode_store::{CodeState, EvidenceColumns, PersonRecord, StoreResult};
use tokio_postgres::Row;

use crate::{backend, corrupt};

pub(crate) const QUEUE_UPSERT: &str =
    "ON CONFLICT (person_id) DO UPDATE SET due = least(reevaluation_queue.due, excluded.due), claimed_until = NULL";
pub(crate) const EVIDENCE_COLUMNS: &str = "kind, value, t1, t2, text, n, extra";
pub(crate) const CODE_COLUMNS: &str =
    "person_id, colour, reasons, evidence, since, evaluated_at, rules_version, next_change, revision";

pub(crate) fn ids(persons: &[PersonId]) -> Vec<&str> {
    persons.iter().map(PersonId::as_str).collect()
}

/// A query for the rows of `table` whose `key` is one of the keys in `$1` (sorted and
/// unique: `sorted_keys`), with one index lookup per key whatever the planner estimates.
/// `key = ANY($1)` over a chunk of 10,000 persons let PostgreSQL choose a sequential scan of
/// the whole table once a chunk was a few percent of it, for every chunk of a bulk
/// re-evaluation: the reads grew with the region instead of the chunk (BENCHMARKS.md, issue
/// 16). A lateral subquery kept apart (`OFFSET 0`) can only be a lookup per key, and the
/// keys in index order keep the lookups on neighbouring pages.
pub(crate) fn for_each_key(columns: &str, table: &str, key: &str, order: &str) -> String {
    format!(
        "SELECT found.* FROM unnest($1::text[]) AS wanted (key)
         CROSS JOIN LATERAL (SELECT {columns} FROM {table} WHERE {key} = wanted.key {order} OFFSET 0) AS found"
    )
}

/// The persons' ids sorted and each once, for `for_each_key`.
pub(crate) fn sorted_keys(persons: &[PersonId]) -> Vec<&str> {
    let mut keys = ids(persons);
    keys.sort_unstable();
    keys.dedup();
    keys
}

pub(crate) fn ms(t: Timestamp) -> i64 {
    t.as_millis()
}

pub(crate) fn person(row: &Row) -> StoreResult<PersonRecord> {
    Ok(PersonRecord {
        id: PersonId::parse(row.get(0)).map_err(|e| corrupt("person id", e))?,
        kind: PersonKind::parse(row.get(1)).map_err(|e| corrupt("person kind", e))?,
        registered_at: Timestamp::from_millis(row.get(2)),
        residence_area: row
            .get::<_, Option<&str>>(3)
            .map(|a| AreaCode::parse(a).map_err(|e| corrupt("residence area", e)))
            .transpose()?,
    })
}

/// The evidence columns, from column `first`.
pub(crate) fn evidence_body(row: &Row, first: usize) -> StoreResult<Evidence> {
    EvidenceColumns {
        kind: row.get(first),
        value: row.get(first + 1),
        t1: row.get(first + 2),
        t2: row.get(first + 3),
        text: row.get(first + 4),
        n: row.get(first + 5),
        extra: row.get::<_, Option<&str>>(first + 6).map(Into::into),
    }
    .decode()
}

/// `seq, id, at` then the evidence columns, from column `first`.
pub(crate) fn evidence(row: &Row, first: usize) -> StoreResult<Event<Evidence>> {
    let body = evidence_body(row, first + 3)?;
    Ok(Event {
        seq: row.get(first),
        id: EventId::parse(row.get(first + 1)).map_err(|e| corrupt("event id", e))?,
        at: Timestamp::from_millis(row.get(first + 2)),
        body,
    })
}

pub(crate) fn designation(row: &Row) -> StoreResult<Event<AreaRisk>> {
    Ok(Event {
        seq: row.get(0),
        id: EventId::parse(row.get(1)).map_err(|e| corrupt("designation id", e))?,
        at: Timestamp::from_millis(row.get(2)),
        body: serde_json::from_str(row.get(3)).map_err(|e| corrupt("designation body", e))?,
    })
}

pub(crate) fn code(row: &Row) -> StoreResult<CodeState> {
    code_from(row, 0)
}

/// The `CODE_COLUMNS`, from column `first`.
pub(crate) fn code_from(row: &Row, first: usize) -> StoreResult<CodeState> {
    let colour: &str = row.get(first + 1);
    Ok(CodeState {
        person: PersonId::parse(row.get(first)).map_err(|e| corrupt("code person id", e))?,
        colour: Colour::parse(colour).ok_or_else(|| corrupt("colour", colour))?,
        reasons: serde_json::from_str(row.get(first + 2)).map_err(|e| corrupt("reasons", e))?,
        evidence: serde_json::from_str(row.get(first + 3)).map_err(|e| corrupt("reason evidence", e))?,
        since: Timestamp::from_millis(row.get(first + 4)),
        evaluated_at: Timestamp::from_millis(row.get(first + 5)),
        rules_version: row.get(first + 6),
        next_change: row.get::<_, Option<i64>>(first + 7).map(Timestamp::from_millis),
        revision: row.get(first + 8),
    })
}

pub(crate) fn person_id(row: &Row) -> StoreResult<PersonId> {
    PersonId::parse(row.get(0)).map_err(|e| corrupt("person id", e))
}

/// What is already stored under a designation's id (ids are one space across kinds).
pub(crate) enum Existing {
    Evidence,
    Designation(i64, String),
}

pub(crate) async fn existing(tx: &deadpool_postgres::Transaction<'_>, id: &str) -> StoreResult<Option<Existing>> {
    if tx
        .query_opt("SELECT 1 FROM evidence WHERE id = $1", &[&id])
        .await
        .map_err(backend("look up an event id"))?
        .is_some()
    {
        return Ok(Some(Existing::Evidence));
    }
    let row = tx
        .query_opt("SELECT at, body FROM designations WHERE id = $1", &[&id])
        .await
        .map_err(backend("look up an event id"))?;
    Ok(row.map(|r| Existing::Designation(r.get(0), r.get(1))))
}

#[cfg(test)]
mod tests {
    // Test code: a failed step is the test failing.
    #![allow(clippy::unwrap_used)]

    use healthcode_domain::PersonKind;
    use healthcode_store::EvidenceStore;

    use super::*;
    use crate::PostgresStore;

    /// A chunk of a bulk re-evaluation is read by a lookup per person, never by a scan of
    /// every person, whatever share of the table the chunk is: the plan is what `EXPLAIN`
    /// says after the statistics are brought up to date, as after a bulk load.
    #[tokio::test]
    async fn a_chunk_is_read_by_key_not_by_scanning_the_table() {
        let url = std::env::var("HEALTHCODE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("hc_plans_{}", std::process::id());
        let Ok(store) = PostgresStore::connect_in_schema(&url, &schema).await else {
            eprintln!("note: PostgreSQL not reachable at {url}; chunk read plans not tested");
            return;
        };
        let persons: Vec<PersonRecord> = (0..20_000)
            .map(|n| PersonRecord {
                id: PersonId::parse(&format!("p{n:08}")).unwrap(),
                kind: PersonKind::Domestic,
                registered_at: Timestamp::from_millis(0),
                residence_area: None,
            })
            .collect();
        store.register_persons(&persons).await.unwrap();
        let client = store.client().await.unwrap();
        // Codes and evidence as rows, not through the store: only their number matters here.
        client
            .batch_execute(
                "INSERT INTO codes (person_id, colour, reasons, evidence, since, evaluated_at, rules_version, revision)
                   SELECT id, 'green', '[]', '[]', 0, 0, 'v1', 1 FROM persons;
                 INSERT INTO evidence (person_id, at, seq, id, kind, value)
                   SELECT id, n, row_number() OVER (), id || '-' || n, 'test', 'negative'
                   FROM persons, generate_series(1, 5) AS n",
            )
            .await
            .unwrap();
        store.refresh_statistics().await.unwrap();
        // A tenth of the table, every other person of a stretch: what a page hands out.
        let chunk: Vec<PersonId> = persons.iter().skip(5_000).step_by(2).take(2_000).map(|p| p.id.clone()).collect();
        for (table, key) in [("persons", "id"), ("codes", "person_id"), ("evidence", "person_id")] {
            let query = for_each_key("*", table, key, "");
            let plan: Vec<String> = client
                .query(&format!("EXPLAIN {query}"), &[&sorted_keys(&chunk)])
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let plan = plan.join("\n");
            assert!(!plan.contains("Seq Scan"), "{table} is scanned whole for a chunk:\n{plan}");
            assert!(plan.contains("Nested Loop"), "{table} is not looked up per key:\n{plan}");
        }
        client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
    }
}
