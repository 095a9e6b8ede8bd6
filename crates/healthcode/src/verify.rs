//! `healthcode verify TOKEN|IMAGE.png`: checks a resident's code offline, against a
//! trust list file checked with the pinned root key, and prints the decision.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use healthcode_domain::{access_decision, PresentedBy, Timestamp, VenueCategory};
use healthcode_token::{SignedTrustList, VerifyOptions, DEFAULT_CLOCK_SKEW_SECS};

#[derive(Args)]
pub struct VerifyArgs {
    /// The code: `HC1:…` text, or a PNG image of its QR.
    pub code: String,
    /// The signed trust list, as served by `GET /v1/trust-list` (cache it for offline use).
    #[arg(long, env = "HEALTHCODE_TRUST_LIST", default_value = "trust-list.json")]
    pub trust_list: PathBuf,
    /// The root public key (hex) that signs trust lists: `healthcode keys root`.
    #[arg(long, env = "HEALTHCODE_ROOT_KEY")]
    pub root_key: String,
    /// Where the number of the newest trust list accepted is kept (default: the trust
    /// list's path with `.seen` added): an older list is refused, so that a replayed list
    /// cannot bring back a revoked key.
    #[arg(long, env = "HEALTHCODE_TRUST_SEEN")]
    pub seen: Option<PathBuf>,
    /// Verify as at this time (RFC 3339) instead of now.
    #[arg(long)]
    pub at: Option<String>,
    /// Accept only codes of this issuing region (e.g. 33).
    #[arg(long)]
    pub region: Option<String>,
    /// Seconds of clock difference tolerated.
    #[arg(long, default_value_t = DEFAULT_CLOCK_SKEW_SECS)]
    pub skew: i64,
    /// Also say what a venue of this category would decide (e.g. supermarket, bus).
    #[arg(long)]
    pub venue_category: Option<String>,
}

/// Exit code: 0 the code is valid, 1 it is refused, 2 the input could not be read.
pub fn run(args: VerifyArgs) -> anyhow::Result<i32> {
    let root = crate::keys::parse_hex32(&args.root_key)?;
    let text = std::fs::read_to_string(&args.trust_list)
        .with_context(|| format!("cannot read the trust list {}", args.trust_list.display()))?;
    let seen_file = args.seen.clone().unwrap_or_else(|| {
        let mut path = args.trust_list.clone().into_os_string();
        path.push(".seen");
        PathBuf::from(path)
    });
    let seen: Option<u64> = match std::fs::read_to_string(&seen_file) {
        Ok(text) => Some(text.trim().parse().with_context(|| {
            format!(
                "{} does not hold a trust list number; delete it only if you trust the list in use",
                seen_file.display()
            )
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", seen_file.display())),
    };
    let trust = SignedTrustList::from_json(&text)
        .and_then(|signed| signed.open_not_older(&root, seen))
        .with_context(|| format!("the trust list {} cannot be trusted", args.trust_list.display()))?;
    if seen.is_none_or(|seen| trust.sequence > seen) {
        std::fs::write(&seen_file, format!("{}\n", trust.sequence))
            .with_context(|| format!("cannot record the trust list's number in {}", seen_file.display()))?;
    }
    let token = read_code(&args.code)?;
    let now = match &args.at {
        Some(at) => Timestamp::parse(at).map_err(|m| anyhow::anyhow!("--at: {m}"))?,
        None => Timestamp::from_millis(
            i64::try_from(
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis(),
            )
            .unwrap_or(i64::MAX),
        ),
    };
    let options = VerifyOptions {
        now: now.as_millis().div_euclid(1000),
        clock_skew_secs: args.skew,
        expected_region: args.region,
    };
    match healthcode_token::verify_code(&token, &trust, &options) {
        Ok(claims) => {
            println!(
                "valid: {} code, {}, {}, region {}, expires {}",
                claims.kind.as_str(),
                claims.colour,
                if claims.display_name.is_empty() { "(no name)" } else { &claims.display_name },
                claims.issuer,
                Timestamp::from_millis(claims.expires_at * 1000)
            );
            if let Some(category) = &args.venue_category {
                let category = VenueCategory::parse(category).map_err(|e| anyhow::anyhow!(e.message))?;
                let decision = access_decision(claims.colour, category, PresentedBy::Code);
                println!("at a {category}: {:?} ({})", decision.outcome, decision.reason.code());
            }
            Ok(0)
        }
        Err(refused) => {
            println!("refused ({}): {refused}", refused.code());
            Ok(1)
        }
    }
}

/// The token text: the argument itself, or the QR in the PNG file it names.
fn read_code(code: &str) -> anyhow::Result<String> {
    let looks_like_file = code.to_ascii_lowercase().ends_with(".png") || std::path::Path::new(code).is_file();
    if !looks_like_file {
        return Ok(code.trim().to_string());
    }
    let bytes = std::fs::read(code).with_context(|| format!("cannot read {code}"))?;
    healthcode_token::qr::decode_png(&bytes).with_context(|| format!("no readable QR code in {code}"))
}
