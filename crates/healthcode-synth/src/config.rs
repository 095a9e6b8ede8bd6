//! What region to generate: its size, its administrative layout, its outbreak and its
//! time span.

use std::ops::RangeInclusive;

use healthcode_domain::{Duration, Timestamp};

/// A synthetic region. Every field is public, so a variant is written as
/// `RegionConfig { seed: 7, persons: 20_000, ..RegionConfig::demo() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionConfig {
    /// Everything generated follows from the seed and the rest of this config.
    pub seed: u64,
    pub persons: u64,
    /// Two-digit code of the province whose real divisions the region lives in, e.g.
    /// `"33"` (Zhejiang).
    pub province: String,
    /// The province's first `cities` current cities, in code order (Zhejiang has 11:
    /// 杭州市 3301, 宁波市 3302, …). Asking for more than the province has is a
    /// [`ConfigError`].
    pub cities: u32,
    /// At most this many counties in each city: the city's first current ones in code
    /// order, all of them where it has fewer (舟山市 has 4).
    pub counties_per_city: u32,
    /// At most this many streets (townships) in each county: its first current ones in
    /// code order, all of them where it has fewer.
    pub streets_per_county: u32,
    pub outbreak: OutbreakConfig,
    /// Simulation start; every event's `at` lies in `[start, start + days]`.
    pub start: Timestamp,
    pub days: u32,
}

/// Who does what during the simulated period. Roles are exclusive: a person is a case,
/// a close contact, a traveller from abroad, a fever patient, the subject of a
/// management decision, or none of these; everyone has routine stays and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutbreakConfig {
    /// Confirmed cases, all living in the outbreak county.
    pub cases: u64,
    /// Close contacts traced per case (each gets a 14-day centralized quarantine).
    pub contacts_per_case: u32,
    pub fevers_per_10k: u32,
    pub travellers_from_abroad_per_10k: u32,
    /// Persons given a provincial management decision (红/黄码 by decision, R5/Y3).
    pub decisions_per_10k: u32,
    /// Routine stays per person (fewer for persons confined part of the time).
    pub stays_per_person: RangeInclusive<u32>,
    /// Routine negative nucleic-acid tests per person.
    pub tests_per_person: RangeInclusive<u32>,
}

/// Why a config cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("synthetic region: field `{field}`: {message}")]
pub struct ConfigError {
    pub field: &'static str,
    pub message: String,
}

/// How many persons play each role (the rest only have routine evidence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoleCounts {
    pub cases: u64,
    pub contacts: u64,
    pub travellers: u64,
    pub fevers: u64,
    pub decisions: u64,
}

impl RoleCounts {
    pub fn total(&self) -> u128 {
        [self.cases, self.contacts, self.travellers, self.fevers, self.decisions].iter().map(|&n| u128::from(n)).sum()
    }
}

fn start_of_june_2020() -> Timestamp {
    Timestamp::parse("2020-06-01T00:00:00+08:00").expect("a valid literal timestamp")
}

impl RegionConfig {
    /// About 5,000 persons in 2 cities of 3 counties of 4 streets, over 28 days from
    /// 2020-06-01: 8 confirmed cases in one county and 64 close contacts; fevers,
    /// a handful of entries from abroad, two management decisions.
    ///
    /// The places are real and the layout is regular here: 杭州市 (上城区, 拱墅区, 西湖区)
    /// and 宁波市 (海曙区, 江北区, 北仑区), each county with its first four townships: 2 cities,
    /// 6 counties, 24 streets.
    pub fn demo() -> Self {
        RegionConfig {
            seed: 2020,
            persons: 5_000,
            province: "33".to_string(),
            cities: 2,
            counties_per_city: 3,
            streets_per_county: 4,
            outbreak: OutbreakConfig {
                cases: 8,
                contacts_per_case: 8,
                fevers_per_10k: 60,
                travellers_from_abroad_per_10k: 12,
                decisions_per_10k: 4,
                stays_per_person: 2..=5,
                tests_per_person: 0..=2,
            },
            start: start_of_june_2020(),
            days: 28,
        }
    }

    /// A province-sized region for load tests: 11 cities × 10 counties × 20 streets
    /// nominal (the same layout whatever `persons` is), 60 days, an outbreak of one case
    /// per 5,000 persons (none below 100 persons).
    ///
    /// Those are upper bounds over the real 浙江省: all 11 cities, but 85 counties (舟山市
    /// has 4, 湖州市 5, …) and 1,257 streets (many counties have fewer than 20 townships;
    /// 滨江区 has 3), not 110 and 2,200.
    pub fn bench(persons: u64) -> Self {
        RegionConfig {
            seed: 1,
            persons,
            province: "33".to_string(),
            cities: 11,
            counties_per_city: 10,
            streets_per_county: 20,
            outbreak: OutbreakConfig {
                cases: if persons >= 100 { (persons / 5_000).max(1) } else { 0 },
                contacts_per_case: 10,
                fevers_per_10k: 30,
                travellers_from_abroad_per_10k: 5,
                decisions_per_10k: 1,
                stays_per_person: 2..=6,
                tests_per_person: 0..=3,
            },
            start: start_of_june_2020(),
            days: 60,
        }
    }

