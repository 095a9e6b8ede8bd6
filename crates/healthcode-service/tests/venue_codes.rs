//! Venue codes signed by a key that came into service during the current window.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{PersonId, PersonKind, Timestamp, VenueCategory};
use healthcode_rules::RuleSet;
use healthcode_service::{HealthService, ManualClock, NewVenue, Pseudonymiser};
use healthcode_store_sqlite::SqliteStore;

#[tokio::test]
async fn a_venue_code_from_a_key_newer_than_the_window_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
    // The server (and its first signing key) starts 17 s into a venue-code window.
    let now = Timestamp::parse("2020-06-01T08:00:17+08:00").unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let service =
        HealthService::open(store, clock, Pseudonymiser::new(b"k".to_vec()), RuleSet::reference()).await.unwrap();
    let person = PersonId::parse("p1").unwrap();
    service.residents().register_pseudonymous(person.clone(), PersonKind::Domestic, None).await.unwrap();
    service.codes().refresh_persons(std::slice::from_ref(&person)).await.unwrap();
    let new = NewVenue { name: "西湖文化广场".into(), category: VenueCategory::Museum, area: None };
    let venue = service.venues().register(new).await.unwrap().venue;
    let code = service.tokens().issue_venue_token(&venue).unwrap();
    assert!(code.window_start >= now, "the window starts when the key does: {code:?}");
    let checked = service.doors().check_in_together(&[person], &code.token).await;
    assert!(checked.is_ok(), "the venue's own code is accepted: {checked:?}");
}
