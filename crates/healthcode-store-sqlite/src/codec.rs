//! Reads and writes the evidence columns of `healthcode_store::EvidenceColumns`.

use healthcode_domain::Evidence;
use healthcode_store::{EvidenceColumns, StoreError};
use rusqlite::types::ValueRef;
use rusqlite::Row;

use crate::corrupt;

/// Decodes the columns starting at `first` of a row (kind, value, t1, t2, text, n, extra).
pub(crate) fn decode(row: &Row<'_>, first: usize) -> Result<Evidence, StoreError> {
    let get = |i: usize| row.get_ref(first + i).map_err(|e| corrupt("evidence row", e));
    EvidenceColumns {
        kind: text(get(0)?)?.unwrap_or_default(),
        value: text(get(1)?)?,
        t1: int(get(2)?)?,
        t2: int(get(3)?)?,
        text: text(get(4)?)?,
        n: int(get(5)?)?,
        extra: text(get(6)?)?.map(Into::into),
    }
    .decode()
}

fn text(v: ValueRef<'_>) -> Result<Option<&str>, StoreError> {
    match v {
        ValueRef::Null => Ok(None),
        other => other.as_str().map(Some).map_err(|e| corrupt("evidence text column", e)),
    }
}

fn int(v: ValueRef<'_>) -> Result<Option<i64>, StoreError> {
    match v {
        ValueRef::Null => Ok(None),
        other => other.as_i64().map(Some).map_err(|e| corrupt("evidence number column", e)),
    }
}
