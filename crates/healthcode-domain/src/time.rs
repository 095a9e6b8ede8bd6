use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Timelike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

/// An instant, to the millisecond. Parsed only from RFC 3339 text *with* an offset, so
/// that no timestamp is ever read in a guessed time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

/// A signed span of time, to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(i64);

/// A span from the standard library (a server's timeout or lease), to the millisecond;
/// one beyond `i64::MAX` milliseconds saturates.
impl From<std::time::Duration> for Duration {
    fn from(d: std::time::Duration) -> Self {
        Duration(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// China Standard Time: how timestamps are written back out.
const DISPLAY_OFFSET_SECONDS: i32 = 8 * 3600;

impl Timestamp {
    pub const MIN: Timestamp = Timestamp(i64::MIN);
    pub const MAX: Timestamp = Timestamp(i64::MAX);

    pub fn parse(text: &str) -> Result<Self, String> {
        DateTime::parse_from_rfc3339(text.trim()).map(|dt| Timestamp(dt.timestamp_millis())).map_err(|_| {
            format!(
                "`{}` is not an RFC 3339 timestamp with an offset; write it like 2020-06-01T08:00:00+08:00",
                truncate(text, 40)
            )
        })
    }

    pub fn parse_field(field: &str, text: &str) -> Result<Self, ValidationError> {
        Self::parse(text).map_err(|m| ValidationError::field(field, format!("field `{field}`: {m}")))
    }

    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    pub fn saturating_add(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_add(d.0))
    }

    pub fn saturating_sub(self, d: Duration) -> Self {
        Timestamp(self.0.saturating_sub(d.0))
    }

    /// RFC 3339 in China Standard Time, with milliseconds only when there are some.
    /// Written digit by digit: codes, reasons and log leaves print many timestamps, and
    /// chrono's `format` (which parses its pattern each time) was a twentieth of a bulk
    /// re-evaluation's time.
    pub fn to_rfc3339(self) -> String {
        let offset = FixedOffset::east_opt(DISPLAY_OFFSET_SECONDS).expect("valid offset");
        let Some(dt) = offset.timestamp_millis_opt(self.0).single() else { return format!("@{}ms", self.0) };
        if !(0..=9999).contains(&dt.year()) {
            return dt.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();
        }
        let mut out = String::with_capacity(29);
        for (n, width, then) in [
            (dt.year() as u32, 4, "-"),
            (dt.month(), 2, "-"),
            (dt.day(), 2, "T"),
            (dt.hour(), 2, ":"),
            (dt.minute(), 2, ":"),
            (dt.second(), 2, ""),
        ] {
            push_digits(&mut out, n, width);
            out.push_str(then);
        }
        if self.0 % 1000 != 0 {
            out.push('.');
            push_digits(&mut out, dt.timestamp_subsec_millis(), 3);
        }
        let minutes_east = DISPLAY_OFFSET_SECONDS.unsigned_abs() / 60;
        out.push(if DISPLAY_OFFSET_SECONDS < 0 { '-' } else { '+' });
        push_digits(&mut out, minutes_east / 60, 2);
        out.push(':');
        push_digits(&mut out, minutes_east % 60, 2);
        out
    }
}

/// `n`'s last `width` decimal digits, zero-padded.
fn push_digits(out: &mut String, n: u32, width: u32) {
    for place in (0..width).rev() {
        out.push(char::from(b'0' + (n / 10u32.pow(place) % 10) as u8));
    }
}

impl Duration {
    pub const fn from_millis(ms: i64) -> Self {
        Duration(ms)
    }
    pub const fn hours(h: i64) -> Self {
        Duration(h * 3_600_000)
    }
    pub const fn days(d: i64) -> Self {
        Duration(d * 86_400_000)
    }
    pub const fn as_millis(self) -> i64 {
        self.0
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max_chars).collect();
        s.push('…');
        s
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

/// In the OpenAPI document: the RFC 3339 text `Serialize` writes (China Standard Time,
/// milliseconds: `2022-04-01T16:00:00.000+08:00`).
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("RFC 3339, China Standard Time, milliseconds: `2022-04-01T16:00:00.000+08:00`"))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Timestamp {}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The hand-written format is chrono's, for any instant from year 0 to 9999.
        #[test]
        fn rfc3339_is_chronos_format(ms in -62_167_219_200_000i64..253_402_300_799_999) {
            let t = Timestamp::from_millis(ms);
            let offset = FixedOffset::east_opt(DISPLAY_OFFSET_SECONDS).unwrap();
            let dt = offset.timestamp_millis_opt(ms).single().unwrap();
            let expected = if ms % 1000 == 0 {
                dt.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
            } else {
                dt.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
            };
            proptest::prop_assert_eq!(t.to_rfc3339(), expected.clone());
            proptest::prop_assert_eq!(Timestamp::parse(&expected).unwrap(), t);
        }
    }

    #[test]
    fn parses_offsets_to_the_same_instant() {
        let a = Timestamp::parse("2020-06-01T08:00:00+08:00").unwrap();
        let b = Timestamp::parse("2020-06-01T00:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.to_rfc3339(), "2020-06-01T08:00:00+08:00");
    }

    #[test]
    fn refuses_timestamps_without_offset() {
        assert!(Timestamp::parse("2020-06-01T08:00:00").is_err());
        assert!(Timestamp::parse("2020-06-01").is_err());
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn round_trips_milliseconds() {
        let t = Timestamp::parse("2020-06-01T08:00:00.123+08:00").unwrap();
        assert_eq!(Timestamp::parse(&t.to_rfc3339()).unwrap(), t);
    }
}
