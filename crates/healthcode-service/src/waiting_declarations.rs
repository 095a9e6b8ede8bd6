//! Declarations that wait for a second official: those made with a key an official has
//! seen (one given at a service counter, or a proxy link agreed to with such a key). The
//! official who gave the key could otherwise declare, alone, a stay in an escalated area
//! and turn the person red — the Zhengzhou path, through a counter.
//!
//! The declared records are checked when declared and kept sealed with the person's data
//! key (a shredded key makes them unreadable). An office covering the person, other than
//! every official who saw the key, reads them (into the person's access log) and confirms
//! or refuses; a confirmation stores the records (judged by the rules in force then) and
//! goes into the transparency log. A decision is claimed by a compare-and-set, so two
//! officials deciding at once cannot both succeed.

use base64::Engine;
use healthcode_domain::{PersonId, Role, Timestamp, ValidationError};
use healthcode_log::{DeclarationConfirmation, Entry};
use healthcode_store::Account;
use healthcode_vault::{field_aad, open, seal};
use serde::{Deserialize, Serialize};

use crate::residents::covers;
use crate::secrets::new_id;
use crate::{AtPolicy, IngestReport, Residents, ServiceError, Source};

const WAITING_DECLARATIONS: &str = "waiting_declaration";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WaitingStatus {
    /// Not evidence yet: the code does not use it.
    Waiting,
    /// A second official confirmed it: its records are evidence.
    Confirmed,
    /// A second official refused it: it never counts.
    Refused,
}

/// A declaration waiting for (or decided by) a second official. Its records are sealed;
/// this is what anyone allowed to see it reads without opening them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitingDeclaration {
    pub id: String,
    pub person: PersonId,
    /// `self`, or `proxy:<their id>`.
    pub declarer: String,
    /// The officials who had seen the key (or the proxy link) it was made with: none of
    /// them may decide it.
    pub key_seen_by: Vec<String>,
    pub declared_at: Timestamp,
    /// How many items (symptoms, a contact, stays).
    pub items: usize,
    pub status: WaitingStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<Timestamp>,
    /// Why it was refused, as the official wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A confirmation whose records are stored (a confirmation interrupted before that is
    /// finished by confirming again).
    #[serde(default)]
    pub applied: bool,
}

/// As stored: the declaration and its records, sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredDeclaration {
    declaration: WaitingDeclaration,
    /// The records as JSON lines, sealed with the person's data key bound to the id; base64.
    sealed_rows: String,
}

/// A waiting declaration with its records opened, for the official who decides it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenedDeclaration {
    pub declaration: WaitingDeclaration,
    /// The records as they will be stored.
    pub records: Vec<DeclaredRecord>,
}

/// One declared record: a symptom or a contact (`declaration`, `item`, `since`), or a stay
/// (`stay`, `area`, `from`, `to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclaredRecord {
    /// The evidence id it will be stored under (`hc-decl-counter-…`).
    pub id: String,
    /// `declaration` or `stay`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// What a decision over a waiting declaration should do.
enum Decision<'a> {
    Confirm,
    Refuse(&'a str),
}

fn not_found(id: &str) -> ServiceError {
    ValidationError::field("declaration", format!("no waiting declaration `{id}`")).into()
}

impl Residents {
    /// Keeps a declaration's checked records sealed until a second official decides.
    pub(crate) async fn keep_waiting(
        &self,
        person: &PersonId,
        declarer: &str,
        seen_by: &[String],
        rows: Vec<String>,
    ) -> Result<WaitingDeclaration, ServiceError> {
        let id = new_id("wd-");
        let (key, _) = self.data_key(person).await?;
        let sealed = seal(&key, &field_aad(person.as_str(), &id), rows.join("\n").as_bytes());
        let now = self.clock.now();
        let declaration = WaitingDeclaration {
            id: id.clone(),
            person: person.clone(),
            declarer: declarer.to_string(),
            key_seen_by: seen_by.to_vec(),
            declared_at: now,
            items: rows.len(),
            status: WaitingStatus::Waiting,
            decided_by: None,
            decided_at: None,
            reason: None,
            applied: false,
        };
        let stored = StoredDeclaration {
            declaration: declaration.clone(),
            sealed_rows: base64::engine::general_purpose::STANDARD.encode(sealed),
        };
        self.documents.save(WAITING_DECLARATIONS, &id, now, &stored).await?;
        Ok(declaration)
    }

