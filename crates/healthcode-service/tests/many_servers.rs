//! Two servers over one store, each with its own memory (two `HealthService`s over one
//! `Arc<SqliteStore>`, as two processes over one PostgreSQL): what one changes, the other
//! follows; the queue is shared without double work; one of them at a time runs the
//! province's scheduled jobs. `crates/healthcode/tests/many_servers.rs` does the same
//! with real processes over PostgreSQL.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use healthcode_domain::{Colour, PersonId, PersonKind, Timestamp};
use healthcode_rules::{RuleSet, REFERENCE_RULES_TOML};
use healthcode_service::{AtPolicy, Clock, HealthService, ManualClock, Pseudonymiser, ServiceKeys};
use healthcode_store::prelude::*;
use healthcode_store_sqlite::SqliteStore;

fn t(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

/// A server: the service over the shared store, with the keys every server of the
/// province shares.
async fn server(store: &Arc<SqliteStore>, clock: &ManualClock) -> HealthService {
    let keys = ServiceKeys {
        log: healthcode_log::NoteSigner::from_seed(healthcode_service::DEFAULT_LOG_ORIGIN, [7; 32]).unwrap(),
        ..ServiceKeys::ephemeral(0)
    };
    HealthService::open_with(
        store.clone(),
        Arc::new(clock.clone()),
        Pseudonymiser::new(b"k".to_vec()),
        RuleSet::reference(),
        keys,
    )
    .await
    .unwrap()
}

/// Two servers over one store, at a time of the simulated clock.
struct Province {
    store: Arc<SqliteStore>,
    clock: ManualClock,
    a: HealthService,
    b: HealthService,
}

impl Province {
    async fn at(time: &str) -> Province {
        let store = Arc::new(SqliteStore::open_in_memory().unwrap());
        let clock = ManualClock::new(t(time));
        let (a, b) = (server(&store, &clock).await, server(&store, &clock).await);
        Province { store, clock, a, b }
    }
}

fn stay(id: &str, person: &str, area: &str) -> String {
    format!(
        r#"{{"id":"{id}","person_id":"{person}","type":"stay","area":"{area}","from":"2020-05-30T08:00:00+08:00","to":"2020-05-31T08:00:00+08:00"}}"#
    )
}

fn designation(id: &str, area: &str) -> String {
    format!(r#"{{"id":"{id}","type":"area_risk","area":"{area}","level":"high","at":"2020-06-02T08:00:00+08:00"}}"#)
}

async fn register(service: &HealthService, persons: &[&str]) {
    for p in persons {
        let person = PersonId::parse(p).unwrap();
        service.residents().register_pseudonymous(person, PersonKind::Domestic, None).await.unwrap();
    }
}

#[tokio::test]
async fn a_designation_recorded_on_one_server_is_in_force_on_the_other() {
    let Province { store, a, b, .. } = Province::at("2020-06-02T09:00:00+08:00").await;
    register(&a, &["p1", "p2"]).await;
    a.evidence().ingest(&[designation("d1", "330106")], AtPolicy::Supplied, "test").await.unwrap();
    assert!(b.codes().designations().is_empty(), "not yet read on the other server");

    // Before it follows, a stay in the area ingested on the other server is still
    // evaluated with the designation: the evaluation looks for new designations first.
    b.evidence().ingest(&[stay("s1", "p1", "330106")], AtPolicy::Supplied, "test").await.unwrap();
    let p1 = store.code(&PersonId::parse("p1").unwrap()).await.unwrap().unwrap();
    assert_eq!((p1.colour, p1.reasons), (Colour::Yellow, vec!["Y2".to_string()]), "evaluated on b, with d1");
    assert_eq!(b.codes().designations().len(), 1, "b follows the designation it evaluated with");

    // And the follower's round brings one in without any evaluation.
    a.evidence().ingest(&[designation("d2", "330102")], AtPolicy::Supplied, "test").await.unwrap();
    b.follow().await.unwrap();
    let areas: Vec<String> = b.codes().designations().iter().map(|d| d.body.area.to_string()).collect();
    assert_eq!(areas, ["330106", "330102"], "both, each once");
}

#[tokio::test]
async fn a_rule_set_activated_on_one_server_is_in_force_on_the_other() {
    let Province { store, clock, a, b } = Province::at("2020-06-01T08:00:00+08:00").await;
    let accounts = officers(&a).await;
    register(&a, &["p1"]).await;
    let entry =
        r#"{"id":"e1","person_id":"p1","type":"entry","country":"GB","entered_at":"2020-06-01T08:00:00+08:00"}"#;
    a.evidence().ingest(&[entry.to_string()], AtPolicy::Supplied, "test").await.unwrap();

    let source = REFERENCE_RULES_TOML
        .replace("window_hours = 336", "window_hours = 168")
        .replace("version = \"2026.1\"", "version = \"2020.1-7d\"");
    let governance = a.governance();
    let scenario = serde_json::json!({"name": "nothing", "events": [],
        "expect": [{"at": "2020-06-01T08:00:00+08:00", "color": "green"}]});
    let proposal = governance.propose_rules(&accounts[0], &source, clock.now(), &[scenario]).await.unwrap();
    governance.approve_rules(&accounts[1], &proposal.id).await.unwrap();
    b.governance().approve_rules(&accounts[2], &proposal.id).await.unwrap();
    // Approved on b, activated there (its time has come) and the codes re-evaluated.
    assert_eq!(b.codes().rules().version(), "2020.1-7d");
    assert_eq!(a.codes().rules().version(), "2026.1", "a has not looked yet");
    a.follow().await.unwrap();
    assert_eq!(a.codes().rules().version(), "2020.1-7d", "a follows");

    // An evaluation that was under way on a with the old rules saves after a followed:
    // a minute later, a queues it again.
    let p1 = PersonId::parse("p1").unwrap();
    let stored = store.code(&p1).await.unwrap().unwrap();
    let straggler = healthcode_store::CodeState {
        rules_version: "2026.1".into(),
        revision: stored.revision + 1,
        next_change: None,
        ..stored.clone()
    };
    store.save_codes(&[straggler], &Default::default()).await.unwrap();
    a.follow().await.unwrap();
    assert!(store.due_persons(clock.now(), 10).await.unwrap().is_empty(), "not at once");
    clock.set(t("2020-06-01T08:01:01+08:00"));
    a.follow().await.unwrap();
    assert_eq!(store.due_persons(clock.now(), 10).await.unwrap(), [p1], "queued again");

    // a evaluates under them from now on.
    clock.set(t("2020-06-10T08:00:00+08:00"));
    a.codes().run_due().await.unwrap();
    let code = store.code(&PersonId::parse("p1").unwrap()).await.unwrap().unwrap();
    assert_eq!((code.colour, code.rules_version.as_str()), (Colour::Green, "2020.1-7d"), "day 9 of 7");
}

/// Three provincial officers: one proposes, two approve.
async fn officers(service: &HealthService) -> Vec<healthcode_store::Account> {
    let mut accounts = Vec::new();
    for name in ["officer.a", "officer.b", "officer.c"] {
        let account = healthcode_service::NewAccount {
            username: name.into(),
            role: healthcode_domain::Role::ProvincialOffice,
            jurisdiction: Some(healthcode_domain::AreaCode::parse("330000").unwrap()),
            department: None,
            password: None,
        };
        accounts.push(service.accounts().create(account).await.unwrap());
    }
    accounts
}

#[tokio::test]
async fn two_servers_draining_the_queue_evaluate_each_person_once() {
    let Province { store, clock, a, b } = Province::at("2020-06-02T09:00:00+08:00").await;
    // Pages of 10,000, so that 30,000 persons make three to share.
    a.codes().set_claim_page(10_000);
    b.codes().set_claim_page(10_000);
    let persons: Vec<String> = (0..30_000).map(|i| format!("p{i:05}")).collect();
    let ids: Vec<PersonId> = persons.iter().map(|p| PersonId::parse(p).unwrap()).collect();
    store
        .register_persons(
            &ids.iter()
                .map(|id| healthcode_store::PersonRecord {
                    id: id.clone(),
                    kind: PersonKind::Domestic,
                    registered_at: clock.now(),
                    residence_area: None,
                })
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    let stays: Vec<String> = persons.iter().map(|p| stay(&format!("s-{p}"), p, "330106")).collect();
    a.evidence().ingest(&stays, AtPolicy::Supplied, "test").await.unwrap();
    // Recorded straight into the store, as by a server that died before queueing anyone;
    // queued by a's recovery; then both servers drain the queue at once.
    let d = healthcode_store::NewDesignation {
        id: healthcode_domain::EventId::parse("d1").unwrap(),
        at: t("2020-06-02T08:00:00+08:00"),
        risk: healthcode_domain::AreaRisk {
            area: healthcode_domain::AreaCode::parse("330106").unwrap(),
            level: healthcode_domain::RiskLevel::High,
            escalate_to_red: false,
        },
        hub_line: None,
    };
    store.insert_designations(&[d]).await.unwrap();
    assert_eq!(a.codes().queue_unapplied_designations(std::time::Duration::ZERO).await.unwrap(), 1);
    let (ra, rb) = tokio::join!(a.codes().run_due(), b.codes().run_due());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.evaluated + rb.evaluated, 30_000, "each person evaluated once between them: {ra:?} {rb:?}");
    assert!(ra.evaluated > 0 && rb.evaluated > 0, "both took a share: {ra:?} {rb:?}");
    let codes = store.codes(&ids).await.unwrap();
    assert!(codes.iter().all(|c| c.colour == Colour::Yellow && c.revision == 2), "each saved once, with d1");
    assert_eq!(store.queue_len().await.unwrap(), 30_000, "each queued for when the stay leaves the window");
    assert!(store.due_persons(clock.now(), 1).await.unwrap().is_empty());
}

#[tokio::test]
async fn one_server_at_a_time_runs_the_scheduled_jobs_and_another_takes_over() {
    let Province { clock, a, b, .. } = Province::at("2020-06-02T09:00:00+08:00").await;
    assert!(a.follow().await.unwrap(), "the first to ask leads");
    assert!(!b.follow().await.unwrap(), "the other does not");
    assert!(a.coordination().leads() && !b.coordination().leads());
    clock.set(t("2020-06-02T09:00:10+08:00"));
    assert!(a.follow().await.unwrap(), "renewed");
    clock.set(t("2020-06-02T09:00:20+08:00"));
    assert!(!b.follow().await.unwrap(), "the renewal holds");
    // a stops renewing (it died): once its lease ends, b takes it.
    clock.set(t("2020-06-02T09:00:26+08:00"));
    assert!(!a.coordination().leads(), "a's own view ends with its lease");
    assert!(b.follow().await.unwrap(), "b takes over");
    let lease = b.coordination().leader().await.unwrap().unwrap();
    assert_eq!(lease.holder, b.coordination().holder());
    assert!(!a.follow().await.unwrap(), "a, back, finds it taken");
    // A server stopping hands it on at once.
    b.coordination().step_down().await.unwrap();
    assert!(a.follow().await.unwrap());
}

#[tokio::test]
async fn an_account_acting_on_two_servers_at_once_is_logged_once() {
    let Province { a, b, .. } = Province::at("2020-06-02T09:00:00+08:00").await;
    let accounts = officers(&a).await;
    let key = a.accounts().issue_api_key(&accounts[0].username, "test").await.unwrap();
    let (on_a, on_b) = tokio::join!(a.accounts().authenticate(&key), b.accounts().authenticate(&key));
    assert_eq!(on_a.unwrap().username, on_b.unwrap().username);
    let entries = a.log().entries(0, 100).await.unwrap();
    let in_use = entries.iter().filter(|(_, data)| String::from_utf8_lossy(data).contains("account_in_use")).count();
    assert_eq!(in_use, 1, "the account's first action is in the log once");

    // A key minted at night for the same officer is in the log at its first use, by its
    // label: an operator cannot act as a real officer unseen.
    let minted = a.accounts().issue_api_key(&accounts[0].username, "minted at night").await.unwrap();
    let (on_a, on_b) = tokio::join!(a.accounts().authenticate(&minted), b.accounts().authenticate(&minted));
    assert_eq!(on_a.unwrap().username, on_b.unwrap().username);
    a.accounts().authenticate(&key).await.unwrap();
    let entries = a.log().entries(0, 100).await.unwrap();
    let in_use: Vec<String> = entries
        .iter()
        .map(|(_, data)| String::from_utf8_lossy(data).into_owned())
        .filter(|e| e.contains("account_in_use"))
        .collect();
    assert_eq!(in_use.len(), 2, "{in_use:?}");
    assert!(in_use[1].contains("minted at night"), "{in_use:?}");
}

/// A server starting while another appends and signs: its start-up check (is the stored
/// log what its latest checkpoint signed?) must not take the other's growth for deleted
/// entries. It read the tree before the checkpoint, and a checkpoint signed in between
/// made an intact log look cut short: the server refused to start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_starts_while_another_appends_and_signs() {
    let Province { store, clock, a, .. } = Province::at("2020-06-02T09:00:00+08:00").await;
    let busy = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let writer = {
        let busy = busy.clone();
        tokio::spawn(async move {
            let mut appended = 0;
            while busy.load(std::sync::atomic::Ordering::Relaxed) {
                a.alarms().raise("test_growth", "3301", format!("entry {appended}")).await.unwrap();
                a.log().sign_checkpoint().await.unwrap();
                appended += 1;
            }
            appended
        })
    };
    for _ in 0..100 {
        let keys = ServiceKeys {
            log: healthcode_log::NoteSigner::from_seed(healthcode_service::DEFAULT_LOG_ORIGIN, [7; 32]).unwrap(),
            ..ServiceKeys::ephemeral(0)
        };
        let opened = HealthService::open_with(
            store.clone(),
            Arc::new(clock.clone()),
            Pseudonymiser::new(b"k".to_vec()),
            RuleSet::reference(),
            keys,
        )
        .await;
        assert!(opened.is_ok(), "{:?}", opened.err());
    }
    busy.store(false, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.await.unwrap() > 0, "the other server kept appending meanwhile");
}

/// A code is signed from a card kept in memory (issue 16: no store read per display), and
/// the card never outlives the colour: a save on the same server drops it at once, and a
/// colour changed on another server drops every card at the follower's next tick, before
/// which the other server's code is at most one tick old.
#[tokio::test]
async fn a_kept_code_card_follows_colour_changes_here_at_once_and_elsewhere_within_a_tick() {
    let Province { a, b, .. } = Province::at("2020-06-02T09:00:00+08:00").await;
    register(&a, &["p1", "p2"]).await;
    let p1 = PersonId::parse("p1").unwrap();
    let p2 = PersonId::parse("p2").unwrap();
    for server in [&a, &b] {
        server.follow().await.unwrap();
        for p in [&p1, &p2] {
            assert_eq!(server.tokens().issue_code_token(p).await.unwrap().colour, Colour::Green);
        }
    }
    // A positive test recorded on a: its next code is red at once.
    let positive =
        r#"{"id":"t1","person_id":"p1","type":"test","result":"positive","sampled_at":"2020-06-02T08:00:00+08:00"}"#;
    a.evidence().ingest(&[positive.to_string()], AtPolicy::Supplied, "test").await.unwrap();
    assert_eq!(a.tokens().issue_code_token(&p1).await.unwrap().colour, Colour::Red, "the server that saved it");
    assert_eq!(a.tokens().issue_code_token(&p2).await.unwrap().colour, Colour::Green);
    // b kept p1's green card and signs from it until its follower's next tick (the bound
    // the cache keeps, as the resident key cache does); the tick sees the log grew by a's
    // change and drops every card.
    assert_eq!(b.tokens().issue_code_token(&p1).await.unwrap().colour, Colour::Green, "within the tick");
    b.follow().await.unwrap();
    assert_eq!(b.tokens().issue_code_token(&p1).await.unwrap().colour, Colour::Red, "the other, one tick later");
    // With the cache off, every code is read from the store.
    b.tokens().set_code_card_cache_size(0);
    let retraction = r#"{"id":"r1","person_id":"p1","type":"retraction","retracts":"t1","reason":"sample mislabelled: another person's"}"#;
    a.evidence().ingest(&[retraction.to_string()], AtPolicy::Supplied, "test").await.unwrap();
    assert_eq!(b.tokens().issue_code_token(&p1).await.unwrap().colour, Colour::Green, "no card, no tick needed");
    assert_eq!(b.tokens().issue_code_token(&p2).await.unwrap().colour, Colour::Green);
}
