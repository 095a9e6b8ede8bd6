//! Governance: the powers that change codes for many or for one, each approved by other
//! officers than its proposer and logged — rule-set changes (`rule_changes`), area
//! designations (`designations`), management decisions (`decisions`) and contact traces
//! (`tracing_contacts`). Their evidence goes through `Evidence` like any other; their
//! reads of persons' data go into the persons' access logs.

use std::sync::Arc;

use healthcode_store::{CodeStore, DoorStore, EvidenceStore, GovernanceStore};

use crate::accesses::Accesses;
use crate::documents::Documents;
use crate::tokens::SigningKeys;
use crate::{Alarms, Clock, Codes, Evidence, Pseudonymiser, TransparencyLog};

/// Holds the decision store, the persons and evidence it checks, the check-ins a trace
/// reads, the code queue (a rule change re-queues codes), the documents that keep
/// proposals, the log, the alarms, the evaluator, the evidence it records, the access
/// log, the key ring (the province's code) and the pseudonymiser (keyed event ids).
pub struct Governance {
    pub(crate) governance_store: Arc<dyn GovernanceStore>,
    pub(crate) evidence_store: Arc<dyn EvidenceStore>,
    pub(crate) door_store: Arc<dyn DoorStore>,
    pub(crate) code_store: Arc<dyn CodeStore>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) documents: Documents,
    pub(crate) log: Arc<TransparencyLog>,
    pub(crate) alarms: Arc<Alarms>,
    pub(crate) codes: Arc<Codes>,
    pub(crate) evidence: Arc<Evidence>,
    pub(crate) accesses: Arc<Accesses>,
    pub(crate) keys: Arc<SigningKeys>,
    pub(crate) pseudonyms: Pseudonymiser,
    /// The incident notice this server last read.
    pub(crate) notice_cache: crate::notices::NoticeCache,
    /// Whether a decision logged as approved may not have been carried out to the end (true
    /// at start, and after a failure while carrying one out): only then does the scheduler
    /// read the intents (`finish_interrupted_decisions`).
    pub(crate) unfinished_decisions: std::sync::atomic::AtomicBool,
    /// When this server last looked at every decision being applied (milliseconds).
    pub(crate) decisions_swept_at: std::sync::atomic::AtomicI64,
}
