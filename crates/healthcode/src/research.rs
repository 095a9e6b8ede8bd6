//! `healthcode research export`: aggregate counts for researchers, with differential
//! privacy and small cells withheld (see `healthcode_service::research_export`). Prints
//! CSV (area, day or colour, count) and, on stderr, what was spent and what remains.

use anyhow::Context;
use clap::{Args, ValueEnum};
use healthcode_domain::Timestamp;
use healthcode_service::ResearchRequest;
use healthcode_store::ResearchMetric;

use crate::serve::KeyFiles;

#[derive(Clone, Copy, ValueEnum)]
enum Metric {
    /// Persons by current code colour and residence area.
    Codes,
    /// Persons tested, by residence area and day.
    Tests,
    /// Persons who checked in anywhere, by residence area and day.
    Checkins,
}

#[derive(Args)]
pub struct ResearchArgs {
    #[command(flatten)]
    store: crate::serve::StoreLocation,
    #[command(flatten)]
    keys: KeyFiles,
    #[arg(long, value_enum)]
    metric: Metric,
    /// First day (YYYY-MM-DD, China Standard Time).
    #[arg(long)]
    from: String,
    /// Last day, included.
    #[arg(long)]
    to: String,
    /// ε this release spends from the budget.
    #[arg(long, default_value_t = 0.5)]
    epsilon: f64,
    /// Cells whose noisy count is below this are withheld.
    #[arg(long, default_value_t = 10)]
    k: u64,
    /// The budget's total ε, used only when its ledger is first created.
    #[arg(long, default_value_t = 10.0)]
    budget: f64,
}

fn day(text: &str, what: &str) -> anyhow::Result<Timestamp> {
    Timestamp::parse(&format!("{text}T00:00:00+08:00"))
        .map_err(|e| anyhow::anyhow!("--{what} `{text}`: {e}; write YYYY-MM-DD"))
}

pub async fn run(args: ResearchArgs) -> anyhow::Result<i32> {
    let from = day(&args.from, "from")?;
    let to = Timestamp::from_millis(day(&args.to, "to")?.as_millis() + 86_400_000);
    let metric = match args.metric {
        Metric::Codes => ResearchMetric::CodesByColour,
        Metric::Tests => ResearchMetric::TestedByDay,
        Metric::Checkins => ResearchMetric::CheckedInByDay,
    };
    let store = args.store.open().await?;
    let service = args.keys.open_service(store, healthcode_rules::RuleSet::reference()).await?;
    let request = ResearchRequest { metric, from, to, epsilon: args.epsilon, k: args.k, total_epsilon: args.budget };
    let export = service.research().export(&request).await.context("the release was refused")?;
    println!("area,{},persons", if metric == ResearchMetric::CodesByColour { "colour" } else { "day" });
    for cell in &export.cells {
        println!("{},{},{}", cell.area, cell.key, cell.count);
    }
    eprintln!(
        "{}: {} cells released, {} withheld below k={}; {} with ε={} (sensitivity {}); budget {} of {} ε left",
        export.label,
        export.cells.len(),
        export.suppressed,
        export.k,
        export.mechanism,
        export.epsilon,
        export.sensitivity,
        export.budget_remaining,
        export.budget_total
    );
    Ok(0)
}
