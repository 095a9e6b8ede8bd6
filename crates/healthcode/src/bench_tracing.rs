//! `healthcode bench tracing`: contact tracing over a store of millions of check-ins
//! (issue 7: one case with 14 days of check-ins over 10 million, p99 ≤ 50 ms). Loads a
//! synthetic month of check-ins (random persons at random venues), then traces random
//! cases over 14 days and reports the latency distribution of `trace_contacts`, end to
//! end through the service (the case's check-ins, each visit's venue window, the access
//! log rows written for everyone listed).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use healthcode_domain::{Duration, PersonId, Role, Timestamp};
use healthcode_service::{HealthService, ManualClock, NewAccount, Pseudonymiser};
use healthcode_store::Store;
use healthcode_synth::load;
use rand::{Rng, SeedableRng};

pub struct TracingArgs {
    pub checkins: u64,
    pub persons: u64,
    pub venues: u64,
    pub cases: usize,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

/// The synthetic region's persons (`healthcode_synth`), so that check-ins can be laid
/// over a region `healthcode generate` or `bench refresh` loaded.
fn person(i: u64) -> PersonId {
    healthcode_synth::person_id(i)
}

/// Venues and a month of check-ins (`healthcode_synth::load::checkins`), with progress.
pub(crate) async fn load_checkins(store: &dyn Store, persons: u64, venues: u64, checkins: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let progress = |loaded: u64, per_second: f64| println!("  {loaded} check-ins loaded ({per_second:.0}/s)");
    match load::checkins(store, persons, venues, checkins, progress).await? {
        load::CheckinsLoaded::AlreadyThere => println!("check-ins already loaded (venue v0 exists)"),
        load::CheckinsLoaded::Loaded => {
            println!("loaded {venues} venues and {checkins} check-ins in {:.1} s", started.elapsed().as_secs_f64())
        }
    }
    Ok(())
}

pub async fn run(args: TracingArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = args.data_dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let store = crate::serve::open_store(&dir, args.database_url.as_deref()).await?;
    healthcode_synth::load::claim_synthetic(store.as_ref()).await?;
    println!("backend: {}", if args.database_url.is_some() { "PostgreSQL" } else { "SQLite" });
    let (_, end) = load::check_in_month();
    load_checkins(store.as_ref(), args.persons, args.venues, args.checkins).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let service = HealthService::open(
        store.clone(),
        Arc::new(ManualClock::new(end)),
        Pseudonymiser::new(b"bench".to_vec()),
        healthcode_rules::RuleSet::reference(),
    )
    .await?;
    let officer = format!("bench-officer-{}", std::process::id());
    let account = service
        .accounts()
        .create(NewAccount {
            username: officer,
            password: None,
            role: Role::LocalOffice,
            jurisdiction: None,
            department: None,
        })
        .await?;
    let from = Timestamp::from_millis(end.as_millis() - Duration::days(14).as_millis());
    let mut took = Vec::with_capacity(args.cases);
    let mut listed = 0usize;
    for _ in 0..args.cases {
        let case = person(rng.gen_range(0..args.persons));
        let started = Instant::now();
        let trace = service.governance().trace_contacts(&account, case, from, end, 30).await?;
        took.push(started.elapsed().as_secs_f64() * 1000.0);
        listed += trace.contacts.len();
    }
    took.sort_by(f64::total_cmp);
    let at = |q: f64| took[((took.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "traced {} random cases over 14 days (window 30 min): p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.1} contacts listed on average",
        took.len(),
        at(0.5),
        at(0.95),
        at(0.99),
        took[took.len() - 1],
        listed as f64 / took.len() as f64
    );
    drop(temp);
    Ok(())
}
