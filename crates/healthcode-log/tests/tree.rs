//! The stride-storage path (Frontier → stored rows → Plan → assemble) against the RFC's
//! recursive definitions, and the verifiers against both.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use healthcode_log::*;
use proptest::prelude::*;

fn leaves(n: usize) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect()
}

/// Appends `leaves` and keeps every row the appender asks to persist, as a database would.
struct Log {
    frontier: Frontier,
    rows: HashMap<NodeId, Hash>,
}

impl Log {
    fn new() -> Self {
        Self { frontier: Frontier::new(), rows: HashMap::new() }
    }

    fn append(&mut self, leaf: Hash) {
        for (id, hash) in self.frontier.append(leaf) {
            assert!(id.level.is_multiple_of(STRIDE), "{id:?} is not at a stored level");
            assert!(self.rows.insert(id, hash).is_none(), "{id:?} persisted twice");
        }
    }

    /// Only the rows the plan lists: proves the plan asks for everything it uses.
    fn fetch(&self, plan: &Plan) -> HashMap<NodeId, Hash> {
        plan.nodes()
            .iter()
            .map(|id| (*id, *self.rows.get(id).unwrap_or_else(|| panic!("{id:?} was never stored"))))
            .collect()
    }
}

/// Plans stay small: at most 2^STRIDE stored nodes per level of the tree.
fn assert_small(plan: &Plan, size: u64) {
    let levels = 64 - size.leading_zeros() as usize;
    assert!(plan.nodes().len() <= levels.max(1) * (1 << STRIDE), "{} nodes for size {size}", plan.nodes().len());
}

fn sample(n: usize) -> Vec<usize> {
    if n <= 32 {
        (0..n).collect()
    } else {
        // Both ends, powers of two around, and a spread in between.
        let mut v: Vec<usize> = vec![0, 1, n / 2, n - 2, n - 1];
        v.extend((0..usize::BITS).map(|b| 1usize << b).filter(|&p| p < n).flat_map(|p| [p - 1, p, (p + 1).min(n - 1)]));
        v.extend((0..n).step_by(61));
        v.sort_unstable();
        v.dedup();
        v
    }
}

#[test]
fn plans_match_the_rfc_definitions_for_every_size_up_to_300() {
    let all = leaves(300);
    let mut log = Log::new();
    // roots[m] is the root at size m, checked once and then reused.
    let mut roots = vec![log.frontier.root()];
    assert_eq!(roots[0], mth(&[]));
    for n in 1..=300usize {
        log.append(all[n - 1]);
        let size = n as u64;
        let tree = &all[..n];
        assert_eq!(log.frontier.size(), size);
        assert_eq!(log.frontier.root(), mth(tree), "frontier root at {n}");
        roots.push(log.frontier.root());

        let plan = root_plan(size);
        assert_small(&plan, size);
        let fetched = log.fetch(&plan);
        assert_eq!(plan.root(&fetched).unwrap(), mth(tree));
        assert_eq!(plan.frontier(&fetched).unwrap(), log.frontier, "rebuilt frontier at {n}");

        for i in sample(n) {
            let plan = inclusion_plan(i as u64, size).unwrap();
            assert_small(&plan, size);
            let proof = plan.inclusion_proof(&log.fetch(&plan)).unwrap();
            assert_eq!(proof, inclusion_proof_of(tree, i).unwrap(), "inclusion of {i} in {n}");
            verify_inclusion(&tree[i], i as u64, size, &proof, &roots[n]).unwrap();
        }
        for m in sample(n + 1) {
            let plan = consistency_plan(m as u64, size).unwrap();
            assert_small(&plan, size);
            let proof = plan.consistency_proof(&log.fetch(&plan)).unwrap();
            assert_eq!(proof, consistency_proof_of(tree, m).unwrap(), "consistency {m} → {n}");
            verify_consistency(m as u64, size, &roots[m], &roots[n], &proof).unwrap();
        }
    }
}

