//! Keeping codes current. Three paths share one step (`refresh_at`):
//! - incremental: the persons new evidence concerns, at once;
//! - scheduled: persons whose next change has come (`run_due`), from the queue;
//! - bulk: persons an area designation or a rule-set change can affect, queued and drained.

use std::collections::HashMap;
use std::sync::Arc;

use healthcode_domain::{AreaRisk, Colour, Event, PersonId, Timestamp};
use healthcode_rules::RuleSet;
use healthcode_store::{
    CodeState, CodeStore, CodeSummary, ColourChangeCount, EvidenceStore, PersonRecord, ReasonEvidence, StoreError,
};
use serde::Serialize;

use crate::codes::Shared;
use crate::transparency::{salt_of, PendingChange};
use crate::{Codes, ServiceError};

/// Persons per store round trip: large enough to amortise it, small enough to keep
/// memory flat.
const CHUNK: usize = 10_000;

/// Persons claimed off the queue at once, unless set otherwise (`Codes::set_claim_page`):
/// one claim per page rather than per chunk keeps the claims off SQLite's busiest stage,
/// its one writer (BENCHMARKS.md, issue 16); a page is still a small share of a
/// province-wide designation.
pub const CLAIM_PAGE: usize = 5 * CHUNK;

/// How long a page taken off the queue is this server's alone: long enough to evaluate
/// and save it (a few seconds), short enough that a dead server's share returns soon.
const CLAIM: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshReport {
    pub evaluated: u64,
    /// How many codes changed colour.
    pub changed: u64,
}

impl RefreshReport {
    fn add(&mut self, other: RefreshReport) {
        self.evaluated += other.evaluated;
        self.changed += other.changed;
    }
}

/// How many times persons whose codes another evaluation saved meanwhile are evaluated
/// again before they are left to the scheduler.
const CONFLICT_ROUNDS: u32 = 6;

impl Codes {
    /// Re-evaluates these persons now and saves their codes (the incremental path). Their
    /// queue entries that are due are claimed first: the save then replaces them with the
    /// next change, and anything queued for them after the claim (another server's
    /// designation) stays queued, because this evaluation may not have seen it.
    pub async fn refresh_persons(&self, persons: &[PersonId]) -> Result<RefreshReport, ServiceError> {
        if persons.is_empty() {
            return Ok(RefreshReport::default());
        }
        let now = self.clock.now();
        self.code_store.claim_persons(persons, now, claim_until(now)).await?;
        // After the claim: a designation whose persons were queued before it is seen.
        self.follow_designations().await?;
        self.refresh_at(persons, now).await
    }

    /// Refreshes persons; those whose code another evaluation saved between this one's
    /// reading and saving (two servers, or the scheduler beside an ingestion) are read and
    /// evaluated again, so that a stale evaluation never overwrites a newer code. One that
    /// keeps losing (many evaluations of one person at once) is left on the queue, due now,
    /// for the scheduler's next run.
    async fn refresh_at(&self, persons: &[PersonId], now: Timestamp) -> Result<RefreshReport, ServiceError> {
        let mut report = RefreshReport::default();
        let mut again = self.refresh_pass(Persons::Given(persons.chunks(CHUNK)), now, &mut report).await?;
        for round in 0..CONFLICT_ROUNDS {
            if again.is_empty() {
                return Ok(report);
            }
            tracing::debug!(persons = again.len(), "codes saved meanwhile by another evaluation; evaluating again");
            // A moment apart, so that evaluations that collided do not collide again.
            let jitter = rand::Rng::gen_range(&mut rand::thread_rng(), 0..=(2u64 << round));
            tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
            again = self.refresh_pass(Persons::Given(again.chunks(CHUNK)), now, &mut report).await?;
        }
        if !again.is_empty() {
            tracing::warn!(persons = again.len(), "codes kept being saved by other evaluations; left queued");
            self.code_store.queue_persons(&again, now).await?;
        }
        Ok(report)
    }

