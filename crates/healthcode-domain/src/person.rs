use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// A person's pseudonymous id: never an ID-card number. Derived by the service from the
/// identity document with a keyed hash, or chosen by a test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
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
}

impl IdType {
    pub fn as_str(self) -> &'static str {
        match self {
            IdType::ResidentId => "resident_id",
            IdType::Passport => "passport",
        }
    }

    pub fn person_kind(self) -> PersonKind {
        match self {
            IdType::ResidentId => PersonKind::Domestic,
            IdType::Passport => PersonKind::International,
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
        let id_type = match id_type {
            "resident_id" => IdType::ResidentId,
            "passport" => IdType::Passport,
            other => {
                return Err(ValidationError::field(
                    "id_type",
                    format!("field `id_type`: `{}` is not supported; use `resident_id` or `passport`", clip(other)),
                ))
            }
        };
        let number = number.trim().to_ascii_uppercase();
        match id_type {
            IdType::ResidentId => check_resident_id(&number)?,
            IdType::Passport => {
                let ok = (5..=20).contains(&number.len()) && number.bytes().all(|b| b.is_ascii_alphanumeric());
                if !ok {
                    return Err(ValidationError::field(
                        "id_number",
                        "field `id_number`: a passport number is 5 to 20 letters and digits",
                    ));
                }
            }
        }
        Ok(IdDocument { id_type, number })
    }

    pub fn id_type(&self) -> IdType {
        self.id_type
    }

    /// The canonical number, for keyed hashing only.
    pub fn number(&self) -> &str {
        &self.number
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
