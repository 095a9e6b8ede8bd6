//! The retention policy: check-ins (and contact lists) older than 28 days go; newer stay.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{AccessOutcome, Colour, PersonId, PersonKind, Timestamp, VenueCategory};
use healthcode_rules::RuleSet;
use healthcode_service::{HealthService, ManualClock, Pseudonymiser, CHECKIN_RETENTION_DAYS};
use healthcode_store::prelude::*;
use healthcode_store::{CheckinMethod, NewCheckin, VenueRecord};
use healthcode_store_sqlite::SqliteStore;

#[tokio::test]
async fn check_ins_older_than_the_retention_period_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
    let now = Timestamp::parse("2020-06-29T08:00:00+08:00").unwrap();
    let service = HealthService::open(
        store.clone(),
        Arc::new(ManualClock::new(now)),
        Pseudonymiser::new(b"k".to_vec()),
        RuleSet::reference(),
    )
    .await
    .unwrap();
    let person = PersonId::parse("p1").unwrap();
    service.residents().register_pseudonymous(person.clone(), PersonKind::Domestic, None).await.unwrap();
    let venue = VenueRecord {
        id: "v1".into(),
        name: "market".into(),
        category: VenueCategory::General,
        area: None,
        registered_at: Timestamp::from_millis(0),
        operator_key_hash: "h".into(),
    };
    store.register_venue(&venue).await.unwrap();
    let day = 86_400_000;
    let checkin = |days_ago: i64| NewCheckin {
        person: person.clone(),
        venue: "v1".into(),
        at: Timestamp::from_millis(now.as_millis() - days_ago * day),
        method: CheckinMethod::Scan,
        device: None,
        colour: Colour::Green,
        outcome: AccessOutcome::Allow,
    };
    store
        .record_checkins(&[checkin(CHECKIN_RETENTION_DAYS + 2), checkin(CHECKIN_RETENTION_DAYS - 1), checkin(1)])
        .await
        .unwrap();
    store.put_document("trace", "old", Timestamp::from_millis(now.as_millis() - 40 * day), "{}").await.unwrap();
    store.put_document("trace", "recent", Timestamp::from_millis(now.as_millis() - day), "{}").await.unwrap();

    assert_eq!(service.residents().apply_retention().await.unwrap(), 2, "one check-in and one contact list");
    let kept = store.checkins_of_person(&person, Timestamp::from_millis(0), now, 10).await.unwrap();
    assert_eq!(kept.len(), 2);
    assert!(store.document("trace", "old").await.unwrap().is_none());
    assert!(store.document("trace", "recent").await.unwrap().is_some());
    assert_eq!(service.residents().apply_retention().await.unwrap(), 0, "at most once an hour");
}
