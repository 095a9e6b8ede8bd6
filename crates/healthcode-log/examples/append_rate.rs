//! How fast the appender goes: `cargo run --release -p healthcode-log --example append_rate`.
//! Only hashing; persisting the returned rows is the caller's cost.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use healthcode_log::{leaf_hash, Frontier};

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2_000_000);
    let leaves: Vec<_> = (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let mut frontier = Frontier::new();
    let mut rows = Vec::with_capacity(n as usize * 17 / 16 + 64);
    let start = Instant::now();
    for leaf in leaves {
        frontier.append_into(leaf, &mut rows);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{n} leaves in {secs:.3} s: {:.2} M leaves/s, {:.4} rows per leaf, root {:02x?}",
        n as f64 / secs / 1e6,
        rows.len() as f64 / n as f64,
        &frontier.root()[..4]
    );
}