    /// One pass over persons, chunk by chunk as a pipeline: while one chunk is evaluated,
    /// the next is read (by a reader connection) and the previous ones saved (as many at
    /// once as the store's `saves_at_once`: on PostgreSQL one writes its codes while the
    /// other appends its log entries, `CodeStore::stage_codes`). A bounded number of chunks
    /// is in each stage, so memory stays flat. Returns the persons of chunks whose save
    /// found a code saved meanwhile (nothing of such a chunk is saved).
    async fn refresh_pass(
        &self,
        mut persons: Persons<'_>,
        now: Timestamp,
        report: &mut RefreshReport,
    ) -> Result<Vec<PersonId>, ServiceError> {
        let mut conflicted = Vec::new();
        let mut next = persons.next(self);
        let mut saving: std::collections::VecDeque<Saving> = Default::default();
        let salt_key = self.log.salt_key();
        let requeue = persons.is_paged();
        while let Some((loading, mut finishes)) = next.take() {
            let Some((loaded, claimed)) = joined(loading.await)? else { break };
            let fresh_claim = claimed.is_some();
            if let Some(Fresh { rest, page }) = claimed {
                if rest.is_empty() {
                    finishes = page;
                } else {
                    persons.keep(rest, page);
                }
            }
            next = persons.next(self);
            if fresh_claim {
                // After the claim: what queued these persons (another server's designation
                // or rule set) is known here before they are evaluated.
                self.follow().await?;
            }
            let shared = self.shared();
            let evaluated =
                joined(tokio::task::spawn_blocking(move || Ok(evaluate_chunk(&shared, loaded, now, &salt_key))).await)?;
            // Room for this chunk's save first, settling in order, so that a page is
            // finished only once every chunk of it before is saved.
            while saving.len() >= self.code_store.saves_at_once().max(1) {
                if let Some(oldest) = saving.pop_front() {
                    self.settle(oldest, report, &mut conflicted, now).await?;
                }
            }
            let Evaluated { codes, changes, report: chunk_report, counts } = evaluated;
            let persons: Vec<PersonId> = codes.iter().map(|c| c.person.clone()).collect();
            let log = self.log.clone();
            let task = tokio::spawn(async move { log.save_codes(&codes, &changes, now).await });
            saving.push_back(Saving { task, persons, report: chunk_report, counts, finishes, requeue });
        }
        while let Some(oldest) = saving.pop_front() {
            self.settle(oldest, report, &mut conflicted, now).await?;
        }
        Ok(conflicted)
    }

    /// Waits for a chunk's save: counts it in the report and the colour-change alarms, or
    /// keeps its persons to evaluate again if another evaluation saved one of them first
    /// (a page's persons go back on the queue, durably, so that the page can be finished).
    /// The last chunk of a page finishes it.
    async fn settle(
        &self,
        saving: Saving,
        report: &mut RefreshReport,
        conflicted: &mut Vec<PersonId>,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        match joined(saving.task.await) {
            Ok(()) => {
                report.add(saving.report);
                self.alarms.count_colour_changes(&saving.counts, now).await?;
            }
            Err(ServiceError::Store(StoreError::CodeConflict { .. })) if saving.requeue => {
                self.code_store.queue_persons(&saving.persons, now).await?;
            }
            Err(ServiceError::Store(StoreError::CodeConflict { .. })) => conflicted.extend(saving.persons),
            Err(e) => return Err(e),
        }
        if let Some(page) = saving.finishes {
            self.code_store.finish_page(page).await?;
        }
        Ok(())
    }

    /// Re-evaluates every queued person whose time has come (the scheduled path; also
    /// drains what a bulk change queued). Call it periodically. Each page is claimed
    /// (`claim_due_persons`): several servers draining the queue at once each take their
    /// own share, and the share of one that dies returns to the queue when its claim ends.
    pub async fn run_due(&self) -> Result<RefreshReport, ServiceError> {
        let now = self.clock.now();
        let mut report = RefreshReport::default();
        // A bulk re-evaluation's pages first (a page's conflicts go back on the queue),
        // then the queue.
        self.refresh_pass(Persons::claimed(now, ClaimFrom::Pages), now, &mut report).await?;
        let conflicted = self
            .refresh_pass(Persons::claimed(now, ClaimFrom::Queue { page: self.claim_page() }), now, &mut report)
            .await?;
        if !conflicted.is_empty() {
            // Still claimed by this server: evaluated again until saved, or queued again.
            report.add(self.refresh_at(&conflicted, now).await?);
        }
        Ok(report)
    }

