//! Management decisions (R5/Y3) and the alarms around power. A decision names persons, a
//! colour, a legal basis and a term; it changes nothing until two provincial officers,
//! neither of them its proposer, approve it. Then it becomes evidence about each person
//! named (who sees it with its basis), is written to the transparency log, and — if it
//! names many persons, or one officer approves an unusual share of decisions — raises an
//! alarm for auditors, also in the log. This is the path the Zhengzhou officials would
//! have had to take.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use healthcode_domain::{DecisionColour, PersonId, Role, Timestamp, ValidationError};
use healthcode_log::{DecisionApproval, Entry};
use healthcode_store::{Account, Approval, Decision, DecisionStatus, PersonRecord};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::admission::Source;
use crate::approvals::{another_officer, approvals_kept_changing, may_approve, APPROVAL_ATTEMPTS};
use crate::documents::Documents;
use crate::residents::covers;
use crate::secrets::new_id;
use crate::{AtPolicy, Governance, ServiceError};

/// The most persons one decision may name.
pub const MAX_DECISION_PERSONS: usize = 1000;
/// A decision naming this many persons raises an alarm even when properly approved.
pub const MASS_DECISION_ALARM_PERSONS: usize = 50;
/// The longest term a decision may have.
const MAX_TERM_DAYS: i64 = 28;
/// Persons turned red or yellow by decisions in one jurisdiction within an hour that
/// raise an alarm when they are also this many times the jurisdiction's hourly average of
/// the past week: many small decisions add up to a mass one.
const BURST_MIN_PERSONS: usize = 20;
const BURST_TIMES_BASELINE: f64 = 10.0;
/// Persons turned red or yellow by decisions in one jurisdiction within a day at which
/// `decision_drip` is said aloud, and again at each multiple: bursts kept under the hourly
/// threshold hour after hour (19 persons an hour is 456 a day) add up, whatever the past
/// week did. Zhengzhou's depositors were 1,317.
pub const DRIP_PERSONS_PER_DAY: usize = 100;
/// An officer who approved more than this share of the recent decisions (at least
/// `SHARE_MIN_DECISIONS` of them) raises an alarm.
const SHARE_ALARM: f64 = 0.6;
const SHARE_MIN_DECISIONS: usize = 5;

#[derive(Debug, Clone)]
pub struct NewDecision {
    pub persons: Vec<PersonId>,
    pub colour: DecisionColour,
    pub until: Timestamp,
    pub basis: String,
}

/// A decision as officials and auditors list it: everything but whom it names (a count
/// instead). The persons are read one decision at a time, with a purpose, into each
/// person's access log (`decision_persons`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionView {
    pub id: String,
    pub proposed_by: String,
    pub proposed_at: Timestamp,
    pub colour: DecisionColour,
    pub until: Timestamp,
    pub basis: String,
    pub persons: usize,
    pub approvals: Vec<Approval>,
    pub status: DecisionStatus,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub jurisdiction: Option<String>,
}

impl From<&Decision> for DecisionView {
    fn from(d: &Decision) -> Self {
        DecisionView {
            id: d.id.clone(),
            proposed_by: d.proposed_by.clone(),
            proposed_at: d.proposed_at,
            colour: d.colour,
            until: d.until,
            basis: d.basis.clone(),
            persons: d.persons.len(),
            approvals: d.approvals.clone(),
            status: d.status,
            jurisdiction: d.jurisdiction.clone(),
        }
    }
}

fn forbidden(why: &str) -> ServiceError {
    ServiceError::Forbidden(why.to_string())
}

/// The documents that say a decision's second approval was logged and whether it was
/// carried out to the end.
const APPLYING: &str = "decision_applying";

#[derive(Serialize, Deserialize)]
struct Applying {
    decision: Decision,
    done: bool,
}

/// How often the scheduler's server looks for decisions another server left half
/// applied (milliseconds).
const SWEEP_EVERY_MS: i64 = 60_000;

