//! Area designations by offices. Every designation is a proposal until a provincial
//! officer other than its proposer approves it: a 12-digit area is a single building or
//! village, and an escalation turns everyone who stayed there red (R6), so no one officer
//! may make one alone (seed 001: 经省卫生健康委综合评估和省领导小组同意). Offices propose
//! inside their jurisdiction; the approver's jurisdiction must cover the area too. Every
//! designation that takes effect is in the transparency log with who proposed and who
//! approved it, and the colour changes it causes count towards the alarms by origin.

use healthcode_domain::{within, AreaCode, RiskLevel, Role, Timestamp, ValidationError};
use healthcode_log::{DesignationApproval, Entry};
use healthcode_store::Account;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::admission::Source;
use crate::approvals::{another_officer, may_approve};
use crate::documents::Documents;
use crate::secrets::new_id;
use crate::{AtPolicy, Governance, ServiceError};

const KIND: &str = "designation_proposal";
/// An approved designation being carried out, by its event id (the claim that makes one
/// approval of it the logged one).
const APPLYING: &str = "designation_applying";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Applying {
    proposal: DesignationProposal,
    done: bool,
}

/// The `area_risk` row an approved proposal becomes.
fn designation_row(proposal: &DesignationProposal, event_id: &str) -> String {
    json!({"id": event_id, "type": "area_risk", "area": proposal.area.as_str(),
           "level": proposal.level.as_str(), "escalate_to_red": proposal.escalate_to_red})
    .to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DesignationProposal {
    pub id: String,
    /// The id the designation event takes when approved (the proposer's own record id,
    /// or the proposal's).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub event_id: Option<String>,
    pub area: AreaCode,
    pub level: RiskLevel,
    pub escalate_to_red: bool,
    pub proposed_by: String,
    pub proposed_at: Timestamp,
    /// Who approved it, once approved.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub approved_by: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub approved_at: Option<Timestamp>,
}

fn check_jurisdiction(by: &Account, area: &AreaCode) -> Result<(), ServiceError> {
    match &by.jurisdiction {
        Some(j) if !within(j, area.normal()) => {
            Err(ServiceError::Forbidden(format!("{} is outside your jurisdiction ({j})", area.as_str())))
        }
        _ => Ok(()),
    }
}

impl Governance {
    /// An office's proposal: nothing changes until a provincial officer other than the
    /// proposer approves it.
    pub async fn propose_designation(
        &self,
        by: &Account,
        area: AreaCode,
        level: RiskLevel,
        escalate_to_red: bool,
    ) -> Result<DesignationProposal, ServiceError> {
        self.propose_designation_as(by, None, area, level, escalate_to_red).await
    }

    /// As `propose_designation`, naming the designation event's id (an API caller's own
    /// record id).
    pub async fn propose_designation_as(
        &self,
        by: &Account,
        event_id: Option<String>,
        area: AreaCode,
        level: RiskLevel,
        escalate_to_red: bool,
    ) -> Result<DesignationProposal, ServiceError> {
        if !matches!(by.role, Role::LocalOffice | Role::ProvincialOffice) {
            return Err(ServiceError::Forbidden("only an epidemic office proposes designations".into()));
        }
        check_jurisdiction(by, &area)?;
        crate::places::current("area", &area)?;
        if let Some(id) = &event_id {
            healthcode_domain::EventId::parse(id)?;
            // `hc-…` ids are the system's own: `hc-nat-<region>-…` would pass the designation
            // off as another region's level (explained and counted as that region's, and
            // never sent to the hub), or take the id a region's level will come under.
            if id.starts_with(crate::admission::SYSTEM_ID_PREFIX) {
                return Err(ValidationError::field(
                    "id",
                    format!(
                        "ids starting with `{}` are the system's own (other regions' levels, decisions); give the \
                         designation its own id",
                        crate::admission::SYSTEM_ID_PREFIX
                    ),
                )
                .into());
            }
        }
        let proposal = DesignationProposal {
            id: new_id("des"),
            event_id,
            area,
            level,
            escalate_to_red,
            proposed_by: by.username.clone(),
            proposed_at: self.clock.now(),
            approved_by: None,
            approved_at: None,
        };
        self.save_designation_proposal(&proposal).await?;
        Ok(proposal)
    }

    /// A provincial officer other than the proposer approves: the designation takes
    /// effect (codes under the area are re-evaluated) and is logged. The approval is logged
    /// together with the intent to apply it (one write, claimed by the designation's event
    /// id), then carried out: killed anywhere after that write, a server finishes it by
    /// itself (`finish_interrupted_decisions`), so a designation is never in force unlogged,
    /// and of two approvals at once (or two proposals under one id) one is logged.
    pub async fn approve_designation(&self, by: &Account, id: &str) -> Result<DesignationProposal, ServiceError> {
        may_approve(by, "designation")?;
        self.alarms.if_fresh_approver(by, "designation", self.keys.ring().region()).await?;
        let mut proposal: DesignationProposal = self
            .documents
            .load(KIND, id)
            .await?
            .ok_or_else(|| ValidationError::field("proposal", format!("no designation proposal `{id}`")))?;
        check_jurisdiction(by, &proposal.area)?;
        if proposal.approved_by.is_some() {
            return Err(ServiceError::Conflict("this designation is already approved".into()));
        }
        another_officer(by, "designation", &proposal.proposed_by, &[])?;
        let event_id = proposal.event_id.clone().unwrap_or_else(|| proposal.id.clone());
        let now = self.clock.now();
        // Checked as its ingestion will check it, before anything is logged.
        self.evidence.admit(&designation_row(&proposal, &event_id), AtPolicy::ServerClock, now, Source::Trusted)?;
        proposal.approved_by = Some(by.username.clone());
        proposal.approved_at = Some(now);
        let approval = Entry::DesignationApproval(DesignationApproval {
            at: now.as_millis(),
            area: proposal.area.as_str().to_string(),
            level: proposal.level.as_str().to_string(),
            escalate_to_red: proposal.escalate_to_red,
            proposed_by: proposal.proposed_by.clone(),
            approved_by: by.username.clone(),
            event_id: Some(event_id.clone()),
        });
        let intent = Documents::claim(APPLYING, &event_id, now, &Applying { proposal: proposal.clone(), done: false })?;
        if let Err(e) = self.log.record_with(&[approval], &[intent]).await {
            return Err(match e {
                ServiceError::Conflict(_) => ServiceError::Conflict(
                    "another officer approved this designation a moment earlier (or another under the same id); it \
                     is recorded and logged once, and this request changed nothing"
                        .into(),
                ),
                other => other,
            });
        }
        crate::faults::crash_point("designation.approval_logged");
        let carried_out = self.carry_out_designation(&proposal, &event_id).await;
        if carried_out.is_err() {
            self.unfinished_decisions.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        carried_out?;
        Ok(proposal)
    }

    /// Stores the approved designation's event (its id is stable: again, it adds nothing),
    /// marks the proposal approved, and notes that this is done.
    async fn carry_out_designation(&self, proposal: &DesignationProposal, event_id: &str) -> Result<(), ServiceError> {
        let approver = proposal.approved_by.as_deref().unwrap_or_default();
        let origin = format!("designation by {approver}");
        let row = designation_row(proposal, event_id);
        let report = self.evidence.ingest_from(Source::Trusted, &[1], &[row], AtPolicy::ServerClock, &origin).await?;
        if report.rejected > 0 {
            let why = report.rows.first().and_then(|r| r.error.clone()).unwrap_or_default();
            return Err(ServiceError::Background(format!("the approved designation {event_id} was refused: {why}")));
        }
        self.save_designation_proposal(proposal).await?;
        let at = proposal.approved_at.unwrap_or_else(|| self.clock.now());
        self.documents.save(APPLYING, event_id, at, &Applying { proposal: proposal.clone(), done: true }).await
    }

    /// Designations approved and logged but not carried out to the end (the server died,
    /// or the store failed): carried out now. Those approved within `grace` are left to the
    /// request that may still be carrying them out. Called with the decisions' sweep.
    pub(crate) async fn finish_interrupted_designations(
        &self,
        settled_before: Timestamp,
    ) -> Result<(usize, bool), ServiceError> {
        let (mut finished, mut pending) = (0, false);
        for Applying { proposal, done } in self.documents.load_all::<Applying>(APPLYING).await? {
            if done {
                continue;
            }
            if proposal.approved_at.is_some_and(|at| at > settled_before) {
                pending = true;
                continue;
            }
            let event_id = proposal.event_id.clone().unwrap_or_else(|| proposal.id.clone());
            tracing::warn!(designation = %proposal.id, "finishing a designation whose application was interrupted");
            self.carry_out_designation(&proposal, &event_id).await?;
            finished += 1;
        }
        Ok((finished, pending))
    }

    pub async fn designation_proposals(&self) -> Result<Vec<DesignationProposal>, ServiceError> {
        self.documents.load_all(KIND).await
    }

    async fn save_designation_proposal(&self, p: &DesignationProposal) -> Result<(), ServiceError> {
        self.documents.save(KIND, &p.id, p.proposed_at, p).await
    }
}
