//! Decisions, alarms and documents.

use async_trait::async_trait;
use healthcode_domain::Timestamp;
use healthcode_store::{Alarm, Decision, GovernanceStore, NewAlarm, StoreResult};

use crate::{backend, PostgresStore};

#[async_trait]
impl GovernanceStore for PostgresStore {
    async fn save_decision(&self, decision: &Decision) -> StoreResult<()> {
        self.save_decision_row(decision).await
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
