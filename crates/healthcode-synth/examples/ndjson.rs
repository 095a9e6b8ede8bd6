//! Writes a synthetic region as NDJSON events on stdout, persons as
//! `{"person_id", "kind", "residence_area"}` lines on stderr:
//! `cargo run -p healthcode-synth --example ndjson [-- PERSONS [SEED]] > events.ndjson 2> persons.ndjson`
//! (the demo region without arguments, the bench region of PERSONS persons with them).

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use std::io::{BufWriter, Write};

use healthcode_synth::{generate, to_ndjson_line, RegionConfig, SynthRecord};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut config = match args.next() {
        Some(persons) => RegionConfig::bench(persons.parse()?),
        None => RegionConfig::demo(),
    };
    if let Some(seed) = args.next() {
        config.seed = seed.parse()?;
    }
    let mut events = BufWriter::new(std::io::stdout().lock());
    let mut persons = BufWriter::new(std::io::stderr().lock());
    for record in generate(&config)? {
        if let SynthRecord::Person { id, kind, residence_area, .. } = &record {
            let line = serde_json::json!({"person_id": id, "kind": kind, "residence_area": residence_area});
            writeln!(persons, "{line}")?;
        } else if let Some(line) = to_ndjson_line(&record) {
            writeln!(events, "{line}")?;
        }
    }
    events.flush()?;
    persons.flush()?;
    Ok(())
}
