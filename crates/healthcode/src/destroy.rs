//! `healthcode destroy`: when the epidemic is declared over, every personal row goes, the
//! space is given back, the destruction is recorded in the transparency log, and the
//! vault and pseudonym keys are deleted, so that not even a backup of the database can
//! be opened or tied to anyone again. Stop every server first.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::serve::KeyFiles;

#[derive(Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    store: crate::serve::StoreLocation,
    #[command(flatten)]
    keys: KeyFiles,
    /// The order that ends the measures, as it goes into the transparency log.
    #[arg(long)]
    basis: String,
    /// Where to write the destruction report (JSON).
    #[arg(long, default_value = "destruction-report.json")]
    report: PathBuf,
    /// Confirms that this destroys every resident's data for good.
    #[arg(long)]
    yes: bool,
}

/// Overwrites a key file before removing it: the bytes should not linger in free blocks
/// any longer than the file system makes them.
fn shred(path: &Path) -> anyhow::Result<bool> {
    let Ok(metadata) = std::fs::metadata(path) else { return Ok(false) };
    std::fs::write(path, vec![0u8; metadata.len() as usize])
        .with_context(|| format!("cannot overwrite {}", path.display()))?;
    std::fs::remove_file(path).with_context(|| format!("cannot delete {}", path.display()))?;
    Ok(true)
}

pub async fn run(args: DestroyArgs) -> anyhow::Result<i32> {
    if !args.yes {
        eprintln!(
            "this deletes every resident's data and the keys that open it, for good; stop every server, \
             then run again with --yes"
        );
        return Ok(2);
    }
    let store = args.store.open().await?;
    let service = args.keys.open_service(store, healthcode_rules::RuleSet::reference()).await?;
    let report = service.residents().destroy_personal_data(&args.basis).await?;
    let json = serde_json::to_string_pretty(&report)?;
    std::fs::write(&args.report, format!("{json}\n"))
        .with_context(|| format!("cannot write the report {}", args.report.display()))?;
    let mut shredded = Vec::new();
    for path in [&args.keys.vault_key_file, &args.keys.pseudonym_key_file] {
        if shred(path)? {
            shredded.push(path.display().to_string());
        }
    }
    println!("personal data destroyed on the order: {}", report.basis);
    for (table, rows) in &report.removed {
        println!("  {table:<28} {rows:>10} rows");
    }
    println!("master keys shredded: {}", report.master_keys.join(", "));
    println!("key files deleted: {}", shredded.join(", "));
    if let Some(index) = report.log_index {
        println!("recorded in the transparency log at index {index}");
    }
    println!("report: {}", args.report.display());
    Ok(0)
}
