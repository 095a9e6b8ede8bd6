//! Records kept whole as JSON in the store's documents (rule proposals, designation
//! proposals, traces): one typed way to read and write them.

use std::sync::Arc;

use healthcode_domain::Timestamp;
use healthcode_store::GovernanceStore;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ServiceError;

/// The store's documents, typed. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Documents(Arc<dyn GovernanceStore>);

fn unreadable(kind: &str, e: serde_json::Error) -> ServiceError {
    ServiceError::Background(format!("a stored {kind} cannot be read: {e}"))
}

impl Documents {
    pub(crate) fn new(store: Arc<dyn GovernanceStore>) -> Self {
        Documents(store)
    }

    pub(crate) async fn load<T: DeserializeOwned>(&self, kind: &str, id: &str) -> Result<Option<T>, ServiceError> {
        self.0
            .document(kind, id)
            .await?
            .map(|body| serde_json::from_str(&body).map_err(|e| unreadable(kind, e)))
            .transpose()
    }

    /// A document with the text it is stored as, for `replace`.
    pub(crate) async fn load_seen<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<(T, String)>, ServiceError> {
        let Some(body) = self.0.document(kind, id).await? else { return Ok(None) };
        let value = serde_json::from_str(&body).map_err(|e| unreadable(kind, e))?;
        Ok(Some((value, body)))
    }

    /// Replaces a document only if it is still stored as `seen` (a compare-and-set);
    /// false when another writer changed it since it was read.
    pub(crate) async fn replace<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        at: Timestamp,
        value: &T,
        seen: &str,
    ) -> Result<bool, ServiceError> {
        let body = serde_json::to_string(value).map_err(|e| ServiceError::Background(e.to_string()))?;
        Ok(self.0.replace_document(kind, id, at, &body, seen).await?)
    }

    /// The latest 1,000 of a kind, newest first.
    pub(crate) async fn load_all<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>, ServiceError> {
        self.load_up_to(kind, 1000).await
    }

    /// The latest `limit` of a kind, newest first.
    pub(crate) async fn load_up_to<T: DeserializeOwned>(
        &self,
        kind: &str,
        limit: usize,
    ) -> Result<Vec<T>, ServiceError> {
        self.0
            .documents(kind, limit)
            .await?
            .iter()
            .map(|body| serde_json::from_str(body).map_err(|e| unreadable(kind, e)))
            .collect()
    }

    /// A document to write with a log append (`TransparencyLog::record_with`) rather than
    /// on its own.
    pub(crate) fn write<T: Serialize>(
        kind: &str,
        id: &str,
        at: Timestamp,
        value: &T,
    ) -> Result<healthcode_store::DocumentWrite, ServiceError> {
        let body = serde_json::to_string(value).map_err(|e| ServiceError::Background(e.to_string()))?;
        Ok(healthcode_store::DocumentWrite { kind: kind.into(), id: id.into(), at, body, claim: false })
    }

    /// As `write`, a document only the first writer stores: the append that carries it
    /// fails (`StoreError::DocumentExists`, a conflict) if it is already there. What makes
    /// an approval logged once when two officers, or two servers, give it at once.
    pub(crate) fn claim<T: Serialize>(
        kind: &str,
        id: &str,
        at: Timestamp,
        value: &T,
    ) -> Result<healthcode_store::DocumentWrite, ServiceError> {
        Ok(healthcode_store::DocumentWrite { claim: true, ..Self::write(kind, id, at, value)? })
    }

    pub(crate) async fn save<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        at: Timestamp,
        value: &T,
    ) -> Result<(), ServiceError> {
        let body = serde_json::to_string(value).map_err(|e| ServiceError::Background(e.to_string()))?;
        Ok(self.0.put_document(kind, id, at, &body).await?)
    }
}