    /// Re-evaluates every person with evidence, whatever the queue says (bulk, e.g. after
    /// restoring a backup). Persons without evidence are green under any rule set.
    pub async fn refresh_all(&self) -> Result<RefreshReport, ServiceError> {
        self.code_store.queue_persons_with_evidence(Timestamp::MIN).await?;
        self.run_due().await
    }

    /// Activates a new rule set and re-evaluates everyone it can affect.
    pub async fn replace_rules(&self, rules: RuleSet) -> Result<RefreshReport, ServiceError> {
        self.set_rules(rules);
        self.refresh_all().await
    }

    /// Records new designations in the shared index and re-evaluates the persons whose
    /// stays they cover: only stays that can still touch a window from now on. The
    /// persons are put on the queue (due when the designation is: at once, or when one
    /// recorded for the future becomes visible) and the designation is marked applied;
    /// then the queue is drained. Other servers drain it too, so a province-wide
    /// designation is shared between them, and one whose server dies half-way is finished
    /// by the others. A crash between recording and queueing leaves the designation
    /// unapplied: `queue_unapplied_designations` finishes it.
    pub(crate) async fn apply_designations(&self, added: Vec<Event<AreaRisk>>) -> Result<RefreshReport, ServiceError> {
        if added.is_empty() {
            return Ok(RefreshReport::default());
        }
        let seqs: Vec<i64> = added.iter().map(|d| d.seq).collect();
        let started = std::time::Instant::now();
        let queued = self.queue_persons_of(&added).await?;
        self.add_designations(added);
        self.evidence_store.mark_designations_applied(&seqs).await?;
        tracing::debug!(seconds = started.elapsed().as_secs_f64(), queued, "persons under the designated areas queued");
        let report = self.run_due().await?;
        tracing::debug!(
            seconds = started.elapsed().as_secs_f64(),
            evaluated = report.evaluated,
            "designations applied"
        );
        Ok(report)
    }

    /// Puts the persons whose stays a designation can touch on pages, due when it takes
    /// effect: servers share them a page at a time (`claim_page`), with one write per page
    /// rather than a queue entry and a claim per person (BENCHMARKS.md, issue 16).
    async fn queue_persons_of(&self, designations: &[Event<AreaRisk>]) -> Result<u64, ServiceError> {
        let window = self.rules().window();
        let mut queued = 0;
        for d in designations {
            queued += self
                .code_store
                .page_persons_with_stays_under(
                    d.body.area.normal(),
                    d.at.saturating_sub(window),
                    d.at,
                    self.claim_page(),
                )
                .await?;
        }
        Ok(queued)
    }

    /// Queues the persons of designations whose application was interrupted (a crash
    /// between recording and queueing); the next `run_due` re-evaluates them. At start
    /// every one is (`grace` zero); the scheduler leaves alone those recorded within
    /// `grace`, which the server that recorded them may still be queueing.
    pub async fn queue_unapplied_designations(&self, grace: std::time::Duration) -> Result<usize, ServiceError> {
        let settled_before = self.clock.now().as_millis().saturating_sub(grace.as_millis() as i64);
        let pending: Vec<Event<AreaRisk>> = self
            .evidence_store
            .unapplied_designations()
            .await?
            .into_iter()
            .filter(|d| d.at.as_millis() <= settled_before)
            .collect();
        if pending.is_empty() {
            return Ok(0);
        }
        self.queue_persons_of(&pending).await?;
        let seqs: Vec<i64> = pending.iter().map(|d| d.seq).collect();
        self.add_designations(pending);
        self.evidence_store.mark_designations_applied(&seqs).await?;
        tracing::info!(designations = seqs.len(), "queued the persons of designations left unapplied");
        Ok(seqs.len())
    }
}

/// Where a pass takes its persons from, a chunk at a time.
enum Persons<'a> {
    /// These, in chunks (the incremental path, and persons evaluated again).
    Given(std::slice::Chunks<'a, PersonId>),
    /// Claimed a page at a time (from the queue, or a bulk re-evaluation's pages) and
    /// evaluated a chunk at a time, until none is left: several servers draining at once
    /// share the work page by page. `left` is the rest of the page being evaluated;
    /// `holding` the bulk page it came from, finished once its last chunk is saved.
    Claimed { now: Timestamp, from: ClaimFrom, left: Vec<PersonId>, holding: Option<i64> },
}