    /// A person's own declarations that wait or were decided (the person and their
    /// proxies read them; nothing sealed is opened).
    pub async fn declarations_of(&self, person: &PersonId) -> Result<Vec<WaitingDeclaration>, ServiceError> {
        let all: Vec<StoredDeclaration> = self.documents.load_all(WAITING_DECLARATIONS).await?;
        Ok(all.into_iter().map(|s| s.declaration).filter(|d| &d.person == person).collect())
    }

    /// The declarations waiting for an official of `office`: persons it covers, and that
    /// none of its own officials' keys made. Who and how many items, not what.
    pub async fn waiting_declarations(&self, office: &Account) -> Result<Vec<WaitingDeclaration>, ServiceError> {
        may_decide(office)?;
        let all: Vec<StoredDeclaration> = self.documents.load_all(WAITING_DECLARATIONS).await?;
        let mut waiting = Vec::new();
        for stored in all {
            let declaration = stored.declaration;
            if declaration.status != WaitingStatus::Waiting || declaration.key_seen_by.contains(&office.username) {
                continue;
            }
            let Some(record) = self.evidence_store.person(&declaration.person).await? else { continue };
            if covers(office, &record, self.keys.ring().region()) {
                waiting.push(declaration);
            }
        }
        Ok(waiting)
    }

    /// A waiting declaration opened for an official who may decide it, with a purpose
    /// that goes into the person's access log.
    pub async fn open_declaration(
        &self,
        office: &Account,
        id: &str,
        purpose: Option<&str>,
    ) -> Result<OpenedDeclaration, ServiceError> {
        may_decide(office)?;
        let (stored, _) = self.stored_declaration(id).await?;
        let reader = self.reader_for_staff(office.clone(), &stored.declaration.person, purpose).await?;
        self.accesses.record(&stored.declaration.person, &reader, "declaration").await?;
        let rows = self.open_rows(&stored).await?;
        let records = rows
            .iter()
            .map(|row| serde_json::from_str(row))
            .collect::<Result<_, _>>()
            .map_err(|e| ServiceError::Background(format!("a waiting declaration's record cannot be read: {e}")))?;
        Ok(OpenedDeclaration { declaration: stored.declaration, records })
    }

    /// A second official confirms a waiting declaration: its records become evidence and
    /// the person's code is evaluated; the confirmation is logged (never whom).
    pub async fn confirm_declaration(
        &self,
        office: &Account,
        id: &str,
    ) -> Result<(WaitingDeclaration, IngestReport), ServiceError> {
        let (stored, seen) = self.claim_decision(office, id, Decision::Confirm).await?;
        let rows = self.open_rows(&stored).await?;
        let numbers: Vec<usize> = (1..=rows.len()).collect();
        let declarer = &stored.declaration.declarer;
        let origin = format!("declaration ({declarer}, confirmed by {})", office.username);
        let report =
            self.evidence.ingest_owned(Source::Trusted, None, &numbers, &rows, AtPolicy::ServerClock, &origin).await?;
        let now = self.clock.now();
        self.log
            .record(&[Entry::DeclarationConfirmation(DeclarationConfirmation {
                at: now.as_millis(),
                declaration_id: id.to_string(),
                key_seen_by: stored.declaration.key_seen_by.clone(),
                confirmed_by: office.username.clone(),
                items: stored.declaration.items as u64,
            })])
            .await?;
        let mut done = stored;
        done.declaration.applied = true;
        // Only this official's claim could have made it confirmed: a failed replace means
        // nothing but a retry of this same confirmation, which stored the same records.
        self.documents.replace(WAITING_DECLARATIONS, id, done.declaration.declared_at, &done, &seen).await?;
        Ok((done.declaration, report))
    }

