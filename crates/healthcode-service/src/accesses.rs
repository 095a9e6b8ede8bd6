//! The access log's writes: every read of a person's data by anyone but the person goes
//! into the person's access log, with who, in what role, for what purpose and what was
//! read. Shared by every capability that lets staff or proxies read a person's data.

use std::sync::Arc;

use healthcode_domain::PersonId;
use healthcode_store::{Account, NewAccess, ResidentStore};

use crate::{Clock, Reader, ServiceError};

pub(crate) struct Accesses {
    store: Arc<dyn ResidentStore>,
    clock: Arc<dyn Clock>,
}

impl Accesses {
    pub(crate) fn new(store: Arc<dyn ResidentStore>, clock: Arc<dyn Clock>) -> Self {
        Accesses { store, clock }
    }

    /// Puts a read by anyone but the person into the person's access log.
    pub(crate) async fn record(&self, person: &PersonId, reader: &Reader, what: &str) -> Result<(), ServiceError> {
        let (actor, role, purpose) = match reader {
            Reader::Person(..) => return Ok(()),
            Reader::Proxy(proxy, _) => (format!("proxy:{proxy}"), "proxy".to_string(), "family proxy".to_string()),
            Reader::Staff { account, purpose } => (account.username.clone(), account.role.to_string(), purpose.clone()),
        };
        let access =
            NewAccess { person: person.clone(), at: self.clock.now(), actor, role, purpose, what: what.to_string() };
        Ok(self.store.record_accesses(&[access]).await?)
    }

    /// Many reads at once (e.g. a complaint queue or a contact list shown to an officer).
    pub(crate) async fn record_staff(
        &self,
        account: &Account,
        persons: &[PersonId],
        purpose: &str,
        what: &str,
    ) -> Result<(), ServiceError> {
        let at = self.clock.now();
        let accesses: Vec<NewAccess> = persons
            .iter()
            .map(|p| NewAccess {
                person: p.clone(),
                at,
                actor: account.username.clone(),
                role: account.role.to_string(),
                purpose: purpose.to_string(),
                what: what.to_string(),
            })
            .collect();
        Ok(self.store.record_accesses(&accesses).await?)
    }
}