/// What a claim takes.
#[derive(Clone, Copy)]
enum ClaimFrom {
    /// Up to `page` due persons off the queue (`claim_due_persons`).
    Queue { page: usize },
    /// One bulk page (`claim_page`).
    Pages,
}

/// What a chunk that opened a claim brings besides its persons: the rest of the claim,
/// and the page it came from (a bulk re-evaluation's).
struct Fresh {
    rest: Vec<PersonId>,
    page: Option<i64>,
}

/// A chunk read for evaluation; with the rest of its claim if it opened one.
type Loading = tokio::task::JoinHandle<Result<Option<(Loaded, Option<Fresh>)>, ServiceError>>;

impl Persons<'_> {
    fn claimed(now: Timestamp, from: ClaimFrom) -> Self {
        Persons::Claimed { now, from, left: Vec::new(), holding: None }
    }

    /// Starts reading the next chunk (claiming a page first when the last one is handed
    /// out): `None` when there is none, or a task that finds none (`Ok(None)`); with the
    /// bulk page the chunk finishes, when it is the last of one.
    fn next(&mut self, codes: &Codes) -> Option<(Loading, Option<i64>)> {
        let (evidence, code_store) = (codes.evidence_store.clone(), codes.code_store.clone());
        let (chunk, finishes) = match self {
            Persons::Given(chunks) => (chunks.next()?.to_vec(), None),
            Persons::Claimed { left, holding, .. } if !left.is_empty() => {
                let rest = left.split_off(left.len().min(CHUNK));
                let chunk = std::mem::replace(left, rest);
                (chunk, if left.is_empty() { holding.take() } else { None })
            }
            // Called again only once this claim's page is handed out: one claim at a time.
            &mut Persons::Claimed { now, from, .. } => {
                let claim = tokio::spawn(async move {
                    let (persons, page) = match from {
                        ClaimFrom::Queue { page } => {
                            (code_store.claim_due_persons(now, page.max(1), claim_until(now)).await?, None)
                        }
                        ClaimFrom::Pages => match code_store.claim_page(now, claim_until(now)).await? {
                            Some(page) => (page.persons, Some(page.id)),
                            None => (Vec::new(), None),
                        },
                    };
                    open_claim(evidence, code_store, persons, page).await
                });
                return Some((claim, None));
            }
        };
        Some((tokio::spawn(async move { load(evidence, code_store, chunk).await.map(|l| Some((l, None))) }), finishes))
    }

    /// Keeps the rest of a claim just opened, to hand out chunk by chunk.
    fn keep(&mut self, rest: Vec<PersonId>, page: Option<i64>) {
        if let Persons::Claimed { left, holding, .. } = self {
            *left = rest;
            *holding = page;
        }
    }

    /// Whether the persons come from a bulk re-evaluation's pages.
    fn is_paged(&self) -> bool {
        matches!(self, Persons::Claimed { from: ClaimFrom::Pages, .. })
    }
}

/// Reads the first chunk of a claim just taken (none if it is empty), keeping the rest.
async fn open_claim(
    evidence: Arc<dyn EvidenceStore>,
    code_store: Arc<dyn CodeStore>,
    mut persons: Vec<PersonId>,
    page: Option<i64>,
) -> Result<Option<(Loaded, Option<Fresh>)>, ServiceError> {
    if persons.is_empty() && page.is_none() {
        return Ok(None);
    }
    let rest = persons.split_off(persons.len().min(CHUNK));
    load(evidence, code_store, persons).await.map(|l| Some((l, Some(Fresh { rest, page }))))
}

/// The end of a claim on queue entries taken at `now`.
fn claim_until(now: Timestamp) -> Timestamp {
    now.saturating_add(CLAIM.into())
}

/// A chunk being saved, and what to count once it is.
struct Saving {
    task: tokio::task::JoinHandle<Result<(), ServiceError>>,
    persons: Vec<PersonId>,
    report: RefreshReport,
    counts: Vec<ColourChangeCount>,
    /// The bulk page this chunk is the last of, finished once it is saved.
    finishes: Option<i64>,
    /// Whether a conflict puts the persons back on the queue (a page's) rather than
    /// evaluating them again in this call.
    requeue: bool,
}

