//! The national exchange (互认) on the command line: `healthcode hub serve` runs the hub
//! (the same server, whose log publishes what regions submit); `healthcode serve --hub-url`
//! joins a region to it. See docs/FEDERATION.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use healthcode_service::national::Role;
use healthcode_service::HealthService;

#[derive(Subcommand)]
pub enum HubCommand {
    /// Run the national hub: regions submit their records (`POST /v1/hub/records`, a
    /// `region` account each: `healthcode accounts add --role region --jurisdiction
    /// 410000`), its transparency log publishes them.
    Serve(crate::serve::ServeArgs),
    /// Register a region's trust-list root key (`healthcode keys root` in that region,
    /// checked with its operator out of band). Published in the hub's log.
    RegisterRegion {
        /// The province's two-digit code (`41`).
        #[arg(value_name = "REGION")]
        province: String,
        /// The root key: hex, as `healthcode keys root` prints it, or base64.
        #[arg(long)]
        root_key: String,
        #[command(flatten)]
        on: HubStore,
    },
    /// Record an agreement (互认协议): `receiving` accepts the codes `issuing` signs, from
    /// `--from` (now if absent) until `--until` (open-ended if absent). Published in the
    /// hub's log; each region applies it at its next sync.
    Agree {
        #[arg(long)]
        receiving: String,
        #[arg(long)]
        issuing: String,
        /// RFC 3339.
        #[arg(long)]
        from: Option<String>,
        /// RFC 3339.
        #[arg(long)]
        until: Option<String>,
        #[command(flatten)]
        on: HubStore,
    },
}

/// The hub's store and keys, for the operator's commands.
#[derive(Args)]
pub struct HubStore {
    #[command(flatten)]
    store: crate::serve::StoreLocation,
    #[command(flatten)]
    keys: crate::serve::KeyFiles,
}

/// The hub's log is named `healthcode/national-hub/log`, and its codes (the national
/// code) carry region `00`, unless the operator says otherwise.
pub fn name_the_hub_log(keys: &mut crate::serve::KeyFiles) {
    if keys.log_origin == healthcode_service::DEFAULT_LOG_ORIGIN {
        keys.log_origin = "healthcode/national-hub/log".into();
    }
    if keys.region == healthcode_service::DEFAULT_REGION {
        keys.region = healthcode_service::national::NATIONAL_REGION.into();
    }
}

impl HubStore {
    async fn open(&mut self) -> anyhow::Result<HealthService> {
        name_the_hub_log(&mut self.keys);
        let store = self.store.open().await?;
        let hub = NationalArgs { hub: true, ..NationalArgs::default() };
        self.keys.open_service_in(store, healthcode_rules::RuleSet::reference(), &hub).await
    }
}

/// `healthcode hub register-region` and `healthcode hub agree`.
pub async fn run_operator(command: HubCommand) -> anyhow::Result<i32> {
    let time = |field: &str, text: Option<String>| -> anyhow::Result<Option<healthcode_domain::Timestamp>> {
        text.map(|t| healthcode_domain::Timestamp::parse(&t).map_err(|e| anyhow!("--{field}: {e}"))).transpose()
    };
    match command {
        HubCommand::Serve(_) => unreachable!("serve runs the server"),
        HubCommand::RegisterRegion { province, root_key, mut on } => {
            let index = on.open().await?.national().register_region(&province, &root_key).await?;
            println!("region {province} registered (hub log entry {index})");
        }
        HubCommand::Agree { receiving, issuing, from, until, mut on } => {
            let service = on.open().await?;
            let from = time("from", from)?.unwrap_or_else(|| service.now());
            service.national().agree(&receiving, &issuing, from, time("until", until)?).await?;
            println!("region {receiving} recognises the codes of region {issuing} from {from}");
        }
    }
    Ok(0)
}

