//! `healthcode serve` and `healthcode rejections`: the server on the embedded store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use healthcode_service::{HealthService, Pseudonymiser, ServiceKeys, SystemClock};
use healthcode_store::Store;
use healthcode_store_postgres::PostgresStore;
use healthcode_store_sqlite::SqliteStore;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    store: StoreLocation,
    /// Address to listen on.
    #[arg(long, env = "HEALTHCODE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Load a synthetic region (5,000 residents, a small outbreak) if the store is empty.
    #[arg(long)]
    demo: bool,
    /// Rule-set file to activate instead of the default.
    #[arg(long, env = "HEALTHCODE_RULES", value_name = "FILE")]
    rules: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) keys: KeyFiles,
    /// Registrations one client address may make per minute (rate limit).
    #[arg(long, env = "HEALTHCODE_REGISTRATIONS_PER_MINUTE", default_value_t = 30)]
    registrations_per_minute: u32,
    /// Sign-in attempts (residents and staff) one client address may make per minute.
    #[arg(long, env = "HEALTHCODE_SIGN_INS_PER_MINUTE", default_value_t = 10)]
    sign_ins_per_minute: u32,
    /// How long a resident key, once looked up, is trusted from memory (0: never; a key
    /// replaced at a counter stops on other servers within this time).
    #[arg(long, env = "HEALTHCODE_RESIDENT_KEY_CACHE_SECONDS", default_value_t = healthcode_service::RESIDENT_KEY_CACHE_SECS)]
    resident_key_cache_seconds: u64,
    /// How many code cards (colour, kind, code id, masked name) are kept in memory for
    /// signing codes without a store read (0: none). A card is dropped when its code is
    /// saved here, and all are when another server changes a colour (seen within one
    /// follower tick, two seconds).
    #[arg(long, env = "HEALTHCODE_CODE_CARD_CACHE_SIZE", default_value_t = healthcode_service::CODE_CARD_CACHE_MAX)]
    code_card_cache_size: usize,
    /// Verify each `POST /v1/verify` alone instead of in batches with concurrent ones
    /// (to measure what batching gives; see BENCHMARKS.md).
    #[arg(long)]
    no_verify_batch: bool,
    /// Mark every cookie `Secure`: set it when the server is reached over HTTPS (through
    /// a TLS proxy). Requests forwarded with `X-Forwarded-Proto: https` get `Secure`
    /// cookies either way.
    #[arg(long, env = "HEALTHCODE_SECURE_COOKIES")]
    secure_cookies: bool,
    /// How often the scheduler re-evaluates codes whose next change has come.
    #[arg(long, env = "HEALTHCODE_SCHEDULER_SECONDS", default_value_t = 10)]
    scheduler_seconds: u64,
    #[command(flatten)]
    pub(crate) national: crate::national::NationalArgs,
}

/// Where the data is: a SQLite folder (the embedded default) or a PostgreSQL database.
#[derive(Args)]
pub struct StoreLocation {
    /// Folder of the SQLite database (the embedded default).
    #[arg(long, env = "HEALTHCODE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// A PostgreSQL database to use instead of SQLite, e.g. `postgres://user@host/db`.
    #[arg(long, env = "HEALTHCODE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// SQLite only: the most memory its page caches hold together, in MiB (half for the
    /// writer, the rest for the readers). The process's memory grows by up to this much as
    /// the database is read; more makes loading and bulk re-evaluations faster on a large
    /// store (a province of ten million: a few GiB).
    #[arg(long, env = "HEALTHCODE_SQLITE_CACHE_MIB", default_value_t = healthcode_store_sqlite::DEFAULT_CACHE_BYTES >> 20)]
    pub sqlite_cache_mib: u64,
}

impl StoreLocation {
    pub(crate) async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        open_store_with(&self.data_dir, self.database_url.as_deref(), self.sqlite_cache_mib << 20).await
    }

    /// For messages: never the URL itself, which may hold a password.
    fn describe(&self) -> String {
        match self.database_url {
            Some(_) => "PostgreSQL".to_string(),
            None => self.data_dir.display().to_string(),
        }
    }
}