/// A chunk's evaluation: the codes to save, the colour changes to log, and the persons
/// turned red, orange or yellow by origin and city.
struct Evaluated {
    codes: Vec<CodeState>,
    changes: Vec<PendingChange>,
    report: RefreshReport,
    counts: Vec<ColourChangeCount>,
}

/// Evaluates a chunk of persons (CPU only: run on the blocking pool) into the code states
/// to save and the colour changes to log. A person's first code is logged unless it is
/// green (a code with no entry has been green since registration).
fn evaluate_chunk(shared: &Shared, loaded: Loaded, now: Timestamp, salt_key: &[u8; 32]) -> Evaluated {
    let Loaded { records, previous, histories } = loaded;
    let next_designation = shared.designations.iter().map(|d| d.at).find(|&at| at > now);
    let hour = now.as_millis().div_euclid(3_600_000);
    let mut report = RefreshReport::default();
    let mut codes = Vec::with_capacity(histories.len());
    let mut changes = Vec::new();
    let mut counts: HashMap<(String, String), u64> = HashMap::new();
    for (person, events) in &histories {
        let Some(record) = records.get(person) else { continue };
        let evaluation = shared.rules.evaluate(record.kind, events, &shared.areas, now);
        let before = previous.get(person);
        let since = match before {
            Some(b) if b.colour == evaluation.colour => b.since,
            Some(b) => changed_at(b, events, now),
            None => now,
        };
        if before.is_some_and(|b| b.colour != evaluation.colour) {
            report.changed += 1;
        }
        let logged = match before {
            Some(b) => b.colour != evaluation.colour,
            None => evaluation.colour != healthcode_domain::Colour::Green,
        };
        if logged {
            let behind: Vec<&healthcode_domain::EventId> =
                evaluation.reasons.iter().flat_map(|r| r.evidence.iter().copied()).collect();
            let origin = (evaluation.colour != Colour::Green).then(|| origin_of(&behind, events, &shared.designations));
            if let Some(origin) = &origin {
                if severity(evaluation.colour) > before.map_or(0, |b| severity(b.colour)) {
                    *counts.entry((origin.clone(), city_of(record))).or_default() += 1;
                }
            }
            let salt = salt_of(salt_key, person);
            changes.push(PendingChange {
                person: person.clone(),
                old: before.map(|b| b.colour),
                new: evaluation.colour,
                rules: evaluation.reasons.iter().map(|r| r.rule.to_string()).collect(),
                evidence_digests: behind
                    .iter()
                    .filter_map(|id| evidence_digest(id, events, &shared.designations, &salt))
                    .collect(),
                rule_set_version: shared.rules.version().to_string(),
                origin,
            });
        }
        report.evaluated += 1;
        codes.push(CodeState {
            person: person.clone(),
            colour: evaluation.colour,
            reasons: evaluation.reasons.iter().map(|r| r.rule.to_string()).collect(),
            evidence: evaluation
                .reasons
                .iter()
                .map(|r| ReasonEvidence {
                    rule: r.rule.to_string(),
                    events: r.evidence.iter().map(|&id| id.clone()).collect(),
                })
                .collect(),
            since,
            evaluated_at: now,
            rules_version: shared.rules.version().to_string(),
            next_change: earliest([evaluation.next_change, next_recorded(events, now), next_designation]),
            revision: before.map_or(1, |b| b.revision + 1),
        });
    }
    let counts =
        counts.into_iter().map(|((origin, area), persons)| ColourChangeCount { hour, origin, area, persons }).collect();
    Evaluated { codes, changes, report, counts }
}

/// How bad a colour is, for counting changes for the worse.
fn severity(colour: Colour) -> u8 {
    match colour {
        Colour::Green => 0,
        Colour::Yellow => 1,
        Colour::Orange | Colour::Red => 2,
    }
}

/// The residence city (four digits) a colour change is counted under, or the region for
/// a person without one.
fn city_of(record: &PersonRecord) -> String {
    match &record.residence_area {
        Some(area) => area.normal().chars().take(4).collect(),
        None => "region".to_string(),
    }
}

