// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_domain::Timestamp;
use healthcode_vault::research::{BudgetError, PrivacyBudget};

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

#[test]
fn spends_add_up_and_exhaustion_is_refused_without_spending() {
    let mut budget = PrivacyBudget::new("cases 2020-02", 1.0).unwrap();
    let receipt = budget.spend("county by day", 0.6, at(1)).unwrap();
    assert_eq!(receipt.remaining, budget.remaining());
    assert!((budget.remaining() - 0.4).abs() < 1e-12);

    let before = budget.clone();
    let err = budget.spend("city by day", 0.5, at(2)).unwrap_err();
    assert!(matches!(err, BudgetError::Exhausted { remaining } if (remaining - 0.4).abs() < 1e-12));
    assert!(err.to_string().contains("nothing was spent"));
    assert_eq!(budget, before);
    assert_eq!(budget.entries().len(), 1);

    budget.spend("city by week", 0.4, at(3)).unwrap();
    assert_eq!(budget.remaining(), 0.0);
    assert!(budget.spend("anything", 1e-6, at(4)).is_err());
    let labels: Vec<&str> = budget.entries().iter().map(|e| e.query()).collect();
    assert_eq!(labels, ["county by day", "city by week"]);
    assert_eq!(budget.entries()[1].at(), at(3));
}

#[test]
fn decimal_steps_reach_the_total_exactly() {
    let mut budget = PrivacyBudget::new("d", 1.0).unwrap();
    for i in 0..10 {
        budget.spend("tenth", 0.1, at(i)).unwrap();
    }
    assert!(budget.spend("one more", 0.1, at(10)).is_err());
}

#[test]
fn invalid_epsilon_is_refused() {
    assert!(PrivacyBudget::new("d", 0.0).is_err());
    let mut budget = PrivacyBudget::new("d", 1.0).unwrap();
    for bad in [0.0, -0.5, f64::NAN] {
        assert!(matches!(budget.spend("q", bad, at(0)), Err(BudgetError::InvalidEpsilon(_))));
    }
    assert!(budget.entries().is_empty());
}

#[test]
fn ledger_round_trips_and_a_refund_by_editing_is_refused() {
    let mut budget = PrivacyBudget::new("cases 2020-02", 2.0).unwrap();
    budget.spend("county by day", 0.5, at(1_580_000_000_000)).unwrap();
    let json = serde_json::to_string(&budget).unwrap();
    let back: PrivacyBudget = serde_json::from_str(&json).unwrap();
    assert_eq!(back, budget);

    let edited = json.replace("0.5", "-0.5");
    assert!(serde_json::from_str::<PrivacyBudget>(&edited).is_err());
}