#[test]
fn the_appender_stores_about_one_and_a_sixteenth_rows_per_leaf() {
    let mut frontier = Frontier::new();
    let mut rows = Vec::new();
    for i in 0..(1u64 << 16) {
        frontier.append_into(leaf_hash(&i.to_be_bytes()), &mut rows);
    }
    // 2^16 leaves + 2^12 + 2^8 + 2^4 + 1 subtrees at levels 4, 8, 12, 16.
    assert_eq!(rows.len(), 65536 + 4096 + 256 + 16 + 1);
    assert_eq!(rows.last().unwrap().0, NodeId::new(16, 0));
    assert_eq!(rows.last().unwrap().1, frontier.root());
}

#[test]
fn large_trees_plan_with_few_nodes() {
    // No hashing here: only the shape of plans for sizes a province reaches.
    for size in [1u64 << 20, (1 << 30) + 12345, (1 << 40) - 1, 987_654_321_987] {
        for index in [0, 1, size / 3, size - 1] {
            assert_small(&inclusion_plan(index, size).unwrap(), size);
        }
        for old in [1, 7, size / 2 + 1, size - 1] {
            assert_small(&consistency_plan(old, size).unwrap(), size);
        }
        assert_small(&root_plan(size), size);
    }
}

#[test]
fn plans_refuse_impossible_requests_and_report_missing_rows() {
    assert_eq!(inclusion_plan(5, 5), Err(LogError::IndexOutOfRange { index: 5, size: 5 }));
    assert_eq!(consistency_plan(6, 5), Err(LogError::SizeDecreased { old_size: 6, new_size: 5 }));
    let plan = inclusion_plan(0, 20).unwrap();
    let missing = plan.nodes()[0];
    let err = plan.inclusion_proof(&|_: NodeId| None).unwrap_err();
    assert_eq!(err, LogError::MissingNode(missing));
    assert!(matches!(plan.root(&HashMap::new()), Err(LogError::WrongPlan { .. })));
    assert!(matches!(plan.consistency_proof(&HashMap::new()), Err(LogError::WrongPlan { .. })));
}

#[test]
fn a_closure_can_serve_the_rows() {
    let mut log = Log::new();
    leaves(77).into_iter().for_each(|l| log.append(l));
    let plan = inclusion_plan(40, 77).unwrap();
    let proof = plan.inclusion_proof(&|id: NodeId| log.rows.get(&id).copied()).unwrap();
    assert_eq!(proof, inclusion_proof_of(&leaves(77), 40).unwrap());
    assert_eq!(Frontier::from_stored(77, &log.rows).unwrap(), log.frontier);
}

#[test]
fn empty_and_trivial_trees() {
    assert_eq!(root_plan(0).nodes(), &[]);
    assert_eq!(root_plan(0).root(&HashMap::new()).unwrap(), empty_root());
    assert_eq!(Frontier::from_stored(0, &HashMap::new()).unwrap(), Frontier::new());
    let leaf = leaf_hash(b"only");
    verify_inclusion(&leaf, 0, 1, &[], &leaf).unwrap();
    verify_consistency(0, 1, &empty_root(), &leaf, &[]).unwrap();
    assert_eq!(verify_consistency(0, 1, &leaf, &leaf, &[]), Err(LogError::OldRootMismatch));
    verify_consistency(1, 1, &leaf, &leaf, &[]).unwrap();
    assert_eq!(verify_consistency(1, 1, &leaf, &empty_root(), &[]), Err(LogError::RootMismatch));
}

