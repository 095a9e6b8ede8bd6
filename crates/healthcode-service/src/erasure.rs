//! Erasure of one person at their request (PIPL art. 47): once no rule can use their
//! records any more, everything about them goes — sealed details and the key that opens
//! them, keys, family links, the access log, complaints, check-ins, codes, evidence, the
//! rejected inputs that named them — and the erasure is recorded in the transparency
//! log (what was removed, never whom).

use healthcode_domain::{Colour, Evidence as Body, PersonId, Timestamp};
use healthcode_log::{Entry, Erasure};
use serde::Serialize;

use crate::residents::Reader;
use crate::{Residents, ServiceError};

/// What an erasure removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    pub at: Timestamp,
    /// Rows removed per table.
    pub removed: Vec<(String, u64)>,
    /// Where the erasure is in the transparency log.
    pub log_index: Option<u64>,
}

impl Residents {
    /// Erases the person, who asks for it themself (not a proxy: it cannot be undone).
    /// Refused while their code is not green, while time alone would change it, or while
    /// a record of theirs is recent enough for a rule to use (a stay inside the window
    /// may yet fall under a new designation): the refusal says from when it is possible.
    pub async fn erase(&self, person: &PersonId, by: &Reader) -> Result<ErasureReport, ServiceError> {
        if !matches!(by, Reader::Person(p, _) if p == person) {
            return Err(ServiceError::Forbidden(
                "only the person themself may have their data erased (a proxy cannot: it cannot be undone)".into(),
            ));
        }
        let code = self.codes.current_code(person).await?;
        if code.colour != Colour::Green || code.next_change.is_some() {
            return Err(ServiceError::Conflict(format!(
                "your code is {} and the rules still use your records; erasure is possible once it is green for good",
                code.colour.as_str()
            )));
        }
        let now = self.clock.now();
        let window = self.codes.rules().window();
        let events = self.evidence_store.evidence_for(person).await?;
        let last_use = events
            .iter()
            .map(|e| match &e.body {
                Body::Stay { to: None, .. } => now,
                Body::Stay { to: Some(to), .. } => (*to).max(e.at),
                _ => e.at,
            })
            .max();
        if let Some(last) = last_use {
            let possible_from = last.saturating_add(window);
            if possible_from > now {
                return Err(ServiceError::Conflict(format!(
                    "a record of yours from {last} can still be used by a rule (a new designation of a place you \
                     stayed in, for one); erasure is possible from {possible_from}"
                )));
            }
        }
        let removed = self.resident_store.erase_person(person).await?;
        self.resident_keys.forget(Some(person));
        // The code card too (erasures are rare: all cards go); other servers drop theirs
        // at their next tick, the erasure's log entry having grown the log.
        self.log.code_cards().clear();
        let entry = Erasure { at: now.as_millis(), removed: removed.iter().map(|(t, n)| format!("{t}={n}")).collect() };
        let index = self.log.record(&[Entry::Erasure(entry)]).await?;
        tracing::info!(tables = removed.len(), "one person's data erased at their request");
        Ok(ErasureReport { at: now, removed, log_index: index.first().copied() })
    }
}