/// The files that hold the service's secrets, each kept apart from the data.
#[derive(Args)]
pub struct KeyFiles {
    /// Key of the keyed hash that turns identity documents into pseudonyms. Kept apart
    /// from the data; created with random bytes if missing.
    #[arg(long, env = "HEALTHCODE_PSEUDONYM_KEY_FILE", default_value = "keys/pseudonym.key")]
    pub pseudonym_key_file: PathBuf,
    /// The signing key ring (private; created if missing). Checked every few seconds, so
    /// `healthcode keys rotate` takes effect without a restart.
    #[arg(long, env = "HEALTHCODE_SIGNING_KEYS_FILE", default_value = "keys/signing.json")]
    pub signing_keys_file: PathBuf,
    /// The key that signs the transparency log's checkpoints (C2SP note key text; created
    /// if missing). Auditors get its public half from `GET /v1/log/key`.
    #[arg(long, env = "HEALTHCODE_LOG_KEY_FILE", default_value = "keys/log.key")]
    pub log_key_file: PathBuf,
    /// The log's name (its checkpoints' origin), used when the log key is created.
    #[arg(long, env = "HEALTHCODE_LOG_ORIGIN", default_value = healthcode_service::DEFAULT_LOG_ORIGIN)]
    pub log_origin: String,
    /// The region's code (its province's: `33` Zhejiang, `41` Henan), which its codes
    /// carry; used when the signing key ring is created.
    #[arg(long, env = "HEALTHCODE_REGION", default_value = healthcode_service::DEFAULT_REGION)]
    pub region: String,
    /// The master keys that wrap each person's data key (one per line, the current one
    /// first; created if missing). Without it, personal details cannot be opened.
    #[arg(long, env = "HEALTHCODE_VAULT_KEY_FILE", default_value = "keys/vault.key")]
    pub vault_key_file: PathBuf,
}

impl KeyFiles {
    /// The service over `store` with the keys from these files (created if missing).
    pub async fn open_service(
        &self,
        store: Arc<dyn Store>,
        rules: healthcode_rules::RuleSet,
    ) -> anyhow::Result<HealthService> {
        self.open_service_in(store, rules, &crate::national::NationalArgs::default()).await
    }

    /// As `open_service`, in the part `national` gives it in the national exchange.
    pub async fn open_service_in(
        &self,
        store: Arc<dyn Store>,
        rules: healthcode_rules::RuleSet,
        national: &crate::national::NationalArgs,
    ) -> anyhow::Result<HealthService> {
        let key = pseudonym_key(&self.pseudonym_key_file)?;
        let keys = ServiceKeys {
            signing: crate::keys::load_or_create(&self.signing_keys_file, &self.region)?,
            log: log_key(&self.log_key_file, &self.log_origin)?,
            vault: vault_keys(&self.vault_key_file)?,
        };
        let mut pseudonyms = Pseudonymiser::new(key);
        if let Some(national_key) = national.national_key()? {
            pseudonyms = pseudonyms.with_national_key(national_key);
        }
        let service = HealthService::open_with(store, Arc::new(SystemClock), pseudonyms, rules, keys).await?;
        Ok(service.with_national_role(national.role(&self.region)?).sharing_test_results(national.share_test_results))
    }
}

