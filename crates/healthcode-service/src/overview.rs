//! What the overviews read — the front page, the dashboard, `/v1/stats`, the officials'
//! lists, the log's public pages, a venue's counts — so that the HTTP layer asks the
//! service and never the store.

use healthcode_domain::{AreaCode, Colour, PersonId};
use healthcode_store::{CodeState, PersonRecord};

use std::sync::Arc;

use healthcode_store::{CodeStore, EvidenceStore};

use crate::ServiceError;

/// Persons, codes by colour and the re-evaluation queue, as `/v1/stats` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub persons: u64,
    /// Every colour, red first, 0 when none.
    pub codes: Vec<(Colour, u64)>,
    pub queue: u64,
}

/// The counts the overviews show. Holds only the code, evidence and resident stores
/// (complaints by where they stand).
pub struct Overview {
    pub(crate) code_store: Arc<dyn CodeStore>,
    pub(crate) evidence_store: Arc<dyn EvidenceStore>,
    pub(crate) resident_store: Arc<dyn healthcode_store::ResidentStore>,
}

impl Overview {
    /// A registered person, if any.
    pub async fn person(&self, id: &PersonId) -> Result<Option<PersonRecord>, ServiceError> {
        Ok(self.evidence_store.person(id).await?)
    }

    /// Open complaints, those waiting for a department, and those past their deadline.
    pub async fn complaint_counts(&self) -> Result<healthcode_store::ComplaintCounts, ServiceError> {
        Ok(self.resident_store.complaint_counts().await?)
    }

    /// Codes by colour: every colour, in the order red, orange, yellow, green.
    pub async fn colour_counts(&self) -> Result<Vec<(Colour, u64)>, ServiceError> {
        let counted = self.code_store.colour_counts().await?;
        Ok([Colour::Red, Colour::Orange, Colour::Yellow, Colour::Green]
            .into_iter()
            .map(|colour| (colour, counted.iter().find(|(c, _)| *c == colour).map_or(0, |(_, n)| *n)))
            .collect())
    }

    pub async fn stats(&self) -> Result<Stats, ServiceError> {
        Ok(Stats {
            persons: self.evidence_store.person_count().await?,
            codes: self.colour_counts().await?,
            queue: self.code_store.queue_len().await?,
        })
    }

    /// Codes by the holder's area of residence and colour (`None`: no area registered).
    pub async fn colour_counts_by_area(&self) -> Result<Vec<(Option<AreaCode>, Colour, u64)>, ServiceError> {
        Ok(self.code_store.colour_counts_by_area().await?)
    }

    /// How many residents (holders of a code, by their area of residence) live within
    /// `area`: what a designation would cover, shown before it is proposed.
    pub async fn residents_within(&self, area: &AreaCode) -> Result<u64, ServiceError> {
        let counts = self.code_store.colour_counts_by_area().await?;
        Ok(counts
            .into_iter()
            .filter(|(home, _, _)| home.as_ref().is_some_and(|h| area.covers(h)))
            .map(|(_, _, n)| n)
            .sum())
    }

    /// Up to `limit` codes of one colour: the demo's sample residents.
    pub async fn codes_with_colour(&self, colour: Colour, limit: usize) -> Result<Vec<CodeState>, ServiceError> {
        Ok(self.code_store.codes_with_colour(colour, limit).await?)
    }
}
