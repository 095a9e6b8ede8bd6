//! What healthcode writes to the log: one canonical JSON object per leaf.
//!
//! Field types are plain (strings, milliseconds since the epoch, lists of strings) so
//! this crate does not depend on the domain crate and an auditor's tool can read the
//! entries with any JSON library. Canonical means: the bytes `serde_json` writes for the
//! value — fields in declaration order, no whitespace — and [`Entry::from_leaf_bytes`]
//! refuses any other spelling, so one entry has exactly one leaf hash.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("the leaf is not a healthcode log entry: {0}")]
    Invalid(String),
    #[error("the leaf is a valid entry but not in canonical form")]
    NotCanonical,
}

/// One log entry, tagged by `"type"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    ColourChange(ColourChange),
    RuleSetApproval(RuleSetApproval),
    DesignationApproval(DesignationApproval),
    DecisionApproval(DecisionApproval),
    TraceApproval(TraceApproval),
    DeviceApproval(DeviceApproval),
    AccountInUse(AccountInUse),
    Alarm(Alarm),
    Destruction(Destruction),
    Retraction(Retraction),
    Erasure(Erasure),
    CreditRecordApproval(CreditRecordApproval),
    DeclarationConfirmation(DeclarationConfirmation),
    NationalRecord(NationalRecord),
    NationalRegion(NationalRegion),
    NationalTrustList(NationalTrustList),
    NationalAgreement(NationalAgreement),
    AgreementConfirmation(AgreementConfirmation),
}

/// A person's code changed colour. The person appears only as a salted commitment (see
/// [`person_commitment`](crate::person_commitment)); the evidence only as digests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ColourChange {
    /// Milliseconds since the Unix epoch.
    pub at: i64,
    pub person_commitment: String,
    /// `None` for a person's first code.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub old_colour: Option<String>,
    pub new_colour: String,
    /// The ids of the rules that hold, sorted.
    pub rules: Vec<String>,
    /// Hex digest of each event behind those rules: HMAC-SHA256 under the person's salt
    /// for their own evidence (so a guessed event cannot be confirmed), SHA-256 for the
    /// public designations.
    pub evidence_digests: Vec<String>,
    pub rule_set_version: String,
    /// What turned the code red, orange or yellow: `decision`, `trace`, `designation`,
    /// `national:<region>:<event type>` (another region's record through the national hub)
    /// or `feed:<event type>` (the newest evidence behind the rules that hold). Absent for a
    /// change to green, and in entries written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

/// A rule set was approved to take effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleSetApproval {
    pub at: i64,
    pub version: String,
    /// `sha256:` of the rule set's canonical JSON.
    pub digest: String,
    pub approvers: Vec<String>,
    pub activates_at: i64,
}

/// An area risk designation was proposed and approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DesignationApproval {
    pub at: i64,
    pub area: String,
    pub level: String,
    pub escalate_to_red: bool,
    pub proposed_by: String,
    pub approved_by: String,
    /// The designation event's id, which colour changes' digests name (absent in entries
    /// written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// A management decision (colour by decision, with a legal basis and an expiry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionApproval {
    pub at: i64,
    pub decision_id: String,
    pub colour: String,
    pub basis: String,
    pub approvers: Vec<String>,
    /// How many persons the decision names; never who.
    pub persons: u64,
    pub until: i64,
}

/// Contacts found by tracing a case's check-ins were confirmed by one officer and
/// approved by another: they became close contacts (R2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TraceApproval {
    pub at: i64,
    pub trace_id: String,
    /// How many persons became close contacts; never who.
    pub persons: u64,
    pub proposed_by: String,
    pub approved_by: String,
    /// How many of the case's visits the approval published as venue exposures through
    /// the national hub (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_published: Option<u64>,
    /// How many published exposures the approval withdrew, and why (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_withdrawn: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn_because: Option<String>,
}

/// A gate device (a gate that reads codes and ID cards, and so can look people up)
/// was approved to work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceApproval {
    pub at: i64,
    pub device_id: String,
    pub venue_id: String,
    pub approved_by: String,
}

/// A staff or system account acted for the first time, or with an API key for the first
/// time: accounts and their keys are made by the server's operator on the machine, so each
/// one is shown to auditors before its first action (two officers made the night before a
/// decision is a visible thing, and so is a key minted that night for a real officer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountInUse {
    pub at: i64,
    pub username: String,
    pub role: String,
    /// The area-code prefix it acts within; none for the whole region.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub jurisdiction: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub department: Option<String>,
    /// When the operator created it.
    pub created_at: i64,
    /// The API key it acted with, by its label, and when that key was issued (absent for a
    /// session: each sign-in is not logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_created_at: Option<i64>,
}

/// Something an operator or auditor must look at (e.g. a burst of red codes in one
/// area without matching evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// `Alarm` in the OpenAPI document is the alarm as the API lists it (healthcode-store's).
#[cfg_attr(feature = "openapi", schema(as = AlarmEntry))]
pub struct Alarm {
    pub at: i64,
    pub kind: String,
    pub jurisdiction: String,
    pub detail: String,
}

/// A source withdrew one of its records about a person: from `at` on, the rules no longer
/// see it, and the colour changes that follow cite no digest of it. The person appears as
/// in a colour change, as a salted commitment; the record as its salted digest (the one
/// a colour change it caused carried), so the person can tie the two together and nobody
/// else can.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Retraction {
    pub at: i64,
    pub person_commitment: String,
    pub event_digest: String,
    /// The withdrawn record's type: `test`, `close_contact`…
    pub event_type: String,
    /// The account that sent the retraction (`system` for the system's own).
    pub by: String,
    /// The department it spoke for, if any.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub department: Option<String>,
}

