use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A person's pseudonymous id: never an ID-card number. Derived by the service from the
/// identity document with a keyed hash, or chosen by a test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct PersonId(String);

impl PersonId {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(PersonId(text.to_string()))
        } else {
            Err(ValidationError::field(
                "person_id",
                "field `person_id`: expected 1 to 64 letters, digits, `-` or `_` (the id returned at registration)",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PersonId {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        PersonId::parse(&s)
    }
}

impl From<PersonId> for String {
    fn from(p: PersonId) -> String {
        p.0
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Domestic codes are for holders of a resident ID card; international codes (国际版) for
/// persons without one, registered by passport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PersonKind {
    Domestic,
    International,
}

impl PersonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonKind::Domestic => "domestic",
            PersonKind::International => "international",
        }
    }

    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        match text {
            "domestic" => Ok(PersonKind::Domestic),
            "international" => Ok(PersonKind::International),
            other => Err(ValidationError::field(
                "kind",
                format!("field `kind`: `{}` is not a person kind; use `domestic` or `international`", clip(other)),
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证, 18 characters with a GB 11643 check digit.
    ResidentId,
    Passport,
    /// 港澳居民来往内地通行证 (Home Return Permit): H (Hong Kong) or M (Macao) and 8
    /// digits (10 on permits issued before 2013).
    HkMacaoPermit,
    /// 台湾居民来往大陆通行证: 8 digits (10 on permits issued before 2015).
    TaiwanPermit,
    /// 外国人永久居留身份证: 18 characters starting with 9 with a GB 11643 check digit
    /// (2023 on), or three letters (the nationality) and 12 digits (2017 card).
    ForeignPermanentResidence,
}

impl IdType {
    pub const ALL: [IdType; 5] = [
        IdType::ResidentId,
        IdType::Passport,
        IdType::HkMacaoPermit,
        IdType::TaiwanPermit,
        IdType::ForeignPermanentResidence,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IdType::ResidentId => "resident_id",
            IdType::Passport => "passport",
            IdType::HkMacaoPermit => "hk_macao_permit",
            IdType::TaiwanPermit => "taiwan_permit",
            IdType::ForeignPermanentResidence => "foreign_permanent_residence",
        }
    }

    pub fn parse(text: &str) -> Option<IdType> {
        IdType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The code a holder gets unless they ask: the domestic one, but for a passport.
    pub fn person_kind(self) -> PersonKind {
        match self {
            IdType::Passport => PersonKind::International,
            _ => PersonKind::Domestic,
        }
    }

    /// The code a holder gets who asks (or not) for the international one: holders of
    /// the travel permits and the permanent residence card choose (seed 001: voluntary
    /// for them); a resident ID card gives the domestic code, a passport the international.
    pub fn person_kind_asked(self, international: bool) -> Result<PersonKind, ValidationError> {
        match (self, international) {
            (IdType::ResidentId, true) => Err(ValidationError::field(
                "international",
                "a resident ID card holder gets the domestic code; the international one is for holders of \
                 passports, travel permits and permanent residence cards",
            )),
            (IdType::Passport, _) => Ok(PersonKind::International),
            (_, true) => Ok(PersonKind::International),
            (_, false) => Ok(PersonKind::Domestic),
        }
    }
}

/// An identity document as submitted at registration. Its number is personal data: it is
/// used to derive the pseudonym and is not kept by the colour engine.
#[derive(Clone, PartialEq, Eq)]
pub struct IdDocument {
    id_type: IdType,
    number: String,
}

impl fmt::Debug for IdDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdDocument").field("id_type", &self.id_type).field("number", &"<redacted>").finish()
    }
}

impl IdDocument {
    pub fn parse(id_type: &str, number: &str) -> Result<Self, ValidationError> {
        let id_type = IdType::parse(id_type).ok_or_else(|| {
            ValidationError::field(
                "id_type",
                format!(
                    "field `id_type`: `{}` is not supported; use one of {}",
                    clip(id_type),
                    IdType::ALL.map(IdType::as_str).join(", ")
                ),
            )
        })?;
        let number = number.trim().to_ascii_uppercase();
        let ok = match id_type {
            IdType::ResidentId => {
                check_resident_id(&number)?;
                true
            }
            IdType::Passport => (5..=20).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric()),
            IdType::HkMacaoPermit => {
                let digits = number.get(1..).unwrap_or_default();
                matches!(number.as_bytes().first(), Some(b'H' | b'M'))
                    && matches!(digits.len(), 8 | 10)
                    && digits.bytes().all(|b| b.is_ascii_digit())
            }
            IdType::TaiwanPermit => matches!(number.len(), 8 | 10) && number.bytes().all(|b| b.is_ascii_digit()),
            IdType::ForeignPermanentResidence => {
                if number.len() == 18 && number.starts_with('9') {
                    check_resident_id(&number)?;
                    true
                } else {
                    number.len() == 15
                        && number.as_bytes()[..3].iter().all(u8::is_ascii_uppercase)
                        && number.as_bytes()[3..].iter().all(u8::is_ascii_digit)
                }
            }
        };
        if !ok {
            return Err(ValidationError::field("id_number", format!("field `id_number`: {}", shape(id_type))));
        }
        Ok(IdDocument { id_type, number })
    }

    pub fn id_type(&self) -> IdType {
        self.id_type
    }

    /// The holder's age in whole years at `at` (China Standard Time), from the birth date
    /// a resident ID number carries; `None` for other documents.
    pub fn age_at(&self, at: crate::Timestamp) -> Option<u32> {
        if self.id_type != IdType::ResidentId {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| self.number.get(range)?.parse::<u32>().ok();
        let (year, month, day) = (digits(6..10)?, digits(10..12)?, digits(12..14)?);
        // Checked: at the last eight hours chrono can represent, `+` would panic; a year
        // before 0 has no age.
        let local =
            chrono::DateTime::from_timestamp_millis(at.as_millis())?.checked_add_signed(chrono::Duration::hours(8))?;
        use chrono::Datelike;
        let (y, m, d) = (u32::try_from(local.year()).ok()?, local.month(), local.day());
        let had_birthday = (m, d) >= (month, day);
        y.checked_sub(year).map(|years| if had_birthday { years } else { years.saturating_sub(1) })
    }

    /// The canonical number, for keyed hashing only.
    pub fn number(&self) -> &str {
        &self.number
    }
}

/// What a number of each document looks like, for the message that refuses one.
fn shape(id_type: IdType) -> &'static str {
    match id_type {
        IdType::ResidentId => "a resident ID number is 17 digits followed by a digit or X",
        IdType::Passport => "a passport number is 5 to 20 letters and digits",
        IdType::HkMacaoPermit => "a Home Return Permit number is H or M followed by 8 digits (10 on older permits)",
        IdType::TaiwanPermit => "a Taiwan residents' travel permit number is 8 digits (10 on older permits)",
        IdType::ForeignPermanentResidence => {
            "a permanent residence card number is 18 characters starting with 9, or (2017 cards) three letters and \
             12 digits"
        }
    }
}

