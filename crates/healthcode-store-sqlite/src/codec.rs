//! Evidence as table columns and back. Plain columns rather than a JSON body, because
//! decoding is most of the cost of reading millions of events for bulk re-evaluation.

use healthcode_domain::{
    AreaCode, DecisionColour, DiagnosisStatus, Evidence, EvidenceKind, QuarantineMode, TestResult, Timestamp,
};
use healthcode_store::StoreError;
use rusqlite::types::ValueRef;
use rusqlite::Row;

use crate::corrupt;

/// The columns `kind, value, t1, t2, text, n, extra` of one evidence row.
#[derive(Debug, Default)]
pub(crate) struct Columns<'a> {
    pub kind: &'static str,
    pub value: Option<&'static str>,
    pub t1: Option<i64>,
    pub t2: Option<i64>,
    pub text: Option<&'a str>,
    pub n: Option<i64>,
    pub extra: Option<String>,
}

pub(crate) fn encode(e: &Evidence) -> Columns<'_> {
    let kind = e.kind().as_str();
    let ms = |t: &Timestamp| Some(t.as_millis());
    match e {
        Evidence::Fever { onset_at } => Columns { kind, t1: ms(onset_at), ..Default::default() },
        Evidence::FeverResolved | Evidence::ContactCleared => Columns { kind, ..Default::default() },
        Evidence::Test { result, sampled_at } => {
            Columns { kind, value: Some(result.as_str()), t1: ms(sampled_at), ..Default::default() }
        }
        Evidence::Diagnosis { status } => Columns { kind, value: Some(status.as_str()), ..Default::default() },
        Evidence::CloseContact { exposure_at } => Columns { kind, t1: ms(exposure_at), ..Default::default() },
        Evidence::Entry { country, entered_at } => {
            Columns { kind, t1: ms(entered_at), text: Some(country), ..Default::default() }
        }
        Evidence::Stay { area, from, to } => Columns {
            kind,
            t1: ms(from),
            t2: to.map(Timestamp::as_millis),
            text: Some(area.as_str()),
            ..Default::default()
        },
        Evidence::QuarantineOrder { mode, days } => {
            Columns { kind, value: Some(mode.as_str()), n: Some(i64::from(*days)), ..Default::default() }
        }
        Evidence::QuarantineRelease { mode } => Columns { kind, value: Some(mode.as_str()), ..Default::default() },
        Evidence::ManagementDecision { color, until, basis, approvers } => Columns {
            kind,
            value: Some(color.as_str()),
            t1: ms(until),
            text: Some(basis),
            extra: Some(serde_json::to_string(approvers).unwrap_or_default()),
            ..Default::default()
        },
    }
}

/// Decodes the columns starting at `first` of a row (kind, value, t1, t2, text, n, extra).
pub(crate) fn decode(row: &Row<'_>, first: usize) -> Result<Evidence, StoreError> {
    let get = |i: usize| row.get_ref(first + i).map_err(|e| corrupt("evidence row", e));
    let int = |v: ValueRef<'_>| -> Result<Option<i64>, StoreError> {
        match v {
            ValueRef::Null => Ok(None),
            other => other.as_i64().map(Some).map_err(|e| corrupt("evidence number column", e)),
        }
    };
    let kind_text = text(get(0)?)?.unwrap_or_default();
    let kind = EvidenceKind::parse(kind_text).ok_or_else(|| corrupt("evidence kind", kind_text))?;
    let value = text(get(1)?)?;
    let t1 = int(get(2)?)?.map(Timestamp::from_millis);
    let t2 = int(get(3)?)?.map(Timestamp::from_millis);
    let words = text(get(4)?)?;
    let n = int(get(5)?)?;
    let need_time = || t1.ok_or_else(|| corrupt("evidence time", kind_text));
    Ok(match kind {
        EvidenceKind::Fever => Evidence::Fever { onset_at: need_time()? },
        EvidenceKind::FeverResolved => Evidence::FeverResolved,
        EvidenceKind::Test => {
            Evidence::Test { result: need_value(value, TestResult::parse)?, sampled_at: need_time()? }
        }
        EvidenceKind::Diagnosis => Evidence::Diagnosis { status: need_value(value, DiagnosisStatus::parse)? },
        EvidenceKind::CloseContact => Evidence::CloseContact { exposure_at: need_time()? },
        EvidenceKind::ContactCleared => Evidence::ContactCleared,
        EvidenceKind::Entry => {
            Evidence::Entry { country: words.unwrap_or_default().to_string(), entered_at: need_time()? }
        }
        EvidenceKind::Stay => Evidence::Stay {
            area: AreaCode::parse(words.unwrap_or_default()).map_err(|e| corrupt("stay area", e))?,
            from: need_time()?,
            to: t2,
        },
        EvidenceKind::QuarantineOrder => Evidence::QuarantineOrder {
            mode: need_value(value, QuarantineMode::parse)?,
            days: n.and_then(|n| u32::try_from(n).ok()).ok_or_else(|| corrupt("quarantine days", kind_text))?,
        },
        EvidenceKind::QuarantineRelease => {
            Evidence::QuarantineRelease { mode: need_value(value, QuarantineMode::parse)? }
        }
        EvidenceKind::ManagementDecision => Evidence::ManagementDecision {
            color: need_value(value, DecisionColour::parse)?,
            until: need_time()?,
            basis: words.unwrap_or_default().to_string(),
            approvers: serde_json::from_str(text(get(6)?)?.unwrap_or("[]")).map_err(|e| corrupt("approvers", e))?,
        },
    })
}

fn need_value<T>(value: Option<&str>, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    value.and_then(parse).ok_or_else(|| corrupt("evidence value", value.unwrap_or_default()))
}

fn text(v: ValueRef<'_>) -> Result<Option<&str>, StoreError> {
    match v {
        ValueRef::Null => Ok(None),
        other => other.as_str().map(Some).map_err(|e| corrupt("evidence text column", e)),
    }
}
