//! Changing the rules (全省一码: one set of rules for the whole province, changed only with
//! approval). A local or provincial office proposes a rule set with a scenario suite; the
//! proposal records its diff against the active rules and the suite's results; two
//! provincial officers other than the proposer approve it (never with a failing suite);
//! it becomes active at its stated time, and every code it can change is re-evaluated.
//! Every version stays in the history; approvals are in the transparency log.

use healthcode_domain::{Role, Timestamp, ValidationError};
use healthcode_log::{Entry, RuleSetApproval};
use healthcode_rules::RuleSet;
use healthcode_store::{Account, Approval};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::approvals::{
    another_officer, answers_for_province, approvals_kept_changing, may_approve, APPROVAL_ATTEMPTS,
};
use crate::documents::Documents;
use crate::secrets::new_id;
use crate::{Governance, ServiceError};

pub(crate) const KIND: &str = "rule_proposal";
/// The marker that a proposal's second approval was logged: written once.
const APPROVED_ONCE: &str = "rule_proposal_approved";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleProposalStatus {
    Proposed,
    /// Approved twice, waiting for its activation time.
    Approved,
    Active,
    /// Was active; a later version replaced it.
    Superseded,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleProposal {
    pub id: String,
    pub version: String,
    pub digest: String,
    pub proposed_by: String,
    pub proposed_at: Timestamp,
    pub activates_at: Timestamp,
    /// The rule set as proposed (TOML or JSON text).
    pub source: String,
    /// Against the rules active when it was proposed (`healthcode_rules::RuleChange`s).
    pub diff: Value,
    pub scenarios_passed: usize,
    pub scenarios_failed: usize,
    /// Every expectation checked (`healthcode_rules::suite::Checked`).
    pub scenario_results: Value,
    pub approvals: Vec<Approval>,
    pub status: RuleProposalStatus,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub activated_at: Option<Timestamp>,
}

fn forbidden(why: &str) -> ServiceError {
    ServiceError::Forbidden(why.to_string())
}

impl Governance {
    pub async fn propose_rules(
        &self,
        by: &Account,
        source: &str,
        activates_at: Timestamp,
        scenarios: &[Value],
    ) -> Result<RuleProposal, ServiceError> {
        if !matches!(by.role, Role::LocalOffice | Role::ProvincialOffice) {
            return Err(forbidden("only a local or provincial epidemic office proposes rule changes"));
        }
        let rules = RuleSet::parse(source).map_err(|e| ValidationError::field("source", e.to_string()))?;
        let active = self.codes.rules();
        let versions: Vec<String> = self.rule_proposals().await?.into_iter().map(|p| p.version).collect();
        if rules.version() == active.version() || versions.iter().any(|v| v == rules.version()) {
            return Err(ValidationError::field(
                "source",
                format!("version `{}` exists already; give the proposal a new version", rules.version()),
            )
            .into());
        }
        if scenarios.is_empty() {
            return Err(ValidationError::field("scenarios", "attach the scenario suite the new rules must pass").into());
        }
        let mut results = Vec::new();
        for scenario in scenarios {
            results.extend(
                healthcode_rules::suite::check_scenario(&rules, scenario)
                    .map_err(|m| ValidationError::field("scenarios", m))?,
            );
        }
        let failed = results.iter().filter(|r| !r.ok).count();
        let proposal = RuleProposal {
            id: new_id("rules"),
            version: rules.version().to_string(),
            digest: rules.digest().to_string(),
            proposed_by: by.username.clone(),
            proposed_at: self.clock.now(),
            activates_at,
            source: source.to_string(),
            diff: serde_json::to_value(healthcode_rules::diff(active.file(), rules.file())).unwrap_or_default(),
            scenarios_passed: results.len() - failed,
            scenarios_failed: failed,
            scenario_results: serde_json::to_value(&results).unwrap_or_default(),
            approvals: Vec::new(),
            status: RuleProposalStatus::Proposed,
            activated_at: None,
        };
        self.save_rule_proposal(&proposal).await?;
        Ok(proposal)
    }

    /// One approval; the second distinct one approves the proposal, which becomes active
    /// at its time (at once if that has come).
    pub async fn approve_rules(&self, by: &Account, id: &str) -> Result<RuleProposal, ServiceError> {
        may_approve(by, "rule change")?;
        self.alarms.if_fresh_approver(by, "rule change", self.keys.ring().region()).await?;
        // A rule set judges everyone in the province.
        answers_for_province(by, "a rule set")?;
        let mut approved = None;
        for _ in 0..APPROVAL_ATTEMPTS {
            let (mut proposal, seen) = self
                .documents
                .load_seen::<RuleProposal>(KIND, id)
                .await?
                .ok_or_else(|| ValidationError::field("proposal", format!("no rule proposal `{id}`")))?;
            if proposal.status != RuleProposalStatus::Proposed {
                return Err(ServiceError::Conflict("this rule proposal is already approved".into()));
            }
            if proposal.scenarios_failed > 0 {
                return Err(ServiceError::Conflict(format!(
                    "{} of its scenario expectations fail; fix the rules or the scenarios and propose again",
                    proposal.scenarios_failed
                )));
            }
            another_officer(by, "rule change", &proposal.proposed_by, &proposal.approvals)?;
            proposal.approvals.push(Approval { by: by.username.clone(), at: self.clock.now() });
            if proposal.approvals.len() >= 2 {
                proposal.status = RuleProposalStatus::Approved;
                // The approval and its entry in the log are one write: killed in between, the
                // server would otherwise keep an approval the log never saw, or log one twice.
                let approval = Entry::RuleSetApproval(RuleSetApproval {
                    at: self.clock.now().as_millis(),
                    version: proposal.version.clone(),
                    digest: proposal.digest.clone(),
                    approvers: proposal.approvals.iter().map(|a| a.by.clone()).collect(),
                    activates_at: proposal.activates_at.as_millis(),
                });
                let saved = Documents::write(KIND, &proposal.id, proposal.proposed_at, &proposal)?;
                // A claim: of two second approvals given at once, only one is logged.
                let approvers: Vec<&str> = proposal.approvals.iter().map(|a| a.by.as_str()).collect();
                let once = Documents::claim(APPROVED_ONCE, &proposal.id, self.clock.now(), &approvers)?;
                self.log.record_with(&[approval], &[saved, once]).await?;
                crate::faults::crash_point("rules.approved");
                // A rule set changes how everyone's colour is computed: said aloud to the
                // auditors, besides its entry (a mass change that no evidence caused).
                let detail = format!(
                    "rule set {} ({}) approved by {}; it takes effect at {} and every code is evaluated under it",
                    proposal.version,
                    proposal.digest,
                    approvers.join(" and "),
                    proposal.activates_at.to_rfc3339()
                );
                self.alarms.raise("rules_approved", self.keys.ring().region(), detail).await?;
                approved = Some(proposal);
                break;
            }
            // A first approval is saved over the proposal as it was read; if another
            // officer's landed in between, this one reads again (and may be the second).
            if self.documents.replace(KIND, &proposal.id, proposal.proposed_at, &proposal, &seen).await? {
                approved = Some(proposal);
                break;
            }
        }
        let proposal = approved.ok_or_else(|| approvals_kept_changing("rule proposal"))?;
        self.activate_due_rules().await?;
        Ok(self.rule_proposal(id).await?.unwrap_or(proposal))
    }

    /// Activates the approved rule set whose time has come (the latest, if several), and
    /// re-evaluates every code it can change. The scheduler calls it on every tick.
    pub async fn activate_due_rules(&self) -> Result<Option<String>, ServiceError> {
        let now = self.clock.now();
        let proposals = self.rule_proposals().await?;
        let Some(due) = proposals
            .iter()
            .filter(|p| p.status == RuleProposalStatus::Approved && p.activates_at <= now)
            .max_by_key(|p| p.activates_at)
            .cloned()
        else {
            return Ok(None);
        };
        for mut older in proposals.into_iter().filter(|p| {
            p.id != due.id
                && (p.status == RuleProposalStatus::Active
                    || (p.status == RuleProposalStatus::Approved && p.activates_at <= due.activates_at))
        }) {
            older.status = RuleProposalStatus::Superseded;
            self.save_rule_proposal(&older).await?;
        }
        let rules = RuleSet::parse(&due.source)?;
        let mut active = due.clone();
        active.status = RuleProposalStatus::Active;
        active.activated_at = Some(now);
        self.save_rule_proposal(&active).await?;
        // Other servers read this and take the rules on (`Codes::follow_rules`).
        let (kind, id) = crate::codes::RULES_IN_FORCE;
        let in_force = crate::codes::RulesInForce {
            version: due.version.clone(),
            digest: due.digest.clone(),
            proposal: due.id.clone(),
        };
        self.documents.save(kind, id, now, &in_force).await?;
        crate::faults::crash_point("rules.activating");
        tracing::info!(version = %due.version, "rule set activated");
        self.codes.replace_rules(rules).await?;
        Ok(Some(due.version))
    }

    /// At start: the rule set last activated by approval, if any, is the one in force
    /// (whatever the configuration's default): codes of other versions are queued.
    pub async fn restore_active_rules(&self) -> Result<Option<String>, ServiceError> {
        let Some(active) = self.rule_proposals().await?.into_iter().find(|p| p.status == RuleProposalStatus::Active)
        else {
            return Ok(None);
        };
        let rules = RuleSet::parse(&active.source)?;
        self.code_store.queue_codes_of_other_versions(rules.version(), Timestamp::MIN).await?;
        self.codes.set_rules(rules);
        Ok(Some(active.version))
    }

    /// At start, when the rules in force were chosen by the server's operator (`serve
    /// --rules`) rather than approved: an alarm, in the store and the log, once per rule
    /// set, so that no unapproved rules are in force unseen.
    pub async fn note_operator_rules(&self) -> Result<(), ServiceError> {
        const KIND: &str = "operator_rules";
        let rules = self.codes.rules();
        if self.documents.load::<Timestamp>(KIND, rules.digest()).await?.is_some() {
            return Ok(());
        }
        let detail = format!(
            "the rule set {} {} ({}) is in force by the server operator's choice (`serve --rules`), without two \
             approvals; propose it at /staff/rules to have it approved",
            rules.name(),
            rules.version(),
            rules.digest()
        );
        self.alarms.raise("operator_rules", self.keys.ring().region(), detail).await?;
        self.documents.save(KIND, rules.digest(), self.clock.now(), &self.clock.now()).await
    }

    /// Every proposal, newest first: the version history.
    pub async fn rule_proposals(&self) -> Result<Vec<RuleProposal>, ServiceError> {
        self.documents.load_all(KIND).await
    }

    pub async fn rule_proposal(&self, id: &str) -> Result<Option<RuleProposal>, ServiceError> {
        self.documents.load(KIND, id).await
    }

    async fn save_rule_proposal(&self, p: &RuleProposal) -> Result<(), ServiceError> {
        self.documents.save(KIND, &p.id, p.proposed_at, p).await
    }
}
