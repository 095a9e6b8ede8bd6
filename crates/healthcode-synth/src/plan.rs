//! The region-wide plan every person's story is drawn against: who plays which role,
//! where the outbreak is, when each case is found, and the area designations.

use healthcode_domain::{AreaRisk, RiskLevel};

use crate::config::RoleCounts;
use crate::layout::{Layout, Street};
use crate::rng::{stream, Rng, DAY, HOUR, MINUTE};
use crate::{ConfigError, RegionConfig};

pub(crate) struct RegionPlan {
    pub config: RegionConfig,
    pub layout: Layout,
    /// The simulated period in milliseconds since the epoch, both ends included.
    pub start: i64,
    pub end: i64,
    pub counts: RoleCounts,
    pub outbreak_county: usize,
    /// Where the index case lives: the street designated high risk.
    pub hot_street: Street,
    /// When the outbreak county is designated and screened, if there is an outbreak.
    pub designated_at: Option<i64>,
    /// Roles are given by slot; `slot(person) = (a * person + b) mod persons` is a
    /// bijection (a and persons coprime), so roles are spread over the ids without a table.
    perm_a: u64,
    perm_b: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Case(u64),
    Contact { case: u64 },
    Traveller,
    Fever,
    Decision(u64),
    Resident,
}

/// One confirmed case: where they live, when they were diagnosed, and the stay (in
/// their street) during which their contacts were exposed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CasePlan {
    pub street: Street,
    pub diagnosed: i64,
    pub exposure_from: i64,
    pub exposure_to: i64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl RegionPlan {
    pub fn new(config: &RegionConfig) -> Result<Self, ConfigError> {
        let layout = Layout::new(config)?;
        let mut rng = Rng::derive(config.seed, stream::REGION, 0);
        let outbreak_county = rng.below(layout.counties.len() as u64) as usize;
        let hot_street = layout.street_in(outbreak_county, &mut rng);
        let n = config.persons.max(1);
        let mut perm_a = rng.below(n) | 1;
        while gcd(perm_a, n) != 1 {
            perm_a += 2;
        }
        let perm_b = rng.below(n);
        let start = config.start.as_millis();
        let mut plan = RegionPlan {
            config: config.clone(),
            layout,
            start,
            end: config.end().as_millis(),
            counts: config.role_counts(),
            outbreak_county,
            hot_street,
            designated_at: None,
            perm_a: perm_a % n,
            perm_b,
        };
        if plan.counts.cases > 0 {
            plan.designated_at = Some((plan.case(0).diagnosed + 4 * HOUR).min(plan.end));
        }
        Ok(plan)
    }

    pub fn role(&self, person: u64) -> Role {
        let n = self.config.persons.max(1);
        let mut slot =
            ((u128::from(self.perm_a) * u128::from(person) + u128::from(self.perm_b)) % u128::from(n)) as u64;
        let c = &self.counts;
        if slot < c.cases {
            return Role::Case(slot);
        }
        slot -= c.cases;
        if slot < c.contacts {
            return Role::Contact { case: slot / u64::from(self.config.outbreak.contacts_per_case) };
        }
        slot -= c.contacts;
        if slot < c.travellers {
            return Role::Traveller;
        }
        slot -= c.travellers;
        if slot < c.fevers {
            return Role::Fever;
        }
        slot -= c.fevers;
        if slot < c.decisions {
            return Role::Decision(slot);
        }
        Role::Resident
    }

    /// Case `case` of `max(cases, 1)`: the index case (0) is found about 30% into the
    /// period, the last about 75% in, so that the end shows cases at every stage.
    pub fn case(&self, case: u64) -> CasePlan {
        let mut rng = Rng::derive(self.config.seed, stream::CASE, case);
        let total = self.counts.cases.max(1);
        let span = self.end - self.start;
        let frac_milli = 300 + 450 * case.min(total - 1) as i64 / (total - 1).max(1) as i64;
        let jitter = if case == 0 { 0 } else { rng.minutes(-6 * HOUR, 6 * HOUR) };
        let offset = (span * frac_milli / 1000 + jitter).clamp(span / 10, span);
        let diagnosed = self.start + offset / MINUTE * MINUTE;
        let street = if case == 0 || rng.per_mille(500) {
            self.hot_street
        } else {
            self.layout.street_in(self.outbreak_county, &mut rng)
        };
        let exposure_from = (diagnosed - rng.minutes(2 * DAY, 4 * DAY)).max(self.start);
        let exposure_to = (exposure_from + rng.minutes(2 * HOUR, 5 * HOUR)).min(diagnosed);
        CasePlan { street, diagnosed, exposure_from, exposure_to }
    }

    /// The outbreak county becomes medium risk and the index case's street high risk a
    /// few hours after the first diagnosis; the street is downgraded to low 14 days
    /// later (the county's medium level then covers it again).
    pub fn designations(&self) -> Vec<(i64, AreaRisk)> {
        let Some(at) = self.designated_at else { return Vec::new() };
        let county = self.layout.county_code(self.outbreak_county).clone();
        let street = self.layout.street_code(self.hot_street).clone();
        let risk = |area, level| AreaRisk { area, level, escalate_to_red: false };
        let mut list = vec![(at, risk(county, RiskLevel::Medium)), (at, risk(street.clone(), RiskLevel::High))];
        if at + 14 * DAY <= self.end {
            list.push((at + 14 * DAY, risk(street, RiskLevel::Low)));
        }
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_in_the_configured_numbers() {
        let config = RegionConfig::demo();
        let plan = RegionPlan::new(&config).unwrap();
        let roles: Vec<Role> = (0..config.persons).map(|p| plan.role(p)).collect();
        let count = |f: fn(&Role) -> bool| roles.iter().filter(|r| f(r)).count() as u64;
        assert_eq!(count(|r| matches!(r, Role::Case(_))), 8);
        assert_eq!(count(|r| matches!(r, Role::Contact { .. })), 64);
        assert_eq!(count(|r| matches!(r, Role::Traveller)), 6);
        assert_eq!(count(|r| matches!(r, Role::Fever)), 30);
        assert_eq!(count(|r| matches!(r, Role::Decision(_))), 2);
        for c in 0..8 {
            assert_eq!(roles.iter().filter(|r| **r == Role::Contact { case: c }).count(), 8);
        }
    }

    #[test]
    fn cases_lie_in_the_period_and_the_outbreak_county() {
        let plan = RegionPlan::new(&RegionConfig::demo()).unwrap();
        for c in 0..8 {
            let case = plan.case(c);
            assert!(plan.start <= case.exposure_from && case.exposure_from <= case.exposure_to);
            assert!(case.exposure_to <= case.diagnosed && case.diagnosed <= plan.end);
            assert_eq!(case.street.county, plan.outbreak_county);
        }
        assert_eq!(plan.designations().len(), 3);
    }
}
