//! Evidence as plain table columns and back, shared by every backend so that they store
//! events the same way: `kind, value, t1, t2, text, n, extra`.
//!
//! Columns rather than a JSON body, because decoding is most of the cost of reading
//! millions of events for bulk re-evaluation.

use healthcode_domain::{
    AreaCode, DecisionColour, DeclaredItem, DiagnosisStatus, EventId, Evidence, EvidenceKind, HomeCode, QuarantineMode,
    TestResult, Timestamp,
};

use crate::StoreError;

/// One evidence row's columns: its type, its enumerated value (result, status, mode or
/// colour), up to two times in milliseconds, a text (area, country or basis), a number
/// (days) and the approvers of a decision as a JSON list.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EvidenceColumns<'a> {
    pub kind: &'a str,
    pub value: Option<&'a str>,
    pub t1: Option<i64>,
    pub t2: Option<i64>,
    pub text: Option<&'a str>,
    pub n: Option<i64>,
    pub extra: Option<std::borrow::Cow<'a, str>>,
}

impl<'a> EvidenceColumns<'a> {
    pub fn encode(e: &'a Evidence) -> Self {
        let kind = e.kind().as_str();
        let ms = |t: &Timestamp| Some(t.as_millis());
        match e {
            Evidence::Fever { onset_at } => Self { kind, t1: ms(onset_at), ..Default::default() },
            Evidence::FeverResolved | Evidence::ContactCleared => Self { kind, ..Default::default() },
            Evidence::Test { result, sampled_at } => {
                Self { kind, value: Some(result.as_str()), t1: ms(sampled_at), ..Default::default() }
            }
            Evidence::Diagnosis { status } => Self { kind, value: Some(status.as_str()), ..Default::default() },
            Evidence::CloseContact { exposure_at } => Self { kind, t1: ms(exposure_at), ..Default::default() },
            Evidence::Entry { country, entered_at } => {
                Self { kind, t1: ms(entered_at), text: Some(country), ..Default::default() }
            }
            Evidence::Stay { area, from, to } => Self {
                kind,
                t1: ms(from),
                t2: to.map(Timestamp::as_millis),
                text: Some(area.as_str()),
                ..Default::default()
            },
            Evidence::QuarantineOrder { mode, days } => {
                Self { kind, value: Some(mode.as_str()), n: Some(i64::from(*days)), ..Default::default() }
            }
            Evidence::QuarantineRelease { mode } => Self { kind, value: Some(mode.as_str()), ..Default::default() },
            Evidence::ManagementDecision { color, until, basis, approvers } => Self {
                kind,
                value: Some(color.as_str()),
                t1: ms(until),
                text: Some(basis),
                extra: Some(serde_json::to_string(approvers).unwrap_or_default().into()),
                ..Default::default()
            },
            Evidence::Declaration { item, since } => {
                Self { kind, value: Some(item.as_str()), t1: ms(since), ..Default::default() }
            }
            Evidence::Arrival { origin, home_code, arrived_at } => Self {
                kind,
                value: Some(home_code.as_str()),
                t1: ms(arrived_at),
                text: Some(origin.as_str()),
                ..Default::default()
            },
            Evidence::Retraction { retracts, reason } => {
                Self { kind, text: Some(retracts.as_str()), extra: Some(reason.as_str().into()), ..Default::default() }
            }
        }
    }

    pub fn decode(&self) -> Result<Evidence, StoreError> {
        let kind = EvidenceKind::parse(self.kind).ok_or_else(|| corrupt("evidence kind", self.kind))?;
        let t1 = self.t1.map(Timestamp::from_millis);
        let time = || t1.ok_or_else(|| corrupt("evidence time", self.kind));
        let text = self.text.unwrap_or_default();
        Ok(match kind {
            EvidenceKind::Fever => Evidence::Fever { onset_at: time()? },
            EvidenceKind::FeverResolved => Evidence::FeverResolved,
            EvidenceKind::Test => Evidence::Test { result: value(self.value, TestResult::parse)?, sampled_at: time()? },
            EvidenceKind::Diagnosis => Evidence::Diagnosis { status: value(self.value, DiagnosisStatus::parse)? },
            EvidenceKind::CloseContact => Evidence::CloseContact { exposure_at: time()? },
            EvidenceKind::ContactCleared => Evidence::ContactCleared,
            EvidenceKind::Entry => Evidence::Entry { country: text.to_string(), entered_at: time()? },
            EvidenceKind::Stay => Evidence::Stay {
                area: AreaCode::parse(text).map_err(|e| corrupt("stay area", e))?,
                from: time()?,
                to: self.t2.map(Timestamp::from_millis),
            },
            EvidenceKind::QuarantineOrder => Evidence::QuarantineOrder {
                mode: value(self.value, QuarantineMode::parse)?,
                days: self
                    .n
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| corrupt("quarantine days", self.kind))?,
            },
            EvidenceKind::QuarantineRelease => {
                Evidence::QuarantineRelease { mode: value(self.value, QuarantineMode::parse)? }
            }
            EvidenceKind::ManagementDecision => Evidence::ManagementDecision {
                color: value(self.value, DecisionColour::parse)?,
                until: time()?,
                basis: text.to_string(),
                approvers: serde_json::from_str(self.extra.as_deref().unwrap_or("[]"))
                    .map_err(|e| corrupt("approvers", e))?,
            },
            EvidenceKind::Declaration => {
                Evidence::Declaration { item: value(self.value, DeclaredItem::parse)?, since: time()? }
            }
            EvidenceKind::Arrival => Evidence::Arrival {
                origin: AreaCode::parse(text).map_err(|e| corrupt("arrival origin", e))?,
                home_code: value(self.value, HomeCode::parse)?,
                arrived_at: time()?,
            },
            EvidenceKind::Retraction => Evidence::Retraction {
                retracts: EventId::parse(text).map_err(|e| corrupt("retracted id", e))?,
                reason: self.extra.as_deref().unwrap_or_default().to_string(),
            },
        })
    }
}

fn value<T>(value: Option<&str>, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    value.and_then(parse).ok_or_else(|| corrupt("evidence value", value.unwrap_or_default()))
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}
