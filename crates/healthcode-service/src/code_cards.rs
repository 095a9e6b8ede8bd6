//! What signing a person's code needs (colour, kind, code id, masked name), kept in
//! memory so that an app refreshing its code costs a signature and no trip to the store
//! (issue 16: a code display at most twice a signature plus a trivial request).
//!
//! A card is never older than the store's code by more than one follower tick:
//! - a code this server saves drops its person's card in the same step
//!   (`TransparencyLog::append_with`);
//! - every colour change, on any server, appends to the transparency log, so the log's
//!   size tells whether any other server changed a colour: when the stored size is not the
//!   one this server accounts for (its follower reads it every two seconds, and an append
//!   that finds the log grew under it knows at once), every card is dropped;
//! - a card whose `next_change` has come, or whose rule set is no longer in force, is not
//!   used (the code is brought up to date as before);
//! - a read that started before a drop never puts its card in (the generation check), so
//!   a read racing a save cannot bring the old colour back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

use healthcode_domain::{Colour, PersonId, PersonKind, Timestamp};

/// Cards kept at most (about 250 bytes each with the map and the allocator: ~50 MiB): the
/// residents active in the last moments.
/// When full, the cache starts again empty, as the resident key cache does.
pub const CODE_CARD_CACHE_MAX: usize = 200_000;

/// The part of a person's code and profile that a signed code carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodeFace {
    pub colour: Colour,
    pub kind: PersonKind,
    pub code_id: String,
    pub masked_name: String,
    /// When the stored code stops being current by itself, and the rules it was computed under.
    pub next_change: Option<Timestamp>,
    pub rules_version: String,
}

pub(crate) struct CodeCardCache {
    cards: Mutex<HashMap<PersonId, CodeFace>>,
    /// Grows with every drop; a card read before a drop is not put in after it.
    generation: AtomicU64,
    /// The log size whose colour changes every kept card reflects (`u64::MAX`: unknown).
    log_size: AtomicU64,
    /// 0 turns the cache off (to measure without it).
    capacity: AtomicUsize,
}

impl Default for CodeCardCache {
    fn default() -> Self {
        CodeCardCache {
            cards: Mutex::default(),
            generation: AtomicU64::new(0),
            log_size: AtomicU64::new(u64::MAX),
            capacity: AtomicUsize::new(CODE_CARD_CACHE_MAX),
        }
    }
}

impl CodeCardCache {
    fn cards(&self) -> std::sync::MutexGuard<'_, HashMap<PersonId, CodeFace>> {
        self.cards.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity, Ordering::Relaxed);
        self.clear();
    }

    pub(crate) fn get(&self, person: &PersonId) -> Option<CodeFace> {
        self.cards().get(person).cloned()
    }

    /// The generation to give `put` for a card about to be read from the store.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps a card read from the store, unless something was dropped since the read began.
    pub(crate) fn put(&self, read_at_generation: u64, person: &PersonId, face: CodeFace) {
        let capacity = self.capacity.load(Ordering::Relaxed);
        if capacity == 0 || self.log_size.load(Ordering::Acquire) == u64::MAX {
            return;
        }
        let mut cards = self.cards();
        // Drops take the lock to bump the generation, so this check and the insert are one step.
        if self.generation.load(Ordering::Acquire) != read_at_generation {
            return;
        }
        if cards.len() >= capacity {
            cards.clear();
        }
        cards.insert(person.clone(), face);
    }

    /// Every card dropped: a change this server cannot name person by person.
    pub(crate) fn clear(&self) {
        let mut cards = self.cards();
        self.generation.fetch_add(1, Ordering::AcqRel);
        cards.clear();
    }

    /// This server saved these persons' codes, taking the log from `from` entries to `to`.
    /// If the log had grown by others' entries that the cards did not account for, every
    /// card goes.
    pub(crate) fn saved(&self, persons: impl Iterator<Item = PersonId>, from: u64, to: u64) {
        let mut cards = self.cards();
        self.generation.fetch_add(1, Ordering::AcqRel);
        if self.log_size.compare_exchange(from, to, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            for person in persons {
                cards.remove(&person);
            }
        } else {
            cards.clear();
            self.log_size.store(to, Ordering::Release);
        }
    }

    /// The log's size as the store has it now (the follower's tick): if it is not the size
    /// the cards account for, another server changed colours, and every card goes.
    pub(crate) fn log_size_is(&self, size: u64) {
        if self.log_size.load(Ordering::Acquire) != size {
            let mut cards = self.cards();
            self.generation.fetch_add(1, Ordering::AcqRel);
            cards.clear();
            self.log_size.store(size, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(colour: Colour) -> CodeFace {
        CodeFace {
            colour,
            kind: PersonKind::Domestic,
            code_id: "c1".into(),
            masked_name: "张*".into(),
            next_change: None,
            rules_version: "v1".into(),
        }
    }

    fn person(id: &str) -> PersonId {
        PersonId::parse(id).unwrap()
    }

    #[test]
    fn nothing_is_kept_until_the_log_size_is_known() {
        let cache = CodeCardCache::default();
        let p = person("p0000000000000000000000000000001");
        cache.put(cache.generation(), &p, face(Colour::Green));
        assert_eq!(cache.get(&p), None, "before the first follower tick the cache cannot tell others' changes");
        cache.log_size_is(10);
        cache.put(cache.generation(), &p, face(Colour::Green));
        assert_eq!(cache.get(&p), Some(face(Colour::Green)));
    }

    #[test]
    fn a_save_here_drops_its_persons_and_a_read_begun_before_it_is_not_kept() {
        let cache = CodeCardCache::default();
        cache.log_size_is(10);
        let (a, b) = (person("p0000000000000000000000000000001"), person("p0000000000000000000000000000002"));
        cache.put(cache.generation(), &a, face(Colour::Green));
        cache.put(cache.generation(), &b, face(Colour::Green));
        let read_began = cache.generation();
        cache.saved([a.clone()].into_iter(), 10, 11);
        assert_eq!(cache.get(&a), None, "the saved person's card is gone");
        assert_eq!(cache.get(&b), Some(face(Colour::Green)), "the others stay");
        cache.put(read_began, &a, face(Colour::Green));
        assert_eq!(cache.get(&a), None, "a read that raced the save does not bring the old colour back");
    }

    #[test]
    fn another_servers_colour_change_drops_every_card() {
        let cache = CodeCardCache::default();
        cache.log_size_is(10);
        let a = person("p0000000000000000000000000000001");
        cache.put(cache.generation(), &a, face(Colour::Green));
        cache.log_size_is(10);
        assert!(cache.get(&a).is_some(), "the log has not grown: nothing changed");
        cache.log_size_is(12);
        assert_eq!(cache.get(&a), None, "the log grew by another server's entries");
        // An append here over entries this server had not accounted for drops them all too.
        cache.put(cache.generation(), &a, face(Colour::Green));
        cache.saved(std::iter::empty(), 13, 14);
        assert_eq!(cache.get(&a), None);
    }

    #[test]
    fn a_full_cache_starts_again_and_capacity_zero_keeps_nothing() {
        let cache = CodeCardCache::default();
        cache.log_size_is(0);
        cache.set_capacity(2);
        for i in 1..=3 {
            cache.put(cache.generation(), &person(&format!("p{i:031}")), face(Colour::Green));
        }
        assert_eq!(cache.cards().len(), 1);
        cache.set_capacity(0);
        cache.put(cache.generation(), &person("p0000000000000000000000000000009"), face(Colour::Green));
        assert_eq!(cache.cards().len(), 0);
    }
}
