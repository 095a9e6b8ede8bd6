//! The research export: counts by area and day with differential privacy, no released
//! cell below the threshold, never a person id, and a budget that runs out.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{AreaCode, PersonId, PersonKind, Timestamp};
use healthcode_rules::RuleSet;
use healthcode_service::{AtPolicy, HealthService, ManualClock, Pseudonymiser, ResearchRequest, ServiceError};
use healthcode_store::ResearchMetric;
use healthcode_store_sqlite::SqliteStore;

fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

#[tokio::test]
async fn no_cell_below_the_threshold_is_released_and_the_budget_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
    let clock = ManualClock::new(t("2020-06-03T08:00:00+08:00"));
    let service =
        HealthService::open(store, Arc::new(clock.clone()), Pseudonymiser::new(b"k".to_vec()), RuleSet::reference())
            .await
            .unwrap();
    // A big district tested every day, a village of three tested once: its cell is small.
    let mut rows = Vec::new();
    let mut persons = Vec::new();
    for (area, n) in [("330106", 300), ("330127", 3)] {
        for i in 0..n {
            let person = format!("p{area}x{i}");
            service
                .residents()
                .register_pseudonymous(
                    PersonId::parse(&person).unwrap(),
                    PersonKind::Domestic,
                    Some(AreaCode::parse(area).unwrap()),
                )
                .await
                .unwrap();
            for day in 1..=2 {
                rows.push(format!(
                    r#"{{"id":"t-{person}-{day}","person_id":"{person}","type":"test","result":"negative","sampled_at":"2020-06-0{day}T07:00:00+08:00","at":"2020-06-0{day}T09:00:00+08:00"}}"#
                ));
            }
            persons.push(person);
        }
    }
    let report = service.evidence().ingest(&rows, AtPolicy::Supplied, "test").await.unwrap();
    assert_eq!(report.rejected, 0, "{:?}", report.rows.first());

    let request = ResearchRequest {
        metric: ResearchMetric::TestedByDay,
        from: t("2020-06-01T00:00:00+08:00"),
        to: t("2020-06-03T00:00:00+08:00"),
        epsilon: 0.5,
        k: 10,
        total_epsilon: 2.0,
    };
    for _ in 0..4 {
        let export = service.research().export(&request).await.unwrap();
        assert_eq!(export.sensitivity, 2, "two days: one person counts in two cells");
        assert_eq!(export.mechanism, healthcode_vault::research::MECHANISM);
        for cell in &export.cells {
            assert!(cell.count >= 10, "a released cell is never below k: {cell:?}");
            assert!(!persons.iter().any(|p| cell.area.contains(p) || cell.key.contains(p)), "no person id: {cell:?}");
        }
        let district: Vec<_> = export.cells.iter().filter(|c| c.area == "330106").collect();
        assert_eq!(district.len(), 2, "both days of the district: {export:?}");
        assert!(district.iter().all(|c| c.count.abs_diff(300) < 100), "noise of scale 4 around 300: {district:?}");
        // The village's cells are withheld unless noise lifts them to 10 or more, which
        // the threshold allows (it is decided on noisy counts); either way never below k.
        assert_eq!(export.cells.len() + export.suppressed, 4, "the whole grid: two areas × two days");
    }
    // 4 × 0.5 = 2.0 spent: the next release is refused, and nothing is spent.
    let refused = service.research().export(&request).await.unwrap_err();
    assert!(matches!(refused, ServiceError::Conflict(ref m) if m.contains("budget exhausted")), "{refused}");

    // Current codes by colour: the same threshold.
    let by_colour = ResearchRequest { metric: ResearchMetric::CodesByColour, epsilon: 0.1, ..request };
    let refused = service.research().export(&by_colour).await.unwrap_err();
    assert!(matches!(refused, ServiceError::Conflict(_)), "the budget is shared by every release");
}
