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
use crate::secrets::new_id;
use crate::{AtPolicy, Governance, IngestReport, ServiceError};

const KIND: &str = "designation_proposal";

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
    /// effect (codes under the area are re-evaluated) and is logged.
    pub async fn approve_designation(&self, by: &Account, id: &str) -> Result<DesignationProposal, ServiceError> {
        may_approve(by, "designation")?;
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
        let row = json!({"id": event_id, "type": "area_risk", "area": proposal.area.as_str(),
                         "level": proposal.level.as_str(), "escalate_to_red": proposal.escalate_to_red});
        let report = self.designate(by, &proposal.proposed_by, row.to_string()).await?;
        if report.rejected > 0 {
            let why = report.rows.first().and_then(|r| r.error.clone()).unwrap_or_default();
            return Err(ServiceError::Invalid(ValidationError::new(why)));
        }
        if report.accepted == 0 {
            // Its event was stored already: another officer approved it a moment earlier,
            // and that approval is the one logged. Saving this one's name over it would
            // make the proposal and the log disagree on who approved.
            return Err(ServiceError::Conflict(
                "another officer approved this designation a moment earlier; it is recorded and logged once, and \
                 this request changed nothing"
                    .into(),
            ));
        }
        proposal.approved_by = Some(by.username.clone());
        proposal.approved_at = Some(self.clock.now());
        self.save_designation_proposal(&proposal).await?;
        Ok(proposal)
    }

    /// Records a designation (a JSON `area_risk` row) approved by `approver` and proposed
    /// by `proposer`; logged when it takes effect. Only an approval calls it.
    async fn designate(&self, approver: &Account, proposer: &str, row: String) -> Result<IngestReport, ServiceError> {
        let value: serde_json::Value = serde_json::from_str(&row).unwrap_or_default();
        let area = value["area"].as_str().and_then(|a| AreaCode::parse(a).ok());
        if let Some(area) = &area {
            check_jurisdiction(approver, area)?;
        }
        let origin = format!("designation by {}", approver.username);
        let report = self.evidence.ingest_from(Source::Trusted, &[1], &[row], AtPolicy::ServerClock, &origin).await?;
        if report.accepted == 1 {
            self.log
                .record(&[Entry::DesignationApproval(DesignationApproval {
                    at: self.clock.now().as_millis(),
                    area: area.map(|a| a.as_str().to_string()).unwrap_or_default(),
                    level: value["level"].as_str().unwrap_or_default().to_string(),
                    escalate_to_red: value["escalate_to_red"].as_bool().unwrap_or(false),
                    proposed_by: proposer.to_string(),
                    approved_by: approver.username.clone(),
                })])
                .await?;
        }
        Ok(report)
    }

    pub async fn designation_proposals(&self) -> Result<Vec<DesignationProposal>, ServiceError> {
        self.documents.load_all(KIND).await
    }

    async fn save_designation_proposal(&self, p: &DesignationProposal) -> Result<(), ServiceError> {
        self.documents.save(KIND, &p.id, p.proposed_at, p).await
    }
}
