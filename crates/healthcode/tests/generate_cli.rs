//! `healthcode generate` loads a synthetic region into a store, and leaves a store that
//! holds it as it is (the benches reuse it).

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
mod common;

use common::healthcode;

#[test]
fn a_region_is_generated_once_with_its_venues_and_check_ins() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = || {
        let out = healthcode()
            .args(["generate", "--persons", "3000", "--venues", "40", "--checkins", "9000", "--data-dir"])
            .arg(&data)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let said = run();
    assert!(said.contains("loaded 3000 residents") && said.contains("9000 check-ins"), "{said}");
    let db = rusqlite::Connection::open(data.join("healthcode.sqlite3")).unwrap();
    let count =
        |table: &str| -> i64 { db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap() };
    assert_eq!((count("persons"), count("venues"), count("checkins")), (3000, 40, 9000));
    assert!(count("evidence") > 3000, "residents come with evidence");
    let areas: i64 = db.query_row("SELECT count(DISTINCT residence_area) FROM persons", [], |r| r.get(0)).unwrap();
    assert!(areas > 1, "residents live in several areas");
    let again = run();
    assert!(again.contains("not loading the region again") && again.contains("already loaded"), "{again}");
    assert_eq!(count("checkins"), 9000, "nothing loaded twice");
}