/// How this server takes part in the national exchange.
#[derive(Args, Default)]
pub struct NationalArgs {
    /// Run as the national hub (what `healthcode hub serve` sets).
    #[arg(skip)]
    pub hub: bool,
    /// Join the national exchange as a region: the hub's base URL.
    #[arg(long, env = "HEALTHCODE_HUB_URL", requires_all = ["hub_log_key", "hub_api_key_file", "national_key_file"])]
    pub hub_url: Option<String>,
    /// The hub's log key (`GET <hub>/v1/log/key`, checked out of band), or a file holding
    /// it: every batch from the hub is checked against checkpoints signed with it.
    #[arg(long, env = "HEALTHCODE_HUB_LOG_KEY")]
    pub hub_log_key: Option<String>,
    /// This region's API key at the hub (a `region` account there).
    #[arg(long, env = "HEALTHCODE_HUB_API_KEY_FILE")]
    pub hub_api_key_file: Option<PathBuf>,
    /// The national pseudonym key the hub's operator gave every region (at least 32
    /// bytes). Never published: with it a guessed ID number becomes a national pseudonym.
    #[arg(long, env = "HEALTHCODE_NATIONAL_KEY_FILE")]
    pub national_key_file: Option<PathBuf>,
    /// Another region's base URL: its view of the hub is compared with this region's, to
    /// catch a hub that shows regions different lists (repeat for several).
    #[arg(long = "peer", value_name = "URL")]
    pub peers: Vec<String>,
    /// Share this region's negative tests with the other regions through the hub (a
    /// visitor's test here then counts there: 跨区域核酸检测报告核查). Positive tests
    /// always travel, as key-person records.
    #[arg(long, env = "HEALTHCODE_SHARE_TEST_RESULTS", requires = "hub_url")]
    pub share_test_results: bool,
    /// How often to sync with the hub.
    #[arg(long, env = "HEALTHCODE_HUB_SYNC_SECONDS", default_value_t = 5)]
    pub hub_sync_seconds: u64,
}

impl NationalArgs {
    /// The national pseudonym key, if this server is a region.
    pub fn national_key(&self) -> anyhow::Result<Option<Vec<u8>>> {
        let Some(path) = &self.national_key_file else { return Ok(None) };
        let key = std::fs::read(path).with_context(|| format!("cannot read the national key {}", path.display()))?;
        anyhow::ensure!(key.len() >= 32, "the national key {} is shorter than 32 bytes", path.display());
        Ok(Some(key))
    }

    /// The role to give the service.
    pub fn role(&self, region: &str) -> anyhow::Result<Role> {
        if self.hub {
            return Ok(Role::Hub);
        }
        let Some(text) = &self.hub_log_key else { return Ok(Role::None) };
        let text = match std::fs::read_to_string(text) {
            Ok(file) => file,
            Err(_) => text.clone(),
        };
        let hub = healthcode_log::NoteVerifier::parse(text.trim())
            .map_err(|e| anyhow!("--hub-log-key is not a note verifier key (`<origin>+<hash>+<key>`): {e}"))?;
        Ok(Role::Region { region: region.to_string(), hub: Box::new(hub) })
    }

    /// Starts following the hub, if this server is a region; at the hub, publishes the
    /// hub's own keys (those of the national code) and follows its own log.
    pub async fn spawn_sync(&self, service: Arc<HealthService>) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
        let every = Duration::from_secs(self.hub_sync_seconds.max(1));
        if self.hub {
            service.national().publish_own_keys(&service.tokens().key_ring()).await?;
            return Ok(Some(healthcode_server::national_sync::spawn_hub_follower(service, every)));
        }
        let (Some(url), Some(key_file)) = (&self.hub_url, &self.hub_api_key_file) else { return Ok(None) };
        let key = std::fs::read_to_string(key_file)
            .with_context(|| format!("cannot read the hub API key {}", key_file.display()))?
            .trim()
            .to_string();
        let link =
            healthcode_server::national_sync::HubLink { url: url.clone(), key, peers: self.peers.clone(), every };
        tracing::info!(hub = %url, peers = self.peers.len(), "following the national hub");
        Ok(Some(healthcode_server::national_sync::spawn_national_sync(service, link)))
    }
}
