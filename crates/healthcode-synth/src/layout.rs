//! The region's administrative divisions (行政区划): cities, counties and streets, real
//! ones (`healthcode-places`), so that the demo and the benchmarks read like the real
//! province and pass the service's check that every area is a division.
//!
//! The generator works on a regular grid (`cities` × `counties_per_city` ×
//! `streets_per_county`); the grid is laid over the province's current divisions in code
//! order: grid city i is the province's i-th city, its county j that city's j-th county,
//! and so on. Where the province has fewer counties in a city (or streets in a county)
//! than the grid asks for, grid cells wrap round and share a real place (舟山市 has four
//! counties; the bench grid asks ten of every city).

use healthcode_domain::AreaCode;
use healthcode_places::Divisions;

use crate::{ConfigError, RegionConfig};

/// A street's position: its county's index and its own index in `Layout::streets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Street {
    pub county: usize,
    pub index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub counties_per_city: usize,
    pub streets_per_county: usize,
    /// City codes (`330100`), in grid order.
    pub cities: Vec<AreaCode>,
    /// County codes (6 digits), city-major.
    pub counties: Vec<AreaCode>,
    /// Street codes (9 digits), county-major.
    pub streets: Vec<AreaCode>,
}

impl Layout {
    pub fn new(config: &RegionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let (cpc, spc) = (config.counties_per_city as usize, config.streets_per_county as usize);
        let list = Divisions::embedded();
        let real_cities = list.children(&config.province);
        if real_cities.len() < config.cities as usize {
            return Err(ConfigError {
                field: "cities",
                message: format!(
                    "province {} has {} cities in the division list; ask for at most that many",
                    config.province,
                    real_cities.len()
                ),
            });
        }
        let mut cities = Vec::with_capacity(config.cities as usize);
        let mut counties = Vec::with_capacity(config.cities as usize * cpc);
        let mut streets = Vec::with_capacity(config.cities as usize * cpc * spc);
        for city in &real_cities[..config.cities as usize] {
            cities.push(area(&city.written()));
            let real_counties: Vec<_> = list.children(&city.code).into_iter().filter(|c| c.code.len() == 6).collect();
            for county in real_counties.iter().cycle().take(cpc) {
                let real_streets: Vec<_> = list.children(&county.code);
                for street in real_streets.iter().cycle().take(spc) {
                    streets.push(area(&street.written()));
                }
                counties.push(area(&county.written()));
            }
        }
        Ok(Layout { counties_per_city: cpc, streets_per_county: spc, cities, counties, streets })
    }

    pub fn street(&self, county: usize, nth: usize) -> Street {
        Street { county, index: county * self.streets_per_county + nth }
    }

    pub fn street_code(&self, street: Street) -> &AreaCode {
        &self.streets[street.index]
    }

    pub fn county_code(&self, county: usize) -> &AreaCode {
        &self.counties[county]
    }

    /// The range of county indices in the same city as `county`.
    pub fn city_counties(&self, county: usize) -> std::ops::Range<usize> {
        let first = county / self.counties_per_city * self.counties_per_city;
        first..first + self.counties_per_city
    }
}

fn area(code: &str) -> AreaCode {
    AreaCode::parse(code).expect("division codes are area codes")
}

/// The region's area codes, sorted: each county (6 digits, e.g. 330102) followed by its
/// streets (9 digits, e.g. 330102001). Cities (330100) and the province are not listed,
/// though a designation may name them.
pub fn areas(config: &RegionConfig) -> Result<Vec<AreaCode>, ConfigError> {
    let layout = Layout::new(config)?;
    let mut all = layout.counties;
    all.extend(layout.streets);
    all.sort();
    all.dedup();
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_areas_are_counties_then_their_streets() {
        let all = areas(&RegionConfig::demo()).unwrap();
        assert_eq!(all.len(), 6 + 24);
        let codes: Vec<&str> = all.iter().map(AreaCode::as_str).take(6).collect();
        assert_eq!(
            codes,
            ["330102", "330102001", "330102003", "330102004", "330102008", "330105"],
            "上城区 and its streets, then 拱墅区"
        );
        assert!(all.last().unwrap().as_str().starts_with("3302"), "宁波市");
    }

    #[test]
    fn every_area_of_the_demo_and_the_bench_is_a_current_division() {
        let list = Divisions::embedded();
        for config in [RegionConfig::demo(), RegionConfig::bench(1_000)] {
            let layout = Layout::new(&config).unwrap();
            for area in layout.cities.iter().chain(&layout.counties).chain(&layout.streets) {
                assert!(list.check_current(area).is_ok(), "{area} is no division");
            }
        }
    }

    #[test]
    fn streets_belong_to_their_county() {
        let layout = Layout::new(&RegionConfig::demo()).unwrap();
        for county in 0..layout.counties.len() {
            for nth in 0..layout.streets_per_county {
                assert!(layout.county_code(county).covers(layout.street_code(layout.street(county, nth))));
            }
            assert!(layout.city_counties(county).contains(&county));
        }
    }
}
