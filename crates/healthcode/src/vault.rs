//! `healthcode vault rotate`: a new master key without downtime. The new key goes first
//! into the key file (the old ones stay, so everything wrapped under them still opens);
//! running servers reload the file within seconds; after a settling time every stored
//! data key is wrapped again under the new key.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use healthcode_vault::MasterKey;

use crate::serve::{vault_ring, KeyFiles, KEY_FILE_CHECK};

#[derive(Subcommand)]
pub enum VaultCommand {
    /// Add a new current master key and rewrap every person's data key under it.
    Rotate(RotateArgs),
}

#[derive(Args)]
pub struct RotateArgs {
    #[command(flatten)]
    store: crate::serve::StoreLocation,
    #[command(flatten)]
    keys: KeyFiles,
    /// How long to let running servers reload the key file before rewrapping (they check
    /// it every 5 seconds; a server that has not reloaded could not open a rewrapped key).
    #[arg(long, default_value_t = 12)]
    settle_seconds: u64,
}

/// Replaces the file's content at once (a reader never sees half a file), private.
fn replace_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let temporary = path.with_extension("new");
    let _ = std::fs::remove_file(&temporary);
    crate::serve::write_private(&temporary, text.as_bytes())
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("cannot replace {}", path.display()))
}

pub async fn run(command: VaultCommand) -> anyhow::Result<i32> {
    let VaultCommand::Rotate(args) = command;
    let path = &args.keys.vault_key_file;
    let old =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the vault key file {}", path.display()))?;
    let before = vault_ring(&old).with_context(|| format!("the vault key file {}", path.display()))?;
    let key = MasterKey::generate();
    let id = key.id();
    replace_private(path, &format!("{}\n{}", key.to_text().as_str(), old.trim_start()))?;
    println!("new master key {id} is current; {} older key(s) kept for what they wrapped", before.ids().len());
    let settle = Duration::from_secs(args.settle_seconds.max(2 * KEY_FILE_CHECK.as_secs()));
    print!("letting running servers reload the key file ({} s)… ", settle.as_secs());
    let _ = std::io::stdout().flush();
    tokio::time::sleep(settle).await;
    println!("done");
    let store = args.store.open().await?;
    let service = args.keys.open_service(store, healthcode_rules::RuleSet::reference()).await?;
    let rewrapped = service.residents().rewrap_data_keys().await?;
    println!("rewrapped {rewrapped} data key(s) under {id}");
    Ok(0)
}
