//! What the two token kinds say, and how it is laid out as a CWT claims set.

use coset::cbor::Value;
use coset::cwt::{ClaimName, ClaimsSet, ClaimsSetBuilder, Timestamp};
use coset::CborSerializable;
use healthcode_domain::{Colour, PersonKind};

use crate::envelope::TokenKind;
use crate::error::VerifyError;

/// Private CWT claim (RFC 8392 private-use range, below -65536) holding a resident code's
/// own fields.
pub const CODE_CLAIM_KEY: i64 = -65537;
/// Private CWT claim holding a venue code's own fields. Distinct from [`CODE_CLAIM_KEY`] so
/// that neither kind can pass for the other even if its prefix is rewritten.
pub const VENUE_CLAIM_KEY: i64 = -65538;
/// Private CWT claim holding a printed card's own fields.
pub const CARD_CLAIM_KEY: i64 = -65539;
/// Longest pseudonymous code id a verifier accepts.
pub const MAX_CODE_ID_CHARS: usize = 64;

/// A resident's health code as signed by the issuing region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeClaims {
    /// Issuing region, e.g. "33" (Zhejiang); checked by verifiers.
    pub issuer: String,
    /// Pseudonymous code id (never an ID-card number), at most 64 ASCII characters.
    pub code_id: String,
    pub colour: Colour,
    pub kind: PersonKind,
    /// Already masked by the caller, e.g. "张*三".
    pub display_name: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds; issuers use [`crate::DEFAULT_CODE_LIFETIME_SECS`] after `issued_at`.
    pub expires_at: i64,
}

/// A venue code (场所码) valid for one time window only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VenueClaims {
    pub issuer: String,
    pub venue_id: String,
    /// The venue's category, e.g. "supermarket": what decides the measures for yellow codes.
    pub category: String,
    /// Unix seconds; carried as the CWT `iat`.
    pub window_start: i64,
    /// Unix seconds; carried as the CWT `exp`.
    pub window_end: i64,
}

/// A printed card that lasts: who holds it (by card id and masked name), never a colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardClaims {
    pub issuer: String,
    /// The card's own id (random, printed): the issuer knows whose card it is and whether
    /// it was revoked.
    pub card_id: String,
    /// Already masked, e.g. "张*三".
    pub display_name: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

// Keys inside the private claims' maps.
const CODE_ID: i64 = 1;
const COLOUR: i64 = 2;
const PERSON_KIND: i64 = 3;
const DISPLAY_NAME: i64 = 4;
const VENUE_ID: i64 = 1;
const CATEGORY: i64 = 2;
const CARD_ID: i64 = 1;
const CARD_NAME: i64 = 2;

pub(crate) fn code_payload(claims: &CodeClaims) -> Vec<u8> {
    let own = Value::Map(vec![
        (CODE_ID.into(), Value::Text(claims.code_id.clone())),
        (COLOUR.into(), colour_number(claims.colour).into()),
        (PERSON_KIND.into(), kind_number(claims.kind).into()),
        (DISPLAY_NAME.into(), Value::Text(claims.display_name.clone())),
    ]);
    payload(&claims.issuer, claims.issued_at, claims.expires_at, CODE_CLAIM_KEY, own)
}

pub(crate) fn venue_payload(claims: &VenueClaims) -> Vec<u8> {
    let own = Value::Map(vec![
        (VENUE_ID.into(), Value::Text(claims.venue_id.clone())),
        (CATEGORY.into(), Value::Text(claims.category.clone())),
    ]);
    payload(&claims.issuer, claims.window_start, claims.window_end, VENUE_CLAIM_KEY, own)
}

pub(crate) fn card_payload(claims: &CardClaims) -> Vec<u8> {
    let own = Value::Map(vec![
        (CARD_ID.into(), Value::Text(claims.card_id.clone())),
        (CARD_NAME.into(), Value::Text(claims.display_name.clone())),
    ]);
    payload(&claims.issuer, claims.issued_at, claims.expires_at, CARD_CLAIM_KEY, own)
}

fn payload(issuer: &str, iat: i64, exp: i64, private_key: i64, own: Value) -> Vec<u8> {
    ClaimsSetBuilder::new()
        .issuer(issuer.to_string())
        .expiration_time(Timestamp::WholeSeconds(exp))
        .issued_at(Timestamp::WholeSeconds(iat))
        .private_claim(private_key, own)
        .build()
        .to_vec()
        .expect("a claims set of text and integers always serialises")
}

/// The signed fields every token has, and its kind's own map.
pub(crate) struct Common {
    pub issuer: String,
    pub issued_at: i64,
    pub expires_at: i64,
    own: Vec<(Value, Value)>,
}