/// GB 11643-1999: 17 digits and an ISO 7064 MOD 11-2 check character.
fn check_resident_id(number: &str) -> Result<(), ValidationError> {
    let bytes = number.as_bytes();
    let shape_ok = bytes.len() == 18
        && bytes[..17].iter().all(u8::is_ascii_digit)
        && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
    if !shape_ok {
        return Err(ValidationError::field(
            "id_number",
            "field `id_number`: a resident ID number is 17 digits followed by a digit or X",
        ));
    }
    if resident_id_check_char(&number[..17]) != char::from(bytes[17]) {
        return Err(ValidationError::field(
            "id_number",
            "field `id_number`: the check digit does not match; re-type the number from the card",
        ));
    }
    Ok(())
}

/// The ISO 7064 MOD 11-2 check character for the 17 leading digits of a resident ID
/// number (also used by tests to make valid numbers).
pub fn resident_id_check_char(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = first17.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    CHECK[(sum % 11) as usize] as char
}

fn clip(text: &str) -> String {
    text.chars().take(32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn travel_permits_and_permanent_residence_cards_have_their_own_formats() {
        let accepted = [
            ("hk_macao_permit", "H12345678"),
            ("hk_macao_permit", "m1234567890"),
            ("taiwan_permit", "12345678"),
            ("taiwan_permit", "1234567890"),
            ("foreign_permanent_residence", "USA330106800101"),
        ];
        for (t, n) in accepted {
            assert!(IdDocument::parse(t, n).is_ok(), "{t} {n}");
        }
        let first17 = "93301084019900101";
        let card = format!("{first17}{}", resident_id_check_char(first17));
        assert!(IdDocument::parse("foreign_permanent_residence", &card).is_ok(), "the 2023 card: {card}");
        let refused = [
            ("hk_macao_permit", "X12345678"),
            ("hk_macao_permit", "H1234567"),
            ("taiwan_permit", "1234567A"),
            ("foreign_permanent_residence", "US3301068001010"),
            ("foreign_permanent_residence", &format!("{first17}{}", if card.ends_with('0') { '1' } else { '0' })),
        ];
        for (t, n) in refused {
            let e = IdDocument::parse(t, n).unwrap_err();
            assert_eq!(e.field.as_deref(), Some("id_number"), "{t} {n}");
            assert!(!e.message.contains(n), "never echoes the number");
        }
        assert!(IdDocument::parse("military_id", "1").unwrap_err().message.contains("taiwan_permit"));
    }

    #[test]
    fn age_comes_from_a_resident_id_birth_date_in_china_standard_time() {
        let first17 = "33010620140601222";
        let card = IdDocument::parse("resident_id", &format!("{first17}{}", resident_id_check_char(first17))).unwrap();
        let at = |text: &str| crate::Timestamp::parse(text).unwrap();
        assert_eq!(card.age_at(at("2020-05-31T23:59:59+08:00")), Some(5));
        assert_eq!(card.age_at(at("2020-06-01T00:00:00+08:00")), Some(6), "the birthday, at Beijing midnight");
        assert_eq!(card.age_at(at("2020-05-31T16:00:00Z")), Some(6), "the same instant in UTC");
        assert_eq!(IdDocument::parse("passport", "E12345678").unwrap().age_at(at("2020-06-01T00:00:00+08:00")), None);
    }

    #[test]
    fn age_at_the_ends_of_time_is_none_not_a_panic() {
        // Found while writing the fuzz target `area_and_ids`: adding Beijing's eight hours
        // to an instant in chrono's last eight hours panicked, and a year before 0 wrapped
        // to an age of four billion years.
        let card = IdDocument::parse("resident_id", "11010519491231002X").unwrap();
        let last = chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp_millis();
        let first = chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp_millis();
        for ms in [last, last - 3_600_000, first, first + 1, i64::MIN, i64::MAX] {
            assert_eq!(card.age_at(crate::Timestamp::from_millis(ms)), None, "{ms}");
        }
        assert!(card.age_at(crate::Timestamp::from_millis(last - 9 * 3_600_000)).is_some());
    }

    #[test]
    fn the_international_code_is_asked_for_by_permit_holders_only() {
        assert_eq!(IdType::HkMacaoPermit.person_kind(), PersonKind::Domestic, "domestic unless asked");
        assert_eq!(IdType::TaiwanPermit.person_kind_asked(true).unwrap(), PersonKind::International);
        assert_eq!(IdType::ForeignPermanentResidence.person_kind_asked(false).unwrap(), PersonKind::Domestic);
        assert_eq!(IdType::Passport.person_kind_asked(false).unwrap(), PersonKind::International);
        assert!(IdType::ResidentId.person_kind_asked(true).is_err());
    }

    #[test]
    fn accepts_a_valid_resident_id_and_rejects_a_typo() {
        let first17 = "11010519491231002";
        let good = format!("{first17}{}", resident_id_check_char(first17));
        assert_eq!(good, "11010519491231002X");
        assert!(IdDocument::parse("resident_id", &good).is_ok());
        assert!(IdDocument::parse("resident_id", "110105194912310021").is_err());
        assert!(IdDocument::parse("resident_id", "1101051949").is_err());
    }

    #[test]
    fn debug_never_shows_the_number() {
        let doc = IdDocument::parse("passport", "E12345678").unwrap();
        assert!(!format!("{doc:?}").contains("E12345678"));
    }

    #[test]
    fn person_ids_are_plain_tokens() {
        assert!(PersonId::parse("p_abc-123").is_ok());
        assert!(PersonId::parse("").is_err());
        assert!(PersonId::parse("a b").is_err());
        assert!(PersonId::parse(&"x".repeat(65)).is_err());
    }
}
