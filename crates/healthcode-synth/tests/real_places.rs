//! Every area the synthetic region and the bench name is a current division of the real
//! province, so that the service, which refuses codes that are no places, accepts them all.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::collections::HashSet;

use healthcode_domain::{AreaCode, Evidence};
use healthcode_places::Divisions;
use healthcode_synth::{
    areas, designations, designations_for_bench, generate, persons_with_history, RegionConfig, SynthRecord,
};

/// Checks every code once; returns how many distinct codes were checked.
struct Checker {
    seen: HashSet<AreaCode>,
}

impl Checker {
    fn new() -> Self {
        Checker { seen: HashSet::new() }
    }

    fn check(&mut self, area: &AreaCode, what: &str) {
        if self.seen.insert(area.clone()) {
            if let Err(e) = Divisions::embedded().check_current(area) {
                panic!("{what}: {area} is not a current division: {e}");
            }
            assert!(area.as_str().starts_with("33"), "{what}: {area} lies outside 浙江省");
        }
    }
}

fn check_region(config: &RegionConfig, checker: &mut Checker) {
    for area in areas(config).unwrap() {
        checker.check(&area, "areas()");
    }
    for record in generate(config).unwrap() {
        match record {
            SynthRecord::Designation { risk, .. } => checker.check(&risk.area, "designation"),
            SynthRecord::Person { residence_area, .. } => checker.check(&residence_area, "residence"),
            SynthRecord::Evidence { evidence: Evidence::Stay { area, .. }, .. } => checker.check(&area, "stay"),
            SynthRecord::Evidence { .. } => {}
        }
    }
}

#[test]
fn the_demo_region_names_only_real_places() {
    let config = RegionConfig::demo();
    let mut checker = Checker::new();
    check_region(&config, &mut checker);
    assert_eq!(designations(&config).unwrap().len(), 3);
    assert!(checker.seen.len() >= 6 + 24, "{} codes", checker.seen.len());
}

#[test]
fn the_bench_region_names_only_real_places() {
    let mut checker = Checker::new();
    check_region(&RegionConfig::bench(20_000), &mut checker);
    let areas = areas(&RegionConfig::bench(1)).unwrap().len();
    assert!(checker.seen.len() >= areas, "{} codes of {areas}", checker.seen.len());
}

#[test]
fn the_bench_designations_and_histories_name_only_real_places() {
    let mut checker = Checker::new();
    for seed in [1, 2, 5] {
        for d in designations_for_bench(seed) {
            checker.check(&d.body.area, "bench designation");
        }
    }
    let cities = checker.seen.iter().filter(|a| a.normal().len() == 4).count();
    assert!(cities > 0, "the bench designates whole cities too");
    for (_, events) in persons_with_history(3, 5_000, 10..=30) {
        for e in events {
            if let Evidence::Stay { area, .. } = &e.body {
                checker.check(area, "bench stay");
            }
        }
    }
}

#[test]
fn the_layout_follows_the_division_list() {
    let demo = areas(&RegionConfig::demo()).unwrap();
    let list = Divisions::embedded();
    let counties: Vec<&str> = demo.iter().filter(|a| a.as_str().len() == 6).map(AreaCode::as_str).collect();
    assert_eq!(counties, ["330102", "330105", "330106", "330203", "330205", "330206"]);
    let names: Vec<&str> = counties.iter().map(|c| list.get(c).unwrap().name.as_str()).collect();
    assert_eq!(names, ["上城区", "拱墅区", "西湖区", "海曙区", "江北区", "北仑区"]);
    // 西湖区's first four current townships.
    let xihu: Vec<String> = list.children("330106").iter().take(4).map(|d| d.written()).collect();
    let demo_xihu: Vec<String> = demo
        .iter()
        .filter(|a| a.as_str().len() == 9 && a.as_str().starts_with("330106"))
        .map(|a| a.to_string())
        .collect();
    assert_eq!(demo_xihu, xihu);
}
