//! What a region checks of every record another region published through the hub before
//! using it (as evidence, as a designation, or parked until its person comes), and again
//! when a parked record is admitted: the hub relays records, it does not vouch for them.
//! A record is used only if it names a region by its two-digit code (not the hub's own
//! `00`, and nothing that would read as another region's record id: `hc-nat-<region>-<id>`),
//! carries that region's valid signature when it comes after the region's first trust list
//! that opens here, and says nothing the region could not have said itself (a level of
//! another region's area, a level backdated beyond what the hub accepts, a date in the
//! future).

use std::collections::BTreeMap;

use healthcode_domain::{AreaCode, Timestamp};
use healthcode_log::NationalRecord;

use super::exchange;
use super::trust::TrustState;

/// What vouches for other regions' records here, from the hub's log as this region read it.
#[derive(Debug, Clone, Default)]
pub struct Vouching {
    /// Where each region's first trust list that opened with its registered root is in the
    /// hub's log: every record of that region after it must carry the region's signature,
    /// whether or not a list of it can be opened here now.
    pub first_lists: BTreeMap<String, u64>,
}

/// Why a published record is not used: the field at fault, the reason for the rejection
/// log, and whether it is a forgery (a record in a region's name that the region did not
/// sign, or could not have made): those raise `hub_forged_record`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    pub field: &'static str,
    pub reason: String,
    pub forged: bool,
}

impl Unusable {
    fn forged(field: &'static str, reason: String) -> Self {
        Unusable { field, reason: format!("{reason}; the record was not used"), forged: true }
    }
}

/// Checks a record of another region found at hub entry `index`, against what this region
/// holds of the hub's log and the trust lists it can open (`trust`).
pub fn check(record: &NationalRecord, index: u64, trust: &TrustState) -> Result<(), Unusable> {
    let region = record.region.as_str();
    let is_code = region.len() == 2 && region.bytes().all(|b| b.is_ascii_digit()) && region != "00";
    if !is_code {
        return Err(Unusable::forged(
            "region",
            format!(
                "the hub published a record in the name of `{region}`, which is not a region's two-digit code (the \
                 hub's own 00 submits no records)"
            ),
        ));
    }
    check_signature(record, index, trust)?;
    check_content(record)
}

fn check_signature(record: &NationalRecord, index: u64, trust: &TrustState) -> Result<(), Unusable> {
    let region = record.region.as_str();
    let first_list = trust.vouching.first_lists.get(region).copied();
    // Before a region's first list, nothing it said was signed (nor could be checked).
    let before_keys = first_list.is_none_or(|first| index < first);
    let unsigned = record.kid.is_none() && record.signature.is_none();
    match trust.regions.get(region) {
        Some(_) if unsigned && before_keys => Ok(()),
        Some(signer) => {
            let list = signer.verifier.trust_list();
            exchange::verify_record(record, list)
                .and_then(|()| exchange::check_published_before_revocation(record, index, list, signer.hub_index))
                .map_err(|why| Unusable::forged("signature", why))
        }
        None if before_keys => Ok(()),
        None => Err(Unusable::forged(
            "signature",
            format!(
                "region {region} published its keys at hub entry {}, but no list of them opens with the root key \
                 registered for it here, so nothing after that entry can be checked",
                first_list.unwrap_or_default()
            ),
        )),
    }
}

/// What a region can say: the level of its own areas only, effective when it designated
/// them (the hub's check, repeated: a hub could skip it); no time in the future.
fn check_content(record: &NationalRecord) -> Result<(), Unusable> {
    let region = record.region.as_str();
    let at = Timestamp::from_millis(record.at);
    let since = record.since.map(Timestamp::from_millis);
    if since.is_some_and(|s| s > crate::clock::latest_allowed(at)) {
        return Err(Unusable::forged(
            "since",
            format!("region {region} dated the record after the hub received it ({})", at.to_rfc3339()),
        ));
    }
    if record.kind == "venue_exposure" {
        let window = match (since, record.until.map(Timestamp::from_millis)) {
            (Some(since), Some(until)) => super::exchange::check_exposure_window(since, until),
            _ => Err("a venue exposure has a window: `since` and `until`".to_string()),
        };
        window.map_err(|reason| Unusable::forged("until", reason))?;
    }
    if record.kind == "risk_level" {
        let area = record.area.as_deref().and_then(|a| AreaCode::parse(a).ok());
        if !area.as_ref().is_some_and(|a| a.normal().starts_with(region)) {
            return Err(Unusable::forged(
                "area",
                format!("region {region} publishes the levels of its own areas only (codes starting with {region})"),
            ));
        }
        let earliest = record.at.saturating_sub(super::LEVEL_BACKDATING_HOURS * 3_600_000);
        if since.is_none_or(|s| s.as_millis() < earliest) {
            return Err(Unusable::forged(
                "since",
                format!(
                    "a risk level takes effect when it is designated, within the {} hours before the hub receives \
                     it",
                    super::LEVEL_BACKDATING_HOURS
                ),
            ));
        }
    }
    Ok(())
}
