//! `healthcode accounts`: staff and system accounts, made by an operator on the machine
//! (there is no HTTP route that creates accounts: that would be a way around the roles).

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use healthcode_domain::{AreaCode, Department, Role};
use healthcode_service::NewAccount;

#[derive(Args)]
pub struct AccountsArgs {
    #[arg(long, env = "HEALTHCODE_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    #[arg(long, env = "HEALTHCODE_DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: AccountsCommand,
}

#[derive(Subcommand)]
enum AccountsCommand {
    /// Create an account. Staff get a password (read from standard input); systems get an
    /// API key with --api-key.
    Add {
        username: String,
        /// `data_source`, `venue_operator`, `verifier_device`, `local_office`,
        /// `provincial_office`, `auditor`, `complaint_handler`, `third_party`; at the
        /// national hub, `region` (with its province code as `--jurisdiction`)
        #[arg(long)]
        role: String,
        /// For a data source: health, police, telecom, customs, border, transport,
        /// aviation, railway, community
        #[arg(long)]
        department: Option<String>,
        /// For an office: the area code it acts within (e.g. 330100)
        #[arg(long)]
        jurisdiction: Option<String>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
        /// Also issue an API key with this label, and print it.
        #[arg(long, value_name = "LABEL")]
        api_key: Option<String>,
    },
    /// Issue a new API key for an account, and print it (shown once).
    ApiKey {
        username: String,
        #[arg(long, default_value = "api key")]
        label: String,
    },
}

fn now() -> healthcode_domain::Timestamp {
    use healthcode_service::Clock;
    healthcode_service::SystemClock.now()
}

pub async fn run(args: AccountsArgs) -> anyhow::Result<i32> {
    let store = crate::serve::open_store(&args.data_dir, args.database_url.as_deref()).await?;
    match args.command {
        AccountsCommand::Add { username, role, department, jurisdiction, password_stdin, api_key } => {
            let role = Role::parse_named(&role).map_err(|e| anyhow::anyhow!("--role: {}", e.message))?;
            let department = department
                .map(|d| Department::parse_named(&d))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--department: {}", e.message))?;
            let jurisdiction = jurisdiction
                .map(|a| AreaCode::parse(&a))
                .transpose()
                .map_err(|m| anyhow::anyhow!("--jurisdiction: {m}"))?;
            let password = if password_stdin {
                let mut text = String::new();
                std::io::stdin().read_to_string(&mut text).context("cannot read the password")?;
                Some(text.lines().next().unwrap_or_default().to_string())
            } else {
                None
            };
            let new = NewAccount { username: username.clone(), password, role, jurisdiction, department };
            let account = healthcode_service::create_account(store.as_ref(), now(), new).await?;
            println!("created {} ({})", account.username, account.role);
            if let Some(label) = api_key {
                println!("{}", healthcode_service::issue_api_key(store.as_ref(), now(), &username, &label).await?);
            }
        }
        AccountsCommand::ApiKey { username, label } => {
            println!("{}", healthcode_service::issue_api_key(store.as_ref(), now(), &username, &label).await?);
        }
    }
    Ok(0)
}
