//! Other regions' codes at this region's doors (path 1 of seed 004: recognition inside the
//! local code). The hub publishes each region's root key, its signed trust lists and the
//! agreements; a region keeps the latest of each (documents) and, in memory, a verifier
//! per region it recognises. A code from another region is verified offline like a local
//! one, with that region's keys, and accepted only under an agreement in force.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use base64::Engine;
use healthcode_domain::Timestamp;
use healthcode_token::{SignedTrustList, Verifier};
use serde::{Deserialize, Serialize};

/// An agreement (互认协议) as a region keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agreement {
    pub receiving: String,
    pub issuing: String,
    pub path: String,
    pub from: Timestamp,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub until: Option<Timestamp>,
}

impl Agreement {
    fn in_force(&self, receiving: &str, issuing: &str, at: Timestamp) -> bool {
        self.receiving == receiving
            && self.issuing == issuing
            && self.path == "recognition"
            && self.from <= at
            && self.until.is_none_or(|u| at < u)
    }
}

/// The window in which this region's officers confirmed recognising `issuing`'s codes
/// (`confirmation.rs`): the hub's agreement counts here only inside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmedAgreement {
    pub issuing: String,
    pub path: String,
    pub from: Timestamp,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub until: Option<Timestamp>,
}

impl ConfirmedAgreement {
    fn covers(&self, issuing: &str, at: Timestamp) -> bool {
        self.issuing == issuing && self.path == "recognition" && self.from <= at && self.until.is_none_or(|u| at < u)
    }
}

/// Another region's trust, as published by the hub.
#[derive(Debug, Clone)]
pub struct RegionTrust {
    pub region: String,
    pub verifier: Arc<Verifier>,
    /// The list's sequence and when the region signed it.
    pub sequence: u64,
    pub issued_at: i64,
    /// Where this region found the list in the hub's log (`None`: not known, for a list
    /// kept before this was recorded): records signed by a key it revokes that come later
    /// in the log were accepted by no honest hub.
    pub hub_index: Option<u64>,
}

/// What this region recognises now, replaced whole when the hub publishes something new.
#[derive(Debug, Clone, Default)]
pub struct TrustState {
    pub regions: BTreeMap<String, RegionTrust>,
    pub agreements: Vec<Agreement>,
    /// What this region's officers confirmed (a region only: `None` at the hub, which
    /// recognises by the agreements it publishes).
    pub confirmed: Option<Vec<ConfirmedAgreement>>,
    /// The registered regions and their first lists' places, which every record of
    /// another region is checked against (`vouching::check`).
    pub vouching: super::vouching::Vouching,
}

impl TrustState {
    /// Whether `receiving` recognises the codes `issuing` signs at `at`: an agreement the
    /// hub publishes is in force, and, at a region, its officers confirmed it for `at`.
    pub fn recognises(&self, receiving: &str, issuing: &str, at: Timestamp) -> bool {
        self.published_agreement(receiving, issuing, at)
            && self.confirmed.as_ref().is_none_or(|confirmed| confirmed.iter().any(|c| c.covers(issuing, at)))
    }

    /// Whether the hub publishes an agreement by which `receiving` recognises `issuing`'s
    /// codes at `at`. Another region's own confirmation is its business and not seen here:
    /// this is what a resident's app checks before it checks in at `receiving`'s venue.
    pub fn published_agreement(&self, receiving: &str, issuing: &str, at: Timestamp) -> bool {
        self.agreements.iter().any(|a| a.in_force(receiving, issuing, at))
    }
}

/// How long other regions' keys are used after this region last heard from the hub: a
/// hub down for longer may have missed a region's revocation for us, so their codes are
/// then refused (`trust_list_expired`) and this region's own measures apply, until the
/// hub answers again. Codes of this region are never affected.
pub const OTHER_REGIONS_KEYS_HOURS: i64 = 24;

/// Shared by the exchange (which fills it) and signed codes (which read it).
#[derive(Debug)]
pub struct NationalTrust {
    state: RwLock<Arc<TrustState>>,
    /// When this region last heard from the hub (ms; `i64::MIN`: not followed, as at the hub).
    synced_at: AtomicI64,
    /// The hub log size whose lists and agreements `state` holds (`u64::MAX`: none loaded).
    loaded_size: AtomicU64,
}

impl Default for NationalTrust {
    fn default() -> Self {
        NationalTrust {
            state: RwLock::default(),
            synced_at: AtomicI64::new(i64::MIN),
            loaded_size: AtomicU64::new(u64::MAX),
        }
    }
}

impl NationalTrust {
    pub fn current(&self) -> Arc<TrustState> {
        self.state.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn replace(&self, state: TrustState) {
        *self.state.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(state);
    }

    pub(crate) fn loaded_size(&self) -> u64 {
        self.loaded_size.load(Ordering::Acquire)
    }

    pub(crate) fn set_loaded_size(&self, size: u64) {
        self.loaded_size.store(size, Ordering::Release);
    }

    pub(crate) fn set_synced_at(&self, at: Timestamp) {
        self.synced_at.store(at.as_millis(), Ordering::Release);
    }

    /// When this region last heard from the hub, as this server knows it (its follower's
    /// last tick, or its own sync): what pages show as "national data as of".
    pub fn synced_at(&self) -> Option<Timestamp> {
        let synced = self.synced_at.load(Ordering::Acquire);
        (synced != i64::MIN).then(|| Timestamp::from_millis(synced))
    }

    /// Whether other regions' keys are too old to use at `now` (`OTHER_REGIONS_KEYS_HOURS`).
    pub fn expired_at(&self, now: Timestamp) -> bool {
        let synced = self.synced_at.load(Ordering::Acquire);
        synced != i64::MIN && now.as_millis().saturating_sub(synced) > OTHER_REGIONS_KEYS_HOURS * 3_600_000
    }
}

/// Opens a region's signed list with the root key the hub published for it.
pub(crate) fn open_list(region: &str, root_key_b64: &str, signed: &str) -> Result<RegionTrust, String> {
    let root: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(root_key_b64)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("region {region}'s root key is not 32 bytes of base64"))?;
    let list = SignedTrustList::from_json(signed)
        .map_err(|e| format!("region {region}'s trust list cannot be read: {e}"))?
        .open(&root)
        .map_err(|e| format!("region {region}'s trust list is not signed by its registered root key: {e}"))?;
    if list.region != region {
        return Err(format!("the trust list names region {}, not {region}", list.region));
    }
    Ok(RegionTrust {
        region: region.to_string(),
        sequence: list.sequence,
        issued_at: list.issued_at,
        hub_index: None,
        verifier: Arc::new(Verifier::new(list)),
    })
}
