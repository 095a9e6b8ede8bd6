use std::fmt;

use healthcode_domain::Timestamp;

use crate::keys::KeyId;
use crate::TokenKind;

/// Why a token was refused. Every variant says what was wrong and what the person at the
/// scanner should do; [`VerifyError::code`] gives a stable machine name for each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("not a readable token ({0}); scan the code again, and if it still fails ask the holder to refresh it")]
    BadEncoding(String),
    #[error("signed by key {0}, which is not in this verifier's trust list; update the trust list, and if the key is still unknown do not accept the code")]
    UnknownKey(KeyId),
    #[error("the signature does not match the content: the code was altered or forged; do not accept it")]
    BadSignature,
    #[error("this code expired at {}; refresh the code in the app", Secs(*expired_at))]
    Expired { expired_at: i64 },
    #[error("this code is valid only from {}; check the date and time of this device", Secs(*valid_from))]
    NotYetValid { valid_from: i64 },
    #[error(
        "signed by key {0}, which has been revoked; do not accept the code, the holder must get a new one in the app"
    )]
    RevokedKey(KeyId),
    /// Only for what a third party dated (`verify_detached`): codes date themselves, and a
    /// revoked key's codes are `RevokedKey` whatever the revocation's time.
    #[error(
        "signed by key {kid}, dated {}, on or after {} from when its region no longer trusts the key (it was \
         compromised); do not use what it signed then, and ask the region for its current records",
        Secs(*signed_at), Secs(*since)
    )]
    RevokedSince { kid: KeyId, since: i64, signed_at: i64 },
    #[error(
        "key {kid} was not in service when this code was issued ({}; the key serves from {} {}); do not accept the code, and update the trust list",
        Secs(*issued_at), Secs(*not_before), Until(*not_after)
    )]
    KeyNotValidAt { kid: KeyId, issued_at: i64, not_before: i64, not_after: Option<i64> },
    #[error("this code was issued by region `{found}` but this verifier accepts region `{expected}`; check it with region `{found}`'s verifier")]
    WrongRegion { expected: String, found: String },
    #[error("this is a {found}, not a {expected}; scan the other code")]
    WrongTokenType { expected: TokenKind, found: TokenKind },
    #[error(
        "this code was issued by region `{0}`, which this region does not recognise (no agreement in force); \
         apply this region's measures for travellers without a recognised code"
    )]
    NoAgreement(String),
    #[error(
        "this code was issued by region `{region}`, whose keys this region last had from the national hub over \
         {hours} hours ago (a revocation since may be missing); apply this region's measures for travellers without \
         a recognised code until the national data is current"
    )]
    StaleTrust { region: String, hours: i64 },
    #[error("this venue code's time window ended at {}: it is an old or forwarded picture; scan the code posted at the venue itself", Secs(*window_end))]
    Replayed { venue_id: String, window_end: i64 },
}

impl VerifyError {
    /// A stable name for logs, metrics and API responses; never changes once released.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::BadEncoding(_) => "bad_encoding",
            VerifyError::UnknownKey(_) => "unknown_key",
            VerifyError::BadSignature => "bad_signature",
            VerifyError::Expired { .. } => "expired",
            VerifyError::NotYetValid { .. } => "not_yet_valid",
            VerifyError::RevokedKey(_) => "revoked_key",
            VerifyError::RevokedSince { .. } => "key_compromised",
            VerifyError::KeyNotValidAt { .. } => "key_not_valid",
            VerifyError::WrongRegion { .. } => "wrong_region",
            VerifyError::WrongTokenType { .. } => "wrong_token_type",
            VerifyError::Replayed { .. } => "replayed",
            VerifyError::NoAgreement(_) => "no_agreement",
            VerifyError::StaleTrust { .. } => "trust_list_expired",
        }
    }

    pub(crate) fn encoding(detail: impl Into<String>) -> VerifyError {
        VerifyError::BadEncoding(detail.into())
    }
}

/// Why a signed trust list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustListError {
    #[error("malformed trust list: {0}; fetch it again from the issuing region")]
    Malformed(String),
    #[error("the trust list is signed by root key {found}, but this verifier pins root key {expected}; fetch the list from the right region or update the pinned root key")]
    WrongRoot { expected: KeyId, found: KeyId },
    #[error(
        "the trust list's signature does not match its content: it was altered in transit or forged; do not use it"
    )]
    BadSignature,
    #[error(
        "the trust list is number {found}, older than number {seen} this verifier already holds: an old list can \
         bring back a revoked key; keep the newer one and fetch the current list from the issuing region"
    )]
    Older { seen: u64, found: u64 },
}

/// Unix seconds shown as a China Standard Time date, which is what the person at the
/// scanner reads.
struct Secs(i64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Timestamp::from_millis(self.0.saturating_mul(1000)), f)
    }
}

struct Until(Option<i64>);

impl fmt::Display for Until {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(end) => write!(f, "until before {}", Secs(end)),
            None => f.write_str("with no end"),
        }
    }
}
