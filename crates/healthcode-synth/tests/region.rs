// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::collections::{HashMap, HashSet};

use healthcode_domain::{distinct_approvers, Evidence, PersonKind, QuarantineMode, RiskLevel, TestResult, Timestamp};
use healthcode_synth::{
    areas, designations, generate, generate_persons, OutbreakConfig, RegionConfig, StoreRecord, SynthRecord,
};

fn small(seed: u64, persons: u64) -> RegionConfig {
    RegionConfig {
        seed,
        persons,
        outbreak: OutbreakConfig { cases: 2, contacts_per_case: 5, ..RegionConfig::demo().outbreak },
        ..RegionConfig::demo()
    }
}

/// The times inside an event that must not lie after its `at`.
fn occurrence_times(evidence: &Evidence) -> Vec<Timestamp> {
    match evidence {
        Evidence::Fever { onset_at } => vec![*onset_at],
        Evidence::Test { sampled_at, .. } => vec![*sampled_at],
        Evidence::CloseContact { exposure_at } => vec![*exposure_at],
        Evidence::Entry { entered_at, .. } => vec![*entered_at],
        Evidence::Stay { from, to, .. } => [Some(*from), *to].into_iter().flatten().collect(),
        _ => vec![],
    }
}

/// Checks the ordering guarantees and the plausibility of every record of a region.
fn check_region(config: &RegionConfig) -> usize {
    let (start, end) = (config.start, config.end());
    let known_areas: HashSet<String> = areas(config).unwrap().iter().map(|a| a.to_string()).collect();
    let mut seen_persons = HashSet::new();
    let mut current: Option<(healthcode_domain::PersonId, Timestamp)> = None;
    let mut in_designations = true;
    let mut last_designation = Timestamp::MIN;
    let mut records = 0;
    for record in generate(config).unwrap() {
        records += 1;
        match record {
            SynthRecord::Designation { at, risk, .. } => {
                assert!(in_designations, "designations come first");
                assert!(at >= last_designation && (start..=end).contains(&at));
                assert!(known_areas.contains(risk.area.as_str()));
                last_designation = at;
            }
            SynthRecord::Person { id, residence_area, .. } => {
                in_designations = false;
                assert!(seen_persons.insert(id.clone()), "{id} appears twice");
                assert_eq!(residence_area.as_str().len(), 9);
                assert!(known_areas.contains(residence_area.as_str()));
                current = Some((id, Timestamp::MIN));
            }
            SynthRecord::Evidence { person, at, evidence, .. } => {
                let (id, last) = current.as_mut().expect("a person record comes before evidence");
                assert_eq!(&person, id, "a person's evidence follows their record");
                assert!(at >= *last, "{person}: evidence out of order");
                *last = at;
                assert!((start..=end).contains(&at), "{at} outside the period");
                for t in occurrence_times(&evidence) {
                    assert!(t <= at && t >= start, "{person}: {evidence:?} recorded at {at}");
                }
                match &evidence {
                    Evidence::Stay { area, from, to } => {
                        assert!(to.is_none_or(|to| to >= *from));
                        assert!(known_areas.contains(area.as_str()), "{area}");
                    }
                    Evidence::QuarantineOrder { days, .. } => assert!((1..=365).contains(days)),
                    Evidence::ManagementDecision { until, approvers, .. } => {
                        assert!(*until > at && distinct_approvers(approvers) >= 2);
                    }
                    _ => {}
                }
            }
        }
    }
    records
}

#[test]
fn same_seed_same_records_other_seed_other_records() {
    let first =
        |seed| generate(&RegionConfig { seed, ..RegionConfig::demo() }).unwrap().take(1_000).collect::<Vec<_>>();
    assert_eq!(first(5), first(5));
    assert_ne!(first(5), first(6));
}

#[test]
fn demo_records_are_ordered_and_plausible() {
    let records = check_region(&RegionConfig::demo());
    assert!(records > 25_000, "{records}");
}

#[test]
fn small_and_short_regions_are_ordered_and_plausible() {
    for days in [1, 3, 14] {
        check_region(&RegionConfig { days, ..small(9, 400) });
    }
    check_region(&RegionConfig {
        persons: 0,
        outbreak: OutbreakConfig { cases: 0, ..RegionConfig::demo().outbreak },
        ..RegionConfig::demo()
    });
}

#[test]
fn ids_are_unique_over_50k_persons() {
    let config = RegionConfig::bench(50_000);
    let mut persons = HashSet::new();
    let mut events = HashSet::new();
    for record in generate(&config).unwrap() {
        match record {
            SynthRecord::Person { id, .. } => assert!(persons.insert(id)),
            SynthRecord::Evidence { id, .. } | SynthRecord::Designation { id, .. } => assert!(events.insert(id)),
        }
    }
    assert_eq!(persons.len(), 50_000);
    assert!(events.len() > 200_000, "{}", events.len());
}

