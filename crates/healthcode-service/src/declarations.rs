//! Self-declaration (健康申报): a resident, or a proxy for them, declares symptoms, a
//! contact with a case and recent stays. Each item becomes evidence with the declarer as
//! its source — a `declaration` (symptom or contact, since when) or a `stay` — admitted
//! like any row and judged by the rule set in force, never by this code. A resident can
//! only declare about themself or those they act for (the caller checks), and a
//! declaration can only add evidence: it withdraws nothing.

use healthcode_domain::{DeclaredItem, PersonId, ValidationError};
use serde_json::json;

use crate::secrets::new_id;
use crate::{AtPolicy, Evidence, IngestReport, Reader, ServiceError, Source};

/// Items one declaration may hold: every symptom and the contact, and a fortnight of stays.
const MAX_DECLARED_ITEMS: usize = 20;

/// One declared stay: where, from when, until when (absent: still there).
#[derive(Debug, Clone)]
pub struct DeclaredStay {
    pub area: String,
    pub from: String,
    pub to: Option<String>,
}

/// What a resident declares.
#[derive(Debug, Clone, Default)]
pub struct Declaration {
    /// `fever`, `cough`, `sore_throat`, `breathlessness`, `contact_with_case`.
    pub items: Vec<String>,
    /// Since when (RFC 3339); now if absent.
    pub since: Option<String>,
    pub stays: Vec<DeclaredStay>,
}

impl Evidence {
    /// Records a declaration about `person` by the person or a proxy (`by`): every item is
    /// checked before any is stored, and all are stored or none.
    pub async fn declare(
        &self,
        person: &PersonId,
        by: &Reader,
        declaration: &Declaration,
    ) -> Result<IngestReport, ServiceError> {
        let declarer = by
            .resident_label()
            .ok_or_else(|| ServiceError::Forbidden("a declaration is made by the person or their proxy".into()))?;
        let rows = self.check_declaration(person, &declarer, declaration)?;
        let numbers: Vec<usize> = (1..=rows.len()).collect();
        self.ingest_owned(
            Source::Trusted,
            None,
            &numbers,
            &rows,
            AtPolicy::ServerClock,
            &format!("declaration ({declarer})"),
        )
        .await
    }

    /// A declaration's records, each checked as admission will check it: a declaration
    /// half stored would say less than was declared, and a visitor's conversion checks
    /// theirs before registering them.
    pub(crate) fn check_declaration(
        &self,
        person: &PersonId,
        declarer: &str,
        declaration: &Declaration,
    ) -> Result<Vec<String>, ServiceError> {
        let count = declaration.items.len() + declaration.stays.len();
        if count == 0 || count > MAX_DECLARED_ITEMS {
            return Err(ValidationError::field(
                "items",
                format!("declare 1 to {MAX_DECLARED_ITEMS} items (symptoms, a contact, stays)"),
            )
            .into());
        }
        // Who declared is kept in the records' ids (the person sees them in their
        // explanation): `hc-decl-self-…`, or `hc-decl-proxy-<their id>-…`.
        let who = declarer.replace(':', "-");
        let batch = new_id(&format!("hc-decl-{who}-"));
        let mut rows = Vec::with_capacity(count);
        for item in &declaration.items {
            let item = DeclaredItem::parse(item.trim()).ok_or_else(|| {
                ValidationError::field("items", format!("`items` are among {}", DeclaredItem::choices()))
            })?;
            let mut row = json!({"id": format!("{batch}-{}", rows.len() + 1), "person_id": person.as_str(),
                                 "type": "declaration", "item": item.as_str(), "source": declarer});
            if let Some(since) = &declaration.since {
                row["since"] = json!(since);
            }
            rows.push(row.to_string());
        }
        for stay in &declaration.stays {
            rows.push(
                json!({"id": format!("{batch}-{}", rows.len() + 1), "person_id": person.as_str(), "type": "stay",
                       "area": stay.area, "from": stay.from, "to": stay.to, "source": declarer})
                .to_string(),
            );
        }
        let now = self.clock.now();
        for text in &rows {
            self.admit(text, AtPolicy::ServerClock, now, Source::Trusted)?;
        }
        Ok(rows)
    }
}