impl Governance {
    pub async fn propose_decision(&self, by: &Account, new: NewDecision) -> Result<Decision, ServiceError> {
        if !matches!(by.role, Role::LocalOffice | Role::ProvincialOffice) {
            return Err(forbidden("only a local or provincial epidemic office proposes management decisions"));
        }
        let basis = new.basis.trim().to_string();
        if basis.chars().count() < 4 || basis.chars().count() > 500 || basis.chars().any(char::is_control) {
            return Err(ValidationError::field("basis", "state the legal basis (4 to 500 characters)").into());
        }
        let now = self.clock.now();
        let latest = now.as_millis() + MAX_TERM_DAYS * 86_400_000;
        if new.until <= now || new.until.as_millis() > latest {
            return Err(ValidationError::field(
                "until",
                format!("a decision ends after now and within {MAX_TERM_DAYS} days"),
            )
            .into());
        }
        let persons: BTreeSet<PersonId> = new.persons.into_iter().collect();
        if persons.is_empty() || persons.len() > MAX_DECISION_PERSONS {
            return Err(ValidationError::field(
                "persons",
                format!("a decision names 1 to {MAX_DECISION_PERSONS} persons; split a larger one and justify each"),
            )
            .into());
        }
        let persons: Vec<PersonId> = persons.into_iter().collect();
        let known = self.evidence_store.persons(&persons).await?;
        if known.len() != persons.len() {
            return Err(ValidationError::field("persons", "every person named must be registered").into());
        }
        self.check_decision_jurisdiction(by, &known)?;
        let decision = Decision {
            id: new_id("dec"),
            proposed_by: by.username.clone(),
            proposed_at: now,
            colour: new.colour,
            until: new.until,
            basis,
            persons,
            approvals: Vec::new(),
            status: DecisionStatus::Proposed,
            jurisdiction: by.jurisdiction.clone(),
        };
        self.governance_store.save_decision(&decision).await?;
        Ok(decision)
    }

    /// The newest decisions, without whom they name.
    pub async fn decisions(&self, limit: usize) -> Result<Vec<DecisionView>, ServiceError> {
        Ok(self.governance_store.decisions(limit).await?.iter().map(DecisionView::from).collect())
    }

    /// The persons a decision names that live in the reader's jurisdiction, for an office
    /// with a purpose (an approver checking the list, an office answering a person): each
    /// read goes into the person's access log.
    pub async fn decision_persons(
        &self,
        by: &Account,
        id: &str,
        purpose: Option<&str>,
    ) -> Result<Vec<PersonId>, ServiceError> {
        if !matches!(by.role, Role::LocalOffice | Role::ProvincialOffice) {
            return Err(forbidden("only an epidemic office reads whom a decision names"));
        }
        let purpose = crate::residents::check_purpose(purpose)?;
        let decision = self
            .governance_store
            .decision(id)
            .await?
            .ok_or_else(|| ValidationError::field("decision", format!("no decision `{id}`")))?;
        let region = self.keys.ring();
        let persons: Vec<PersonId> = self
            .evidence_store
            .persons(&decision.persons)
            .await?
            .into_iter()
            .filter(|p| covers(by, p, region.region()))
            .map(|p| p.id)
            .collect();
        self.accesses.record_staff(by, &persons, &format!("{purpose} (decision {id})"), "management decision").await?;
        Ok(persons)
    }

    /// One approval. The second distinct approval applies the decision.
    pub async fn approve_decision(&self, by: &Account, id: &str) -> Result<Decision, ServiceError> {
        may_approve(by, "management decision")?;
        self.alarms.if_fresh_approver(by, "management decision", self.keys.ring().region()).await?;
        // A first approval is saved over the decision as it was read: if another officer's
        // landed in between, this one reads again (and may now be the second). Saved
        // blindly, one of two first approvals given at once was lost, and both officers
        // were told it was recorded.
        for _ in 0..APPROVAL_ATTEMPTS {
            let seen = self
                .governance_store
                .decision(id)
                .await?
                .ok_or_else(|| ValidationError::field("decision", format!("no decision `{id}`")))?;
            if seen.status != DecisionStatus::Proposed {
                return Err(ServiceError::Conflict("this decision is already approved and applied".into()));
            }
            another_officer(by, "decision", &seen.proposed_by, &seen.approvals)?;
            self.check_decision_jurisdiction(by, &self.evidence_store.persons(&seen.persons).await?)?;
            let mut decision = seen.clone();
            decision.approvals.push(Approval { by: by.username.clone(), at: self.clock.now() });
            if decision.approvals.len() >= 2 {
                // The second approval is a claim in the log's append: of two at once, one wins.
                self.apply_decision(&mut decision).await?;
                return Ok(decision);
            }
            if self.governance_store.replace_decision(&decision, &seen).await? {
                return Ok(decision);
            }
        }
        Err(approvals_kept_changing("decision"))
    }

