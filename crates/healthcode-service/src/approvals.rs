//! The four-eyes rules every approval follows (decisions, rule changes, designations):
//! only a provincial officer approves; never what they proposed; never twice.

use healthcode_domain::Role;
use healthcode_store::{Account, Approval};

use crate::ServiceError;

/// How many times an approval reads again when another officer's approval was saved
/// between its read and its save (a compare-and-set lost): each retry sees the other
/// approval, so a second one is enough unless approvals keep arriving at once.
pub(crate) const APPROVAL_ATTEMPTS: usize = 5;

/// The answer when every attempt lost its race.
pub(crate) fn approvals_kept_changing(what: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "other officers' approvals kept changing this {what} while yours was saved; nothing of yours was \
         recorded: try again"
    ))
}

/// Checked before anything is read: who may approve `what` at all.
pub(crate) fn may_approve(by: &Account, what: &str) -> Result<(), ServiceError> {
    if by.role != Role::ProvincialOffice {
        return Err(ServiceError::Forbidden(format!("only provincial-office officers approve {what}s")));
    }
    Ok(())
}

/// Whether `by` may add an approval to `what`, proposed by `proposed_by`, that already has
/// `approvals`.
pub(crate) fn another_officer(
    by: &Account,
    what: &str,
    proposed_by: &str,
    approvals: &[Approval],
) -> Result<(), ServiceError> {
    if proposed_by == by.username {
        return Err(ServiceError::Forbidden(format!("the proposer of a {what} cannot approve it")));
    }
    if approvals.iter().any(|a| a.by == by.username) {
        return Err(ServiceError::Forbidden(format!(
            "you already approved this {what}: the second approval must come from another officer"
        )));
    }
    Ok(())
}

/// For what applies to the whole province (a rule set, whom the province recognises): the
/// officer answers for the province, not one city or county (their jurisdiction is the
/// province's two digits, or none).
pub(crate) fn answers_for_province(by: &Account, what: &str) -> Result<(), ServiceError> {
    match by.jurisdiction.as_deref() {
        Some(j) if j.len() > 2 => Err(ServiceError::Forbidden(format!(
            "{what} applies to the whole province: it is approved by provincial officers whose jurisdiction is the \
             province, and yours is {j}"
        ))),
        _ => Ok(()),
    }
}
