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

/// A province's store is never a benchmark's: `generate` and the benches refuse a store
/// that holds persons they did not put there (a bench designates every area and
/// re-evaluates everyone, unapproved and unlogged), and say what to do instead.
#[test]
fn a_store_with_real_persons_is_refused_by_generate_and_the_benches() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // A store the server made (its schema), with one registered person.
    drop(healthcode_store_sqlite::SqliteStore::open(&data.join("healthcode.sqlite3")).unwrap());
    let db = rusqlite::Connection::open(data.join("healthcode.sqlite3")).unwrap();
    db.execute(
        "INSERT INTO persons (id, kind, registered_at) VALUES ('p0123456789abcdef0123456789abcdef', 'domestic', 0)",
        [],
    )
    .unwrap();
    drop(db);
    for args in [
        &["generate", "--persons", "100", "--venues", "4", "--checkins", "100"][..],
        &["bench", "refresh", "--persons", "100"][..],
        &["bench", "tracing", "--checkins", "100", "--persons", "100", "--venues", "4", "--cases", "1"][..],
    ] {
        let out = healthcode().args(args).arg("--data-dir").arg(&data).env("RUST_LOG", "warn").output().unwrap();
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && said.contains("not a synthetic region"), "{args:?}: {said}");
    }
}
