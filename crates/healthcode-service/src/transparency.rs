//! The transparency log as the service keeps it: every colour change is appended in the
//! same transaction as the code it records; checkpoints are signed; proofs are assembled
//! from the stored node hashes. The person appears only as a salted commitment.

use std::collections::HashMap;
use std::sync::Arc;

use healthcode_domain::{Colour, PersonId, Timestamp};
use healthcode_log::{
    consistency_plan, inclusion_plan, person_commitment, root_plan, Checkpoint, ColourChange, Entry, Frontier, Hash,
    NodeId, NoteSigner, NoteVerifier, Plan,
};
use healthcode_store::{
    CodeState, CodeStore, DocumentWrite, LogAppend, LogLeaf, LogNode, LogStore, Store, StoreError, StoredCheckpoint,
};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::Mutex;

use crate::{Clock, ServiceError};

/// A colour change found by an evaluation, waiting for its place in the log.
#[derive(Debug, Clone)]
pub(crate) struct PendingChange {
    pub person: PersonId,
    pub old: Option<Colour>,
    pub new: Colour,
    pub rules: Vec<String>,
    pub evidence_digests: Vec<String>,
    pub rule_set_version: String,
    /// What made the code red, orange or yellow (see `ColourChange::origin`).
    pub origin: Option<String>,
}

/// The transparency log, the capability every power that changes a colour or approves a
/// change writes to, and that auditors and residents read: its rows (and the codes whose
/// changes it records, saved in the same transaction), the right edge of the tree (so
/// that appending costs one hash per leaf), the checkpoint signer, and the key that salts
/// persons' commitments.
pub struct TransparencyLog {
    logs: Arc<dyn LogStore>,
    codes: Arc<dyn CodeStore>,
    clock: Arc<dyn Clock>,
    frontier: Mutex<Frontier>,
    /// Saves staged at once, as many as the store keeps in flight (`saves_at_once`): each
    /// holds a database connection while it waits for the frontier, so that writers beyond
    /// these wait without one.
    staging: tokio::sync::Semaphore,
    signer: Arc<NoteSigner>,
    salt_key: [u8; 32],
    /// Cards of codes kept for signing: dropped as codes are saved here, and all at once
    /// when the log shows another server changed colours.
    code_cards: Arc<crate::code_cards::CodeCardCache>,
}

/// How often a stale writer re-reads the log and tries again before giving up.
const CONFLICT_RETRIES: usize = 5;

