//! The demo region: a synthetic province loaded into an empty store, dated so that its
//! story ends now, so a newcomer sees real colours at once.

use std::sync::Arc;

use healthcode_domain::{AreaCode, Department, Duration, Role, Timestamp};
use healthcode_service::{AtPolicy, HealthService, NewAccount};
use healthcode_store::PersonRecord;
use healthcode_synth::{generate, to_ndjson_line, RegionConfig, SynthRecord};

const BATCH: usize = 5_000;

/// Loads the demo region into an empty store and creates its demo accounts; returns what
/// to tell the newcomer about them (their API keys and passwords are shown this once).
pub async fn load_if_empty(service: &Arc<HealthService>) -> anyhow::Result<Option<String>> {
    if service.overview().stats().await?.persons > 0 {
        tracing::info!("the store already has persons; not loading the demo region again");
        return Ok(None);
    }
    let mut config = RegionConfig::demo();
    let now = service.now();
    // Whole days, so the story's times look like a real timetable.
    let day = Duration::days(1).as_millis();
    let today = Timestamp::from_millis(now.as_millis() - now.as_millis().rem_euclid(day));
    config.start = today.saturating_sub(Duration::days(i64::from(config.days) - 1));
    let summary = load(service, &config).await?;
    tracing::info!(persons = summary.0, events = summary.1, rejected = summary.2, "demo region loaded");
    Ok(Some(accounts(service).await?))
}

/// One account of each kind a newcomer needs to try the API: two departments' feeds, a
/// local office, two provincial officers (a decision needs two), an auditor and a
/// complaint handler. The staff
/// among them also get a random password, to sign in to the officials' pages
/// (`/staff/login`); like the keys, it is shown this once and stored only as its hash.
async fn accounts(service: &HealthService) -> anyhow::Result<String> {
    let office = |role, area: &str| {
        Ok::<_, anyhow::Error>((role, Some(AreaCode::parse(area).map_err(anyhow::Error::msg)?), None))
    };
    let wanted = [
        ("demo-health", (Role::DataSource, None, Some(Department::Health))),
        ("demo-telecom", (Role::DataSource, None, Some(Department::Telecom))),
        ("demo-hangzhou-office", office(Role::LocalOffice, "330100")?),
        ("demo-province-1", office(Role::ProvincialOffice, "330000")?),
        ("demo-province-2", office(Role::ProvincialOffice, "330000")?),
        ("demo-auditor", (Role::Auditor, None, None)),
        ("demo-complaints", (Role::ComplaintHandler, None, None)),
    ];
    let mut said = String::from(
        "demo accounts, shown once: API keys go in `Authorization: Bearer <key>`; the officials sign in to \
         /staff/login with their password:\n",
    );
    for (username, (role, jurisdiction, department)) in wanted {
        // Data feeds are systems: keys only. People sign in.
        let password = (role != Role::DataSource).then(demo_password);
        let new =
            NewAccount { username: username.to_string(), password: password.clone(), role, jurisdiction, department };
        service.accounts().create(new).await?;
        let key = service.accounts().issue_api_key(username, "demo").await?;
        said.push_str(&format!("  {username:<22} {:<18} {key}", role.as_str()));
        if let Some(password) = password {
            said.push_str(&format!("  password {password}"));
        }
        said.push('\n');
    }
    Ok(said)
}

/// 16 characters from an alphabet without look-alikes (no 0/O, 1/l/I): about 90 bits,
/// easy to copy from a terminal by hand.
fn demo_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// Loads a synthetic region through the ingestion path. Returns (persons, events, rejected).
pub async fn load(service: &HealthService, config: &RegionConfig) -> anyhow::Result<(u64, u64, u64)> {
    let mut persons = 0u64;
    let mut events = 0u64;
    let mut rejected = 0u64;
    let mut rows = Vec::with_capacity(BATCH);
    let mut ids = Vec::new();
    for record in generate(config)? {
        match &record {
            SynthRecord::Person { id, kind, residence_area, registered_at } => {
                // The stream yields each person before their evidence, so registering
                // as we go means every batch finds its persons registered.
                let person = PersonRecord {
                    id: id.clone(),
                    kind: *kind,
                    registered_at: *registered_at,
                    residence_area: Some(residence_area.clone()),
                };
                service.residents().import_persons(std::slice::from_ref(&person)).await?;
                ids.push(id.clone());
                persons += 1;
            }
            _ => {
                if let Some(line) = to_ndjson_line(&record) {
                    rows.push(line);
                }
                if rows.len() >= BATCH {
                    events += flush(service, &mut rows, &mut rejected).await?;
                }
            }
        }
    }
    events += flush(service, &mut rows, &mut rejected).await?;
    // Persons without evidence need a (green) code too.
    service.codes().refresh_persons(&ids).await?;
    Ok((persons, events, rejected))
}

async fn flush(service: &HealthService, rows: &mut Vec<String>, rejected: &mut u64) -> anyhow::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let report = service.evidence().ingest(rows, AtPolicy::Supplied, "demo region").await?;
    *rejected += report.rejected as u64;
    let n = rows.len() as u64;
    rows.clear();
    Ok(n)
}