#[test]
fn person_ids_are_pseudonyms() {
    let ids: Vec<String> = generate(&small(1, 20))
        .unwrap()
        .filter_map(|r| match r {
            SynthRecord::Person { id, .. } => Some(id.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(ids.first().map(String::as_str), Some("p00000001"));
    assert_eq!(ids.last().map(String::as_str), Some("p00000020"));
}

#[test]
fn demo_tells_the_outbreak_story() {
    let config = RegionConfig::demo();
    let mut kinds: HashMap<&'static str, HashSet<String>> = HashMap::new();
    let mut international = 0;
    let mut levels = Vec::new();
    for record in generate(&config).unwrap() {
        match record {
            SynthRecord::Person { kind, .. } => international += usize::from(kind == PersonKind::International),
            SynthRecord::Designation { risk, .. } => levels.push((risk.area.to_string(), risk.level)),
            SynthRecord::Evidence { person, evidence, .. } => {
                let kind = match evidence {
                    Evidence::Test { result: TestResult::Positive, .. } => "positive",
                    Evidence::Test { .. } => "negative",
                    Evidence::CloseContact { .. } => "close_contact",
                    Evidence::ContactCleared => "contact_cleared",
                    Evidence::Entry { .. } => "entry",
                    Evidence::Fever { .. } => "fever",
                    Evidence::FeverResolved => "fever_resolved",
                    Evidence::Diagnosis { .. } => "diagnosis",
                    Evidence::QuarantineOrder { mode: QuarantineMode::Centralized, days: 14 } => "centralized_14",
                    Evidence::QuarantineOrder { mode: QuarantineMode::Home, .. } => "home_order",
                    Evidence::QuarantineRelease { .. } => "release",
                    Evidence::ManagementDecision { .. } => "decision",
                    Evidence::Retraction { .. } => "retraction",
                    Evidence::Declaration { .. } => "declaration",
                    Evidence::Arrival { .. } => "arrival",
                    Evidence::Stay { .. } => "stay",
                    Evidence::QuarantineOrder { .. } => "other_order",
                };
                kinds.entry(kind).or_default().insert(person.to_string());
            }
        }
    }
    let count = |kind: &str| kinds.get(kind).map_or(0, HashSet::len);
    assert_eq!(count("positive"), 8);
    assert!((50..=64).contains(&count("close_contact")), "{}", count("close_contact"));
    assert!(count("centralized_14") >= 50, "contacts and travellers are quarantined");
    assert!((3..=6).contains(&count("entry")), "{}", count("entry"));
    assert!(count("fever") >= 30 && count("fever_resolved") > 0);
    assert!(count("home_order") > 0 && count("release") > 0 && count("decision") > 0);
    assert!(count("stay") > 4_900, "nearly everyone has stays: {}", count("stay"));
    assert!((40..=200).contains(&international), "about 2% international: {international}");
    let kinds_of_level: HashSet<RiskLevel> = levels.iter().map(|l| l.1).collect();
    assert_eq!(kinds_of_level, HashSet::from([RiskLevel::Medium, RiskLevel::High, RiskLevel::Low]));
    assert_eq!(levels[1].0, levels[2].0, "the high-risk street is later downgraded");
    assert_eq!(designations(&config).unwrap().len(), 3);
}

#[test]
fn ranges_of_persons_add_up_to_the_region() {
    let config = small(4, 300);
    let whole: Vec<SynthRecord> =
        generate(&config).unwrap().filter(|r| !matches!(r, SynthRecord::Designation { .. })).collect();
    let mut parts: Vec<SynthRecord> = generate_persons(&config, 0..120).unwrap().collect();
    parts.extend(generate_persons(&config, 120..1_000).unwrap());
    assert_eq!(whole, parts);
}

#[test]
fn a_ten_million_region_streams() {
    let config = RegionConfig::bench(10_000_000);
    let first: Vec<SynthRecord> = generate(&config).unwrap().take(2_000).collect();
    assert_eq!(first.len(), 2_000);
    let mut tail = generate_persons(&config, 9_999_999..u64::MAX).unwrap();
    assert!(matches!(tail.next(), Some(SynthRecord::Person { id, .. }) if id.as_str() == "p10000000"));
}

#[test]
fn records_convert_to_store_records() {
    for record in generate(&small(2, 30)).unwrap() {
        match (record.clone(), StoreRecord::from(record)) {
            (SynthRecord::Person { id, .. }, StoreRecord::Person(p)) => assert_eq!(id, p.id),
            (SynthRecord::Evidence { id, .. }, StoreRecord::Evidence(e)) => assert_eq!(id, e.id),
            (SynthRecord::Designation { id, .. }, StoreRecord::Designation(d)) => assert_eq!(id, d.id),
            other => panic!("converted to another kind: {other:?}"),
        }
    }
}

#[test]
fn invalid_configs_are_refused() {
    for province in ["x3", "99"] {
        let config = RegionConfig { province: province.into(), ..RegionConfig::demo() };
        assert_eq!(generate(&config).err().unwrap().field, "province", "{province}");
        assert!(areas(&config).is_err());
    }
    let config = RegionConfig { cities: 12, ..RegionConfig::demo() };
    let err = generate(&config).err().unwrap();
    assert_eq!(err.field, "cities");
    assert!(err.to_string().contains("province 33 has 11 cities"), "{err}");
    assert!(areas(&config).is_err());
}
