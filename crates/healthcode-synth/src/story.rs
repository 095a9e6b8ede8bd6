//! One person's evidence, drawn as a story: what happened to them and when it was
//! recorded. Every event is valid as the domain parser admits it, and its occurrence
//! times (`onset_at`, `sampled_at`, `exposure_at`, `entered_at`, a stay's `to`) never lie
//! after its `at`.

use healthcode_domain::{AreaCode, DecisionColour, DiagnosisStatus, Evidence, QuarantineMode, TestResult, Timestamp};

use crate::layout::{Layout, Street};
use crate::plan::CasePlan;
use crate::rng::{Rng, DAY, HOUR, MINUTE};

const COUNTRIES: &[&str] = &["GB", "US", "JP", "KR", "DE", "FR", "IT", "SG", "AU", "TH", "MY", "CA", "RU", "AE"];
const BASIS: &str = "《中华人民共和国传染病防治法》第三十九条";
const APPROVERS: [&str; 2] = ["Zhang Wei", "Li Na"];

pub(crate) struct Story<'a> {
    pub rng: Rng,
    layout: &'a Layout,
    start: i64,
    end: i64,
    events: Vec<(i64, Evidence)>,
    /// Periods in isolation, hospital or abroad: no routine stays or tests then.
    confined: Vec<(i64, i64)>,
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn test(result: TestResult, sampled: i64) -> Evidence {
    Evidence::Test { result, sampled_at: ts(sampled) }
}

impl<'a> Story<'a> {
    pub fn new(rng: Rng, layout: &'a Layout, start: i64, end: i64) -> Self {
        Story { rng, layout, start, end, events: Vec::with_capacity(24), confined: Vec::new() }
    }

    /// Records an event, unless it would be recorded after the period ends.
    fn push(&mut self, at: i64, evidence: Evidence) {
        if (self.start..=self.end).contains(&at) {
            self.events.push((at, evidence));
        }
    }

    fn confined(&self, from: i64, to: i64) -> bool {
        self.confined.iter().any(|&(a, b)| from <= b && to >= a)
    }

