//! `healthcode generate`: a synthetic region at scale, loaded into a store for the
//! benchmarks and for trying the system on a province's numbers: residents with their
//! areas, tests, stays, contacts and an outbreak (`healthcode_synth`), then venues and a
//! month of check-ins over the same residents. Progress is printed as it goes; a store
//! that already holds the region is left as it is, so the benches reuse it
//! (`bench refresh --data-dir`, `bench tracing --data-dir`).

use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use healthcode_store::Store;
use healthcode_synth::RegionConfig;

#[derive(Args)]
pub struct GenerateArgs {
    /// Residents.
    #[arg(long, default_value_t = 10_000_000)]
    persons: u64,
    /// Venues.
    #[arg(long, default_value_t = 200_000)]
    venues: u64,
    /// Check-ins over the month before 2020-06-29 (about ten a resident by default).
    #[arg(long)]
    checkins: Option<u64>,
    #[command(flatten)]
    store: crate::serve::StoreLocation,
}

pub async fn run(args: GenerateArgs) -> anyhow::Result<i32> {
    let store: Arc<dyn Store> = args.store.open().await?;
    healthcode_synth::load::claim_synthetic(store.as_ref()).await?;
    let started = Instant::now();
    if healthcode_synth::load::holds(store.as_ref(), args.persons).await? {
        println!("the store already holds {} persons; not loading the region again", args.persons);
    } else {
        let config = RegionConfig::bench(args.persons);
        println!("loading {} residents and their evidence…", args.persons);
        let events = crate::bench::load(store.as_ref(), &config).await?;
        println!("loaded {} residents and {events} events in {:.1} s", args.persons, started.elapsed().as_secs_f64());
    }
    let checkins = args.checkins.unwrap_or(args.persons * 10);
    crate::bench_tracing::load_checkins(store.as_ref(), args.persons, args.venues, checkins).await?;
    println!(
        "done in {:.1} s; codes are computed when `healthcode serve` starts (its catch-up)",
        started.elapsed().as_secs_f64()
    );
    Ok(0)
}
