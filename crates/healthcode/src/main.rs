//! The `healthcode` command. The only place that names a storage backend.

/// Evaluation and storage allocate many small values (ids, area codes, rows); mimalloc
/// handles that markedly faster than the system allocator (BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod accounts;
mod audit;
mod bench;
mod bench_ingest;
mod bench_national;
mod bench_soak;
mod bench_tokens;
mod bench_tracing;
mod demo;
mod destroy;
mod generate;
mod keys;
mod national;
mod research;
mod scenario;
mod serve;
mod upload;
mod vault;
mod verify;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use healthcode_rules::RuleSet;

#[derive(Parser)]
#[command(name = "healthcode", version, about = "A health-code platform: every colour has a reason.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API on the embedded SQLite store.
    Serve(serve::ServeArgs),
    /// The national hub of the exchange between regions (互认).
    Hub {
        #[command(subcommand)]
        command: national::HubCommand,
    },
    /// Colour scenarios: run them through the production ingestion path.
    Scenario {
        #[command(subcommand)]
        command: ScenarioCommand,
    },
    /// Print or check rule sets.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// List inputs that were rejected, with their reasons.
    Rejections(serve::RejectionsArgs),
    /// Signing keys, the trust list and the root key verifiers pin.
    Keys(keys::KeysArgs),
    /// Check a resident's code (text or a PNG of its QR) offline against a trust list.
    Verify(verify::VerifyArgs),
    /// Staff and system accounts (offices, data sources, auditors).
    Accounts(accounts::AccountsArgs),
    /// Audit the transparency log of a running server without trusting it.
    Audit(audit::AuditArgs),
    /// Aggregate counts for researchers: differentially private, small cells withheld.
    Research {
        #[command(subcommand)]
        command: ResearchCommand,
    },
    /// The master keys of personal data at rest (keys/vault.key).
    Vault {
        #[command(subcommand)]
        command: vault::VaultCommand,
    },
    /// When the epidemic is declared over: destroy every resident's data and its keys.
    Destroy(destroy::DestroyArgs),
    /// Upload a department's batch (NDJSON or CSV) to a server, resuming where it stands.
    Upload(upload::UploadArgs),
    /// Load a synthetic region at scale (residents, evidence, venues, check-ins) into a store.
    Generate(generate::GenerateArgs),
    /// Print the OpenAPI 3.1 document of the JSON API (what `GET /v1/openapi.json` serves).
    Openapi,
    /// Benchmarks that need the whole stack (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum ScenarioCommand {
    /// Run scenario files, or folders of `*.json` scenarios.
    Run {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// One JSON object per line instead of text.
        #[arg(long)]
        json: bool,
        /// Run under this rule-set file instead of the default.
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ResearchCommand {
    /// Release one table (CSV on stdout), spending ε from the privacy budget.
    Export(research::ResearchArgs),
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Print the default rule set (TOML), or another one's checked summary.
    Show {
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
    },
    /// Check a rule-set file and print its name, version, digest and rules.
    Check { file: PathBuf },
}

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

/// Threads for blocking work (SQLite's calls, feed parsing, password hashing).
const BLOCKING_THREADS: usize = 32;

fn run(cli: Cli) -> anyhow::Result<i32> {
    // SQLite's calls run on the blocking pool, each waiting there for one of a handful of
    // connections: tokio's default of 512 threads let a soak at 7,000 requests a second
    // park 430 threads on those locks, each with its stack and its allocator's heap
    // (resident memory 280 MiB → 740 MiB in five minutes, outside SQLite's caches). More
    // threads than connections plus the CPU work (feed parsing) queue no faster.
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(BLOCKING_THREADS).build()?;
    match cli.command {
        Command::Serve(mut args) => {
            // A region other than the default names its log after itself.
            if args.keys.log_origin == healthcode_service::DEFAULT_LOG_ORIGIN
                && args.keys.region != healthcode_service::DEFAULT_REGION
            {
                args.keys.log_origin = format!("healthcode/{}/log", args.keys.region);
            }
            runtime.block_on(serve::serve(args)).map(|()| 0)
        }
        Command::Hub { command: national::HubCommand::Serve(mut args) } => {
            args.national.hub = true;
            national::name_the_hub_log(&mut args.keys);
            runtime.block_on(serve::serve(args)).map(|()| 0)
        }
        Command::Hub { command } => runtime.block_on(national::run_operator(command)),
        Command::Scenario { command: ScenarioCommand::Run { paths, json, rules } } => {
            let rules = load_rules(rules.as_ref())?;
            Ok(runtime.block_on(scenario::run(&paths, &rules, json)).exit_code())
        }
        Command::Rules { command: RulesCommand::Show { rules: None } } => {
            print!("{}", healthcode_rules::REFERENCE_RULES_TOML);
            Ok(0)
        }
        Command::Rules { command: RulesCommand::Show { rules: Some(file) } | RulesCommand::Check { file } } => {
            let rules = load_rules(Some(&file))?;
            println!("{} {} ({})", rules.name(), rules.version(), rules.digest());
            for rule in rules.rules() {
                println!("  {:<4} {:?}  {} / {}", rule.id, rule.colour, rule.title.zh, rule.title.en);
            }
            Ok(0)
        }
        Command::Rejections(args) => runtime.block_on(serve::list_rejections(args)).map(|()| 0),
        Command::Keys(args) => keys::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Audit(args) => runtime.block_on(audit::run(args)),
        Command::Accounts(args) => runtime.block_on(accounts::run(args)),
        Command::Research { command: ResearchCommand::Export(args) } => runtime.block_on(research::run(args)),
        Command::Vault { command } => runtime.block_on(vault::run(command)),
        Command::Destroy(args) => runtime.block_on(destroy::run(args)),
        Command::Upload(args) => runtime.block_on(upload::run(args)),
        Command::Generate(args) => runtime.block_on(generate::run(args)),
        Command::Openapi => {
            println!("{}", healthcode_server::openapi_document());
            Ok(0)
        }
        Command::Bench { command } => runtime.block_on(bench::run(command)).map(|()| 0),
    }
}

/// The rule set from a file (TOML or JSON), or the default one.
pub fn load_rules(path: Option<&PathBuf>) -> anyhow::Result<RuleSet> {
    match path {
        None => Ok(RuleSet::reference()),
        Some(path) => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("cannot read rule set {}", path.display()))?;
            RuleSet::parse(&text).with_context(|| format!("rule set {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    /// Clap checks the whole command line (unique argument names across flattened groups,
    /// `requires` naming real arguments…) only when a subcommand runs; this runs them all.
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
