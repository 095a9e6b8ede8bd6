#![doc = include_str!("../README.md")]

mod bench;
mod config;
mod layout;
pub mod load;
mod ndjson;
mod plan;
mod region;
mod rng;
mod store;
mod story;

pub use bench::{bench_region, designations_for_bench, persons_with_history, BenchPersons, BENCH_DESIGNATIONS};
pub use config::{ConfigError, OutbreakConfig, RegionConfig};
pub use layout::areas;
pub use ndjson::to_ndjson_line;
pub use region::{designations, generate, generate_persons, person_id, Records, SynthRecord};
pub use store::StoreRecord;
