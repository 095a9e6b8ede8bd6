//! The region's administrative divisions (行政区划): cities, counties and streets, real
//! ones (`healthcode-places`), so that the demo and the benchmarks read like the real
//! province and pass the service's check that every area is a current division.
//!
//! The config's sizes are upper bounds over the province's current divisions in code
//! order: city i is the province's i-th city, its counties are that city's first
//! `counties_per_city` counties, and each county's streets its first `streets_per_county`
//! townships. A city with fewer counties (舟山市 has four) or a county with fewer
//! townships keeps all it has, so the layout is irregular: the generator draws within
//! the range of counties of a city and the range of streets of a county, never by grid
//! arithmetic. No place appears twice.

use std::ops::Range;

use healthcode_domain::AreaCode;
use healthcode_places::{Division, Divisions};

use crate::rng::Rng;
use crate::{ConfigError, RegionConfig};

/// A street's position: its county's index and its own index in `Layout::streets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Street {
    pub county: usize,
    pub index: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// City codes (`330100`), in code order.
    pub cities: Vec<AreaCode>,
    /// County codes (6 digits), city by city.
    pub counties: Vec<AreaCode>,
    /// Street codes (9 digits), county by county.
    pub streets: Vec<AreaCode>,
    /// For each county, its city's index in `cities`.
    county_city: Vec<usize>,
    /// For each city, the indices of its counties in `counties`.
    city_counties: Vec<Range<usize>>,
    /// For each county, the indices of its streets in `streets`.
    county_streets: Vec<Range<usize>>,
    /// For each street, its county's index in `counties`.
    street_county: Vec<usize>,
}

/// The current cities of a province (4-digit codes, in code order). A municipality such
/// as 北京市 has none: its districts are counties under a placeholder.
pub(crate) fn cities_of(province: &str) -> Vec<&'static Division> {
    Divisions::embedded().children(province).into_iter().filter(|d| d.code.len() == 4).collect()
}

/// The current divisions one level below `normal` of the given code length (counties of
/// a city: 6, streets of a county: 9), in code order.
fn below(normal: &str, len: usize) -> Vec<&'static Division> {
    Divisions::embedded().children(normal).into_iter().filter(|d| d.code.len() == len).collect()
}

impl Layout {
    pub fn new(config: &RegionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let (cpc, spc) = (config.counties_per_city as usize, config.streets_per_county as usize);
        let mut layout = Layout {
            cities: Vec::new(),
            counties: Vec::new(),
            streets: Vec::new(),
            county_city: Vec::new(),
            city_counties: Vec::new(),
            county_streets: Vec::new(),
            street_county: Vec::new(),
        };
        for city in cities_of(&config.province).into_iter().take(config.cities as usize) {
            let city_index = layout.cities.len();
            let first_county = layout.counties.len();
            // A county without townships in the list could house no one: it is passed over.
            let counties = below(&city.code, 6).into_iter().map(|county| (county, below(&county.code, 9)));
            for (county, streets) in counties.filter(|(_, streets)| !streets.is_empty()).take(cpc) {
                let county_index = layout.counties.len();
                let first_street = layout.streets.len();
                for street in streets.into_iter().take(spc) {
                    layout.streets.push(area(&street.written()));
                    layout.street_county.push(county_index);
                }
                layout.counties.push(area(&county.written()));
                layout.county_city.push(city_index);
                layout.county_streets.push(first_street..layout.streets.len());
            }
            if layout.counties.len() == first_county {
                return Err(ConfigError {
                    field: "cities",
                    message: format!(
                        "{} {} has no counties with townships in the division list; ask for fewer cities",
                        city.name,
                        city.written()
                    ),
                });
            }
            layout.cities.push(area(&city.written()));
            layout.city_counties.push(first_county..layout.counties.len());
        }
        Ok(layout)
    }

    /// The street at `index` in `streets`.
    pub fn street_at(&self, index: usize) -> Street {
        Street { county: self.street_county[index], index }
    }

    /// One of `county`'s streets, uniformly.
    pub fn street_in(&self, county: usize, rng: &mut Rng) -> Street {
        let range = &self.county_streets[county];
        self.street_at(range.start + rng.below(range.len() as u64) as usize)
    }

    /// One of the counties of `county`'s city (`county` itself included), uniformly.
    pub fn county_near(&self, county: usize, rng: &mut Rng) -> usize {
        let range = self.city_counties(county);
        range.start + rng.below(range.len() as u64) as usize
    }

    pub fn street_code(&self, street: Street) -> &AreaCode {
        &self.streets[street.index]
    }

    pub fn county_code(&self, county: usize) -> &AreaCode {
        &self.counties[county]
    }

    /// The range of county indices in the same city as `county`.
    pub fn city_counties(&self, county: usize) -> Range<usize> {
        self.city_counties[self.county_city[county]].clone()
    }
}

fn area(code: &str) -> AreaCode {
    AreaCode::parse(code).expect("division codes are area codes")
}

/// The region's area codes, sorted: each county (6 digits, e.g. 330102 上城区) followed
/// by its streets (9 digits, e.g. 330102001 清波街道). Cities (330100) and the province
/// are not listed, though a designation may name them.
pub fn areas(config: &RegionConfig) -> Result<Vec<AreaCode>, ConfigError> {
    let layout = Layout::new(config)?;
    let mut all = layout.counties;
    all.extend(layout.streets);
    all.sort();
    Ok(all)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::rng::stream;

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
    fn the_layout_takes_what_each_city_and_county_has() {
        let layout = Layout::new(&RegionConfig::bench(1_000)).unwrap();
        assert_eq!(layout.cities.len(), 11);
        let per_city: Vec<usize> = (0..11).map(|c| layout.city_counties[c].len()).collect();
        assert_eq!(per_city, [10, 10, 10, 7, 5, 6, 9, 6, 4, 9, 9], "舟山市 has four counties");
        assert_eq!(layout.counties.len(), 85);
        assert!((0..layout.counties.len()).all(|c| (1..=20).contains(&layout.county_streets[c].len())));
        assert_eq!(layout.streets.len(), 1_257, "as RegionConfig::bench says");
        let unique: HashSet<&AreaCode> = layout.cities.iter().chain(&layout.counties).chain(&layout.streets).collect();
        assert_eq!(unique.len(), layout.cities.len() + layout.counties.len() + layout.streets.len());
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
    fn streets_and_counties_belong_to_their_county_and_city() {
        for config in [RegionConfig::demo(), RegionConfig::bench(1_000)] {
            let layout = Layout::new(&config).unwrap();
            let mut rng = Rng::derive(1, stream::REGION, 0);
            for county in 0..layout.counties.len() {
                let city = &layout.cities[layout.county_city[county]];
                assert!(city.covers(layout.county_code(county)));
                for index in layout.county_streets[county].clone() {
                    assert_eq!(layout.street_at(index).county, county);
                    assert!(layout.county_code(county).covers(&layout.streets[index]));
                }
                for _ in 0..20 {
                    let street = layout.street_in(county, &mut rng);
                    assert!(street.county == county && layout.county_streets[county].contains(&street.index));
                    let near = layout.county_near(county, &mut rng);
                    assert!(layout.city_counties(county).contains(&near) && city.covers(layout.county_code(near)));
                }
            }
        }
    }

    #[test]
    fn more_cities_than_the_province_has_are_refused() {
        let config = RegionConfig { cities: 12, ..RegionConfig::demo() };
        let err = Layout::new(&config).unwrap_err();
        assert_eq!(err.field, "cities");
        assert!(err.message.contains("11"), "{}", err.message);
    }
}
