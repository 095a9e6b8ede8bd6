//! Self-declaration (健康申报): a resident, or a proxy for them, declares symptoms, a
//! contact with a case and recent stays. Each item becomes evidence with the declarer as
//! its source — a `declaration` (symptom or contact, since when) or a `stay` — admitted
//! like any row and judged by the rule set in force, never by this code. A resident can
//! only declare about themself or those they act for (the caller checks), and a
//! declaration can only add evidence: it withdraws nothing.
//!
//! A declared stay in an escalated area turns a code red, so whoever holds a person's key
//! can do it. A key only its holder has seen is the person's (or their family's) word; a
//! key an official gave at a service counter is also that official's. What such a key
//! declares therefore waits, sealed with the person's data key, until another official
//! confirms it (`waiting_declarations`): one official alone never turns a code red.

use healthcode_domain::{DeclaredItem, PersonId, ValidationError};
use serde_json::json;

use crate::secrets::new_id;
use crate::waiting_declarations::WaitingDeclaration;
use crate::{AtPolicy, Evidence, IngestReport, Reader, Residents, ServiceError, Source};

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

/// What became of a declaration.
#[derive(Debug, Clone)]
pub enum Declared {
    /// Recorded as evidence; the code is up to date.
    Recorded(IngestReport),
    /// Made with a key an official has seen: it counts once another official confirms it.
    Waiting(WaitingDeclaration),
}

impl Residents {
    /// Records a declaration about `person` by the person or a proxy (`by`): every item is
    /// checked before any is stored, and all are stored or none. Made with a key an
    /// official has seen, it waits for another official instead (`Declared::Waiting`).
    pub async fn declare(
        &self,
        person: &PersonId,
        by: &Reader,
        declaration: &Declaration,
    ) -> Result<Declared, ServiceError> {
        let declarer = by
            .resident_label()
            .ok_or_else(|| ServiceError::Forbidden("a declaration is made by the person or their proxy".into()))?;
        if !by.seen_by().is_empty() {
            // Stored when confirmed, later: symptoms date from now unless declared earlier.
            let mut declaration = declaration.clone();
            declaration.since.get_or_insert_with(|| self.clock.now().to_rfc3339());
            let rows = self.evidence.check_declaration(person, &format!("counter-{declarer}"), &declaration)?;
            return Ok(Declared::Waiting(self.keep_waiting(person, &declarer, by.seen_by(), rows).await?));
        }
        let rows = self.evidence.check_declaration(person, &declarer, declaration)?;
        let numbers: Vec<usize> = (1..=rows.len()).collect();
        let report = self
            .evidence
            .ingest_owned(
                Source::Trusted,
                None,
                &numbers,
                &rows,
                AtPolicy::ServerClock,
                &format!("declaration ({declarer})"),
            )
            .await?;
        Ok(Declared::Recorded(report))
    }
}

impl Evidence {
    /// A declaration's records, each checked as admission will check it: a declaration
    /// half stored would say less than was declared, and a visitor's conversion checks
    /// theirs before registering them. `declarer` names who declared in the records' ids
    /// and source.
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
        // explanation): `hc-decl-self-…`, `hc-decl-proxy-<their id>-…`, or, confirmed by a
        // second official, `hc-decl-counter-self-…`.
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
