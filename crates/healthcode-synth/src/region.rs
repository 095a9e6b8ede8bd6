//! The record stream of a synthetic region.

use std::collections::VecDeque;
use std::iter::FusedIterator;
use std::ops::Range;

use healthcode_domain::{AreaCode, AreaRisk, EventId, Evidence, PersonId, PersonKind, Timestamp};

use crate::plan::{RegionPlan, Role};
use crate::rng::{stream, Rng, HOUR};
use crate::story::Story;
use crate::{ConfigError, RegionConfig};

/// One item of a synthetic region: a person to register, a piece of evidence about a
/// registered person, or a global area designation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SynthRecord {
    Person {
        id: PersonId,
        kind: PersonKind,
        /// A street (9-digit code).
        residence_area: AreaCode,
        /// The start of the simulated period.
        registered_at: Timestamp,
    },
    Evidence {
        person: PersonId,
        id: EventId,
        at: Timestamp,
        evidence: Evidence,
    },
    Designation {
        id: EventId,
        at: Timestamp,
        risk: AreaRisk,
    },
}

/// The pseudonymous id of person number `index` (0-based): `p` and eight digits, from
/// `p00000001`.
pub fn person_id(index: u64) -> PersonId {
    PersonId::parse(&format!("p{:08}", index + 1)).expect("p and digits is a valid person id")
}

pub(crate) fn event_id(text: String) -> EventId {
    EventId::parse(&text).expect("generated event ids are short printable ASCII")
}

/// The stream of a region's records; see [`generate`].
pub struct Records {
    plan: RegionPlan,
    designations: std::vec::IntoIter<SynthRecord>,
    next_person: u64,
    end_person: u64,
    buffer: VecDeque<SynthRecord>,
}

/// Every record of the region: first its area designations (sorted by `at`), then, person
/// by person, a `Person` record followed by that person's evidence in nondecreasing `at`.
///
/// Records are made as the iterator is consumed; memory use does not grow with `persons`.
/// The stream is *not* sorted by `at` across persons.
pub fn generate(config: &RegionConfig) -> Result<Records, ConfigError> {
    let mut records = generate_persons(config, 0..config.persons)?;
    records.designations = designations(config)?.into_iter();
    Ok(records)
}

/// The persons with 0-based indices in `range` (clipped to `persons`), with their
/// evidence, exactly as [`generate`] yields them, but without designations: for filling
/// a store from several threads, one range each.
pub fn generate_persons(config: &RegionConfig, range: Range<u64>) -> Result<Records, ConfigError> {
    let plan = RegionPlan::new(config)?;
    Ok(Records {
        designations: Vec::new().into_iter(),
        next_person: range.start.min(config.persons),
        end_person: range.end.min(config.persons),
        buffer: VecDeque::with_capacity(32),
        plan,
    })
}

/// The region's area designations, sorted by `at`: the outbreak county designated medium
/// and the index case's street high a few hours after the first diagnosis, and that
/// street downgraded to low 14 days later (if within the period). Empty without cases.
pub fn designations(config: &RegionConfig) -> Result<Vec<SynthRecord>, ConfigError> {
    let plan = RegionPlan::new(config)?;
    let seed = config.seed;
    let list = plan.designations().into_iter().enumerate();
    Ok(list
        .map(|(k, (at, risk))| SynthRecord::Designation {
            id: event_id(format!("synth-{seed}-area-{}", k + 1)),
            at: Timestamp::from_millis(at),
            risk,
        })
        .collect())
}

impl Records {
    fn fill(&mut self, index: u64) {
        let plan = &self.plan;
        let config = &plan.config;
        let mut rng = Rng::derive(config.seed, stream::PERSON, index);
        let role = plan.role(index);
        let international = rng.per_mille(if role == Role::Traveller { 250 } else { 20 });
        let layout = &plan.layout;
        let home = match role {
            Role::Case(c) => plan.case(c).street,
            Role::Contact { .. } if rng.per_mille(600) => layout.street_in(plan.outbreak_county, &mut rng),
            Role::Contact { .. } => {
                let county = layout.county_near(plan.outbreak_county, &mut rng);
                layout.street_in(county, &mut rng)
            }
            _ => layout.street_at(rng.below(layout.streets.len() as u64) as usize),
        };
        let stays = rng.between(
            i64::from(*config.outbreak.stays_per_person.start()),
            i64::from(*config.outbreak.stays_per_person.end()),
        ) as u32;
        let tests = rng.between(
            i64::from(*config.outbreak.tests_per_person.start()),
            i64::from(*config.outbreak.tests_per_person.end()),
        ) as u32;

        let mut story = Story::new(rng, layout, plan.start, plan.end);
        match role {
            Role::Case(c) => story.case(&plan.case(c)),
            Role::Contact { case } => story.contact(&plan.case(case)),
            Role::Traveller => story.traveller(),
            Role::Fever => story.fever(),
            Role::Decision(nth) => story.decision(nth),
            Role::Resident => {}
        }
        if let Some(designated_at) = plan.designated_at {
            if home.county == plan.outbreak_county && story.rng.per_mille(700) {
                story.screening(designated_at + 12 * HOUR);
            }
        }
        story.routine(home, stays, tests, true);

        let id = person_id(index);
        let seed = config.seed;
        self.buffer.push_back(SynthRecord::Person {
            id: id.clone(),
            kind: if international { PersonKind::International } else { PersonKind::Domestic },
            residence_area: layout.street_code(home).clone(),
            registered_at: config.start,
        });
        for (k, (at, evidence)) in story.finish().into_iter().enumerate() {
            self.buffer.push_back(SynthRecord::Evidence {
                person: id.clone(),
                id: event_id(format!("synth-{seed}-{}-{}", index + 1, k + 1)),
                at: Timestamp::from_millis(at),
                evidence,
            });
        }
    }
}

impl Iterator for Records {
    type Item = SynthRecord;

    fn next(&mut self) -> Option<SynthRecord> {
        if let Some(d) = self.designations.next() {
            return Some(d);
        }
        loop {
            if let Some(record) = self.buffer.pop_front() {
                return Some(record);
            }
            if self.next_person >= self.end_person {
                return None;
            }
            self.fill(self.next_person);
            self.next_person += 1;
        }
    }
}

impl FusedIterator for Records {}