    /// The end of the simulated period, `start + days`: the latest `at` of any event.
    /// Evaluating codes here shows the region's final state.
    pub fn end(&self) -> Timestamp {
        self.start.saturating_add(Duration::days(i64::from(self.days)))
    }

    pub(crate) fn role_counts(&self) -> RoleCounts {
        let per_10k = |rate: u32| ((u128::from(self.persons) * u128::from(rate) + 5_000) / 10_000) as u64;
        RoleCounts {
            cases: self.outbreak.cases,
            contacts: self.outbreak.cases.saturating_mul(u64::from(self.outbreak.contacts_per_case)),
            travellers: per_10k(self.outbreak.travellers_from_abroad_per_10k),
            fevers: per_10k(self.outbreak.fevers_per_10k),
            decisions: per_10k(self.outbreak.decisions_per_10k),
        }
    }

    /// Checks that the config describes a region that can be generated.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |field, message: &str| Err(ConfigError { field, message: message.to_string() });
        let p = self.province.as_bytes();
        if p.len() != 2 || !p.iter().all(u8::is_ascii_digit) || self.province == "00" {
            return err("province", "expected two digits other than 00, e.g. \"33\"");
        }
        let real_cities = crate::layout::cities_of(&self.province).len();
        if real_cities == 0 {
            let message = format!(
                "province {} has no cities in the division list (not a province, or a municipality \
                 such as 北京市 whose districts lie directly under it); try \"33\" (浙江省)",
                self.province
            );
            return err("province", &message);
        }
        if self.cities == 0 || self.cities as usize > real_cities {
            let message = format!(
                "province {} has {real_cities} cities in the division list: ask for 1 to {real_cities}, not {}",
                self.province, self.cities
            );
            return err("cities", &message);
        }
        if !(1..=98).contains(&self.counties_per_city) {
            return err("counties_per_city", "expected 1 to 98");
        }
        if !(1..=999).contains(&self.streets_per_county) {
            return err("streets_per_county", "expected 1 to 999");
        }
        if !(1..=3_650).contains(&self.days) {
            return err("days", "expected 1 to 3650");
        }
        if self.persons > 99_999_999 {
            return err("persons", "at most 99,999,999 (person ids have 8 digits)");
        }
        let ranges = [
            ("stays_per_person", &self.outbreak.stays_per_person),
            ("tests_per_person", &self.outbreak.tests_per_person),
        ];
        for (field, range) in ranges {
            if range.is_empty() || *range.end() > 100 {
                return err(field, "expected a non-empty range within 0..=100");
            }
        }
        if self.outbreak.fevers_per_10k > 10_000
            || self.outbreak.travellers_from_abroad_per_10k > 10_000
            || self.outbreak.decisions_per_10k > 10_000
        {
            return err("outbreak", "a rate per 10k cannot exceed 10,000");
        }
        if self.role_counts().total() > u128::from(self.persons) {
            return err(
                "outbreak",
                "cases, their contacts, travellers, fevers and decisions together exceed `persons`",
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid() {
        RegionConfig::demo().validate().unwrap();
        for n in [0, 1, 99, 100, 5_000, 10_000_000] {
            RegionConfig::bench(n).validate().unwrap();
        }
    }

    #[test]
    fn bad_configs_name_the_field() {
        let bad = |f: fn(&mut RegionConfig)| {
            let mut c = RegionConfig::demo();
            f(&mut c);
            c.validate().unwrap_err().field
        };
        assert_eq!(bad(|c| c.province = "3".into()), "province");
        assert_eq!(bad(|c| c.province = "00".into()), "province");
        assert_eq!(bad(|c| c.province = "99".into()), "province", "no such province");
        assert_eq!(bad(|c| c.province = "11".into()), "province", "北京市 has no cities, only districts");
        assert_eq!(bad(|c| c.cities = 0), "cities");
        assert_eq!(bad(|c| c.cities = 12), "cities", "浙江省 has 11 cities");
        assert_eq!(bad(|c| c.counties_per_city = 0), "counties_per_city");
        assert_eq!(bad(|c| c.streets_per_county = 1000), "streets_per_county");
        assert_eq!(bad(|c| c.days = 0), "days");
        assert_eq!(bad(|c| c.persons = 50), "outbreak");
        assert_eq!(bad(|c| c.outbreak.tests_per_person = RangeInclusive::new(3, 2)), "tests_per_person");
    }
}
