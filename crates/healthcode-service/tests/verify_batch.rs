//! Online verification in batches gives the answers one-by-one verification gives, for
//! every request of a batch, a forged or expired one among them included.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{PersonId, PersonKind, Timestamp};
use healthcode_rules::RuleSet;
use healthcode_service::{HealthService, ManualClock, Pseudonymiser};
use healthcode_store_sqlite::SqliteStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_verification_answers_as_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("healthcode.sqlite3")).unwrap());
    let clock = ManualClock::new(Timestamp::parse("2020-06-01T08:00:00+08:00").unwrap());
    let service = Arc::new(
        HealthService::open(store, Arc::new(clock.clone()), Pseudonymiser::new(b"k".to_vec()), RuleSet::reference())
            .await
            .unwrap(),
    );
    let mut tokens = Vec::new();
    for i in 0..40 {
        let person = PersonId::parse(&format!("p{i}")).unwrap();
        service.residents().register_pseudonymous(person.clone(), PersonKind::Domestic, None).await.unwrap();
        tokens.push(service.tokens().issue_code_token(&person).await.unwrap().token);
    }
    // A token whose signature no longer matches (one character of its text changed keeps
    // base45 valid only sometimes; any refusal must match the one-by-one refusal).
    let mut forged = tokens[7].clone().into_bytes();
    let last = forged.len() - 3;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    tokens.push(String::from_utf8(forged).unwrap());
    tokens.push("HC1:NOT-A-CODE".to_string());
    // Each request of the batch, concurrently, in rounds, with the clock moving on past
    // the tokens' expiry in the last round.
    for round in 0..3 {
        if round == 2 {
            clock.set(Timestamp::parse("2020-06-01T09:00:00+08:00").unwrap());
        }
        let batched = futures_join(service.clone(), tokens.clone()).await;
        for (token, answer) in tokens.iter().zip(batched) {
            let alone = service.tokens().verify_code_token(token);
            assert_eq!(format!("{answer:?}"), format!("{alone:?}"), "round {round}, {token}");
        }
    }
}

async fn futures_join(
    service: Arc<HealthService>,
    tokens: Vec<String>,
) -> Vec<Result<healthcode_service::VerifiedCode, healthcode_token::VerifyError>> {
    let handles: Vec<_> = tokens
        .into_iter()
        .map(|t| {
            let service = service.clone();
            tokio::spawn(async move { service.tokens().verify_code_token_batched(&t).await })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
