use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Chinese administrative division code (行政区划代码): 6 digits (province, city,
/// county), optionally extended to 9 (township/street) or 12 (village).
///
/// Kept both as written and in normal form (trailing `000` groups and `00` pairs
/// stripped), because coverage is a prefix test on the normal form: a designation on
/// 330100 (`3301`) covers 330106 (`330106`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AreaCode {
    written: String,
    normal: String,
}

impl AreaCode {
    pub fn parse(text: &str) -> Result<Self, String> {
        let is_digits = text.bytes().all(|b| b.is_ascii_digit());
        if !is_digits || !matches!(text.len(), 6 | 9 | 12) {
            return Err(format!(
                "`{}` is not an area code: write 6, 9 or 12 digits (e.g. 330106)",
                text.chars().take(20).collect::<String>()
            ));
        }
        if &text[0..2] == "00" {
            return Err(format!("`{text}` is not an area code: the province part cannot be 00"));
        }
        Ok(AreaCode { written: text.to_string(), normal: normalise(text) })
    }

    pub fn as_str(&self) -> &str {
        &self.written
    }

    /// The normal form: the code with trailing zero groups removed.
    pub fn normal(&self) -> &str {
        &self.normal
    }

    /// Whether a designation on `self` covers `other`.
    pub fn covers(&self, other: &AreaCode) -> bool {
        other.normal.starts_with(&self.normal)
    }

    /// The normal forms of every code that can cover this one, broadest first:
    /// the province, city, county, township and village prefixes that apply.
    pub fn covering_prefixes(&self) -> impl Iterator<Item = &str> {
        [2usize, 4, 6, 9, 12].into_iter().filter(|&n| n <= self.normal.len()).map(|n| &self.normal[..n])
    }
}

fn normalise(code: &str) -> String {
    let mut s = code;
    while s.len() > 6 && s.ends_with("000") {
        s = &s[..s.len() - 3];
    }
    if s.len() == 6 {
        while s.len() > 2 && s.ends_with("00") {
            s = &s[..s.len() - 2];
        }
    }
    s.to_string()
}

impl fmt::Display for AreaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.written)
    }
}

impl Serialize for AreaCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.written)
    }
}

/// In the OpenAPI document: the code as written (`Serialize`): 6, 9 or 12 digits.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for AreaCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[0-9]{6}([0-9]{3}){0,2}$"))
            .description(Some("an administrative division code as written: 6, 9 or 12 digits (`330106`)"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for AreaCode {}

impl<'de> Deserialize<'de> for AreaCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        AreaCode::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(code: &str) -> String {
        AreaCode::parse(code).unwrap().normal().to_string()
    }

    #[test]
    fn normal_forms_follow_the_spec() {
        assert_eq!(normal("330100"), "3301");
        assert_eq!(normal("330000"), "33");
        assert_eq!(normal("330106001000"), "330106001");
        assert_eq!(normal("330106000000"), "330106");
        assert_eq!(normal("330106000"), "330106");
        assert_eq!(normal("330106"), "330106");
        assert_eq!(normal("330100000000"), "3301");
    }

    #[test]
    fn city_covers_its_counties_but_not_its_neighbours() {
        let city = AreaCode::parse("330100").unwrap();
        assert!(city.covers(&AreaCode::parse("330106").unwrap()));
        assert!(city.covers(&AreaCode::parse("330106001").unwrap()));
        assert!(!city.covers(&AreaCode::parse("330206").unwrap()));
        let county = AreaCode::parse("330106").unwrap();
        assert!(!county.covers(&city));
    }

    #[test]
    fn rejects_codes_of_the_wrong_shape() {
        for bad in ["33010", "3301060", "33010600", "33a106", "", "3301060010001", "001234"] {
            assert!(AreaCode::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn covering_prefixes_are_those_that_cover() {
        let a = AreaCode::parse("330106001002").unwrap();
        let p: Vec<_> = a.covering_prefixes().collect();
        assert_eq!(p, ["33", "3301", "330106", "330106001", "330106001002"]);
    }
}
