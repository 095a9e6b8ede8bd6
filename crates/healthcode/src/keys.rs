//! `healthcode keys`: the signing key ring kept in a file apart from the database, and
//! the trust list and root key that verifiers are given.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use healthcode_service::{KeyRing, DEFAULT_REGION};

#[derive(Args)]
pub struct KeysArgs {
    /// The key ring file (private: mode 0600, never in the database).
    #[arg(long, env = "HEALTHCODE_SIGNING_KEYS_FILE", default_value = "keys/signing.json", global = true)]
    pub file: PathBuf,
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Subcommand)]
pub enum KeysCommand {
    /// List the keys: id, in service from, retired, revoked.
    List,
    /// Put a new signing key in service; the old one keeps verifying until its codes expire.
    Rotate,
    /// Revoke a key: every code it signed is refused from now on.
    Revoke {
        kid: String,
        /// When the key was stolen (RFC 3339 with an offset, e.g. 2022-05-01T10:00:00+08:00):
        /// national records it signed before, by the hub's time, still count; those from then
        /// on are refused and withdrawn in every region that took them in. Without it, nothing
        /// the key ever signed counts.
        #[arg(long, value_name = "RFC3339")]
        compromised_since: Option<String>,
    },
    /// Print the root public key (hex) that verifiers pin to check the trust list.
    Root,
    /// Write the signed trust list (what `GET /v1/trust-list` serves) to a file or stdout.
    TrustList {
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn now_secs() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX)
}

/// The key ring in `path`, created (with a new root and signing key) if the file is missing.
pub fn load_or_create(path: &Path, region: &str) -> anyhow::Result<KeyRing> {
    match std::fs::read_to_string(path) {
        Ok(text) => KeyRing::from_json(&text).with_context(|| format!("key ring {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let ring = KeyRing::generate(region, now_secs());
            save(path, &ring, true)?;
            tracing::warn!(path = %path.display(), "created a new signing key ring; back it up and give verifiers its root key (`healthcode keys root`)");
            Ok(ring)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the key ring {}", path.display())),
    }
}

/// Writes the ring atomically (a temporary file renamed over the old one) with mode 0600.
fn save(path: &Path, ring: &KeyRing, create: bool) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let temporary = path.with_extension("json.new");
    let _ = std::fs::remove_file(&temporary);
    crate::serve::write_private(&temporary, ring.to_json().as_bytes())
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    if create && path.exists() {
        anyhow::bail!("{} appeared while it was being created; not overwriting it", path.display());
    }
    std::fs::rename(&temporary, path).with_context(|| format!("cannot replace {}", path.display()))
}

pub fn run(args: KeysArgs) -> anyhow::Result<i32> {
    let mut ring = load_or_create(&args.file, DEFAULT_REGION)?;
    match args.command {
        KeysCommand::List => {
            println!("region {}  root {}", ring.region(), hex(&ring.root_public()));
            for k in ring.keys() {
                let state = match (k.revoked_at, k.retired_at) {
                    (Some(t), _) => match k.compromised_since {
                        Some(since) => format!("revoked at {t}, compromised since {since}"),
                        None => format!("revoked at {t}"),
                    },
                    (None, Some(t)) => format!("retired at {t}"),
                    (None, None) => "signing".to_string(),
                };
                println!("{}  from {}  {state}", k.key.key_id(), k.not_before);
            }
        }
        KeysCommand::Rotate => {
            let kid = ring.rotate(now_secs());
            ring.prune(now_secs());
            save(&args.file, &ring, false)?;
            println!("new signing key {kid}; running servers pick it up within seconds");
        }
        KeysCommand::Revoke { kid, compromised_since } => {
            let since = compromised_since
                .map(|text| {
                    healthcode_domain::Timestamp::parse(&text)
                        .map(|t| t.as_millis().div_euclid(1000))
                        .map_err(|e| anyhow::anyhow!("--compromised-since: {e}"))
                })
                .transpose()?;
            ring.revoke_compromised(&kid, now_secs(), since)?;
            if ring.signing_key().is_err() {
                ring.rotate(now_secs());
            }
            save(&args.file, &ring, false)?;
            match since {
                Some(since) => println!(
                    "revoked {kid}: what it signed from {} on is refused, and other regions withdraw the national \
                     records it signed since; signing with {}",
                    healthcode_domain::Timestamp::from_millis(since.saturating_mul(1000)),
                    ring.signing_key()?.key_id()
                ),
                None => println!("revoked {kid}; signing with {}", ring.signing_key()?.key_id()),
            }
        }
        KeysCommand::Root => println!("{}", hex(&ring.root_public())),
        KeysCommand::TrustList { out } => {
            let json = ring.signed_trust_list().to_json();
            match out {
                Some(path) => {
                    std::fs::write(&path, json).with_context(|| format!("cannot write {}", path.display()))?
                }
                None => println!("{json}"),
            }
        }
    }
    Ok(0)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn parse_hex32(text: &str) -> anyhow::Result<[u8; 32]> {
    let text = text.trim();
    anyhow::ensure!(text.len() == 64, "a root key is 64 hexadecimal digits (`healthcode keys root` prints it)");
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
            .map_err(|_| anyhow::anyhow!("a root key is 64 hexadecimal digits"))?;
    }
    Ok(out)
}
