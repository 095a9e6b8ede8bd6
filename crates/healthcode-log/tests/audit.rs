//! `healthcode audit verify`, pure part: an honest log passes; each way of cheating is
//! caught and named.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use healthcode_log::*;

const ORIGIN: &str = "healthcode.example/log";

fn entry(i: u64) -> Entry {
    Entry::ColourChange(ColourChange {
        at: 1_655_280_000_000 + i as i64,
        person_commitment: person_commitment(&[i as u8; 32], &format!("P-{i:04}"), 0),
        old_colour: Some("green".into()),
        new_colour: if i.is_multiple_of(3) { "red" } else { "yellow" }.into(),
        rules: vec!["R5".into()],
        evidence_digests: vec![],
        rule_set_version: "2022.3".into(),
        origin: None,
    })
}

/// A log as the service would run it: an appender and the rows it persisted.
struct Log {
    leaves: Vec<Vec<u8>>,
    frontier: Frontier,
    rows: HashMap<NodeId, Hash>,
}

impl Log {
    fn with(leaves: Vec<Vec<u8>>) -> Self {
        let mut log = Self { leaves: Vec::new(), frontier: Frontier::new(), rows: HashMap::new() };
        for leaf in leaves {
            log.rows.extend(log.frontier.append(leaf_hash(&leaf)));
            log.leaves.push(leaf);
        }
        log
    }

    fn honest(n: u64) -> Self {
        Self::with((0..n).map(|i| entry(i).leaf_bytes()).collect())
    }

    fn root(&self, size: u64) -> Hash {
        root_plan(size).root(&self.rows).unwrap()
    }

    fn checkpoint(&self, size: u64, signer: &NoteSigner) -> String {
        Checkpoint { origin: ORIGIN.into(), size, root: self.root(size) }.sign(signer).unwrap()
    }

    fn consistency(&self, old: u64, new: u64) -> Vec<Hash> {
        consistency_plan(old, new).unwrap().consistency_proof(&self.rows).unwrap()
    }

    fn served(&self, size: u64) -> Vec<(u64, Vec<u8>, Vec<Hash>)> {
        (0..size)
            .map(|i| {
                (
                    i,
                    self.leaves[i as usize].clone(),
                    inclusion_plan(i, size).unwrap().inclusion_proof(&self.rows).unwrap(),
                )
            })
            .collect()
    }
}

fn key() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [42; 32]).unwrap()
}

const SIZES: [u64; 5] = [5, 5, 17, 32, 40];

fn chain(log: &Log) -> (Vec<String>, Vec<Vec<Hash>>) {
    let notes = SIZES.iter().map(|&s| log.checkpoint(s, &key())).collect();
    let proofs = SIZES.windows(2).map(|w| log.consistency(w[0], w[1])).collect();
    (notes, proofs)
}

#[test]
fn an_honest_log_passes() {
    let log = Log::honest(40);
    let (notes, proofs) = chain(&log);
    let opened = verify_chain(&key().verifier(), ORIGIN, &notes, &proofs).unwrap();
    assert_eq!(opened.iter().map(|c| c.size).collect::<Vec<_>>(), SIZES);
    let latest = opened.last().unwrap();
    let entries = verify_entries(latest, &log.served(40)).unwrap();
    assert_eq!(entries, (0..40).map(entry).collect::<Vec<_>>());
    assert_eq!(verify_all_entries(latest, &log.leaves).unwrap().len(), 40);
    assert_eq!(verify_chain(&key().verifier(), ORIGIN, &[], &[]), Ok(vec![]));
}

#[test]
fn a_tampered_leaf_is_named() {
    let log = Log::honest(40);
    let checkpoint = Checkpoint { origin: ORIGIN.into(), size: 40, root: log.root(40) };
    let mut served = log.served(40);
    let byte = served[13].1.iter().position(|&b| b == b'R').unwrap();
    served[13].1[byte] = b'Y'; // "R5" → "Y5": one byte
    assert!(matches!(verify_entries(&checkpoint, &served), Err(AuditError::NotIncluded { index: 13, .. })));
    let mut leaves = log.leaves.clone();
    leaves[13][byte] = b'Y';
    assert_eq!(verify_all_entries(&checkpoint, &leaves), Err(AuditError::RootMismatch { size: 40 }));
}

