#![doc = include_str!("../README.md")]

mod accounts;
mod batch;
mod codes;
mod doors;
mod evidence;
mod federation;
mod feeds;
mod governance;
mod leases;
mod log;
mod migrate;
mod residents;
mod rows;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use healthcode_store::StoreError;
use tokio_postgres::NoTls;

/// The PostgreSQL backend. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    retirement: std::sync::Arc<Retirement>,
}

const POOL_SIZE: usize = 16;

/// How long a pooled connection lives. A tokio-postgres connection keeps its read and
/// write buffers at the size of the largest message it ever carried (rust-postgres issue
/// #1081): a 2,000-row batch leaves about a megabyte behind in whichever of the sixteen
/// connections sent it, so a server's memory crept up for as long as it ran (BENCHMARKS.md,
/// the soak). Retiring connections bounds what they hold to what recent traffic needed, at
/// the price of one new connection per connection and lifetime (a few milliseconds).
pub const CONNECTION_LIFETIME: std::time::Duration = std::time::Duration::from_secs(120);

/// How often idle connections are checked against `CONNECTION_LIFETIME`: on the way to
/// taking a connection, at most this often, so no background task outlives the store.
const RETIREMENT_CHECK: std::time::Duration = std::time::Duration::from_secs(10);

/// How long the pool's connections live, and when their ages were last checked.
struct Retirement {
    lifetime: std::time::Duration,
    check_every: std::time::Duration,
    started: std::time::Instant,
    last_check_ms: std::sync::atomic::AtomicU64,
}

impl Retirement {
    fn new(lifetime: std::time::Duration, check_every: std::time::Duration) -> Retirement {
        Retirement {
            lifetime,
            check_every,
            started: std::time::Instant::now(),
            last_check_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// True for one caller per `check_every`.
    fn due(&self) -> bool {
        use std::sync::atomic::Ordering;
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_check_ms.load(Ordering::Relaxed);
        now.saturating_sub(last) >= self.check_every.as_millis() as u64
            && self.last_check_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    /// Closes the idle connections that have lived their lifetime; the pool opens new
    /// ones as they are needed. A busy connection is retired at a later check.
    fn retire_old(&self, pool: &Pool) {
        if self.due() {
            pool.retain(|_, metrics| metrics.age() < self.lifetime);
        }
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (e.g. `postgres://user@host:5432/db`) and brings
    /// its schema up to date.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        Self::connect_with(url, None).await
    }

    /// As `connect`, inside one schema of the database (created if missing): tests use a
    /// fresh schema each, several deployments can share one database.
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        let ok =
            !schema.is_empty() && schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(StoreError::Backend(format!("`{schema}` is not a schema name (a-z, 0-9, _)")));
        }
        Self::connect_with(url, Some(schema)).await
    }

    async fn connect_with(url: &str, schema: Option<&str>) -> Result<PostgresStore, StoreError> {
        let mut config: tokio_postgres::Config =
            url.parse().map_err(|e| StoreError::Backend(format!("`{url}` is not a PostgreSQL URL: {e}")))?;
        // A database that does not answer at all must not hold a request for ever.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(5));
        }
        if let Some(schema) = schema {
            let (client, connection) = config.connect(NoTls).await.map_err(backend("connect to PostgreSQL"))?;
            let task = tokio::spawn(connection);
            client
                .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
                .await
                .map_err(backend("create the schema"))?;
            drop(client);
            let _ = task.await;
        }
        // Every statement here is a lookup by key or a batch of them, over in milliseconds:
        // just-in-time compilation, which PostgreSQL starts from a cost estimate, took 110 ms
        // to save a few on a chunk's evidence read (BENCHMARKS.md, issue 16).
        let mut options = config.get_options().map(str::to_string).unwrap_or_default();
        options.push_str(" -c jit=off");
        if let Some(schema) = schema {
            options.push_str(&format!(" -c search_path={schema}"));
        }
        config.options(options.trim_start());
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot build the connection pool: {e}")))?;
        let retirement = Retirement::new(CONNECTION_LIFETIME, RETIREMENT_CHECK);
        let store = PostgresStore { pool, retirement: std::sync::Arc::new(retirement) };
        let mut client = store.client().await?;
        migrate::run(&mut client).await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.retirement.retire_old(&self.pool);
        self.pool.get().await.map_err(|e| StoreError::Unavailable(format!("cannot get a database connection: {e}")))
    }
}

pub(crate) fn backend(doing: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| {
        // tokio-postgres says only "db error"; the database's own words are in its source.
        let said = match e.as_db_error() {
            Some(db) => format!("cannot {doing}: {} ({})", db.message(), db.code().code()),
            None => format!("cannot {doing}: {e}"),
        };
        if is_transient(&e) {
            StoreError::Unavailable(said)
        } else {
            StoreError::Backend(said)
        }
    }
}

/// A lost connection (the network cut), or the database shutting down, restarting or
/// refusing connections for now, is worth a retry; a refusal of the statement is not.
fn is_transient(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) {
        return true;
    }
    // SQLSTATE classes 08 (connection exception), 57 (operator intervention: admin or
    // crash shutdown, cannot connect now), 53 (insufficient resources: too many
    // connections, disk full) and 40 (transaction rollback: a deadlock or serialisation
    // failure between servers, which the same request retried gets past).
    e.as_db_error().is_some_and(|db| matches!(&db.code().code()[..2], "08" | "57" | "53" | "40"))
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// The pool's counts, for `/metrics`.
impl healthcode_store::StatusStore for PostgresStore {
    fn status(&self) -> healthcode_store::StoreStatus {
        let pool = self.pool.status();
        healthcode_store::StoreStatus {
            max_connections: pool.max_size as u64,
            open_connections: pool.size as u64,
            idle_connections: pool.available as u64,
            waiting: Some(pool.waiting as u64),
            embedded_memory_bytes: None,
        }
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed step is the test failing.
    #![allow(clippy::unwrap_used)]

    use super::*;

    async fn backend_pid(store: &PostgresStore) -> i32 {
        store.client().await.unwrap().query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0)
    }

    /// A connection past its lifetime is closed and replaced; one within it is kept.
    #[tokio::test]
    async fn connections_are_retired_after_their_lifetime() {
        let url = std::env::var("HEALTHCODE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let schema = format!("hc_retire_{}", std::process::id());
        let Ok(mut store) = PostgresStore::connect_in_schema(&url, &schema).await else {
            eprintln!("note: PostgreSQL not reachable at {url}; connection retirement not tested");
            return;
        };
        let kept = backend_pid(&store).await;
        assert_eq!(backend_pid(&store).await, kept, "a young connection is reused");

        store.retirement = std::sync::Arc::new(Retirement::new(std::time::Duration::ZERO, std::time::Duration::ZERO));
        let first = backend_pid(&store).await;
        let second = backend_pid(&store).await;
        assert_ne!(first, second, "an old connection is closed, and a new one serves");
        let open = store.client().await.unwrap();
        assert_eq!(store.pool.status().size, 1, "the retired connections are gone from the pool");
        open.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).await.unwrap();
    }
}
