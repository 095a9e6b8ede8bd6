//! Ingestion: raw rows in, a report per row out. Every row is accepted, recognised as a
//! duplicate, or rejected with a reason that is also stored; none is dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use healthcode_domain::{Event, PersonId, PersonKind, ValidationError};
use healthcode_store::{EvidenceStore, FederationStore, FeedStore, Inserted, NationalLink, NewRejection, PersonRecord};
use serde::Serialize;

use crate::admission::{unknown_person, Admitted, NamedPersons};
use crate::{AtPolicy, Clock, Codes, Pseudonymiser, ServiceError, Source};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RowStatus {
    Accepted,
    Duplicate,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RowOutcome {
    /// 1-based row number in the submitted batch.
    pub row: usize,
    pub status: RowStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestReport {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// The codes this batch caused to be re-evaluated, and how many changed colour.
    pub codes: crate::RefreshReport,
    /// How many of the accepted rows were retractions (complaints waiting for them are
    /// followed up: `Residents::follow_up_complaints`).
    #[serde(skip_serializing_if = "is_zero")]
    pub retractions: usize,
    pub rows: Vec<RowOutcome>,
}

/// Evidence: the rows departments, feeds and the system's own powers submit, admitted
/// (`admission`), stored, and their persons' codes refreshed; what was refused, kept with
/// its reason; feed batches (`feeds`). Holds only the evidence and feed stores, the clock,
/// the pseudonymiser (a row may name its person by document), the evaluator and the
/// uploads in progress.
pub struct Evidence {
    pub(crate) store: Arc<dyn EvidenceStore>,
    pub(crate) feed_store: Arc<dyn FeedStore>,
    /// National pseudonyms of persons named by document, and records for the hub.
    pub(crate) federation: Arc<dyn FederationStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) pseudonyms: Pseudonymiser,
    pub(crate) codes: Arc<Codes>,
    /// Feed batches being uploaded in this process.
    pub(crate) uploads: crate::feeds::Uploads,
    /// This region's code, once it takes part in the national exchange: the levels of its
    /// own areas go to the hub.
    pub(crate) national_region: std::sync::OnceLock<String>,
    /// Whether this region shares its negative tests with the other regions (its
    /// positive ones always travel, as key-person records).
    pub(crate) shares_tests: std::sync::atomic::AtomicBool,
    /// Other regions' keys, against which records kept for persons not yet known here are
    /// checked again when those persons come.
    pub(crate) national_trust: Arc<crate::national::NationalTrust>,
}

impl Evidence {
    pub(crate) fn new(
        store: Arc<dyn EvidenceStore>,
        feed_store: Arc<dyn FeedStore>,
        federation: Arc<dyn FederationStore>,
        clock: Arc<dyn Clock>,
        pseudonyms: Pseudonymiser,
        codes: Arc<Codes>,
        national_trust: Arc<crate::national::NationalTrust>,
    ) -> Self {
        Evidence {
            store,
            feed_store,
            federation,
            clock,
            pseudonyms,
            codes,
            uploads: Default::default(),
            national_region: Default::default(),
            shares_tests: Default::default(),
            national_trust,
        }
    }
}

impl Evidence {
    /// Ingests rows of JSON text (one event each), numbered 1, 2, … in the report.
    /// `origin` names the submission in the rejection log (e.g. `api`, `batch x.ndjson`).
    pub async fn ingest(&self, rows: &[String], policy: AtPolicy, origin: &str) -> Result<IngestReport, ServiceError> {
        let numbers: Vec<usize> = (1..=rows.len()).collect();
        self.ingest_numbered(&numbers, rows, policy, origin).await
    }

    /// As `ingest`, with each row's number given (e.g. its line in a file that has blank
    /// lines), for the report and the rejection log.
    pub async fn ingest_numbered(
        &self,
        numbers: &[usize],
        rows: &[String],
        policy: AtPolicy,
        origin: &str,
    ) -> Result<IngestReport, ServiceError> {
        self.ingest_from(Source::Trusted, numbers, rows, policy, origin).await
    }

    /// As `ingest_numbered`, for a source that may submit only some events: the others
    /// are rejected (and kept, with the reason) like any invalid row.
    pub async fn ingest_from(
        &self,
        source: Source,
        numbers: &[usize],
        rows: &[String],
        policy: AtPolicy,
        origin: &str,
    ) -> Result<IngestReport, ServiceError> {
        self.ingest_owned(source, None, numbers, rows, policy, origin).await
    }

    /// As `ingest_from`, for rows an account submitted: its rejections are the account's
    /// (a data source reads its own).
    pub async fn ingest_owned(
        &self,
        source: Source,
        owner: Option<&str>,
        numbers: &[usize],
        rows: &[String],
        policy: AtPolicy,
        origin: &str,
    ) -> Result<IngestReport, ServiceError> {
        if numbers.len() != rows.len() {
            return Err(ServiceError::Invalid(ValidationError::new(format!(
                "{} row numbers for {} rows",
                numbers.len(),
                rows.len()
            ))));
        }
        let now = self.clock.now();
        let mut outcomes: Vec<Option<RowOutcome>> = vec![None; rows.len()];
        let mut admitted: Vec<(usize, Admitted)> = Vec::with_capacity(rows.len());
        let mut by_id: Vec<(usize, PersonId)> = Vec::new();
        let mut named = NamedPersons::default();
        let mut links = Vec::new();
        for (i, text) in rows.iter().enumerate() {
            match self.admit(text, policy, now, source) {
                Ok((admission, person)) => {
                    if let (Admitted::Evidence(e), Some(person)) = (&admission, &person) {
                        if named.note(&e.person, person) {
                            by_id.push((admitted.len(), e.person.clone()));
                        }
                        if let healthcode_domain::PersonRef::Document(doc) = person {
                            links.extend(
                                self.pseudonyms
                                    .national_id(doc)
                                    .map(|national_id| NationalLink { national_id, person: e.person.clone() }),
                            );
                        }
                    }
                    admitted.push((i, admission));
                }
                Err(e) => outcomes[i] = Some(rejected(i, None, e)),
            }
        }

        // Evidence named by person_id must be about a registered person.
        let known = self.registered(&named.by_id.iter().cloned().collect::<Vec<_>>()).await?;
        let mut unknown = vec![false; admitted.len()];
        for (k, id) in &by_id {
            if !known.contains(id) {
                unknown[*k] = true;
                let (row, _) = &admitted[*k];
                outcomes[*row] = Some(rejected(*row, None, unknown_person(id)));
            }
        }

        let mut evidence = Vec::new();
        let mut evidence_rows = Vec::new();
        let mut designations = Vec::new();
        let mut designation_rows = Vec::new();
        for (k, (row, admission)) in admitted.into_iter().enumerate() {
            if unknown[k] {
                continue;
            }
            match admission {
                Admitted::Evidence(e) => {
                    evidence_rows.push(row);
                    evidence.push(e);
                }
                Admitted::Designation(d) => {
                    designation_rows.push(row);
                    designations.push(d);
                }
            }
        }

        // A retraction must name a stored record it may withdraw.
        let (refused, checked) = self.check_retractions(source, owner, &evidence).await?;
        if !refused.is_empty() {
            let kept: Vec<(usize, healthcode_store::NewEvidence)> = evidence_rows
                .into_iter()
                .zip(evidence)
                .enumerate()
                .filter_map(|(position, (row, e))| match refused.get(&position) {
                    Some(refusal) => {
                        outcomes[row] = Some(rejected(row, Some(e.id.as_str()), refusal.clone()));
                        None
                    }
                    None => Some((row, e)),
                })
                .collect();
            (evidence_rows, evidence) = kept.into_iter().unzip();
        }
        let mut withdrawals: BTreeMap<healthcode_domain::EventId, crate::transparency::Withdrawal> =
            checked.into_iter().map(|c| (c.withdrawal_id.clone(), c.withdrawal)).collect();

        self.register_documented(named.by_document).await?;
        // What travels to the hub is queued with the records that carry it, in one
        // transaction: a server dying after the commit cannot lose it.
        self.attach_hub_lines(&mut evidence, &links).await?;
        self.attach_level_lines(&mut designations);
        self.link_national(links).await?;
        let inserted = self.store.insert_evidence(&evidence).await?;
        let mut touched: BTreeSet<PersonId> = BTreeSet::new();
        let mut stored_withdrawals = Vec::new();
        let mut stored = Vec::new();
        for ((row, e), outcome) in evidence_rows.iter().zip(&evidence).zip(inserted) {
            outcomes[*row] = Some(settle(*row, e.id.as_str(), outcome));
            if matches!(outcome, Inserted::New { .. }) {
                touched.insert(e.person.clone());
                stored_withdrawals.extend(withdrawals.remove(&e.id));
                stored.push(e);
            }
        }
        self.log_retractions(&stored_withdrawals).await?;
        let retractions = stored_withdrawals.len();
        let inserted = self.store.insert_designations(&designations).await?;
        let mut new_designations = Vec::new();
        for ((row, d), outcome) in designation_rows.iter().zip(designations).zip(inserted) {
            outcomes[*row] = Some(settle(*row, d.id.as_str(), outcome));
            if let Inserted::New { seq } = outcome {
                new_designations.push(Event { id: d.id, at: d.at, seq, body: d.risk });
            }
        }

        let mut report = self.finish_report(numbers, rows, outcomes, origin, owner, now).await?;
        report.retractions = retractions;
        report.codes = self.codes.refresh_persons(&touched.into_iter().collect::<Vec<_>>()).await?;
        let bulk = self.codes.apply_designations(new_designations).await?;
        report.codes.evaluated += bulk.evaluated;
        report.codes.changed += bulk.changed;
        Ok(report)
    }

    /// Rejected inputs, oldest first, with an id above `after`: a data source reads the
    /// rejections of its own inputs, offices and auditors everyone's.
    pub async fn rejections(
        &self,
        reader: &healthcode_store::Account,
        after: i64,
        limit: usize,
    ) -> Result<Vec<healthcode_store::Rejection>, ServiceError> {
        let owner = (reader.role == healthcode_domain::Role::DataSource).then_some(reader.username.as_str());
        Ok(self.store.rejections(after, limit, owner).await?)
    }

    async fn finish_report(
        &self,
        numbers: &[usize],
        rows: &[String],
        outcomes: Vec<Option<RowOutcome>>,
        origin: &str,
        owner: Option<&str>,
        now: healthcode_domain::Timestamp,
    ) -> Result<IngestReport, ServiceError> {
        let mut report = IngestReport::default();
        let mut rejections = Vec::new();
        for (i, outcome) in outcomes.into_iter().enumerate() {
            let mut outcome = outcome.expect("every row has an outcome");
            outcome.row = numbers[i];
            match outcome.status {
                RowStatus::Accepted => report.accepted += 1,
                RowStatus::Duplicate => report.duplicates += 1,
                RowStatus::Rejected => {
                    report.rejected += 1;
                    rejections.push(NewRejection {
                        received_at: now,
                        owner: owner.map(str::to_string),
                        origin: if rows.len() == 1 {
                            origin.to_string()
                        } else {
                            format!("{origin} row {}", numbers[i])
                        },
                        input: crate::redact::kept_input(&rows[i]),
                        field: outcome.field.clone(),
                        reason: outcome.error.clone().unwrap_or_default(),
                    });
                }
            }
            report.rows.push(outcome);
        }
        self.store.record_rejections(&rejections).await?;
        Ok(report)
    }

    /// Registers the persons a batch names by identity document, before their evidence
    /// is stored: a department's list may reach us before the person asks for a code.
    async fn register_documented(&self, persons: BTreeMap<PersonId, PersonKind>) -> Result<(), ServiceError> {
        let now = self.clock.now();
        for (id, kind) in persons {
            let record = PersonRecord { id, kind, registered_at: now, residence_area: None };
            self.store.register_person(&record).await?;
        }
        Ok(())
    }
}

/// Every source's rejected inputs, oldest first, with an id above `after`: what the
/// operator, who holds the database, reads from the command line (`healthcode rejections`).
pub async fn operator_rejections(
    store: &dyn healthcode_store::Store,
    after: i64,
    limit: usize,
) -> Result<Vec<healthcode_store::Rejection>, ServiceError> {
    Ok(store.rejections(after, limit, None).await?)
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn settle(row: usize, id: &str, outcome: Inserted) -> RowOutcome {
    match outcome {
        Inserted::New { .. } => {
            RowOutcome { row: row + 1, status: RowStatus::Accepted, id: Some(id.into()), field: None, error: None }
        }
        Inserted::Duplicate { same_content: true } => {
            RowOutcome { row: row + 1, status: RowStatus::Duplicate, id: Some(id.into()), field: None, error: None }
        }
        Inserted::Duplicate { same_content: false } => rejected(
            row,
            Some(id),
            ValidationError::field(
                "id",
                format!("event id `{id}` was already recorded with different content; give a new record a new id"),
            ),
        ),
    }
}

fn rejected(row: usize, id: Option<&str>, error: ValidationError) -> RowOutcome {
    RowOutcome {
        row: row + 1,
        status: RowStatus::Rejected,
        id: id.map(String::from),
        field: error.field,
        error: Some(error.message),
    }
}
