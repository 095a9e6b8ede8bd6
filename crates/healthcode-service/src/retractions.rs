//! Retractions: a source withdraws one of its records about a person (a test filed under
//! the wrong person, a contact list with a wrong name). A retraction is evidence like any
//! other — it keeps the original, and the rules stop seeing the original from the
//! retraction's time on — but before it is stored it is checked against the record it
//! names, and once stored it is written to the transparency log, in the log of the person
//! it concerns, with who sent it.

use std::collections::BTreeMap;

use healthcode_domain::{EventId, Evidence as Body, EvidenceKind, PersonId, ValidationError};
use healthcode_store::NewEvidence;

use crate::transparency::{salted_digest, Withdrawal};
use crate::{Evidence, ServiceError, Source};

/// A retraction found to name a stored record it may withdraw.
pub(crate) struct Checked {
    /// The retraction's own id.
    pub withdrawal_id: EventId,
    pub withdrawal: Withdrawal,
}

impl Evidence {
    /// Checks the retractions among `batch` (the rows `skip` does not mark as refused
    /// already): each must name a stored record about the same person, not a retraction
    /// nor a management decision (lifted through the decision workflow), of a kind its
    /// source may submit, and not withdrawn already by another retraction. Returns the
    /// refusal of each refused row by position in `batch`, and what to log for the others
    /// once they are stored.
    pub(crate) async fn check_retractions(
        &self,
        source: Source,
        by: Option<&str>,
        batch: &[NewEvidence],
    ) -> Result<(BTreeMap<usize, ValidationError>, Vec<Checked>), ServiceError> {
        let mut refused = BTreeMap::new();
        let mut checked = Vec::new();
        let mut histories: BTreeMap<PersonId, Vec<healthcode_domain::Event<Body>>> = BTreeMap::new();
        for (position, row) in batch.iter().enumerate() {
            let Body::Retraction { retracts, .. } = &row.evidence else { continue };
            if !histories.contains_key(&row.person) {
                histories.insert(row.person.clone(), self.store.evidence_for(&row.person).await?);
            }
            let history = &histories[&row.person];
            match check_one(source, &row.id, retracts, history) {
                Ok(target) => checked.push(Checked {
                    withdrawal_id: row.id.clone(),
                    withdrawal: Withdrawal {
                        person: row.person.clone(),
                        event_digest: salted_digest(&self.codes.log.salt(&row.person), target),
                        event_type: target.body.kind().to_string(),
                        by: by.unwrap_or("system").to_string(),
                        department: match source {
                            Source::Department(d) => Some(d.to_string()),
                            Source::Trusted => None,
                        },
                    },
                }),
                Err(Refusal::Resent) => {}
                Err(Refusal::Invalid(e)) => {
                    refused.insert(position, e);
                }
            }
        }
        Ok((refused, checked))
    }

    /// Logs the retractions that were stored.
    pub(crate) async fn log_retractions(&self, stored: &[Withdrawal]) -> Result<(), ServiceError> {
        if !stored.is_empty() {
            self.codes.log.record_withdrawals(stored).await?;
        }
        Ok(())
    }
}

enum Refusal {
    /// The same retraction sent again: storing it reports the duplicate.
    Resent,
    Invalid(ValidationError),
}

fn check_one<'h>(
    source: Source,
    id: &EventId,
    retracts: &EventId,
    history: &'h [healthcode_domain::Event<Body>],
) -> Result<&'h healthcode_domain::Event<Body>, Refusal> {
    let refuse = |message: String| Err(Refusal::Invalid(ValidationError::field("retracts", message)));
    if history.iter().any(|e| &e.id == id) {
        return Err(Refusal::Resent);
    }
    let Some(target) = history.iter().find(|e| &e.id == retracts) else {
        return refuse(format!(
            "no record `{retracts}` about this person is stored; a retraction names the `id` of an earlier record \
             about the same person (a record in the same batch is not stored yet: send the retraction after it)"
        ));
    };
    match target.body.kind() {
        EvidenceKind::Retraction => {
            return refuse(format!(
                "`{retracts}` is itself a retraction and cannot be withdrawn; send the record again under a new id"
            ))
        }
        EvidenceKind::ManagementDecision => {
            return refuse(format!(
                "`{retracts}` is a management decision: it is lifted through the decision workflow (/v1/decisions), \
                 not retracted"
            ))
        }
        kind => {
            if let Source::Department(department) = source {
                // Another region's records are withdrawn by that region's correction through
                // the hub (or its revocation), never by a department here. (An approved
                // trace's close contacts are submitted as the health department's, which
                // answers complaints about them; a declared stay or contact is checked by the
                // department that could have reported it, which may withdraw a false one.)
                if ["hc-nat-", "hc-natrev-"].iter().any(|prefix| retracts.as_str().starts_with(prefix)) {
                    return refuse(format!(
                        "`{retracts}` is another region's record: that region withdraws it, through the national \
                         hub, and the withdrawal travels here"
                    ));
                }
                if !department.may_submit(kind) {
                    return refuse(format!(
                        "the {department} department may not retract `{kind}` records: only a department that may \
                         submit them can"
                    ));
                }
            }
        }
    }
    let earlier = history.iter().find(|e| matches!(&e.body, Body::Retraction { retracts: r, .. } if r == retracts));
    if let Some(earlier) = earlier {
        return refuse(format!("`{retracts}` was already retracted by `{}` at {}", earlier.id, earlier.at));
    }
    Ok(target)
}
