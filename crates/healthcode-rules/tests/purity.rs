//! Architecture invariant: the domain, the rules, the signed-code format, the
//! transparency log and the division list do no I/O. Their manifests name no
//! runtime, database, HTTP or clock-reading crate.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

const FORBIDDEN: &[&str] =
    &["tokio", "async-std", "axum", "hyper", "reqwest", "rusqlite", "sqlx", "postgres", "tracing"];

fn dependencies(manifest: &str) -> Vec<String> {
    let table: toml::Table = toml::from_str(manifest).unwrap();
    table.get("dependencies").and_then(|d| d.as_table()).map(|d| d.keys().cloned().collect()).unwrap_or_default()
}

#[test]
fn pure_crates_depend_on_no_io_crates() {
    for (name, manifest) in [
        ("healthcode-rules", include_str!("../Cargo.toml")),
        ("healthcode-domain", include_str!("../../healthcode-domain/Cargo.toml")),
        ("healthcode-token", include_str!("../../healthcode-token/Cargo.toml")),
        ("healthcode-log", include_str!("../../healthcode-log/Cargo.toml")),
        ("healthcode-vault", include_str!("../../healthcode-vault/Cargo.toml")),
        ("healthcode-places", include_str!("../../healthcode-places/Cargo.toml")),
    ] {
        let deps = dependencies(manifest);
        assert!(!deps.is_empty(), "{name}: could not read its dependencies");
        for dep in &deps {
            assert!(!FORBIDDEN.contains(&dep.as_str()), "{name} must stay pure but depends on {dep}");
        }
    }
}