fn flip(proof: &[Hash], which: usize, bit: u8) -> Vec<Hash> {
    let mut p = proof.to_vec();
    p[which][(bit / 8) as usize] ^= 1 << (bit % 8);
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(
        n in 1usize..600, index_seed in any::<usize>(), other in any::<usize>(), bit in 0u8..=255, extra in 1usize..40,
    ) {
        let all = leaves(n + extra);
        let tree = &all[..n];
        let (size, root) = (n as u64, mth(tree));
        let index = index_seed % n;
        let proof = inclusion_proof_of(tree, index).unwrap();
        prop_assert_eq!(verify_inclusion(&tree[index], index as u64, size, &proof, &root), Ok(()));

        if !proof.is_empty() {
            let bad = flip(&proof, other % proof.len(), bit);
            prop_assert!(verify_inclusion(&tree[index], index as u64, size, &bad, &root).is_err());
        }
        let mut leaf = tree[index];
        leaf[(bit / 8) as usize] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(&leaf, index as u64, size, &proof, &root).is_err());

        let wrong_index = (index + 1 + other % n) % (n + 1);
        if wrong_index != index {
            prop_assert!(verify_inclusion(&tree[index], wrong_index as u64, size, &proof, &root).is_err());
        }
        // A size is only ever checked together with the root signed for it.
        for wrong in [n - 1, n + extra] {
            if wrong > index {
                let wrong_root = mth(&all[..wrong]);
                prop_assert!(verify_inclusion(&tree[index], index as u64, wrong as u64, &proof, &wrong_root).is_err());
            }
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(&tree[index], index as u64, size, &longer, &root).is_err());
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails(
        n in 1usize..600, m_seed in any::<usize>(), other in any::<usize>(), bit in 0u8..=255,
    ) {
        let tree = leaves(n);
        let m = 1 + m_seed % n;
        let (old_root, new_root) = (mth(&tree[..m]), mth(&tree));
        let proof = consistency_proof_of(&tree, m).unwrap();
        prop_assert_eq!(verify_consistency(m as u64, n as u64, &old_root, &new_root, &proof), Ok(()));

        if !proof.is_empty() {
            let bad = flip(&proof, other % proof.len(), bit);
            prop_assert!(verify_consistency(m as u64, n as u64, &old_root, &new_root, &bad).is_err());
        }
        let mut forged = old_root;
        forged[(bit / 8) as usize] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(m as u64, n as u64, &forged, &new_root, &proof).is_err());
        prop_assert!(verify_consistency(m as u64, n as u64, &old_root, &forged, &proof).is_err());

        let wrong_m = 1 + (m + other % n) % n;
        if wrong_m != m {
            let wrong_root = mth(&tree[..wrong_m]);
            prop_assert!(verify_consistency(wrong_m as u64, n as u64, &wrong_root, &new_root, &proof).is_err());
        }
        if m < n {
            // A different history of the same sizes: the new tree with one leaf changed.
            let mut rewritten = tree.clone();
            rewritten[other % m] = leaf_hash(b"rewritten");
            let rewritten_proof = consistency_proof_of(&rewritten, m).unwrap();
            prop_assert!(verify_consistency(m as u64, n as u64, &old_root, &mth(&rewritten), &rewritten_proof).is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Past 300 leaves, random sizes and positions: stride levels 8 and 12 come into play.
    #[test]
    fn plans_match_the_rfc_definitions_on_larger_random_trees(
        n in 300usize..5000, index_seed in any::<usize>(), m_seed in any::<usize>(),
    ) {
        let tree = leaves(n);
        let mut log = Log::new();
        tree.iter().for_each(|l| log.append(*l));
        let (index, m) = (index_seed % n, m_seed % (n + 1));
        let plan = inclusion_plan(index as u64, n as u64).unwrap();
        prop_assert_eq!(plan.inclusion_proof(&log.fetch(&plan)).unwrap(), inclusion_proof_of(&tree, index).unwrap());
        let plan = consistency_plan(m as u64, n as u64).unwrap();
        prop_assert_eq!(plan.consistency_proof(&log.fetch(&plan)).unwrap(), consistency_proof_of(&tree, m).unwrap());
        let plan = root_plan(n as u64);
        prop_assert_eq!(plan.root(&log.fetch(&plan)).unwrap(), mth(&tree));
    }
}