#[derive(Args)]
pub struct RejectionsArgs {
    #[command(flatten)]
    store: StoreLocation,
    /// Show rejections with an id above this one.
    #[arg(long, default_value_t = 0)]
    after: i64,
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

/// The embedded SQLite store under `data_dir`.
pub fn open_sqlite(data_dir: &Path, cache_bytes: u64) -> anyhow::Result<Arc<SqliteStore>> {
    let path = data_dir.join("healthcode.sqlite3");
    let store = SqliteStore::open_with_caches(&path, cache_bytes)
        .with_context(|| format!("cannot open the store at {}", path.display()))?;
    Ok(Arc::new(store))
}

/// The store the configuration names: PostgreSQL if a database URL is given, else SQLite.
/// The only place in the program that chooses a backend.
pub(crate) async fn open_store(data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<Arc<dyn Store>> {
    open_store_with(data_dir, database_url, healthcode_store_sqlite::DEFAULT_CACHE_BYTES).await
}

/// As `open_store`, with SQLite's page caches bounded to `sqlite_cache_bytes`.
pub(crate) async fn open_store_with(
    data_dir: &Path,
    database_url: Option<&str>,
    sqlite_cache_bytes: u64,
) -> anyhow::Result<Arc<dyn Store>> {
    match database_url {
        Some(url) => {
            let store = PostgresStore::connect(url).await.context("cannot open the PostgreSQL store")?;
            Ok(Arc::new(store))
        }
        None => Ok(open_sqlite(data_dir, sqlite_cache_bytes)?),
    }
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let rules = crate::load_rules(args.rules.as_ref())?;
    let store: Arc<dyn Store> = match &args.store.database_url {
        Some(_) => args.store.open().await?,
        None => open_sqlite(&args.store.data_dir, args.store.sqlite_cache_mib << 20)?,
    };
    let service = Arc::new(args.keys.open_service_in(store, rules, &args.national).await?);
    service.residents().set_resident_key_cache_seconds(args.resident_key_cache_seconds);
    service.tokens().set_code_card_cache_size(args.code_card_cache_size);
    let key_watch = watch_key_file(args.keys.signing_keys_file.clone(), "signing keys", {
        let service = service.clone();
        move |text| {
            service.tokens().set_key_ring(healthcode_service::KeyRing::from_json(text)?);
            Ok(())
        }
    });
    let vault_watch = watch_key_file(args.keys.vault_key_file.clone(), "vault master keys", {
        let service = service.clone();
        move |text| {
            service.residents().set_vault(vault_ring(text)?);
            Ok(())
        }
    });
    match service.governance().restore_active_rules().await? {
        Some(version) => {
            if args.rules.is_some() {
                tracing::warn!(%version, "rules approved through /v1/rules/proposals are in force; --rules is ignored");
            }
            tracing::info!(%version, "the rule set last approved and activated is in force");
        }
        None if args.rules.is_some() => {
            tracing::warn!("--rules puts unapproved rules in force: an operator_rules alarm is raised and logged");
            service.governance().note_operator_rules().await?;
        }
        None => {}
    }
    // An embedded store has one server: this one, whose earlier run may have died holding
    // the scheduler's lease. Over PostgreSQL the lease is another's until it ends.
    if args.store.database_url.is_none() {
        service.coordination().take_over().await?;
    }
    // At once, on either store: a decision approved a moment ago on another server may be
    // carried out by both, which stores its evidence once and logs each change once.
    let finished = service.governance().finish_interrupted_decisions(std::time::Duration::ZERO).await?;
    if finished > 0 {
        tracing::warn!(finished, "decisions approved before the last stop were carried out to the end");
    }
    let demo_accounts = if args.demo { crate::demo::load_if_empty(&service).await? } else { None };
    let caught_up = service.codes().run_due().await?;
    tracing::info!(evaluated = caught_up.evaluated, "codes brought up to date");

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}; is another server running there? use --listen", args.listen))?;
    let address = listener.local_addr()?;
    println!("healthcode is serving on http://{address}/  (data: {})", args.store.describe());
    if args.demo {
        println!("demo region: open http://{address}/demo to sign in as residents of every colour");
    }
    if let Some(accounts) = demo_accounts {
        print!("{accounts}");
        println!("officials' pages: sign in at http://{address}/staff/login");
    }
    let limits = healthcode_server::limits::LimitSettings {
        registrations_per_minute: args.registrations_per_minute,
        sign_ins_per_minute: args.sign_ins_per_minute,
    };
    let mut state = healthcode_server::AppState::new(service.clone()).with_limits(limits);
    state.verify_in_batches = !args.no_verify_batch;
    state.secure_cookies = args.secure_cookies;
    if args.demo {
        state = state.with_demo();
    }
    let scheduler = state.spawn_scheduler(Duration::from_secs(args.scheduler_seconds.max(1)));
    let follower = healthcode_server::spawn_follower(service.clone());
    service.national().load_trust().await?;
    let national_sync = args.national.spawn_sync(service.clone()).await?;
    healthcode_server::serve(listener, state, shutdown_signal()).await?;
    scheduler.abort();
    follower.abort();
    if let Some(sync) = national_sync {
        sync.abort();
    }
    // Another server takes the province's scheduled jobs at once, not when the lease ends.
    if let Err(e) = service.coordination().step_down().await {
        tracing::warn!(error = %e, "could not give up the scheduler's lease; another server takes it when it ends");
    }
    key_watch.abort();
    vault_watch.abort();
    Ok(())
}

/// How often key files are checked for changes.
pub(crate) const KEY_FILE_CHECK: Duration = Duration::from_secs(5);

/// Calls `apply` with a key file's new text whenever the file changes (a rotation or
/// revocation by `healthcode keys` or `healthcode vault`), so that keys change without
/// downtime. A file that cannot be read or applied is logged and the keys in use are kept.
fn watch_key_file(
    path: PathBuf,
    what: &'static str,
    apply: impl Fn(&str) -> anyhow::Result<()> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let mut seen = modified(&path);
        let mut ticks = tokio::time::interval(KEY_FILE_CHECK);
        loop {
            ticks.tick().await;
            let now = modified(&path);
            if now == seen {
                continue;
            }
            seen = now;
            match std::fs::read_to_string(&path).map_err(anyhow::Error::from).and_then(|t| apply(&t)) {
                Ok(()) => tracing::info!(path = %path.display(), "{what} reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, path = %path.display(), "the {what} file changed but cannot be read; keeping the keys in use")
                }
            }
        }
    })
}

