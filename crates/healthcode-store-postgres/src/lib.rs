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
}

const POOL_SIZE: usize = 16;

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
            config.options(format!("-c search_path={schema}"));
        }
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot build the connection pool: {e}")))?;
        let store = PostgresStore { pool };
        let mut client = store.client().await?;
        migrate::run(&mut client).await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
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
    // crash shutdown, cannot connect now) and 53 (insufficient resources: too many
    // connections, disk full).
    e.as_db_error().is_some_and(|db| matches!(&db.code().code()[..2], "08" | "57" | "53"))
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
