//! Codes: the evaluator that keeps every code current and explains it. It holds what every
//! evaluation reads besides the person's own evidence (the rule set, the area
//! designations and their index), the evidence and code stores, the log (a colour change
//! is logged with its code) and the alarms (colour bursts). The paths that keep codes
//! current are in `refresh`, explanations in `explain`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use healthcode_domain::{AreaRisk, Event, Timestamp};
use healthcode_rules::{AreaRiskIndex, RuleSet};
use healthcode_store::{CodeStore, EvidenceStore};

use crate::documents::Documents;
use crate::{Alarms, Clock, ServiceError, TransparencyLog};

/// The document naming the rule set in force by approval (kind, id): written when one is
/// activated, read by every server to follow it.
pub(crate) const RULES_IN_FORCE: (&str, &str) = ("rules_in_force", "province");

/// Which approved rule set is in force: small, so that servers can read it every few
/// seconds; the rules themselves are in the proposal.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct RulesInForce {
    pub version: String,
    pub digest: String,
    pub proposal: String,
}

/// What every evaluation reads besides the person's own evidence. Replaced whole (never
/// mutated in place) so an evaluation in progress keeps a consistent view.
#[derive(Clone)]
pub(crate) struct Shared {
    pub rules: Arc<RuleSet>,
    pub areas: Arc<AreaRiskIndex>,
    pub designations: Arc<Vec<Event<AreaRisk>>>,
}

/// The evaluator. Cheap to share (`Arc`); every method takes `&self`.
pub struct Codes {
    pub(crate) evidence_store: Arc<dyn EvidenceStore>,
    pub(crate) code_store: Arc<dyn CodeStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) log: Arc<TransparencyLog>,
    pub(crate) alarms: Arc<Alarms>,
    documents: Documents,
    shared: RwLock<Shared>,
    /// Every designation with a seq up to this one is in `shared` (those recorded on this
    /// server and those `follow_designations` read from the store).
    followed: AtomicI64,
    /// Persons one claim takes off the queue (`refresh::CLAIM_PAGE` by default).
    claim_page: std::sync::atomic::AtomicUsize,
    /// When to queue again the codes of other rule-set versions, after following a change
    /// (milliseconds; `i64::MAX`: not due).
    requeue_versions_at: AtomicI64,
}

/// How long after taking on another server's rule set the codes of other versions are
/// queued a second time: longer than a claim, so that any evaluation under way with the
/// old rules has saved by then.
const REQUEUE_AFTER_RULES: std::time::Duration = std::time::Duration::from_secs(60);

impl Codes {
    /// Loads the designations the store holds; queues the codes computed under other
    /// rules (a restart with a new rule set: the next `run_due` re-evaluates them) and the
    /// persons of designations whose application a crash interrupted.
    pub(crate) async fn open(
        evidence_store: Arc<dyn EvidenceStore>,
        code_store: Arc<dyn CodeStore>,
        clock: Arc<dyn Clock>,
        log: Arc<TransparencyLog>,
        alarms: Arc<Alarms>,
        documents: Documents,
        rules: RuleSet,
    ) -> Result<Self, ServiceError> {
        let designations = evidence_store.designations_after(0).await?;
        let followed = designations.iter().map(|d| d.seq).max().unwrap_or(0);
        let areas = AreaRiskIndex::new(designations.iter().cloned());
        code_store.queue_codes_of_other_versions(rules.version(), Timestamp::MIN).await?;
        let codes = Codes {
            evidence_store,
            code_store,
            clock,
            log,
            alarms,
            documents,
            shared: RwLock::new(Shared {
                rules: Arc::new(rules),
                areas: Arc::new(areas),
                designations: Arc::new(designations),
            }),
            followed: AtomicI64::new(followed),
            claim_page: crate::refresh::CLAIM_PAGE.into(),
            requeue_versions_at: AtomicI64::new(i64::MAX),
        };
        codes.queue_unapplied_designations(std::time::Duration::ZERO).await?;
        Ok(codes)
    }

