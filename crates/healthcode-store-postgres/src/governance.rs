//! Decisions, alarms and documents.

use async_trait::async_trait;
use healthcode_domain::Timestamp;
use healthcode_store::{Alarm, Decision, GovernanceStore, NewAlarm, StoreResult};

use crate::{backend, corrupt, PostgresStore};

#[async_trait]
impl GovernanceStore for PostgresStore {
    async fn save_decision(&self, decision: &Decision) -> StoreResult<()> {
        self.save_decision_row(decision).await
    }

    async fn replace_decision(&self, decision: &Decision, seen: &Decision) -> StoreResult<bool> {
        let encode = |d: &Decision| serde_json::to_string(d).map_err(|e| corrupt("decision", e));
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE decisions SET proposed_at = $2, body = $3 WHERE id = $1 AND body = $4",
                &[&decision.id, &decision.proposed_at.as_millis(), &encode(decision)?, &encode(seen)?],
            )
            .await
            .map_err(backend("save a decision"))?;
        Ok(changed == 1)
    }

    async fn decision(&self, id: &str) -> StoreResult<Option<Decision>> {
        Ok(self.decision_rows(Some(id), 1).await?.pop())
    }

    async fn decisions(&self, limit: usize) -> StoreResult<Vec<Decision>> {
        self.decision_rows(None, limit).await
    }

    async fn record_alarm(&self, alarm: &NewAlarm) -> StoreResult<i64> {
        self.record_alarm_row(alarm).await
    }

    async fn alarms(&self, after: i64, limit: usize) -> StoreResult<Vec<Alarm>> {
        self.alarm_rows(after, limit).await
    }

    async fn delete_documents_before(&self, kind: &str, before: Timestamp) -> StoreResult<u64> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM documents WHERE kind = $1 AND at < $2", &[&kind, &before.as_millis()])
            .await
            .map_err(backend("delete old documents"))
    }

    async fn put_document(&self, kind: &str, id: &str, at: Timestamp, body: &str) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO documents (kind, id, at, body) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (kind, id) DO UPDATE SET at = excluded.at, body = excluded.body",
                &[&kind, &id, &at.as_millis(), &body],
            )
            .await
            .map_err(backend("save a document"))?;
        Ok(())
    }

    async fn replace_document(&self, kind: &str, id: &str, at: Timestamp, body: &str, seen: &str) -> StoreResult<bool> {
        let client = self.client().await?;
        let changed = client
            .execute(
                "UPDATE documents SET at = $3, body = $4 WHERE kind = $1 AND id = $2 AND body = $5",
                &[&kind, &id, &at.as_millis(), &body, &seen],
            )
            .await
            .map_err(backend("save a document"))?;
        Ok(changed == 1)
    }

    async fn document(&self, kind: &str, id: &str) -> StoreResult<Option<String>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT body FROM documents WHERE kind = $1 AND id = $2", &[&kind, &id])
            .await
            .map_err(backend("read a document"))?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn documents(&self, kind: &str, limit: usize) -> StoreResult<Vec<String>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT body FROM documents WHERE kind = $1 ORDER BY at DESC, id LIMIT $2",
                &[&kind, &(limit as i64)],
            )
            .await
            .map_err(backend("read documents"))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}
