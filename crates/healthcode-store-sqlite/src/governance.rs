//! Decisions, alarms and documents.

use async_trait::async_trait;
use healthcode_domain::Timestamp;
use healthcode_store::{Alarm, Decision, GovernanceStore, NewAlarm, StoreError, StoreResult};
use rusqlite::Connection;

use crate::{backend, corrupt, SqliteStore};
pub(crate) fn save_decision(conn: &mut Connection, d: &Decision) -> Result<(), StoreError> {
    let body = serde_json::to_string(d).map_err(|e| StoreError::Backend(format!("cannot encode a decision: {e}")))?;
    conn.execute(
        "INSERT OR REPLACE INTO decisions (id, proposed_at, body) VALUES (?1, ?2, ?3)",
        (&d.id, d.proposed_at.as_millis(), body),
    )
    .map_err(backend("save a decision"))?;
    Ok(())
}

/// `save_decision` over `seen` only: the stored body must still be `seen`'s.
pub(crate) fn replace_decision(conn: &mut Connection, d: &Decision, seen: &Decision) -> Result<bool, StoreError> {
    let encode = |d: &Decision| {
        serde_json::to_string(d).map_err(|e| StoreError::Backend(format!("cannot encode a decision: {e}")))
    };
    let changed = conn
        .execute(
            "UPDATE decisions SET proposed_at = ?2, body = ?3 WHERE id = ?1 AND body = ?4",
            (&d.id, d.proposed_at.as_millis(), encode(d)?, encode(seen)?),
        )
        .map_err(backend("save a decision"))?;
    Ok(changed == 1)
}

pub(crate) fn decisions(conn: &Connection, id: Option<&str>, limit: usize) -> Result<Vec<Decision>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT body FROM decisions WHERE ?1 IS NULL OR id = ?1 ORDER BY proposed_at DESC, id LIMIT ?2")
        .map_err(backend("read decisions"))?;
    let rows = stmt.query_map((id, limit as i64), |r| r.get::<_, String>(0)).map_err(backend("read decisions"))?;
    rows.map(|r| {
        let body = r.map_err(backend("read decisions"))?;
        serde_json::from_str(&body).map_err(|e| corrupt("decision", e))
    })
    .collect()
}

pub(crate) fn record_alarm(conn: &mut Connection, a: &NewAlarm) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO alarms (at, kind, jurisdiction, detail, log_index) VALUES (?1, ?2, ?3, ?4, ?5)",
        (a.at.as_millis(), &a.kind, &a.jurisdiction, &a.detail, a.log_index.map(|i| i as i64)),
    )
    .map_err(backend("record an alarm"))?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn alarms(conn: &Connection, after: i64, limit: usize) -> Result<Vec<Alarm>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, at, kind, jurisdiction, detail, log_index FROM alarms WHERE id > ?1 ORDER BY id LIMIT ?2",
        )
        .map_err(backend("read alarms"))?;
    let rows = stmt
        .query_map((after, limit as i64), |r| {
            Ok(Alarm {
                id: r.get(0)?,
                alarm: NewAlarm {
                    at: Timestamp::from_millis(r.get(1)?),
                    kind: r.get(2)?,
                    jurisdiction: r.get(3)?,
                    detail: r.get(4)?,
                    log_index: r.get::<_, Option<i64>>(5)?.map(|i| i as u64),
                },
            })
        })
        .map_err(backend("read alarms"))?;
    rows.map(|r| r.map_err(backend("read alarms"))).collect()
}

#[async_trait]
impl GovernanceStore for SqliteStore {
    async fn delete_documents_before(&self, kind: &str, before: Timestamp) -> StoreResult<u64> {
        let kind = kind.to_string();
        self.write(move |c| {
            c.execute("DELETE FROM documents WHERE kind = ?1 AND at < ?2", (&kind, before.as_millis()))
                .map(|n| n as u64)
                .map_err(crate::backend("delete old documents"))
        })
        .await
    }

    async fn save_decision(&self, decision: &Decision) -> StoreResult<()> {
        let decision = decision.clone();
        self.write(move |c| crate::governance::save_decision(c, &decision)).await
    }

    async fn replace_decision(&self, decision: &Decision, seen: &Decision) -> StoreResult<bool> {
        let (decision, seen) = (decision.clone(), seen.clone());
        self.write(move |c| crate::governance::replace_decision(c, &decision, &seen)).await
    }

    async fn decision(&self, id: &str) -> StoreResult<Option<Decision>> {
        let id = id.to_string();
        self.read(move |c| Ok(crate::governance::decisions(c, Some(&id), 1)?.pop())).await
    }

    async fn decisions(&self, limit: usize) -> StoreResult<Vec<Decision>> {
        self.read(move |c| crate::governance::decisions(c, None, limit)).await
    }

    async fn record_alarm(&self, alarm: &NewAlarm) -> StoreResult<i64> {
        let alarm = alarm.clone();
        self.write(move |c| crate::governance::record_alarm(c, &alarm)).await
    }

    async fn alarms(&self, after: i64, limit: usize) -> StoreResult<Vec<Alarm>> {
        self.read(move |c| crate::governance::alarms(c, after, limit)).await
    }

    async fn put_document(&self, kind: &str, id: &str, at: Timestamp, body: &str) -> StoreResult<()> {
        let (kind, id, body) = (kind.to_string(), id.to_string(), body.to_string());
        self.write(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO documents (kind, id, at, body) VALUES (?1, ?2, ?3, ?4)",
                (&kind, &id, at.as_millis(), &body),
            )
            .map(drop)
            .map_err(crate::backend("save a document"))
        })
        .await
    }

    async fn replace_document(&self, kind: &str, id: &str, at: Timestamp, body: &str, seen: &str) -> StoreResult<bool> {
        let (kind, id, body, seen) = (kind.to_string(), id.to_string(), body.to_string(), seen.to_string());
        self.write(move |c| {
            c.execute(
                "UPDATE documents SET at = ?3, body = ?4 WHERE kind = ?1 AND id = ?2 AND body = ?5",
                (&kind, &id, at.as_millis(), &body, &seen),
            )
            .map(|changed| changed == 1)
            .map_err(crate::backend("save a document"))
        })
        .await
    }

    async fn document(&self, kind: &str, id: &str) -> StoreResult<Option<String>> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.read(move |c| {
            use rusqlite::OptionalExtension;
            c.query_row("SELECT body FROM documents WHERE kind = ?1 AND id = ?2", (&kind, &id), |r| r.get(0))
                .optional()
                .map_err(crate::backend("read a document"))
        })
        .await
    }

    async fn documents(&self, kind: &str, limit: usize) -> StoreResult<Vec<String>> {
        let kind = kind.to_string();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached("SELECT body FROM documents WHERE kind = ?1 ORDER BY at DESC, id LIMIT ?2")
                .map_err(crate::backend("read documents"))?;
            let rows = stmt.query_map((&kind, limit as i64), |r| r.get(0)).map_err(crate::backend("read documents"))?;
            rows.map(|r| r.map_err(crate::backend("read documents"))).collect()
        })
        .await
    }
}