    /// The events in the order they were recorded (stable for equal `at`).
    pub fn finish(mut self) -> Vec<(i64, Evidence)> {
        self.events.sort_by_key(|e| e.0);
        self.events
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    fn span(&self) -> i64 {
        self.end - self.start
    }

    /// A time in the period, at least `margin` before its end when the period allows.
    fn some_time(&mut self, margin: i64) -> i64 {
        self.start + self.rng.minutes(0, (self.span() - margin).max(0))
    }

    /// A confirmed case: exposure stay, fever, positive test, diagnosis; discharged two
    /// weeks or so later into 14 days of home observation (恢复期居家医学观察).
    pub fn case(&mut self, plan: &CasePlan) {
        let r = &mut self.rng;
        let stay_at = plan.exposure_to + r.minutes(HOUR, 3 * HOUR);
        let onset = (plan.diagnosed - r.minutes(20 * HOUR, 36 * HOUR)).max(self.start);
        let fever_at = onset + r.minutes(HOUR, 3 * HOUR);
        let sampled = (plan.diagnosed - r.minutes(8 * HOUR, 14 * HOUR)).max(fever_at + 30 * MINUTE);
        let test_at = (plan.diagnosed - r.minutes(HOUR, 4 * HOUR)).max(sampled + HOUR);
        let diagnosed_at = plan.diagnosed.max(test_at + 30 * MINUTE);
        let discharged_at = diagnosed_at + r.minutes(14 * DAY, 18 * DAY);
        let order_at = discharged_at + r.minutes(HOUR, 3 * HOUR);
        let release_at = order_at + 14 * DAY;
        let area = self.layout.street_code(plan.street).clone();
        let stay = Evidence::Stay { area, from: ts(plan.exposure_from), to: Some(ts(plan.exposure_to)) };
        self.push(stay_at, stay);
        self.push(fever_at, Evidence::Fever { onset_at: ts(onset) });
        self.push(test_at, test(TestResult::Positive, sampled));
        self.push(diagnosed_at, Evidence::Diagnosis { status: DiagnosisStatus::Confirmed });
        self.push(discharged_at, Evidence::Diagnosis { status: DiagnosisStatus::Discharged });
        self.push(order_at, Evidence::QuarantineOrder { mode: QuarantineMode::Home, days: 14 });
        self.push(release_at, Evidence::QuarantineRelease { mode: QuarantineMode::Home });
        self.confined.push((plan.exposure_from, release_at));
    }

    /// A close contact of a case, traced after the diagnosis: 14 days of centralized
    /// quarantine with three negative tests, or (about one in eight) cleared within two days.
    pub fn contact(&mut self, plan: &CasePlan) {
        let r = &mut self.rng;
        let exposure = plan.exposure_from + r.minutes(0, plan.exposure_to - plan.exposure_from);
        let from = (exposure - r.minutes(20 * MINUTE, 90 * MINUTE)).max(self.start);
        let to = exposure + r.minutes(30 * MINUTE, 2 * HOUR);
        let stay_at = to + r.minutes(30 * MINUTE, 3 * HOUR);
        let traced_at = (plan.diagnosed + r.minutes(6 * HOUR, 36 * HOUR)).max(exposure + HOUR);
        let area = self.layout.street_code(plan.street).clone();
        self.push(stay_at, Evidence::Stay { area, from: ts(from), to: Some(ts(to)) });
        self.push(traced_at, Evidence::CloseContact { exposure_at: ts(exposure) });
        if self.rng.per_mille(120) {
            let cleared_at = traced_at + self.rng.minutes(12 * HOUR, 2 * DAY);
            self.push(cleared_at, Evidence::ContactCleared);
            self.confined.push((from, cleared_at));
            return;
        }
        let order_at = traced_at + self.rng.minutes(30 * MINUTE, 3 * HOUR);
        let release_at = order_at + 14 * DAY + self.rng.minutes(0, 2 * HOUR);
        self.push(order_at, Evidence::QuarantineOrder { mode: QuarantineMode::Centralized, days: 14 });
        for day in [1, 7, 13] {
            let sampled = order_at + day * DAY + self.rng.minutes(0, 3 * HOUR);
            let at = sampled + self.rng.minutes(4 * HOUR, 10 * HOUR);
            self.push(at, test(TestResult::Negative, sampled));
        }
        self.push(release_at, Evidence::QuarantineRelease { mode: QuarantineMode::Centralized });
        self.confined.push((from, release_at));
    }

    /// An entry from abroad: 14 days of centralized quarantine, then 7 days at home (14+7).
    pub fn traveller(&mut self) {
        let entered = self.some_time(DAY);
        let country = self.rng.pick(COUNTRIES).to_string();
        let r = &mut self.rng;
        let entry_at = entered + r.minutes(HOUR, 3 * HOUR);
        let order_at = entry_at + r.minutes(30 * MINUTE, 90 * MINUTE);
        let release_at = order_at + 14 * DAY;
        let home_at = release_at + r.minutes(30 * MINUTE, 90 * MINUTE);
        let home_release_at = home_at + 7 * DAY;
        self.push(entry_at, Evidence::Entry { country, entered_at: ts(entered) });
        self.push(order_at, Evidence::QuarantineOrder { mode: QuarantineMode::Centralized, days: 14 });
        for day in [1, 12] {
            let sampled = entered + day * DAY + self.rng.minutes(0, 3 * HOUR);
            let at = sampled + self.rng.minutes(4 * HOUR, 10 * HOUR);
            self.push(at, test(TestResult::Negative, sampled));
        }
        self.push(release_at, Evidence::QuarantineRelease { mode: QuarantineMode::Centralized });
        self.push(home_at, Evidence::QuarantineOrder { mode: QuarantineMode::Home, days: 7 });
        self.push(home_release_at, Evidence::QuarantineRelease { mode: QuarantineMode::Home });
        // Abroad before the entry, in quarantine after it.
        self.confined.push((self.start, home_release_at));
    }

    /// A fever reported at a clinic: mostly cleared by a negative test, sometimes declared
    /// resolved, and about one in ten still open.
    pub fn fever(&mut self) {
        let onset = self.some_time(DAY);
        let fever_at = onset + self.rng.minutes(30 * MINUTE, 4 * HOUR);
        self.push(fever_at, Evidence::Fever { onset_at: ts(onset) });
        match self.rng.below(10) {
            0..=5 => {
                let sampled = fever_at + self.rng.minutes(HOUR, 6 * HOUR);
                let at = sampled + self.rng.minutes(4 * HOUR, 12 * HOUR);
                self.push(at, test(TestResult::Negative, sampled));
            }
            6..=8 => {
                let at = fever_at + self.rng.minutes(DAY, 3 * DAY);
                self.push(at, Evidence::FeverResolved);
            }
            _ => {}
        }
    }

    /// A provincial management decision for seven days: yellow, every third one red.
    pub fn decision(&mut self, nth: u64) {
        let at = self.start + self.rng.minutes(0, self.span());
        let color = if nth % 3 == 2 { DecisionColour::Red } else { DecisionColour::Yellow };
        let approvers = APPROVERS.iter().map(|a| a.to_string()).collect();
        let until = ts(at + 7 * DAY);
        self.push(at, Evidence::ManagementDecision { color, until, basis: BASIS.to_string(), approvers });
    }

    /// Area-wide screening (全员核酸) starting at `from`: one negative test.
    pub fn screening(&mut self, from: i64) {
        let sampled = from + self.rng.minutes(0, 2 * DAY);
        let at = sampled + self.rng.minutes(6 * HOUR, 18 * HOUR);
        if !self.confined(sampled, at) {
            self.push(at, test(TestResult::Negative, sampled));
        }
    }

    /// Routine stays (mostly in the home street and county, sometimes elsewhere in the
    /// city or region) and routine negative tests, each recorded within the period.
    /// With `respect_confinement`, those that would fall in a confined period are left out.
    pub fn routine(&mut self, home: Street, stays: u32, tests: u32, respect_confinement: bool) {
        let span = self.span();
        let k = i64::from(stays);
        for i in 0..k {
            let slot_start = self.start + span * i / k / MINUTE * MINUTE;
            let slot_end = self.start + span * (i + 1) / k / MINUTE * MINUTE;
            let slot = slot_end - slot_start;
            let from = slot_start + self.rng.minutes(0, slot / 2);
            let open = i == k - 1 && self.rng.per_mille(100);
            let area = self.routine_area(home);
            let (to, at) = if open {
                (None, (from + self.rng.minutes(10 * MINUTE, HOUR)).min(slot_end))
            } else {
                let to = from + self.rng.minutes((30 * MINUTE).min(slot / 4), (3 * DAY).min(slot / 4));
                (Some(to), (to + self.rng.minutes(10 * MINUTE, 6 * HOUR)).min(slot_end))
            };
            if !(respect_confinement && self.confined(from, to.unwrap_or(at))) {
                self.push(at, Evidence::Stay { area, from: ts(from), to: to.map(ts) });
            }
        }
        for _ in 0..tests {
            let sampled = self.start + self.rng.minutes(0, span);
            let at = (sampled + self.rng.minutes(4 * HOUR, DAY)).min(self.end);
            if !(respect_confinement && self.confined(sampled, at)) {
                self.push(at, test(TestResult::Negative, sampled));
            }
        }
    }

    fn routine_area(&mut self, home: Street) -> AreaCode {
        let layout = self.layout;
        let street = match self.rng.below(100) {
            0..=64 => home,
            65..=74 => return layout.county_code(home.county).clone(),
            75..=89 => layout.street_in(home.county, &mut self.rng),
            90..=96 => {
                let county = layout.county_near(home.county, &mut self.rng);
                layout.street_in(county, &mut self.rng)
            }
            _ => return self.rng.pick(&layout.streets).clone(),
        };
        layout.street_code(street).clone()
    }
}
