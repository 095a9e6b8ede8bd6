//! Records kept whole as JSON in the store's documents (rule proposals, designation
//! proposals, traces): one typed way to read and write them.

use healthcode_domain::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{HealthService, ServiceError};

fn unreadable(kind: &str, e: serde_json::Error) -> ServiceError {
    ServiceError::Background(format!("a stored {kind} cannot be read: {e}"))
}

impl HealthService {
    pub(crate) async fn load_document<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<T>, ServiceError> {
        self.store
            .document(kind, id)
            .await?
            .map(|body| serde_json::from_str(&body).map_err(|e| unreadable(kind, e)))
            .transpose()
    }

    /// The latest 1,000 of a kind, newest first.
    pub(crate) async fn load_documents<T: DeserializeOwned>(&self, kind: &str) -> Result<Vec<T>, ServiceError> {
        self.store
            .documents(kind, 1000)
            .await?
            .iter()
            .map(|body| serde_json::from_str(body).map_err(|e| unreadable(kind, e)))
            .collect()
    }

    pub(crate) async fn save_document<T: Serialize>(
        &self,
        kind: &str,
        id: &str,
        at: Timestamp,
        value: &T,
    ) -> Result<(), ServiceError> {
        let body = serde_json::to_string(value).map_err(|e| ServiceError::Background(e.to_string()))?;
        Ok(self.store.put_document(kind, id, at, &body).await?)
    }
}
