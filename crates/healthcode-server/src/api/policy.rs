//! Who may call what: one table for every protected action of staff and systems, checked
//! by `allow`. A person's own data (code, QR, history, access log, family, complaints)
//! takes the person's resident key or a proxy's (`auth::reader`), and staff reach it only
//! through `ReadPersonData`, with a purpose the person sees. The routes that are in
//! neither are public by design (registration, the trust list, verification, the
//! transparency log's checkpoints and proofs, venue registration), or take a venue's or
//! device's own key (venue display, devices, gates).

use axum::http::HeaderMap;
use healthcode_domain::Role;
use healthcode_store::Account;

use crate::api::auth::bearer;
use crate::{ApiError, AppState};

/// Declares the actions and, for each, a type naming it (`may::ApproveDecision`), so that
/// a handler states the action it needs in its signature (`Actor<may::ApproveDecision>`).
macro_rules! actions {
    ($($name:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action { $($name),* }

        /// One type per [`Action`], for the extractors that authorise a caller.
        // Types only, never values.
        #[allow(dead_code)]
        pub mod may {
            $(
                #[derive(Debug)]
                pub struct $name;
                impl super::Permission for $name {
                    const ACTION: super::Action = super::Action::$name;
                }
            )*
        }
    };
}

/// An action as a type.
pub trait Permission: Send + Sync + 'static {
    const ACTION: Action;
}

actions! {
    SubmitEvidence,
    Designate,
    ReadRejections,
    ProposeDecision,
    ApproveDecision,
    ReadDecisions,
    ReadDecisionPersons,
    ReadAlarms,
    ProposeRules,
    ApproveRules,
    ReadRuleProposals,
    ApproveDesignation,
    ReadDesignationProposals,
    TraceContacts,
    ApproveTrace,
    ReadPersonData,
    ReplaceResidentKey,
    ReadComplaints,
    AnswerComplaints,
    ReadDevices,
    ApproveDevice,
    ManageThirdParties,
    PostNotice,
    ReadThirdParties,
    ThirdPartyCheck,
    ReadExactCounts,
    SubmitNational,
    CheckGroup,
    ReadGroupChecks,
    DecideDeclarations,
    ReadAgreements,
    ConfirmAgreement,
}

use Role::*;

/// The roles that may take each action. Jurisdictions and the finer rules of decisions
/// (not the proposer, not twice) are checked where the action is carried out.
pub const POLICY: &[(Action, &[Role])] = &[
    (Action::SubmitEvidence, &[DataSource]),
    // At the national hub: a region submits its own key-person records and retractions.
    (Action::SubmitNational, &[Region]),
    // An employer or transport operator checks its group's roster (复工专列); the
    // province and auditors see who checked which roster, without persons.
    (Action::CheckGroup, &[GroupOrganiser]),
    (Action::ReadGroupChecks, &[ProvincialOffice, Auditor]),
    // A local office's designation is a proposal until a provincial officer approves it.
    (Action::Designate, &[LocalOffice, ProvincialOffice]),
    (Action::ApproveDesignation, &[ProvincialOffice]),
    (Action::ReadDesignationProposals, &[LocalOffice, ProvincialOffice, Auditor]),
    // Tracing lists and confirms close contacts: health officers of the epidemic offices;
    // a confirmation takes effect when a provincial officer who did not make it approves.
    (Action::TraceContacts, &[LocalOffice, ProvincialOffice]),
    (Action::ApproveTrace, &[ProvincialOffice]),
    (Action::ReadRejections, &[DataSource, LocalOffice, ProvincialOffice, Auditor]),
    (Action::ProposeDecision, &[LocalOffice, ProvincialOffice]),
    (Action::ApproveDecision, &[ProvincialOffice]),
    (Action::ReadDecisions, &[LocalOffice, ProvincialOffice, Auditor, ComplaintHandler]),
    // Whom a decision names: offices only, within jurisdiction, with a purpose the
    // persons see; auditors and complaint handlers see decisions without their persons.
    (Action::ReadDecisionPersons, &[LocalOffice, ProvincialOffice]),
    (Action::ReadAlarms, &[ProvincialOffice, Auditor]),
    // Local offices propose rule changes, never activate them (seed 001: 各地不得擅自修改).
    (Action::ProposeRules, &[LocalOffice, ProvincialOffice]),
    (Action::ApproveRules, &[ProvincialOffice]),
    (Action::ReadRuleProposals, &[LocalOffice, ProvincialOffice, Auditor]),
    // Staff read a person's code and history only within their jurisdiction and with a
    // purpose that goes into the person's access log; auditors audit the log, not persons.
    (Action::ReadPersonData, &[LocalOffice, ProvincialOffice, ComplaintHandler]),
    // A lost resident key is replaced at a community service point after checking papers.
    (Action::ReplaceResidentKey, &[LocalOffice, ProvincialOffice]),
    (Action::ReadComplaints, &[ComplaintHandler, ProvincialOffice, Auditor]),
    // The provincial office takes over a complaint once it is past its deadline (the
    // service checks that it is escalated).
    (Action::AnswerComplaints, &[ComplaintHandler, ProvincialOffice]),
    // A device reads codes and looks up ID cards: it works once a provincial officer
    // whose jurisdiction covers the venue approved it.
    (Action::ReadDevices, &[LocalOffice, ProvincialOffice, Auditor]),
    (Action::ApproveDevice, &[ProvincialOffice]),
    // Outside systems for the extended functions: registered and revoked by the province,
    // visible to auditors, and able to do one thing, within their scope.
    (Action::ManageThirdParties, &[ProvincialOffice]),
    // The incident notice every page and answer carries: the province's to post and lift.
    (Action::PostNotice, &[ProvincialOffice]),
    (Action::ReadThirdParties, &[ProvincialOffice, Auditor]),
    (Action::ThirdPartyCheck, &[ThirdParty]),
    // The public dashboard rounds each county's counts to tens and shows none under ten;
    // the epidemic offices and auditors, signed in, see them exact (no person, only counts).
    (Action::ReadExactCounts, &[LocalOffice, ProvincialOffice, Auditor]),
    // What a key given at a service counter declares waits for an office official other
    // than the one who gave it (the service checks who gave it, and the jurisdiction).
    (Action::DecideDeclarations, &[LocalOffice, ProvincialOffice]),
    // Whom the region recognises: the hub publishes agreements; two provincial officers of
    // the region (answering for the province) confirm each before it counts here.
    (Action::ReadAgreements, &[LocalOffice, ProvincialOffice, Auditor]),
    (Action::ConfirmAgreement, &[ProvincialOffice]),
];

pub fn permits(action: Action, role: Role) -> bool {
    POLICY.iter().any(|(a, roles)| *a == action && roles.contains(&role))
}

/// The caller's account, if it may take `action`: 401 without a valid key, 403 with the
/// wrong role.
pub(crate) async fn allow(state: &AppState, headers: &HeaderMap, action: Action) -> Result<Account, ApiError> {
    allow_key(state, bearer(headers, "session or API key")?, action).await
}

/// As `allow`, for a key that came some other way (the officials' pages read it from
/// their session cookie): one check for the API and the pages.
pub(crate) async fn allow_key(state: &AppState, key: &str, action: Action) -> Result<Account, ApiError> {
    let account = state.service.accounts().authenticate(key).await?;
    if !permits(action, account.role) {
        return Err(ApiError::Forbidden(format!("a {} account may not do this ({action:?})", account.role)));
    }
    Ok(account)
}