async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}

/// The log's signing key from its file, created with a new random key if missing.
fn log_key(path: &Path, origin: &str) -> anyhow::Result<healthcode_log::NoteSigner> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return healthcode_log::NoteSigner::parse(text.trim())
            .map_err(|e| anyhow::anyhow!("the log key {} cannot be read: {e}", path.display()));
    }
    let seed: [u8; 32] = rand::random();
    let signer = healthcode_log::NoteSigner::from_seed(origin, seed)
        .map_err(|e| anyhow::anyhow!("--log-origin `{origin}` cannot name a log key: {e}"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_private(path, signer.to_secret_text().as_bytes())
        .with_context(|| format!("cannot write the log key {}", path.display()))?;
    tracing::warn!(path = %path.display(), "created a new transparency-log key; back it up: checkpoints signed with it are what auditors verify");
    Ok(signer)
}

/// The vault's master keys from the text of their file: one key per line, the current
/// one first.
pub(crate) fn vault_ring(text: &str) -> anyhow::Result<healthcode_vault::Keyring> {
    use healthcode_vault::{Keyring, MasterKey};
    let mut keys = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(MasterKey::from_text);
    let current = keys.next().ok_or_else(|| anyhow::anyhow!("it holds no key"))?.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut ring = Keyring::new(current);
    for key in keys {
        ring.add_older(key.map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    Ok(ring)
}

/// The vault's master keys from their file, created with a new random key if missing.
fn vault_keys(path: &Path) -> anyhow::Result<healthcode_vault::Keyring> {
    use healthcode_vault::{Keyring, MasterKey};
    if let Ok(text) = std::fs::read_to_string(path) {
        return vault_ring(&text).with_context(|| format!("the vault key file {}", path.display()));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let key = MasterKey::generate();
    write_private(path, format!("{}\n", key.to_text().as_str()).as_bytes())
        .with_context(|| format!("cannot write the vault key {}", path.display()))?;
    tracing::warn!(path = %path.display(), "created a new vault master key; back it up apart from the data: without it, personal details cannot be opened");
    Ok(Keyring::new(key))
}

fn pseudonym_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(key) = std::fs::read(path) {
        anyhow::ensure!(key.len() >= 32, "the pseudonym key {} is shorter than 32 bytes", path.display());
        return Ok(key);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let key: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    write_private(path, &key).with_context(|| format!("cannot write the pseudonym key {}", path.display()))?;
    tracing::warn!(path = %path.display(), "created a new pseudonym key; back it up: without it, registered persons cannot be found again by ID number");
    Ok(key)
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

pub async fn list_rejections(args: RejectionsArgs) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    let rejections = healthcode_service::operator_rejections(store.as_ref(), args.after, args.limit).await?;
    if rejections.is_empty() {
        println!("no rejections after id {}", args.after);
    }
    for r in rejections {
        println!("#{}  {}  {}  {}", r.id, r.received_at, r.origin, r.reason);
        println!("     input: {}", r.input);
    }
    Ok(())
}