/// A credit record for concealment was made: proposed by one office, approved by two
/// provincial officers. Never whom it is about; the person reads it themself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditRecordApproval {
    pub at: i64,
    pub record_id: String,
    pub basis: String,
    pub proposed_by: String,
    pub approvers: Vec<String>,
}

/// A declaration made with a key an official has seen (given at a service counter) was
/// confirmed by another official, and so became evidence. Never whom it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeclarationConfirmation {
    pub at: i64,
    pub declaration_id: String,
    /// The officials who had seen the key (or the proxy link) it was made with.
    pub key_seen_by: Vec<String>,
    pub confirmed_by: String,
    /// How many items (symptoms, a contact, stays) it declared.
    pub items: u64,
}

/// A region's officers confirmed an agreement the hub published: from then on the region
/// recognises the issuing region's codes within this window (and the hub's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgreementConfirmation {
    pub at: i64,
    pub receiving: String,
    pub issuing: String,
    pub path: String,
    pub from: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// The officer who proposed it, then the one who approved it.
    pub approvers: Vec<String>,
}

/// One person's data was erased at their request (PIPL art. 47): what was removed, never
/// who (the person is gone; no commitment is kept that could be tied to them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Erasure {
    pub at: i64,
    /// Rows removed, by table, as `table=count`.
    pub removed: Vec<String>,
}

/// Personal data was destroyed (the epidemic was declared over): what was removed and
/// which master keys were shredded, so that anyone can see that it happened and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Destruction {
    pub at: i64,
    /// Who ordered it and on what basis, as the operator stated.
    pub basis: String,
    /// Rows removed, by table, as `table=count`.
    pub removed: Vec<String>,
    /// Hex ids of the master keys destroyed with the data.
    pub master_keys: Vec<String>,
}

/// A record a region submitted to the national hub (互认), as the hub publishes it: the
/// hub's log holds these, and every region that syncs with the hub reads them. The person
/// appears only as their national pseudonym (a keyed hash of the document that registered
/// regions compute and the public cannot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NationalRecord {
    /// When the hub accepted it (milliseconds since the epoch).
    pub at: i64,
    /// The submitting region's code (`33`, `41`): the hub takes it from the region's
    /// account, never from the record.
    pub region: String,
    /// The region's own id for the record, unique within the region.
    pub id: String,
    /// `key_person` (a case, a suspected case, an asymptomatic infection, a close contact
    /// or a positive test), `test_result` (a test the region chose to share),
    /// `risk_level` (an area's risk level, as the region designated it), `venue_exposure`
    /// (a traced case was at a venue of the region in a window; no person) or `retraction`
    /// (the region withdraws one of its records).
    pub kind: String,
    /// The national pseudonym (`n` and 32 hex digits); a retraction carries its record's.
    /// Empty (and left out) for a risk level, which is about an area.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub person: String,
    /// A key person's status: `confirmed`, `suspected`, `asymptomatic`, `close_contact`,
    /// `positive_test`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Since when (milliseconds): the exposure of a close contact, the sampling of a test,
    /// the diagnosis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
    /// The id of the record a retraction withdraws (the same region's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retracts: Option<String>,
    /// Why a retraction withdraws its record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A risk level's area (a division code of the submitting region).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// A risk level's level: `low`, `medium`, `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// A shared test's result: `negative`, `positive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// A venue exposure's venue (its id in the submitting region); the window is `since`
    /// to `until`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<String>,
    /// The end of a venue exposure's window (milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
    /// The submitting region's signature over the record (without `at` and these two
    /// fields), by one of the code-signing keys in its published trust list (`kid`), so
    /// that the hub cannot publish a record in a region's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Base64 of the Ed25519 signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl NationalRecord {
    /// What the region signs: the record with `at` zero and no signature, canonical.
    pub fn signed_payload(&self) -> Vec<u8> {
        let unsigned = NationalRecord { at: 0, kid: None, signature: None, ..self.clone() };
        serde_json::to_vec(&unsigned).expect("records hold only strings and integers")
    }
}

/// The hub registered a region: the root key that signs the region's trust lists (checked
/// out of band by the hub's operator). A later entry for the same region replaces it, in
/// the open: every region sees the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NationalRegion {
    pub at: i64,
    pub region: String,
    /// The region's trust-list root key: 32 bytes, base64.
    pub root_key: String,
}

/// A region's trust list (its code-signing keys, rotations and revocations included),
/// signed by its root key, as it submitted it: other regions verify its codes offline
/// with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NationalTrustList {
    pub at: i64,
    pub region: String,
    /// The signed list, as the region serves it at `/v1/trust-list` (JSON text).
    pub signed_list: String,
}

/// An agreement (互认协议): from `from` (until `until`, if set) the `receiving` region
/// accepts codes the `issuing` region signed, at its doors, by `path` (`recognition`:
/// the code as it is, judged by the receiving region's measures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NationalAgreement {
    pub at: i64,
    pub receiving: String,
    pub issuing: String,
    pub path: String,
    pub from: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<i64>,
}

impl Entry {
    /// The leaf data: canonical JSON bytes.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("entries hold only strings and integers")
    }

    /// Reads leaf data, refusing anything that is not exactly what
    /// [`leaf_bytes`](Self::leaf_bytes) would write (unknown fields, other key order,
    /// whitespace, escapes spelled differently).
    pub fn from_leaf_bytes(bytes: &[u8]) -> Result<Self, EntryError> {
        let entry: Entry = serde_json::from_slice(bytes).map_err(|e| EntryError::Invalid(e.to_string()))?;
        if entry.leaf_bytes() != bytes {
            return Err(EntryError::NotCanonical);
        }
        Ok(entry)
    }

    /// The leaf hash of this entry.
    pub fn leaf_hash(&self) -> crate::Hash {
        crate::leaf_hash(&self.leaf_bytes())
    }
}