/// Reads a signed payload that should be of kind `expected`.
pub(crate) fn read_payload(payload: &[u8], expected: TokenKind) -> Result<Common, VerifyError> {
    let set = ClaimsSet::from_slice(payload).map_err(|e| bad(format!("the payload is not a CWT claims set: {e}")))?;
    let seconds = |t: Option<Timestamp>, name: &str| match t {
        Some(Timestamp::WholeSeconds(s)) => Ok(s),
        _ => Err(bad(format!("claim `{name}` is missing or not whole seconds"))),
    };
    let issued_at = seconds(set.issued_at, "iat")?;
    let expires_at = seconds(set.expiration_time, "exp")?;
    let issuer = set.issuer.ok_or_else(|| bad("claim `iss` is missing"))?;
    if expires_at < issued_at {
        return Err(bad("claim `exp` is before claim `iat`"));
    }
    let mut own = None;
    for (name, value) in set.rest {
        match (name, expected) {
            (ClaimName::PrivateUse(CODE_CLAIM_KEY), TokenKind::Code)
            | (ClaimName::PrivateUse(VENUE_CLAIM_KEY), TokenKind::Venue)
            | (ClaimName::PrivateUse(CARD_CLAIM_KEY), TokenKind::Card) => own = Some(value),
            (ClaimName::PrivateUse(CODE_CLAIM_KEY), _) => {
                return Err(VerifyError::WrongTokenType { expected, found: TokenKind::Code })
            }
            (ClaimName::PrivateUse(VENUE_CLAIM_KEY), _) => {
                return Err(VerifyError::WrongTokenType { expected, found: TokenKind::Venue })
            }
            (ClaimName::PrivateUse(CARD_CLAIM_KEY), _) => {
                return Err(VerifyError::WrongTokenType { expected, found: TokenKind::Card })
            }
            // Other claims are tolerated so that a later issuer may add some.
            _ => {}
        }
    }
    let own = match own {
        Some(Value::Map(entries)) => entries,
        Some(_) => return Err(bad("the private claim is not a map")),
        None => return Err(bad(format!("the private claim {} is missing", claim_key(expected)))),
    };
    Ok(Common { issuer, issued_at, expires_at, own })
}

impl Common {
    pub fn into_code(self) -> Result<CodeClaims, VerifyError> {
        let mut own = OwnFields::new(self.own)?;
        let code_id = own.text(CODE_ID, "code_id")?;
        if code_id.is_empty() || code_id.len() > MAX_CODE_ID_CHARS || !code_id.is_ascii() {
            return Err(bad(format!("code_id is not 1 to {MAX_CODE_ID_CHARS} ASCII characters")));
        }
        let colour = match own.integer(COLOUR, "colour")? {
            0 => Colour::Green,
            1 => Colour::Yellow,
            2 => Colour::Orange,
            3 => Colour::Red,
            _ => return Err(bad("colour is not 0 to 3")),
        };
        let kind = match own.integer(PERSON_KIND, "kind")? {
            0 => PersonKind::Domestic,
            1 => PersonKind::International,
            _ => return Err(bad("kind is not 0 or 1")),
        };
        let display_name = own.text(DISPLAY_NAME, "display_name")?;
        Ok(CodeClaims {
            issuer: self.issuer,
            code_id,
            colour,
            kind,
            display_name,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        })
    }

    pub fn into_card(self) -> Result<CardClaims, VerifyError> {
        let mut own = OwnFields::new(self.own)?;
        let card_id = own.text(CARD_ID, "card_id")?;
        if card_id.is_empty() || card_id.len() > MAX_CODE_ID_CHARS || !card_id.is_ascii() {
            return Err(bad(format!("card_id is not 1 to {MAX_CODE_ID_CHARS} ASCII characters")));
        }
        Ok(CardClaims {
            issuer: self.issuer,
            card_id,
            display_name: own.text(CARD_NAME, "display_name")?,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
        })
    }

    pub fn into_venue(self) -> Result<VenueClaims, VerifyError> {
        let mut own = OwnFields::new(self.own)?;
        Ok(VenueClaims {
            issuer: self.issuer,
            venue_id: own.text(VENUE_ID, "venue_id")?,
            category: own.text(CATEGORY, "category")?,
            window_start: self.issued_at,
            window_end: self.expires_at,
        })
    }
}

/// A private claim's map, keyed by small integers; unknown keys are ignored, a repeated
/// key is refused (two verifiers could otherwise read different values).
struct OwnFields(Vec<(i64, Value)>);

impl OwnFields {
    fn new(entries: Vec<(Value, Value)>) -> Result<OwnFields, VerifyError> {
        let mut fields: Vec<(i64, Value)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let key = key
                .as_integer()
                .and_then(|k| i64::try_from(k).ok())
                .ok_or_else(|| bad("a private key is not a small integer"))?;
            if fields.iter().any(|(seen, _)| *seen == key) {
                return Err(bad(format!("private field {key} appears twice")));
            }
            fields.push((key, value));
        }
        Ok(OwnFields(fields))
    }

    fn take(&mut self, key: i64, name: &str) -> Result<Value, VerifyError> {
        let at = self.0.iter().position(|(k, _)| *k == key).ok_or_else(|| bad(format!("field `{name}` is missing")))?;
        Ok(self.0.swap_remove(at).1)
    }

    fn text(&mut self, key: i64, name: &str) -> Result<String, VerifyError> {
        match self.take(key, name)? {
            Value::Text(text) => Ok(text),
            _ => Err(bad(format!("field `{name}` is not text"))),
        }
    }

    fn integer(&mut self, key: i64, name: &str) -> Result<i64, VerifyError> {
        self.take(key, name)?
            .as_integer()
            .and_then(|n| i64::try_from(n).ok())
            .ok_or_else(|| bad(format!("field `{name}` is not an integer")))
    }
}

fn colour_number(colour: Colour) -> i64 {
    match colour {
        Colour::Green => 0,
        Colour::Yellow => 1,
        Colour::Orange => 2,
        Colour::Red => 3,
    }
}

fn kind_number(kind: PersonKind) -> i64 {
    match kind {
        PersonKind::Domestic => 0,
        PersonKind::International => 1,
    }
}

fn claim_key(kind: TokenKind) -> i64 {
    match kind {
        TokenKind::Code => CODE_CLAIM_KEY,
        TokenKind::Venue => VENUE_CLAIM_KEY,
        TokenKind::Card => CARD_CLAIM_KEY,
    }
}

fn bad(detail: impl Into<String>) -> VerifyError {
    VerifyError::encoding(detail)
}
