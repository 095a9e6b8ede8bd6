//! Codes: the evaluator that keeps every code current and explains it. It holds what every
//! evaluation reads besides the person's own evidence (the rule set, the area
//! designations and their index), the evidence and code stores, the log (a colour change
//! is logged with its code) and the alarms (colour bursts). The paths that keep codes
//! current are in `refresh`, explanations in `explain`.

use std::sync::{Arc, RwLock};

use healthcode_domain::{AreaRisk, Event, Timestamp};
use healthcode_rules::{AreaRiskIndex, RuleSet};
use healthcode_store::{CodeStore, EvidenceStore};

use crate::{Alarms, Clock, ServiceError, TransparencyLog};

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
    shared: RwLock<Shared>,
}

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
        rules: RuleSet,
    ) -> Result<Self, ServiceError> {
        let designations = evidence_store.designations().await?;
        let areas = AreaRiskIndex::new(designations.iter().cloned());
        code_store.queue_codes_of_other_versions(rules.version(), Timestamp::MIN).await?;
        let codes = Codes {
            evidence_store,
            code_store,
            clock,
            log,
            alarms,
            shared: RwLock::new(Shared {
                rules: Arc::new(rules),
                areas: Arc::new(areas),
                designations: Arc::new(designations),
            }),
        };
        codes.queue_unapplied_designations().await?;
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

    pub(crate) fn shared(&self) -> Shared {
        self.shared.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub(crate) fn set_rules(&self, rules: RuleSet) {
        self.shared.write().unwrap_or_else(|poisoned| poisoned.into_inner()).rules = Arc::new(rules);
    }

    pub(crate) fn add_designations(&self, added: Vec<Event<AreaRisk>>) {
        if added.is_empty() {
            return;
        }
        let mut shared = self.shared.write().unwrap_or_else(|poisoned| poisoned.into_inner());
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
}