/// What made a code red, orange or yellow: the newest of the events behind the rules that
/// hold. A designation, a decision (only approved decisions become `management_decision`
/// evidence), an approved trace (its evidence ids are the system's own, `hc-trace-…`,
/// which feeds may not use), another region's record through the national hub
/// (`national:<region>:<event type>`), or else a department's feed, by event type.
fn origin_of(
    behind: &[&healthcode_domain::EventId],
    events: &[Event<healthcode_domain::Evidence>],
    designations: &[Event<AreaRisk>],
) -> String {
    let newest_evidence = events.iter().filter(|e| behind.contains(&&e.id)).max_by_key(|e| e.order_key());
    let newest_designation = designations.iter().filter(|d| behind.contains(&&d.id)).max_by_key(|d| d.order_key());
    // A designation is this region's, or another region's level of its own area through
    // the national hub (counted apart, so that a burst it causes names that region).
    let designation = |d: &Event<AreaRisk>| match crate::national::exchange::region_of_event(d.id.as_str()) {
        Some(region) => format!("national:{region}:area_risk"),
        None => "designation".into(),
    };
    match (newest_evidence, newest_designation) {
        (Some(e), Some(d)) if d.order_key() > e.order_key() => designation(d),
        (None, Some(d)) => designation(d),
        (Some(e), _) => match &e.body {
            healthcode_domain::Evidence::ManagementDecision { .. } => "decision".into(),
            _ if e.id.as_str().starts_with("hc-trace-") => "trace".into(),
            // A resident's (or a proxy's) own declaration (`hc-decl-…`): counted apart from
            // the departments' feeds, so that a burst of them is seen as declarations.
            _ if e.id.as_str().starts_with("hc-decl-") => "declaration".into(),
            // Another region's record through the national hub (`hc-nat-<region>-…`).
            body => match crate::national::exchange::region_of_event(e.id.as_str()) {
                Some(region) => format!("national:{region}:{}", body.kind()),
                None => format!("feed:{}", body.kind()),
            },
        },
        (None, None) => "time".into(),
    }
}

/// The digest of the event (a person's or a designation) with this id.
fn evidence_digest(
    id: &healthcode_domain::EventId,
    events: &[Event<healthcode_domain::Evidence>],
    designations: &[Event<AreaRisk>],
    salt: &[u8; 32],
) -> Option<String> {
    events
        .iter()
        .find(|e| &e.id == id)
        .map(|e| crate::transparency::salted_digest(salt, e))
        .or_else(|| designations.iter().find(|d| &d.id == id).map(crate::transparency::digest))
}

/// The result of a background task, its panic or cancellation turned into an error.
fn joined<T>(result: Result<Result<T, ServiceError>, tokio::task::JoinError>) -> Result<T, ServiceError> {
    result.map_err(|e| ServiceError::Background(e.to_string()))?
}

/// What evaluating a chunk of persons needs from the store.
struct Loaded {
    records: HashMap<PersonId, PersonRecord>,
    previous: HashMap<PersonId, CodeSummary>,
    histories: Vec<(PersonId, Vec<Event<healthcode_domain::Evidence>>)>,
}

async fn load(
    evidence: Arc<dyn EvidenceStore>,
    codes: Arc<dyn CodeStore>,
    persons: Vec<PersonId>,
) -> Result<Loaded, ServiceError> {
    let store = evidence.as_ref();
    let records = store.persons(&persons).await?.into_iter().map(|p| (p.id.clone(), p)).collect();
    let previous = codes.code_summaries(&persons).await?.into_iter().map(|c| (c.person.clone(), c)).collect();
    let histories = store.evidence_for_many(&persons).await?;
    Ok(Loaded { records, previous, histories })
}

/// When a colour that differs from the stored one took effect: at the stored next change
/// if time alone changed it (no evidence since the last evaluation), else now.
fn changed_at(before: &CodeSummary, events: &[Event<healthcode_domain::Evidence>], now: Timestamp) -> Timestamp {
    let newest_evidence = events.iter().map(|e| e.at).max();
    match before.next_change {
        Some(t) if t <= now && newest_evidence.is_none_or(|n| n <= before.evaluated_at) => t,
        _ => now,
    }
}

/// Evidence recorded with an `at` after now (possible only when sources supply `at`)
/// becomes visible later: the code must be evaluated again then.
fn next_recorded(events: &[Event<healthcode_domain::Evidence>], now: Timestamp) -> Option<Timestamp> {
    events.iter().map(|e| e.at).find(|&at| at > now)
}

fn earliest<const N: usize>(times: [Option<Timestamp>; N]) -> Option<Timestamp> {
    times.into_iter().flatten().min()
}
