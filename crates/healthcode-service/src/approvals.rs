//! The four-eyes rules every approval follows (decisions, rule changes, designations):
//! only a provincial officer approves; never what they proposed; never twice.

use healthcode_domain::Role;
use healthcode_store::{Account, Approval};

use crate::ServiceError;

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