impl TransparencyLog {
    /// Reads the stored tree's right edge and checks it against the last checkpoint: a
    /// tree that no longer has the root the log signed was altered in the database; a
    /// checkpoint that does not verify was forged (or the log key replaced); a log with
    /// entries and no checkpoint had its checkpoints deleted (the first append signs one in
    /// its own transaction). Each refuses to start, saying so.
    pub(crate) async fn open(
        store: &Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        signer: NoteSigner,
        pseudonym_key: &[u8],
    ) -> Result<Self, ServiceError> {
        let (logs, codes): (Arc<dyn LogStore>, Arc<dyn CodeStore>) = (store.clone(), store.clone());
        let store = logs.as_ref();
        // The checkpoint before the tree: another server (or `healthcode` command) may
        // append and sign between the two reads, and a log only grows, so a tree read
        // second is never smaller than an intact log's checkpoint read first. Read the
        // other way round, a server starting beside busy ones took their growth for
        // deleted entries and refused to start.
        let mut latest = store.latest_checkpoint().await?;
        let frontier = read_frontier(store).await?;
        if latest.is_none() && frontier.size() > 0 {
            // The first append signs a checkpoint in its own transaction: one made since
            // the first read is there now.
            latest = store.latest_checkpoint().await?;
        }
        let tampered = |what: String| {
            Err(ServiceError::LogTampered(format!(
                "{what}; run `healthcode audit verify` against a checkpoint an auditor kept to see what changed"
            )))
        };
        match latest {
            None if frontier.size() > 0 => {
                return tampered(format!(
                    "the stored log holds {} entries but no signed checkpoint: checkpoints were deleted from the \
                     database",
                    frontier.size()
                ))
            }
            None => {}
            Some(latest) => {
                let Ok(signed) = Checkpoint::open(&latest.note, &signer.verifier(), signer.name()) else {
                    return tampered(format!(
                        "the latest stored checkpoint (size {}) is not signed by this log's key: it was forged, or \
                         the log key file was replaced",
                        latest.size
                    ));
                };
                if signed.size != latest.size || latest.size > frontier.size() {
                    return tampered(format!(
                        "the latest checkpoint signs a log of {} entries, but the stored log holds {}: entries were \
                         deleted",
                        signed.size,
                        frontier.size()
                    ));
                }
                if signed.root != root_at(store, latest.size).await? {
                    return tampered(format!(
                        "the stored log's root at size {} is not the root its checkpoint signed; the log's rows were \
                         changed in the database",
                        latest.size
                    ));
                }
            }
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(pseudonym_key).expect("HMAC accepts any key length");
        mac.update(b"log-salt-key");
        let code_cards = Arc::new(crate::code_cards::CodeCardCache::default());
        code_cards.log_size_is(frontier.size());
        let staging = tokio::sync::Semaphore::new(codes.saves_at_once().max(1));
        Ok(TransparencyLog {
            logs,
            codes,
            clock,
            code_cards,
            frontier: Mutex::new(frontier),
            staging,
            signer: Arc::new(signer),
            salt_key: mac.finalize().into_bytes().into(),
        })
    }

    /// The cards of codes kept for signing, which this log keeps in step with the codes.
    pub(crate) fn code_cards(&self) -> Arc<crate::code_cards::CodeCardCache> {
        self.code_cards.clone()
    }

    /// Drops every kept code card if another server changed colours since this one last
    /// looked (the log's stored size is not the one the cards account for). The follower
    /// calls it on every tick.
    pub(crate) async fn follow_size(&self) -> Result<(), ServiceError> {
        let size = self.logs.log_size().await?;
        self.code_cards.log_size_is(size);
        Ok(())
    }

    /// A person's salt: given to them (so they can find their own entries), never published.
    pub(crate) fn salt(&self, person: &PersonId) -> [u8; 32] {
        salt_of(&self.salt_key, person)
    }

    /// The key persons' salts are derived from, for evaluations on other threads.
    pub(crate) fn salt_key(&self) -> [u8; 32] {
        self.salt_key
    }

    /// Saves codes and appends the entries of their colour changes, in one transaction.
    /// A writer that finds the log grew meanwhile (another server) re-reads it and retries.
    pub(crate) async fn save_codes(
        &self,
        codes: &[CodeState],
        changes: &[PendingChange],
        at: Timestamp,
    ) -> Result<(), ServiceError> {
        let records = changes.iter().map(|c| (Some(c.person.clone()), Record::Change(c))).collect();
        self.append_with(at, records, codes, &[]).await.map(drop)
    }

    /// Appends entries that record no code (approvals, alarms, rule changes); returns
    /// their indices.
    pub async fn record(&self, entries: &[Entry]) -> Result<Vec<u64>, ServiceError> {
        self.record_with(entries, &[]).await
    }

    /// As `record`, saving `documents` in the same transaction: the state the entries
    /// record (an approved proposal, a decision being applied), so that a process killed
    /// between two writes leaves both or neither.
    pub(crate) async fn record_with(
        &self,
        entries: &[Entry],
        documents: &[DocumentWrite],
    ) -> Result<Vec<u64>, ServiceError> {
        let records = entries.iter().map(|e| (None, Record::Entry(e))).collect();
        self.append_with(self.clock.now(), records, &[], documents).await.map_err(|e| match e {
            ServiceError::Store(StoreError::DocumentExists { id, .. }) => ServiceError::Conflict(format!(
                "another approval completed `{id}` a moment earlier; it is recorded and applied once, and this \
                 request changed nothing"
            )),
            other => other,
        })
    }

    /// Logs retractions, each in the log of the person it concerns.
    pub(crate) async fn record_withdrawals(&self, withdrawals: &[Withdrawal]) -> Result<Vec<u64>, ServiceError> {
        let records = withdrawals.iter().map(|w| (Some(w.person.clone()), Record::Withdrawal(w))).collect();
        self.append_with(self.clock.now(), records, &[], &[]).await
    }

    /// Saves the codes, then appends the records under the writer's lock and commits both
    /// together; returns the indices the records got.
    async fn append_with(
        &self,
        at: Timestamp,
        records: Vec<(Option<PersonId>, Record<'_>)>,
        codes: &[CodeState],
        documents: &[DocumentWrite],
    ) -> Result<Vec<u64>, ServiceError> {
        for _ in 0..CONFLICT_RETRIES {
            // The codes before the writer's lock: chunks of a bulk re-evaluation saved at
            // once write their codes side by side, and only their log entries, which must
            // know the log's size, wait for each other (BENCHMARKS.md, issue 16).
            let _staging = self
                .staging
                .acquire()
                .await
                .map_err(|_| ServiceError::Background("the log writer is shutting down".into()))?;
            let staged = self.codes.stage_codes(codes).await?;
            let mut frontier = self.frontier.lock().await;
            let mut next = frontier.clone();
            let first_append = next.size() == 0;
            let mut append = LogAppend {
                leaves: Vec::with_capacity(records.len()),
                nodes: Vec::new(),
                checkpoint: None,
                documents: documents.to_vec(),
            };
            let mut nodes = Vec::new();
            for (person, record) in &records {
                let index = next.size();
                let entry = match record {
                    Record::Entry(e) => (*e).clone(),
                    Record::Change(c) => Entry::ColourChange(ColourChange {
                        at: at.as_millis(),
                        person_commitment: person_commitment(&self.salt(&c.person), c.person.as_str(), index),
                        old_colour: c.old.map(|o| o.as_str().to_string()),
                        new_colour: c.new.as_str().to_string(),
                        rules: c.rules.clone(),
                        evidence_digests: c.evidence_digests.clone(),
                        rule_set_version: c.rule_set_version.clone(),
                        origin: c.origin.clone(),
                    }),
                    Record::Withdrawal(w) => Entry::Retraction(healthcode_log::Retraction {
                        at: at.as_millis(),
                        person_commitment: person_commitment(&self.salt(&w.person), w.person.as_str(), index),
                        event_digest: w.event_digest.clone(),
                        event_type: w.event_type.clone(),
                        by: w.by.clone(),
                        department: w.department.clone(),
                    }),
                };
                let data = entry.leaf_bytes();
                next.append_into(healthcode_log::leaf_hash(&data), &mut nodes);
                append.leaves.push(LogLeaf { index, data, person: person.clone() });
            }
            append.nodes =
                nodes.into_iter().map(|(id, hash)| LogNode { level: id.level, index: id.index, hash }).collect();
            if first_append && next.size() > 0 {
                append.checkpoint = Some(self.sign(next.size(), next.root(), at)?);
            }
            match staged.commit(&append).await {
                Ok(()) => {
                    let indices = append.leaves.iter().map(|l| l.index).collect();
                    self.code_cards.saved(codes.iter().map(|c| c.person.clone()), frontier.size(), next.size());
                    *frontier = next;
                    return Ok(indices);
                }
                Err(StoreError::LogConflict { .. }) => *frontier = read_frontier(self.logs.as_ref()).await?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::Background("the transparency log kept growing under this writer; try again".into()))
    }

    /// Signs and stores a checkpoint of the log as it is now (or returns the latest if the
    /// log has not grown). The scheduler calls it on every tick.
    pub async fn sign_checkpoint(&self) -> Result<StoredCheckpoint, ServiceError> {
        let now = self.clock.now();
        let (size, root) = self.stored_head().await?;
        if let Some(latest) = self.logs.latest_checkpoint().await? {
            if latest.size == size {
                return Ok(latest);
            }
        }
        let stored = self.sign(size, root, now)?;
        crate::faults::crash_point("checkpoint.signed");
        self.logs.save_checkpoint(&stored).await?;
        Ok(stored)
    }

    /// A checkpoint of the log as it is now: the latest stored one if the log has not
    /// grown since, else one signed now and not stored (anyone may ask, and asking must
    /// not write to the database; the scheduler stores one at every tick).
    pub async fn current_checkpoint(&self) -> Result<StoredCheckpoint, ServiceError> {
        let (size, root) = self.stored_head().await?;
        match self.logs.latest_checkpoint().await? {
            Some(latest) if latest.size == size => Ok(latest),
            _ => self.sign(size, root, self.clock.now()),
        }
    }

    /// The size and root of the log as stored now. Other servers append to the same log,
    /// so this server's own frontier may be behind: it is brought up to date first (a
    /// checkpoint of an older size would be true, but would make the log seem to shrink
    /// to a reader whose requests reach two servers).
    async fn stored_head(&self) -> Result<(u64, Hash), ServiceError> {
        let mut frontier = self.frontier.lock().await;
        if self.logs.log_size().await? != frontier.size() {
            *frontier = read_frontier(self.logs.as_ref()).await?;
        }
        Ok((frontier.size(), frontier.root()))
    }

    fn sign(&self, size: u64, root: Hash, now: Timestamp) -> Result<StoredCheckpoint, ServiceError> {
        let note = Checkpoint { origin: self.signer.name().to_string(), size, root }
            .sign(&self.signer)
            .map_err(|e| ServiceError::Background(format!("cannot sign a checkpoint: {e}")))?;
        Ok(StoredCheckpoint { size, note, signed_at: now })
    }
}

enum Record<'a> {
    Change(&'a PendingChange),
    Entry(&'a Entry),
    Withdrawal(&'a Withdrawal),
}

/// A retraction to log: the person's commitment is made at the index the entry gets.
pub(crate) struct Withdrawal {
    pub person: PersonId,
    pub event_digest: String,
    pub event_type: String,
    pub by: String,
    pub department: Option<String>,
}

async fn fetch(store: &dyn LogStore, plan: &Plan) -> Result<HashMap<NodeId, Hash>, ServiceError> {
    let ids: Vec<(u8, u64)> = plan.nodes().iter().map(|n| (n.level, n.index)).collect();
    Ok(store.log_nodes(&ids).await?.into_iter().map(|n| (NodeId::new(n.level, n.index), n.hash)).collect())
}

fn broken(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::LogTampered(format!("the stored log's tree is incomplete or inconsistent: {e}"))
}

async fn read_frontier(store: &dyn LogStore) -> Result<Frontier, ServiceError> {
    let size = store.log_size().await?;
    let plan = root_plan(size);
    plan.frontier(&fetch(store, &plan).await?).map_err(broken)
}

async fn root_at(store: &dyn LogStore, size: u64) -> Result<Hash, ServiceError> {
    let plan = root_plan(size);
    plan.root(&fetch(store, &plan).await?).map_err(broken)
}

async fn inclusion_proof(store: &dyn LogStore, index: u64, size: u64) -> Result<Vec<Hash>, ServiceError> {
    let plan = inclusion_plan(index, size)
        .map_err(|e| ServiceError::Invalid(healthcode_domain::ValidationError::new(e.to_string())))?;
    plan.inclusion_proof(&fetch(store, &plan).await?).map_err(broken)
}

async fn consistency_proof(store: &dyn LogStore, old: u64, new: u64) -> Result<Vec<Hash>, ServiceError> {
    let plan = consistency_plan(old, new)
        .map_err(|e| ServiceError::Invalid(healthcode_domain::ValidationError::new(e.to_string())))?;
    plan.consistency_proof(&fetch(store, &plan).await?).map_err(broken)
}

/// Hex SHA-256 of an event as stored (its canonical JSON): what a colour change entry
/// says of a public event behind it (a designation).
pub(crate) fn digest<T: Serialize>(event: &T) -> String {
    use sha2::Digest;
    let bytes = serde_json::to_vec(event).unwrap_or_default();
    crate::secrets::hex(&Sha256::digest(bytes))
}

/// Hex HMAC-SHA256, under the person's salt, of their event as stored: what a colour
/// change entry says of the person's evidence. Unsalted, anyone who could guess an event
/// (a contact list's id and time) could confirm it from the public log; the person, who
/// holds their salt, can still check each digest against their own evidence.
pub(crate) fn salted_digest<T: Serialize>(salt: &[u8; 32], event: &T) -> String {
    let bytes = serde_json::to_vec(event).unwrap_or_default();
    let mut mac = Hmac::<Sha256>::new_from_slice(salt).expect("HMAC accepts any key length");
    mac.update(&bytes);
    crate::secrets::hex(&mac.finalize().into_bytes())
}

/// A person's salt from the log's salt key.
pub(crate) fn salt_of(salt_key: &[u8; 32], person: &PersonId) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(salt_key).expect("HMAC accepts any key length");
    mac.update(person.as_str().as_bytes());
    mac.finalize().into_bytes().into()
}

/// What a person is shown of the log: their salt (to recompute each commitment) and
/// each of their entries with its proof of inclusion in the latest checkpoint.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonLog {
    pub salt: String,
    pub checkpoint: String,
    pub size: u64,
    pub entries: Vec<PersonLogEntry>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonLogEntry {
    pub index: u64,
    pub entry: Entry,
    /// Base64 hashes, RFC 9162 order.
    pub proof: Vec<String>,
}

/// Hashes as base64 (standard, padded), as checkpoints write them.
pub fn hashes_base64(hashes: &[Hash]) -> Vec<String> {
    use base64::Engine;
    hashes.iter().map(|h| base64::engine::general_purpose::STANDARD.encode(h)).collect()
}

impl TransparencyLog {
    /// The log's public key, for auditors: `<origin>+<hash>+<key>` (C2SP note verifier).
    pub fn verifier(&self) -> NoteVerifier {
        self.signer.verifier()
    }

    /// The log's name: its checkpoints' origin line.
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// How many entries the log holds.
    pub async fn size(&self) -> Result<u64, ServiceError> {
        Ok(self.logs.log_size().await?)
    }

    /// The log's leaves from an index on: `(index, bytes)`.
    pub async fn entries(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>, ServiceError> {
        Ok(self.logs.log_leaves(from, limit).await?)
    }

    /// Stored checkpoints above a size, smallest first.
    pub async fn checkpoints(&self, after_size: u64, limit: usize) -> Result<Vec<StoredCheckpoint>, ServiceError> {
        Ok(self.logs.checkpoints(after_size, limit).await?)
    }

    /// The audit path of leaf `index` in the tree of `size` leaves, which the log must
    /// have reached.
    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ServiceError> {
        self.check_size("size", size).await?;
        inclusion_proof(self.logs.as_ref(), index, size).await
    }

    /// The proof that the tree of `new` leaves extends the one of `old`; the log must have
    /// reached `new`.
    pub async fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, ServiceError> {
        self.check_size("to", new).await?;
        consistency_proof(self.logs.as_ref(), old, new).await
    }

    /// A proof asked of a tree larger than the log is a mistake of the asker's, not a
    /// log that lost its nodes.
    async fn check_size(&self, field: &str, size: u64) -> Result<(), ServiceError> {
        let held = self.logs.log_size().await?;
        if size > held {
            return Err(healthcode_domain::ValidationError::field(
                field,
                format!("the log holds {held} entries; ask about a tree of at most that size"),
            )
            .into());
        }
        Ok(())
    }

    /// The person's colour changes, each with its inclusion proof in a checkpoint of the
    /// log as it is now (the caller has checked that the person exists).
    pub(crate) async fn person_log(&self, person: &PersonId) -> Result<PersonLog, ServiceError> {
        let checkpoint = self.current_checkpoint().await?;
        let mut entries = Vec::new();
        for index in self.logs.log_indices_of(person).await?.into_iter().filter(|&i| i < checkpoint.size) {
            let Some((_, data)) = self.logs.log_leaves(index, 1).await?.pop() else { continue };
            let entry = Entry::from_leaf_bytes(&data).map_err(broken)?;
            let proof = hashes_base64(&inclusion_proof(self.logs.as_ref(), index, checkpoint.size).await?);
            entries.push(PersonLogEntry { index, entry, proof });
        }
        Ok(PersonLog {
            salt: crate::secrets::hex(&self.salt(person)),
            checkpoint: checkpoint.note,
            size: checkpoint.size,
            entries,
        })
    }
}
