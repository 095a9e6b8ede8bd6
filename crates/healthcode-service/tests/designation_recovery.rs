//! A designation recorded but not applied (the process died in between) is applied when
//! the service starts again.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{AreaCode, AreaRisk, Colour, EventId, PersonId, PersonKind, RiskLevel, Timestamp};
use healthcode_rules::RuleSet;
use healthcode_service::{AtPolicy, HealthService, ManualClock, Pseudonymiser};
use healthcode_store::prelude::*;
use healthcode_store::NewDesignation;
use healthcode_store_sqlite::SqliteStore;

fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

#[tokio::test]
async fn an_interrupted_designation_is_applied_at_start() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let clock = ManualClock::new(t("2020-06-01T08:00:00+08:00"));
    let open = || async {
        HealthService::open(
            store.clone(),
            Arc::new(clock.clone()),
            Pseudonymiser::new(b"k".to_vec()),
            RuleSet::reference(),
        )
        .await
        .unwrap()
    };
    let person = PersonId::parse("p1").unwrap();
    {
        let service = open().await;
        service.residents().register_pseudonymous(person.clone(), PersonKind::Domestic, None).await.unwrap();
        let stay = r#"{"id":"s1","person_id":"p1","type":"stay","area":"330106","from":"2020-05-30T08:00:00+08:00","to":"2020-05-31T08:00:00+08:00"}"#;
        service.evidence().ingest(&[stay.to_string()], AtPolicy::Supplied, "test").await.unwrap();
    }
    // Recorded, then the process died before re-evaluating anyone.
    clock.set(t("2020-06-02T08:00:00+08:00"));
    store
        .insert_designations(&[NewDesignation {
            id: EventId::parse("d1").unwrap(),
            at: t("2020-06-02T08:00:00+08:00"),
            risk: AreaRisk { area: AreaCode::parse("330100").unwrap(), level: RiskLevel::High, escalate_to_red: false },
            hub_line: None,
        }])
        .await
        .unwrap();
    assert_eq!(store.code(&person).await.unwrap().unwrap().colour, Colour::Green);

    let service = open().await;
    assert!(store.unapplied_designations().await.unwrap().is_empty(), "queued at start and marked applied");
    service.codes().run_due().await.unwrap();
    let code = store.code(&person).await.unwrap().unwrap();
    assert_eq!((code.colour, code.reasons), (Colour::Yellow, vec!["Y2".to_string()]));
}
