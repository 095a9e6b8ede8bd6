//! A region decides whom it recognises (互认协议 are signed between provinces): an agreement
//! the hub publishes takes effect here only once two of this region's provincial officers
//! have confirmed it — one proposes, another approves — and only within the window they
//! confirmed. The hub alone could otherwise make this region accept a region's codes it
//! never agreed to, or widen an agreement; it can still narrow or end one (the issuing
//! side may withdraw), which `national_agreement_changed` says aloud.
//!
//! A confirmation is logged in this region's log (`agreement_confirmation`: the terms and
//! both officers). A later confirmation (a shorter window, or an end) replaces the earlier
//! one once approved; until then the earlier one holds.

use healthcode_domain::{Timestamp, ValidationError};
use healthcode_log::{AgreementConfirmation, Entry};
use healthcode_store::{Account, Approval};
use serde::{Deserialize, Serialize};

use super::trust::{Agreement, ConfirmedAgreement};
use super::{National, AGREEMENT};
use crate::approvals::{another_officer, answers_for_province, may_approve};
use crate::ServiceError;

const CONFIRMATION: &str = "national_agreement_confirmation";

/// A proposal to confirm an agreement, waiting for a second officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProposedConfirmation {
    pub terms: ConfirmedAgreement,
    pub proposed_by: String,
    pub proposed_at: Timestamp,
}

/// This region's confirmation of its agreement with one issuing region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementStanding {
    pub issuing: String,
    /// The agreement as the hub publishes it now (`None`: the hub publishes none).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub published: Option<Agreement>,
    /// What two officers of this region confirmed, in force (`None`: nothing yet).
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub confirmed: Option<ConfirmedAgreement>,
    /// Who confirmed it: the proposer, then the approver.
    #[serde(default)]
    pub confirmed_by: Vec<Approval>,
    /// A confirmation waiting for its second officer.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub pending: Option<ProposedConfirmation>,
}

impl AgreementStanding {
    /// An agreement with `issuing` that nobody here has confirmed or proposed to.
    fn none(issuing: &str) -> Self {
        AgreementStanding {
            issuing: issuing.into(),
            published: None,
            confirmed: None,
            confirmed_by: Vec::new(),
            pending: None,
        }
    }
}

impl National {
    fn own_region(&self) -> Result<&str, ServiceError> {
        match &self.role {
            super::Role::Region { region, .. } => Ok(region),
            _ => Err(ServiceError::Forbidden("agreements are confirmed by a region, for the codes it accepts".into())),
        }
    }

    /// The agreements that name this region as the receiving one, and where each stands.
    pub async fn agreements_here(&self) -> Result<Vec<AgreementStanding>, ServiceError> {
        let region = self.own_region()?.to_string();
        let published: Vec<Agreement> = self
            .documents
            .load_all::<Agreement>(AGREEMENT)
            .await?
            .into_iter()
            .filter(|a| a.receiving == region)
            .collect();
        let mut standings: Vec<AgreementStanding> = self.documents.load_all(CONFIRMATION).await?;
        for agreement in &published {
            if !standings.iter().any(|s| s.issuing == agreement.issuing) {
                standings.push(AgreementStanding::none(&agreement.issuing));
            }
        }
        // What the hub publishes now, whatever it published when a confirmation was made.
        for standing in &mut standings {
            standing.published = published.iter().find(|a| a.issuing == standing.issuing).cloned();
        }
        standings.sort_by(|a, b| a.issuing.cmp(&b.issuing));
        Ok(standings)
    }

