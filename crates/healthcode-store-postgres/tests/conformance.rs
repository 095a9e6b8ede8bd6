//! The storage conformance story against PostgreSQL, each check in a fresh schema.
//! The database is `HEALTHCODE_TEST_DATABASE_URL` (default: the local test database);
//! without a reachable server the test says so and passes, so that the suite still runs
//! on a machine without PostgreSQL.

// Test code: a failed step is the test failing.
#![allow(clippy::unwrap_used)]

use healthcode_store::conformance;
use healthcode_store_postgres::PostgresStore;

fn database_url() -> String {
    std::env::var("HEALTHCODE_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_keeps_every_promise() {
    let url = database_url();
    let run = format!(
        "hc_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
    );
    if let Err(e) = PostgresStore::connect_in_schema(&url, &format!("{run}_probe")).await {
        // Written to stderr directly: the test harness captures only `print!` output.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "note: PostgreSQL tests were not run: cannot reach {url} ({e}); start PostgreSQL or set \
             HEALTHCODE_TEST_DATABASE_URL to run them"
        );
        return;
    }
    let counter = std::sync::atomic::AtomicUsize::new(0);
    conformance::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let (url, schema) = (url.clone(), format!("{run}_{n}"));
        async move { PostgresStore::connect_in_schema(&url, &schema).await.unwrap() }
    })
    .await;
    drop_schemas(&url, &run).await;
}

/// Removes the schemas this run made, so that the test database does not grow.
async fn drop_schemas(url: &str, run: &str) {
    let Ok((client, connection)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await else { return };
    tokio::spawn(connection);
    let rows = client
        .query("SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", &[&format!("{run}%")])
        .await
        .unwrap_or_default();
    for row in rows {
        let schema: String = row.get(0);
        let _ = client.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await;
    }
}
