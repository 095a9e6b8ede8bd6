//! The region's administrative divisions (行政区划): cities, counties and streets.

use healthcode_domain::AreaCode;

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
    /// County codes (6 digits), city-major.
    pub counties: Vec<AreaCode>,
    /// Street codes (9 digits), county-major.
    pub streets: Vec<AreaCode>,
}

impl Layout {
    pub fn new(config: &RegionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let (cities, cpc, spc) = (config.cities, config.counties_per_city, config.streets_per_county);
        let mut counties = Vec::with_capacity((cities * cpc) as usize);
        let mut streets = Vec::with_capacity((cities * cpc * spc) as usize);
        for city in 1..=cities {
            for county in 2..=cpc + 1 {
                let code = format!("{}{city:02}{county:02}", config.province);
                for street in 1..=spc {
                    streets.push(area(&format!("{code}{street:03}")));
                }
                counties.push(area(&code));
            }
        }
        Ok(Layout { counties_per_city: cpc as usize, streets_per_county: spc as usize, counties, streets })
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
    AreaCode::parse(code).expect("layout codes have 6 or 9 digits and a valid province")
}

/// The region's area codes, sorted: each county (6 digits, e.g. 330102) followed by its
/// streets (9 digits, e.g. 330102001). Cities (330100) and the province are not listed,
/// though a designation may name them.
pub fn areas(config: &RegionConfig) -> Result<Vec<AreaCode>, ConfigError> {
    let layout = Layout::new(config)?;
    let mut all = layout.counties;
    all.extend(layout.streets);
    all.sort();
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
        assert_eq!(codes, ["330102", "330102001", "330102002", "330102003", "330102004", "330103"]);
        assert_eq!(all.last().unwrap().as_str(), "330204004");
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
