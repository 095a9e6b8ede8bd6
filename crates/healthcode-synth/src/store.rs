//! The records as `healthcode-store` takes them.

use healthcode_store::{NewDesignation, NewEvidence, PersonRecord};

use crate::SynthRecord;

/// A [`SynthRecord`] as the store's own record type, for loading a region straight into
/// a `Store` (`register_person`, `insert_evidence`, `insert_designations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreRecord {
    Person(PersonRecord),
    Evidence(NewEvidence),
    Designation(NewDesignation),
}

impl From<SynthRecord> for StoreRecord {
    fn from(record: SynthRecord) -> Self {
        match record {
            SynthRecord::Person { id, kind, residence_area, registered_at } => {
                StoreRecord::Person(PersonRecord { id, kind, registered_at, residence_area: Some(residence_area) })
            }
            SynthRecord::Evidence { person, id, at, evidence } => {
                StoreRecord::Evidence(NewEvidence { person, id, at, evidence, hub_line: None })
            }
            SynthRecord::Designation { id, at, risk } => {
                StoreRecord::Designation(NewDesignation { id, at, risk, hub_line: None })
            }
        }
    }
}