#[test]
fn a_rewritten_history_is_named() {
    let honest = Log::honest(40);
    let mut leaves = honest.leaves.clone();
    leaves[3] = entry(1003).leaf_bytes();
    let rewritten = Log::with(leaves);

    // The same size, another tree: the second checkpoint of 17 contradicts the first.
    let notes = [honest.checkpoint(17, &key()), rewritten.checkpoint(17, &key())];
    let err = verify_chain(&key().verifier(), ORIGIN, &notes, &[vec![]]).unwrap_err();
    assert!(matches!(err, AuditError::Inconsistent { index: 1, old_size: 17, new_size: 17, .. }), "{err}");

    // A later checkpoint over the rewritten tree cannot be proved to extend the old one.
    let notes = [honest.checkpoint(5, &key()), rewritten.checkpoint(32, &key())];
    let err = verify_chain(&key().verifier(), ORIGIN, &notes, &[rewritten.consistency(5, 32)]).unwrap_err();
    assert!(matches!(err, AuditError::Inconsistent { index: 1, old_size: 5, new_size: 32, .. }), "{err}");
}

#[test]
fn a_dropped_entry_is_named() {
    let honest = Log::honest(40);
    let mut leaves = honest.leaves.clone();
    leaves.remove(10);
    let dropped = Log::with(leaves);

    // The log quietly rebuilt itself without entry 10.
    let notes = [honest.checkpoint(17, &key()), dropped.checkpoint(39, &key())];
    let err = verify_chain(&key().verifier(), ORIGIN, &notes, &[dropped.consistency(17, 39)]).unwrap_err();
    assert!(matches!(err, AuditError::Inconsistent { index: 1, .. }), "{err}");

    // The log kept the entry but leaves it out of what it serves an auditor.
    let checkpoint = Checkpoint { origin: ORIGIN.into(), size: 40, root: honest.root(40) };
    let mut served = honest.leaves.clone();
    served.remove(10);
    assert_eq!(verify_all_entries(&checkpoint, &served), Err(AuditError::EntryCount { expected: 40, got: 39 }));
    // … or serves entry 11 in place of entry 10.
    let mut shifted = honest.served(40);
    shifted[10].1 = honest.leaves[11].clone();
    assert!(matches!(verify_entries(&checkpoint, &shifted), Err(AuditError::NotIncluded { index: 10, .. })));
}

#[test]
fn a_forged_checkpoint_signature_is_named() {
    let log = Log::honest(40);
    let (mut notes, proofs) = chain(&log);
    let forger = NoteSigner::from_seed(ORIGIN, [66; 32]).unwrap();
    notes[3] = log.checkpoint(32, &forger);
    let err = verify_chain(&key().verifier(), ORIGIN, &notes, &proofs).unwrap_err();
    assert!(
        matches!(err, AuditError::Checkpoint { index: 3, source: CheckpointError::Note(NoteError::UnknownKey(_)) }),
        "{err}"
    );

    let (mut notes, proofs) = chain(&log);
    notes[2] = notes[2].replacen("\n17\n", "\n18\n", 1);
    let err = verify_chain(&key().verifier(), ORIGIN, &notes, &proofs).unwrap_err();
    assert!(
        matches!(err, AuditError::Checkpoint { index: 2, source: CheckpointError::Note(NoteError::BadSignature(_)) }),
        "{err}"
    );
}

#[test]
fn shrinking_wrong_origin_and_missing_proofs_are_named() {
    let log = Log::honest(40);
    let notes = [log.checkpoint(17, &key()), log.checkpoint(5, &key())];
    assert_eq!(
        verify_chain(&key().verifier(), ORIGIN, &notes, &[vec![]]),
        Err(AuditError::Shrunk { index: 1, previous: 17, size: 5 })
    );
    let err = verify_chain(&key().verifier(), "other.example/log", &notes, &[vec![]]).unwrap_err();
    assert!(matches!(err, AuditError::Checkpoint { index: 0, source: CheckpointError::OriginMismatch { .. } }));
    assert_eq!(
        verify_chain(&key().verifier(), ORIGIN, &notes, &[]),
        Err(AuditError::ProofCount { checkpoints: 2, proofs: 0 })
    );
}
