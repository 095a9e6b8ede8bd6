// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_domain::Timestamp;
use healthcode_synth::{generate, OutbreakConfig, RegionConfig, SynthRecord};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn per_person_events_are_sorted_for_any_seed(seed in any::<u64>(), persons in 20u64..200, days in 1u32..60) {
        let config = RegionConfig {
            seed,
            persons,
            days,
            outbreak: OutbreakConfig { cases: 2, contacts_per_case: 4, ..RegionConfig::demo().outbreak },
            ..RegionConfig::demo()
        };
        let mut last: Option<(String, Timestamp)> = None;
        for record in generate(&config).unwrap() {
            match record {
                SynthRecord::Person { id, .. } => last = Some((id.to_string(), Timestamp::MIN)),
                SynthRecord::Evidence { person, at, .. } => {
                    let (id, prev) = last.as_mut().expect("person first");
                    prop_assert_eq!(person.as_str(), id.as_str());
                    prop_assert!(at >= *prev);
                    prop_assert!(at >= config.start && at <= config.end());
                    *prev = at;
                }
                SynthRecord::Designation { .. } => prop_assert!(last.is_none()),
            }
        }
    }
}
