//! Crash points: named places between two writes where the fault tests kill the server.
//!
//! `HEALTHCODE_CRASH_AT=<name>` in a server's environment makes it abort — no unwinding, no
//! flushing, as a SIGKILL would leave it — the first time it reaches that point. The fault
//! tests (`crates/healthcode/tests/faults.rs`) start a server so, make it do the action,
//! start it again without the variable, and check that nothing acknowledged was lost and
//! that it finished what it had started by itself. Unset (always, in production), a crash
//! point is one relaxed atomic load.

use std::sync::OnceLock;

/// The points, so that a misspelt name in a test fails instead of never firing.
pub const CRASH_POINTS: &[&str] = &[
    // A rule set's second approval is saved with its log entry; not yet activated.
    "rules.approved",
    // The approved rule set is marked active; codes not yet re-evaluated under it.
    "rules.activating",
    // A decision's second approval is logged with its intent; no evidence ingested yet.
    "decision.approval_logged",
    // The decision's evidence is in (codes re-evaluated); the decision not yet marked applied.
    "decision.evidence_ingested",
    // A designation's approval is logged with its intent; its event not yet stored.
    "designation.approval_logged",
    // A trace confirmation's approval is logged with its intent; no contact stored yet.
    "trace.approval_logged",
    // A checkpoint is signed; not yet stored.
    "checkpoint.signed",
    // `vault rotate`: the new master key is in the key file and one data key is rewrapped
    // under it; the others are not yet.
    "vault.rewrapping",
];

fn armed() -> Option<&'static str> {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    ARMED.get_or_init(|| std::env::var("HEALTHCODE_CRASH_AT").ok().filter(|p| !p.is_empty())).as_deref()
}

/// Aborts the process here if the environment names this point.
pub fn crash_point(name: &'static str) {
    debug_assert!(CRASH_POINTS.contains(&name), "crash point `{name}` is not listed in CRASH_POINTS");
    if armed() == Some(name) {
        eprintln!("HEALTHCODE_CRASH_AT={name}: aborting here, as a killed server would stop");
        std::process::abort();
    }
}
