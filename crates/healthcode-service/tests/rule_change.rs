//! A new rule set re-evaluates the codes it can affect: in process, and after a restart.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{Colour, PersonId, PersonKind, Timestamp};
use healthcode_rules::{RuleSet, REFERENCE_RULES_TOML};
use healthcode_service::{AtPolicy, HealthService, ManualClock, Pseudonymiser, ServiceKeys};
use healthcode_store::CodeStore;
use healthcode_store_sqlite::SqliteStore;

fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// The reference rules with a 7-day window instead of 14.
fn seven_day_rules() -> RuleSet {
    RuleSet::parse(
        &REFERENCE_RULES_TOML
            .replace("window_hours = 336", "window_hours = 168")
            .replace("version = \"2026.1\"", "version = \"2020.1-7d\""),
    )
    .unwrap()
}

/// The service over the store, with the same log key at every start (the stored log's
/// checkpoints must verify with it, or the service refuses to start).
async fn open(store: Arc<SqliteStore>, clock: &ManualClock, rules: RuleSet) -> HealthService {
    let keys = ServiceKeys {
        log: healthcode_log::NoteSigner::from_seed(healthcode_service::DEFAULT_LOG_ORIGIN, [7; 32]).unwrap(),
        ..ServiceKeys::ephemeral(0)
    };
    HealthService::open_with(store, Arc::new(clock.clone()), Pseudonymiser::new(b"k".to_vec()), rules, keys)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_rule_set_change_reevaluates_codes_in_process_and_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("healthcode.sqlite3");
    let clock = ManualClock::new(t("2020-06-01T08:00:00+08:00"));
    let person = PersonId::parse("p1").unwrap();
    let entry =
        r#"{"id":"e1","person_id":"p1","type":"entry","country":"GB","entered_at":"2020-06-01T08:00:00+08:00"}"#;

    {
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        let service = open(store.clone(), &clock, RuleSet::reference()).await;
        service.residents().register_pseudonymous(person.clone(), PersonKind::Domestic, None).await.unwrap();
        service.evidence().ingest(&[entry.to_string()], AtPolicy::Supplied, "test").await.unwrap();
        clock.set(t("2020-06-10T08:00:00+08:00"));
        service.codes().run_due().await.unwrap();
        assert_eq!(store.code(&person).await.unwrap().unwrap().colour, Colour::Red, "day 9 of 14");

        let report = service.codes().replace_rules(seven_day_rules()).await.unwrap();
        assert_eq!(report.evaluated, 1);
        let code = store.code(&person).await.unwrap().unwrap();
        assert_eq!((code.colour, code.rules_version.as_str()), (Colour::Green, "2020.1-7d"), "day 9 of 7");
    }

    // Restarted under the reference rules again: the stored code names the other
    // version, so it is due at once.
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let service = open(store.clone(), &clock, RuleSet::reference()).await;
    assert_eq!(store.queue_len().await.unwrap(), 1);
    service.codes().run_due().await.unwrap();
    let code = store.code(&person).await.unwrap().unwrap();
    assert_eq!((code.colour, code.rules_version.as_str()), (Colour::Red, "2026.1"));
}