    /// An office decides only about persons who live in its jurisdiction; so does an
    /// approver.
    fn check_decision_jurisdiction(&self, by: &Account, persons: &[PersonRecord]) -> Result<(), ServiceError> {
        let region = self.keys.ring();
        let outside = persons.iter().filter(|p| !covers(by, p, region.region())).count();
        if outside > 0 {
            return Err(ServiceError::Forbidden(format!(
                "{outside} of the persons named live outside your jurisdiction; their own district's office decides \
                 about them"
            )));
        }
        Ok(())
    }

    /// The second approval: logged together with the intent to apply it (one write), then
    /// carried out. Killed anywhere after that write, the server finishes it by itself
    /// (`finish_interrupted_decisions`, at start and at every scheduler tick): the evidence
    /// has stable ids, so ingesting it again adds nothing twice, and the log has the
    /// approval exactly once.
    async fn apply_decision(&self, decision: &mut Decision) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let approvers: Vec<String> = decision.approvals.iter().map(|a| a.by.clone()).collect();
        let approval = Entry::DecisionApproval(DecisionApproval {
            at: now.as_millis(),
            decision_id: decision.id.clone(),
            colour: decision.colour.as_str().to_string(),
            basis: decision.basis.clone(),
            approvers,
            persons: decision.persons.len() as u64,
            until: decision.until.as_millis(),
        });
        // A claim: of two second approvals given at once, only one is logged and applied.
        let intent =
            Documents::claim(APPLYING, &decision.id, now, &Applying { decision: decision.clone(), done: false })?;
        self.log.record_with(&[approval], &[intent]).await?;
        crate::faults::crash_point("decision.approval_logged");
        let carried_out = self.carry_out(decision).await;
        if carried_out.is_err() {
            self.unfinished_decisions.store(true, Ordering::Relaxed);
        }
        carried_out
    }

    /// Decisions, designations and traces' confirmations approved (and logged) but not carried out to the end, because the server
    /// stopped or failed in between: carried out now. Returns how many. At start nothing is
    /// in flight (`grace` zero); the scheduler leaves alone those approved within `grace`,
    /// which the approving request may still be carrying out.
    ///
    /// Another server may be the one interrupted (several over one PostgreSQL): besides
    /// after its own failures, a server looks at least every `SWEEP_EVERY` (the scheduler
    /// calls this only on the server that holds its lease).
    pub async fn finish_interrupted_decisions(&self, grace: std::time::Duration) -> Result<usize, ServiceError> {
        let now = self.clock.now().as_millis();
        let sweep_due = now >= self.decisions_swept_at.load(Ordering::Relaxed).saturating_add(SWEEP_EVERY_MS);
        if !self.unfinished_decisions.swap(false, Ordering::Relaxed) && !sweep_due {
            return Ok(0);
        }
        self.decisions_swept_at.store(now, Ordering::Relaxed);
        let mut finished = 0;
        let settled_before = now - grace.as_millis() as i64;
        for Applying { mut decision, done } in self.documents.load_all::<Applying>(APPLYING).await? {
            let approved_at = decision.approvals.last().map_or(0, |a| a.at.as_millis());
            if done {
                continue;
            }
            if approved_at > settled_before {
                // Too recent to tell from one in flight: looked at again at a later tick.
                self.unfinished_decisions.store(true, Ordering::Relaxed);
                continue;
            }
            tracing::warn!(decision = %decision.id, "finishing a decision whose application was interrupted");
            if let Err(e) = self.carry_out(&mut decision).await {
                self.unfinished_decisions.store(true, Ordering::Relaxed);
                return Err(e);
            }
            finished += 1;
        }
        // Designations and traces' confirmations are approved the same way (logged with
        // their intent, then carried out).
        let settled_before = healthcode_domain::Timestamp::from_millis(settled_before);
        let others = match self.finish_interrupted_designations(settled_before).await {
            Ok((designations, pending)) => match self.finish_interrupted_traces(settled_before).await {
                Ok((traces, traces_pending)) => Ok((designations + traces, pending || traces_pending)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        match others {
            Ok((others, pending)) => {
                if pending {
                    self.unfinished_decisions.store(true, Ordering::Relaxed);
                }
                Ok(finished + others)
            }
            Err(e) => {
                self.unfinished_decisions.store(true, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    /// Ingests the decision's evidence, marks it applied, raises the alarms it calls for,
    /// and notes that all of this is done.
    async fn carry_out(&self, decision: &mut Decision) -> Result<(), ServiceError> {
        let approvers: Vec<String> = decision.approvals.iter().map(|a| a.by.clone()).collect();
        let rows: Vec<String> = decision
            .persons
            .iter()
            .map(|p| {
                json!({
                    "id": self.pseudonyms.event_id("hc-dec", &decision.id, p),
                    "person_id": p,
                    "type": "management_decision",
                    "color": decision.colour.as_str(),
                    "until": decision.until.to_string(),
                    "basis": decision.basis,
                    "approvers": approvers,
                })
                .to_string()
            })
            .collect();
        let numbers: Vec<usize> = (1..=rows.len()).collect();
        let origin = format!("decision {}", decision.id);
        let report =
            self.evidence.ingest_from(Source::Trusted, &numbers, &rows, AtPolicy::ServerClock, &origin).await?;
        if report.rejected > 0 {
            return Err(ServiceError::Background(format!("{} rows of {origin} were refused", report.rejected)));
        }
        crate::faults::crash_point("decision.evidence_ingested");
        decision.status = DecisionStatus::Applied;
        self.governance_store.save_decision(decision).await?;
        self.raise_decision_alarms(decision, &approvers).await?;
        let at = decision.approvals.last().map_or(self.clock.now(), |a| a.at);
        self.documents.save(APPLYING, &decision.id, at, &Applying { decision: decision.clone(), done: true }).await
    }

    async fn raise_decision_alarms(&self, decision: &Decision, approvers: &[String]) -> Result<(), ServiceError> {
        if decision.persons.len() >= MASS_DECISION_ALARM_PERSONS {
            self.alarms
                .raise(
                    "mass_decision",
                    decision.jurisdiction.as_deref().unwrap_or(self.keys.ring().region()),
                    format!(
                        "decision {} turns {} persons {} (basis: {}; approved by {})",
                        decision.id,
                        decision.persons.len(),
                        decision.colour,
                        decision.basis,
                        approvers.join(", ")
                    ),
                )
                .await?;
        }
        // Both alarms look at the recent decisions: read them once.
        let recent = self.governance_store.decisions(1000).await?;
        self.check_decision_burst(&recent, decision.jurisdiction.as_deref()).await?;
        self.check_decision_drip(&recent, decision).await?;
        self.check_approver_shares(&recent[..recent.len().min(200)], approvers).await
    }

    /// Decisions in one jurisdiction over the last day, against a fixed bound: the alarm
    /// the hourly one cannot give when a jurisdiction stays under it for hours, or when its
    /// past week was as busy (the baseline climbs with a steady drip).
    async fn check_decision_drip(&self, recent: &[Decision], decision: &Decision) -> Result<(), ServiceError> {
        const DAY: i64 = 86_400_000;
        let now = self.clock.now().as_millis();
        let jurisdiction = decision.jurisdiction.as_deref();
        let last_day: usize = recent
            .iter()
            .filter(|d| d.status == DecisionStatus::Applied && d.jurisdiction.as_deref() == jurisdiction)
            .filter(|d| d.approvals.last().is_some_and(|a| a.at.as_millis() > now - DAY))
            .map(|d| d.persons.len())
            .sum();
        let before = last_day.saturating_sub(decision.persons.len());
        if last_day / DRIP_PERSONS_PER_DAY > before / DRIP_PERSONS_PER_DAY {
            let region = self.keys.ring();
            let area = jurisdiction.unwrap_or(region.region());
            let detail = format!(
                "{last_day} persons turned red or yellow by decisions in {area} within the last 24 hours (decision \
                 {} the latest), without epidemiological evidence: {DRIP_PERSONS_PER_DAY} or more a day is a mass \
                 measure however it is spread over the hours",
                decision.id
            );
            self.alarms.raise("decision_drip", area, detail).await?;
        }
        Ok(())
    }

    /// Colour assignments without epidemiological evidence (decisions are the only such
    /// path) in a jurisdiction, this hour against its hourly average over the past week.
    async fn check_decision_burst(&self, recent: &[Decision], jurisdiction: Option<&str>) -> Result<(), ServiceError> {
        const HOUR: i64 = 3_600_000;
        let now = self.clock.now().as_millis();
        let applied_at = |d: &Decision| d.approvals.last().map_or(0, |a| a.at.as_millis());
        let (mut this_hour, mut week_before) = (0usize, 0usize);
        for d in recent {
            if d.status != DecisionStatus::Applied || d.jurisdiction.as_deref() != jurisdiction {
                continue;
            }
            let at = applied_at(d);
            if at > now - HOUR {
                this_hour += d.persons.len();
            } else if at > now - 7 * 24 * HOUR {
                week_before += d.persons.len();
            }
        }
        let baseline = week_before as f64 / (7.0 * 24.0 - 1.0);
        if this_hour >= BURST_MIN_PERSONS && this_hour as f64 > BURST_TIMES_BASELINE * baseline {
            let region = self.keys.ring();
            let area = jurisdiction.unwrap_or(region.region());
            let detail = format!(
                "{this_hour} persons turned red or yellow by decisions in {area} within the last hour, without \
                 epidemiological evidence; the past week's hourly average is {baseline:.1}"
            );
            self.alarms.raise("decision_burst", area, detail).await?;
            return Ok(());
        }
        self.check_split_decisions(recent).await
    }

    /// The same burst split across offices, each staying under `BURST_MIN_PERSONS` in its
    /// own jurisdiction (the Zhengzhou depositors, a few per county): counted over the
    /// province, said aloud as `decision_burst_split` when no one jurisdiction's count did.
    async fn check_split_decisions(&self, recent: &[Decision]) -> Result<(), ServiceError> {
        const HOUR: i64 = 3_600_000;
        let now = self.clock.now().as_millis();
        let (mut by_jurisdiction, mut week_before) = (BTreeMap::<Option<&str>, usize>::new(), 0usize);
        for d in recent.iter().filter(|d| d.status == DecisionStatus::Applied) {
            let at = d.approvals.last().map_or(0, |a| a.at.as_millis());
            if at > now - HOUR {
                *by_jurisdiction.entry(d.jurisdiction.as_deref()).or_default() += d.persons.len();
            } else if at > now - 7 * 24 * HOUR {
                week_before += d.persons.len();
            }
        }
        let this_hour: usize = by_jurisdiction.values().sum();
        let largest = by_jurisdiction.values().copied().max().unwrap_or(0);
        let baseline = week_before as f64 / (7.0 * 24.0 - 1.0);
        if by_jurisdiction.len() > 1
            && largest < BURST_MIN_PERSONS
            && this_hour >= BURST_MIN_PERSONS
            && this_hour as f64 > BURST_TIMES_BASELINE * baseline
        {
            let region = self.keys.ring();
            let detail = format!(
                "{this_hour} persons turned red or yellow by decisions of {} offices within the last hour, none \
                 above {largest} in its own jurisdiction, without epidemiological evidence; the province's past \
                 week's hourly average is {baseline:.1}",
                by_jurisdiction.len()
            );
            self.alarms.raise("decision_burst_split", region.region(), detail).await?;
        }
        Ok(())
    }

    /// Whether these officers approved an unusual share of the recent decisions.
    async fn check_approver_shares(&self, latest: &[Decision], approvers: &[String]) -> Result<(), ServiceError> {
        let recent: Vec<&Decision> = latest.iter().filter(|d| d.status == DecisionStatus::Applied).collect();
        if recent.len() < SHARE_MIN_DECISIONS {
            return Ok(());
        }
        for officer in approvers {
            let approved = recent.iter().filter(|d| d.approvals.iter().any(|a| &a.by == officer)).count();
            let share = approved as f64 / recent.len() as f64;
            if share > SHARE_ALARM {
                let detail = format!(
                    "{officer} approved {approved} of the last {} applied decisions ({:.0}%)",
                    recent.len(),
                    share * 100.0
                );
                self.alarms.raise("approver_share", self.keys.ring().region(), detail).await?;
            }
        }
        Ok(())
    }
}
