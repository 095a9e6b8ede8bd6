//! `healthcode audit verify`: checks the transparency log of a running server without
//! trusting it. Every checkpoint must carry the log's signature and extend the one before
//! (consistency proofs), the checkpoint the auditor saw last time (`--state`) included;
//! every entry is downloaded and the tree rebuilt from them must have the signed root.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{anyhow, Context};
use base64::Engine;
use clap::{Args, Subcommand};
use healthcode_log::{verify_all_entries, verify_chain, Entry, Hash, NoteVerifier};
use serde_json::Value;

#[derive(Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify the log: signatures, consistency of every checkpoint, every entry.
    Verify {
        /// The server, e.g. `http://127.0.0.1:8080`
        #[arg(long, env = "HEALTHCODE_URL")]
        url: String,
        /// The log's public key (`GET /v1/log/key`, obtained once and kept: an auditor
        /// must not take it from the server it audits each time).
        #[arg(long, env = "HEALTHCODE_LOG_KEY")]
        key: String,
        /// A file where the last verified checkpoint is kept: the next run proves the log
        /// still extends it, so history cannot be rewritten between audits.
        #[arg(long)]
        state: Option<PathBuf>,
    },
}

/// Exit code: 0 the log verifies, 1 it does not (the reason is printed), 2 the server or
/// the state file could not be read.
pub async fn run(args: AuditArgs) -> anyhow::Result<i32> {
    let AuditCommand::Verify { url, key, state } = args.command;
    let verifier = NoteVerifier::parse(key.trim()).map_err(|e| anyhow!("--key is not a log key: {e}"))?;
    let client = Client { base: url.trim_end_matches('/').to_string(), http: reqwest::Client::new() };
    let current = client.text("/v1/log/checkpoint").await?;
    let mut notes = client.checkpoints().await?;
    // The current checkpoint is signed for the asker and may be newer than any stored.
    let newest_stored = notes.last().map(|n| note_size(n)).transpose()?;
    if note_size(&current).is_ok_and(|size| size > newest_stored.unwrap_or(0)) {
        notes.push(current);
    }
    if let Some(previous) = state.as_ref().and_then(|p| std::fs::read_to_string(p).ok()) {
        // What the auditor verified last time (stored by the server or not): everything
        // larger must be consistent with it.
        let seen = note_size(&previous)?;
        let mut later = Vec::with_capacity(notes.len());
        for note in notes {
            if note_size(&note)? > seen {
                later.push(note);
            }
        }
        notes = later;
        notes.insert(0, previous);
    }
    if notes.is_empty() {
        println!("the log is empty: nothing to verify");
        return Ok(0);
    }
    let sizes: Vec<u64> = notes.iter().map(|n| note_size(n)).collect::<anyhow::Result<_>>()?;
    let mut proofs = Vec::new();
    for pair in sizes.windows(2) {
        proofs.push(client.consistency(pair[0], pair[1]).await?);
    }
    let checkpoints = match verify_chain(&verifier, verifier.name(), &notes, &proofs) {
        Ok(c) => c,
        Err(e) => return failed(&e),
    };
    let latest = checkpoints.last().expect("at least one checkpoint");
    let leaves = client.leaves(latest.size).await?;
    let entries = match verify_all_entries(latest, &leaves) {
        Ok(entries) => entries,
        Err(e) => return failed(&e),
    };
    println!(
        "ok: {} checkpoints, each signed by {} and extending the one before; all {} entries hash to the signed root",
        checkpoints.len(),
        verifier.name(),
        latest.size
    );
    for (what, n) in summary(&entries) {
        println!("  {n:>8}  {what}");
    }
    if let Some(path) = state {
        std::fs::write(&path, notes.last().expect("at least one checkpoint"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(0)
}

fn failed(e: &dyn std::fmt::Display) -> anyhow::Result<i32> {
    println!("FAILED: {e}");
    Ok(1)
}

fn note_size(note: &str) -> anyhow::Result<u64> {
    note.lines().nth(1).and_then(|l| l.parse().ok()).ok_or_else(|| anyhow!("a checkpoint has no size line"))
}

/// Entries by kind: colour changes by their new colour, approvals, alarms.
fn summary(entries: &[Entry]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for e in entries {
        let what = match e {
            Entry::ColourChange(c) => format!("colour changes to {}", c.new_colour),
            Entry::RuleSetApproval(_) => "rule-set approvals".into(),
            Entry::DesignationApproval(_) => "designation approvals".into(),
            Entry::DecisionApproval(_) => "decision approvals".into(),
            Entry::TraceApproval(_) => "contact-tracing approvals".into(),
            Entry::DeviceApproval(_) => "gate device approvals".into(),
            Entry::AccountInUse(a) => format!("accounts in use: {}", a.role),
            Entry::Alarm(a) => format!("alarms: {}", a.kind),
            Entry::Destruction(_) => "destructions of personal data".into(),
            Entry::Retraction(r) => format!("retractions: {}", r.event_type),
            Entry::Erasure(_) => "erasures of one person's data".into(),
            Entry::CreditRecordApproval(_) => "credit records made".into(),
            Entry::DeclarationConfirmation(_) => "declarations confirmed by a second official".into(),
            Entry::NationalRecord(r) => format!("national records: {}", r.kind),
            Entry::NationalRegion(_) => "regions registered at the hub".into(),
            Entry::NationalTrustList(_) => "regions' trust lists".into(),
            Entry::NationalAgreement(_) => "agreements between regions".into(),
            Entry::AgreementConfirmation(_) => "agreements confirmed by this region".into(),
        };
        *counts.entry(what).or_insert(0) += 1;
    }
    counts
}

struct Client {
    base: String,
    http: reqwest::Client,
}

impl Client {
    async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        let url = format!("{}{path}", self.base);
        let response = self.http.get(&url).send().await.with_context(|| format!("cannot reach {url}"))?;
        anyhow::ensure!(response.status().is_success(), "{url} answered {}", response.status());
        Ok(response)
    }

    async fn text(&self, path: &str) -> anyhow::Result<String> {
        Ok(self.get(path).await?.text().await?)
    }

    async fn json(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self.get(path).await?.json().await?)
    }

    async fn checkpoints(&self) -> anyhow::Result<Vec<String>> {
        let mut notes = Vec::new();
        let mut after = 0;
        loop {
            let page = self.json(&format!("/v1/log/checkpoints?after={after}")).await?;
            let list = page["checkpoints"].as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                return Ok(notes);
            }
            for c in list {
                after = c["size"].as_u64().ok_or_else(|| anyhow!("a checkpoint without a size"))?;
                notes.push(c["note"].as_str().ok_or_else(|| anyhow!("a checkpoint without its note"))?.to_string());
            }
        }
    }

    async fn consistency(&self, from: u64, to: u64) -> anyhow::Result<Vec<Hash>> {
        let answer = self.json(&format!("/v1/log/proof/consistency?from={from}&to={to}")).await?;
        answer["proof"].as_array().ok_or_else(|| anyhow!("no proof in the answer"))?.iter().map(hash).collect()
    }

    async fn leaves(&self, size: u64) -> anyhow::Result<Vec<Vec<u8>>> {
        let engine = base64::engine::general_purpose::STANDARD;
        let mut leaves = Vec::with_capacity(size as usize);
        while (leaves.len() as u64) < size {
            let page = self.json(&format!("/v1/log/entries?from={}", leaves.len())).await?;
            let list = page["entries"].as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                break;
            }
            for e in list.into_iter().take((size - leaves.len() as u64) as usize) {
                let data = e["data"].as_str().ok_or_else(|| anyhow!("an entry without data"))?;
                leaves.push(engine.decode(data).context("an entry is not base64")?);
            }
        }
        Ok(leaves)
    }
}

fn hash(v: &Value) -> anyhow::Result<Hash> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(v.as_str().ok_or_else(|| anyhow!("a proof hash is not text"))?)
        .context("a proof hash is not base64")?;
    bytes.try_into().map_err(|_| anyhow!("a proof hash is not 32 bytes"))
}