    /// The rule set in force.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.shared().rules
    }

    /// Every designation recorded, oldest first (the index the evaluations use).
    pub fn designations(&self) -> Arc<Vec<Event<AreaRisk>>> {
        self.shared().designations
    }

    /// How many queued persons one claim takes (default `CLAIM_PAGE`): smaller pages share
    /// a bulk re-evaluation between more servers, at the price of more claims.
    pub fn set_claim_page(&self, persons: usize) {
        self.claim_page.store(persons.max(1), Ordering::Relaxed);
    }

    pub(crate) fn claim_page(&self) -> usize {
        self.claim_page.load(Ordering::Relaxed)
    }

    pub(crate) fn shared(&self) -> Shared {
        self.shared.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub(crate) fn set_rules(&self, rules: RuleSet) {
        self.shared.write().unwrap_or_else(|poisoned| poisoned.into_inner()).rules = Arc::new(rules);
    }

    /// Adds designations to the index, each once (one recorded here is also read back by
    /// `follow_designations`).
    pub(crate) fn add_designations(&self, added: Vec<Event<AreaRisk>>) {
        let mut shared = self.shared.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let known: std::collections::HashSet<i64> = shared.designations.iter().map(|d| d.seq).collect();
        let added: Vec<Event<AreaRisk>> = added.into_iter().filter(|d| !known.contains(&d.seq)).collect();
        if added.is_empty() {
            return;
        }
        let mut areas = (*shared.areas).clone();
        let mut all = (*shared.designations).clone();
        for d in added {
            areas.insert(d.clone());
            all.push(d);
        }
        all.sort_by_key(Event::order_key);
        shared.areas = Arc::new(areas);
        shared.designations = Arc::new(all);
    }

    /// Reads the designations other servers recorded since the last call and adds them to
    /// this server's index, so that its evaluations see them (the server that recorded
    /// one re-evaluates the persons it covers). Returns how many were new here.
    pub async fn follow_designations(&self) -> Result<usize, ServiceError> {
        let after = self.followed.load(Ordering::Acquire);
        let found = self.evidence_store.designations_after(after).await?;
        let Some(last) = found.iter().map(|d| d.seq).max() else { return Ok(0) };
        let before = self.designations().len();
        self.add_designations(found);
        self.followed.fetch_max(last, Ordering::AcqRel);
        let added = self.designations().len() - before;
        if added > 0 {
            tracing::info!(designations = added, "designations recorded by other servers now in force here");
        }
        Ok(added)
    }

    /// Takes on the rule set another server activated, if it is not the one in force here:
    /// the codes evaluated under any other are queued again (some may have been saved here
    /// under the old rules while the other server re-evaluated). Returns its version.
    pub async fn follow_rules(&self) -> Result<Option<String>, ServiceError> {
        let (kind, id) = RULES_IN_FORCE;
        let Some(in_force) = self.documents.load::<RulesInForce>(kind, id).await? else { return Ok(None) };
        if in_force.digest == self.rules().digest() {
            return Ok(None);
        }
        let Some(proposal) = self
            .documents
            .load::<crate::rule_changes::RuleProposal>(crate::rule_changes::KIND, &in_force.proposal)
            .await?
        else {
            return Err(ServiceError::Background(format!(
                "the rule set in force names proposal `{}`, which is not stored",
                in_force.proposal
            )));
        };
        let rules = RuleSet::parse(&proposal.source)?;
        let version = rules.version().to_string();
        self.set_rules(rules);
        let now = self.clock.now();
        self.code_store.queue_codes_of_other_versions(&version, now).await?;
        // An evaluation already under way here with the old rules may still save after
        // this: once the claims it could hold have ended, the stragglers are queued again.
        self.requeue_versions_at.store(now.saturating_add(REQUEUE_AFTER_RULES.into()).as_millis(), Ordering::Relaxed);
        tracing::info!(%version, "rule set activated by another server now in force here");
        Ok(Some(version))
    }

    /// Queues again, once, the codes of other rule-set versions when the time set by
    /// `follow_rules` has come.
    async fn requeue_stragglers(&self) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let due = self.requeue_versions_at.load(Ordering::Relaxed);
        if now.as_millis() < due
            || self.requeue_versions_at.compare_exchange(due, i64::MAX, Ordering::AcqRel, Ordering::Relaxed).is_err()
        {
            return Ok(());
        }
        let queued = self.code_store.queue_codes_of_other_versions(self.rules().version(), now).await?;
        if queued > 0 {
            tracing::info!(queued, "codes saved under the previous rule set after it changed, queued again");
        }
        Ok(())
    }

    /// Brings what this server holds in memory up to what the store says: designations
    /// and the rule set in force, which other servers may have changed.
    pub async fn follow(&self) -> Result<(), ServiceError> {
        self.follow_designations().await?;
        self.follow_rules().await?;
        self.requeue_stragglers().await
    }
}
