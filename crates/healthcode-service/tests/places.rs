//! What a designation would cover, counted before it is proposed.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{AreaCode, PersonId, PersonKind, Timestamp};
use healthcode_rules::RuleSet;
use healthcode_service::{HealthService, ManualClock, Pseudonymiser};
use healthcode_store_sqlite::SqliteStore;

fn area(code: &str) -> AreaCode {
    AreaCode::parse(code).unwrap()
}

#[tokio::test]
async fn a_designation_shows_how_many_residents_it_covers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
    let now = Timestamp::parse("2020-06-01T08:00:00+08:00").unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let service =
        HealthService::open(store, clock, Pseudonymiser::new(b"k".to_vec()), RuleSet::reference()).await.unwrap();
    let homes = [("p1", Some("330106002")), ("p2", Some("330106002051")), ("p3", Some("330102001")), ("p4", None)];
    for (id, home) in homes {
        let person = PersonId::parse(id).unwrap();
        service.residents().register_pseudonymous(person.clone(), PersonKind::Domestic, home.map(area)).await.unwrap();
        service.codes().refresh_persons(&[person]).await.unwrap();
    }
    let overview = service.overview();
    assert_eq!(overview.residents_within(&area("330106002")).await.unwrap(), 2, "the street and a village in it");
    assert_eq!(overview.residents_within(&area("330106")).await.unwrap(), 2);
    assert_eq!(overview.residents_within(&area("330100")).await.unwrap(), 3, "the city");
    assert_eq!(overview.residents_within(&area("330200")).await.unwrap(), 0);
}
