//! What the overviews read — the front page, the dashboard, `/v1/stats`, the officials'
//! lists, the log's public pages, a venue's counts — so that the HTTP layer asks the
//! service and never the store.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use healthcode_domain::{AreaCode, AreaRisk, Colour, PersonId, RiskLevel};
use healthcode_store::{CodeState, CodeStore, EvidenceStore, PersonRecord};

use crate::{Codes, ServiceError};

/// Persons, codes by colour and the re-evaluation queue, as `/v1/stats` shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub persons: u64,
    /// Every colour, red first, 0 when none.
    pub codes: Vec<(Colour, u64)>,
    pub queue: u64,
}

/// One county on the dashboard's map: who lives there, their codes, and the area
/// designations in force that touch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountyFigures {
    /// The county: the first six digits of the residents' area of residence (fewer when
    /// they registered only a city or a province: `330100`); `None` for residents who
    /// registered no area.
    pub county: Option<AreaCode>,
    /// Holders of a code who live there.
    pub residents: u64,
    pub red: u64,
    pub orange: u64,
    pub yellow: u64,
    /// The designations in force (each area's latest, if it raises the level above low
    /// or escalates to red) on the county, on an area within it or on one containing it:
    /// highest level first, escalations first within a level, then by code.
    pub designations: Vec<AreaRisk>,
}

impl CountyFigures {
    /// Residents whose code is green.
    pub fn green(&self) -> u64 {
        self.residents.saturating_sub(self.red + self.orange + self.yellow)
    }

    /// The highest level designated in or over the county, if any is in force.
    pub fn designated(&self) -> Option<RiskLevel> {
        self.designations.iter().map(|d| d.level).max()
    }
}

/// The counts the overviews show. Holds only the code, evidence and resident stores
/// (complaints by where they stand), and the codes' designations.
pub struct Overview {
    pub(crate) code_store: Arc<dyn CodeStore>,
    pub(crate) evidence_store: Arc<dyn EvidenceStore>,
    pub(crate) resident_store: Arc<dyn healthcode_store::ResidentStore>,
    pub(crate) status_store: Arc<dyn healthcode_store::StatusStore>,
    pub(crate) codes: Arc<Codes>,
    pub(crate) evidence: Arc<crate::Evidence>,
}

impl Overview {
    /// The store's connections and memory now (no database round trip).
    pub fn store_status(&self) -> healthcode_store::StoreStatus {
        self.status_store.status()
    }

    /// Feed uploads in this process since it started.
    pub fn feed_progress(&self) -> crate::FeedProgress {
        self.evidence.uploads.progress()
    }

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
            // Persons waiting: queued one by one, or on a bulk re-evaluation's pages.
            queue: self.code_store.queue_len().await? + self.code_store.paged_persons().await?,
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

    /// Residents and their codes by county (from the codes by area of residence), with the
    /// designations in force now that touch each county; in county order, residents
    /// without an area last. A county with no resident appears only if an area within it
    /// is designated.
    pub async fn counties(&self) -> Result<Vec<CountyFigures>, ServiceError> {
        let rows = self.code_store.colour_counts_by_area().await?;
        let mut counties: BTreeMap<Option<String>, CountyFigures> = BTreeMap::new();
        let figures = |county: &Option<String>| CountyFigures {
            county: county.as_deref().and_then(|c| AreaCode::parse(&healthcode_places::written(c)).ok()),
            residents: 0,
            red: 0,
            orange: 0,
            yellow: 0,
            designations: Vec::new(),
        };
        for (home, colour, n) in rows {
            let county = home.map(|h| h.normal().chars().take(6).collect::<String>());
            let entry = counties.entry(county.clone()).or_insert_with(|| figures(&county));
            entry.residents += n;
            match colour {
                Colour::Red => entry.red += n,
                Colour::Orange => entry.orange += n,
                Colour::Yellow => entry.yellow += n,
                Colour::Green => {}
            }
        }
        let in_force = self.designations_in_force();
        // A county designated in part (a street, a village) appears even with no resident.
        for d in &in_force {
            let normal = d.area.normal();
            if normal.len() >= 6 {
                let county = Some(normal[..6].to_string());
                counties.entry(county.clone()).or_insert_with(|| figures(&county));
            }
        }
        for (county, entry) in counties.iter_mut() {
            let Some(county) = county else { continue };
            entry.designations = in_force
                .iter()
                .filter(|d| d.area.normal().starts_with(county.as_str()) || county.starts_with(d.area.normal()))
                .cloned()
                .collect();
            entry.designations.sort_by(|a, b| {
                (b.level, b.escalate_to_red)
                    .cmp(&(a.level, a.escalate_to_red))
                    .then_with(|| a.area.normal().cmp(b.area.normal()))
            });
        }
        // `None` sorts first in a map; residents without an area go last.
        let mut out: Vec<CountyFigures> = counties.into_values().collect();
        out.sort_by_key(|c| c.county.is_none());
        Ok(out)
    }

    /// Each area's latest designation recorded by now, where it raises the level above
    /// low or escalates to red (a later designation of the same code replaces it: `low`
    /// lifts one).
    fn designations_in_force(&self) -> Vec<AreaRisk> {
        let now = self.codes.clock.now();
        let all = self.codes.designations();
        let mut latest: HashMap<&str, &AreaRisk> = HashMap::new();
        // Oldest first: the last one of each area wins.
        for d in all.iter().filter(|d| d.at <= now) {
            latest.insert(d.body.area.normal(), &d.body);
        }
        latest.into_values().filter(|d| d.level > RiskLevel::Low || d.escalate_to_red).cloned().collect()
    }

    /// Up to `limit` codes of one colour: the demo's sample residents.
    pub async fn codes_with_colour(&self, colour: Colour, limit: usize) -> Result<Vec<CodeState>, ServiceError> {
        Ok(self.code_store.codes_with_colour(colour, limit).await?)
    }
}