    /// A provincial officer proposes to confirm the hub's agreement for this region to
    /// recognise `issuing`'s codes, up to `until` if given (never beyond the hub's).
    pub async fn propose_confirmation(
        &self,
        by: &Account,
        issuing: &str,
        until: Option<Timestamp>,
    ) -> Result<AgreementStanding, ServiceError> {
        let region = self.own_region()?.to_string();
        confirmer(by)?;
        self.alarms.if_fresh_approver(by, "confirmation of an agreement", &region).await?;
        let published = self.documents.load::<Agreement>(AGREEMENT, &format!("{region}/{issuing}")).await?;
        let Some(published) = published else {
            return Err(ValidationError::field(
                "issuing",
                format!("the hub publishes no agreement for this region to recognise region {issuing}'s codes"),
            )
            .into());
        };
        let until = match (published.until, until) {
            (Some(hub), Some(ours)) => Some(hub.min(ours)),
            (hub, ours) => hub.or(ours),
        };
        if until.is_some_and(|u| u <= published.from) {
            return Err(ValidationError::field("until", "the window ends before the agreement begins").into());
        }
        let terms =
            ConfirmedAgreement { issuing: issuing.into(), path: published.path.clone(), from: published.from, until };
        let mut standing = self.standing(issuing).await?;
        standing.pending =
            Some(ProposedConfirmation { terms, proposed_by: by.username.clone(), proposed_at: self.clock.now() });
        standing.published = Some(published);
        self.documents.save(CONFIRMATION, issuing, self.clock.now(), &standing).await?;
        Ok(standing)
    }

    /// Another provincial officer approves the pending confirmation: from now on it is the
    /// window in which this region recognises `issuing`'s codes (with the hub's agreement).
    pub async fn approve_confirmation(&self, by: &Account, issuing: &str) -> Result<AgreementStanding, ServiceError> {
        let region = self.own_region()?.to_string();
        confirmer(by)?;
        self.alarms.if_fresh_approver(by, "confirmation of an agreement", &region).await?;
        let (mut standing, seen) =
            self.documents.load_seen::<AgreementStanding>(CONFIRMATION, issuing).await?.ok_or_else(|| {
                ValidationError::field("issuing", format!("no confirmation of region {issuing} is proposed"))
            })?;
        let Some(pending) = standing.pending.take() else {
            return Err(ServiceError::Conflict(format!("no confirmation of region {issuing} waits for approval")));
        };
        another_officer(by, "confirmation of an agreement", &pending.proposed_by, &[])?;
        let now = self.clock.now();
        standing.confirmed_by = vec![
            Approval { by: pending.proposed_by.clone(), at: pending.proposed_at },
            Approval { by: by.username.clone(), at: now },
        ];
        let entry = Entry::AgreementConfirmation(AgreementConfirmation {
            at: now.as_millis(),
            receiving: region.clone(),
            issuing: issuing.into(),
            path: pending.terms.path.clone(),
            from: pending.terms.from.as_millis(),
            until: pending.terms.until.map(Timestamp::as_millis),
            approvers: standing.confirmed_by.iter().map(|a| a.by.clone()).collect(),
        });
        standing.confirmed = Some(pending.terms);
        // Claimed over the proposal as read: two approvals at once log one confirmation.
        if !self.documents.replace(CONFIRMATION, issuing, now, &standing, &seen).await? {
            return Err(ServiceError::Conflict(
                "another officer changed this confirmation while you approved it; read it again".into(),
            ));
        }
        self.log.record(&[entry]).await?;
        self.load_trust().await?;
        Ok(standing)
    }

    async fn standing(&self, issuing: &str) -> Result<AgreementStanding, ServiceError> {
        Ok(self
            .documents
            .load::<AgreementStanding>(CONFIRMATION, issuing)
            .await?
            .unwrap_or_else(|| AgreementStanding::none(issuing)))
    }

    /// The windows this region's officers confirmed, for the trust state.
    pub(super) async fn confirmed_agreements(&self) -> Result<Vec<ConfirmedAgreement>, ServiceError> {
        if self.own_region().is_err() {
            return Ok(Vec::new());
        }
        let standings: Vec<AgreementStanding> = self.documents.load_all(CONFIRMATION).await?;
        Ok(standings.into_iter().filter_map(|s| s.confirmed).collect())
    }
}

/// Who confirms whom this region recognises: provincial officers who answer for the whole
/// province (a city's officer does not decide the province's borders).
fn confirmer(by: &Account) -> Result<(), ServiceError> {
    may_approve(by, "confirmation of an agreement")?;
    answers_for_province(by, "an agreement to recognise another region's codes")
}