    /// A second official refuses a waiting declaration, with a reason the person reads.
    pub async fn refuse_declaration(
        &self,
        office: &Account,
        id: &str,
        reason: &str,
    ) -> Result<WaitingDeclaration, ServiceError> {
        let reason = reason.trim();
        let n = reason.chars().count();
        if !(4..=500).contains(&n) || reason.chars().any(char::is_control) {
            return Err(ValidationError::field("reason", "`reason` is 4 to 500 characters of text").into());
        }
        let (stored, _) = self.claim_decision(office, id, Decision::Refuse(reason)).await?;
        Ok(stored.declaration)
    }

    /// Checks that `office` may decide the declaration and saves the decision over the
    /// declaration as read (compare-and-set). Returns what was saved and its stored text.
    async fn claim_decision(
        &self,
        office: &Account,
        id: &str,
        decision: Decision<'_>,
    ) -> Result<(StoredDeclaration, String), ServiceError> {
        may_decide(office)?;
        self.alarms.if_fresh_approver(office, "counter key's declaration", self.keys.ring().region()).await?;
        let (mut stored, seen) = self.stored_declaration(id).await?;
        let declaration = &mut stored.declaration;
        if declaration.key_seen_by.contains(&office.username) {
            return Err(ServiceError::Forbidden(
                "you have seen the key this declaration was made with (you gave it at a counter): another official \
                 decides it"
                    .into(),
            ));
        }
        let record = self
            .evidence_store
            .person(&declaration.person)
            .await?
            .ok_or_else(|| ServiceError::UnknownPerson(declaration.person.clone()))?;
        if !covers(office, &record, self.keys.ring().region()) {
            return Err(ServiceError::Forbidden(
                "this person lives outside your jurisdiction; their own district's office decides".into(),
            ));
        }
        match (declaration.status, &decision) {
            (WaitingStatus::Waiting, _) => {}
            // A confirmation interrupted before its records were stored is finished by the
            // official who made it.
            (WaitingStatus::Confirmed, Decision::Confirm)
                if !declaration.applied && declaration.decided_by.as_deref() == Some(office.username.as_str()) =>
            {
                return Ok((stored, seen));
            }
            _ => {
                return Err(ServiceError::Conflict(format!(
                    "this declaration was {} already",
                    if declaration.status == WaitingStatus::Refused { "refused" } else { "confirmed" }
                )))
            }
        }
        declaration.decided_by = Some(office.username.clone());
        declaration.decided_at = Some(self.clock.now());
        match decision {
            Decision::Confirm => declaration.status = WaitingStatus::Confirmed,
            Decision::Refuse(reason) => {
                declaration.status = WaitingStatus::Refused;
                declaration.reason = Some(reason.to_string());
            }
        }
        let at = declaration.declared_at;
        let text = serde_json::to_string(&stored).map_err(|e| ServiceError::Background(e.to_string()))?;
        if !self.documents.replace(WAITING_DECLARATIONS, id, at, &stored, &seen).await? {
            return Err(ServiceError::Conflict(
                "another official decided this declaration while you did; read it again".into(),
            ));
        }
        Ok((stored, text))
    }

    async fn stored_declaration(&self, id: &str) -> Result<(StoredDeclaration, String), ServiceError> {
        self.documents.load_seen(WAITING_DECLARATIONS, id).await?.ok_or_else(|| not_found(id))
    }

    async fn open_rows(&self, stored: &StoredDeclaration) -> Result<Vec<String>, ServiceError> {
        let person = &stored.declaration.person;
        let unreadable = |what: &str| {
            ServiceError::Conflict(format!(
                "this declaration can no longer be read ({what}): the person's data was destroyed or erased"
            ))
        };
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(&stored.sealed_rows)
            .map_err(|_| unreadable("not base64"))?;
        let (key, _) = self.data_key(person).await?;
        let plain = open(&key, &field_aad(person.as_str(), &stored.declaration.id), &sealed)
            .map_err(|_| unreadable("its key is gone"))?;
        let text = String::from_utf8(plain).map_err(|_| unreadable("not text"))?;
        Ok(text.lines().map(str::to_string).collect())
    }
}

/// Offices decide declarations: local and provincial epidemic offices.
fn may_decide(office: &Account) -> Result<(), ServiceError> {
    if !matches!(office.role, Role::LocalOffice | Role::ProvincialOffice) {
        return Err(ServiceError::Forbidden("only local or provincial epidemic offices decide declarations".into()));
    }
    Ok(())
}
