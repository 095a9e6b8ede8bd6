//! A store that notes which methods the conformance story calls. `run_all` fails when a
//! method of a capability is never called by any check: every method is then compared
//! on both backends, not only the ones someone remembered to test.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use healthcode_domain::{AccessOutcome, AreaCode, AreaRisk, Colour, Event, Evidence, PersonId, Timestamp};

use crate::*;

pub(super) struct Recorder<S> {
    inner: S,
    seen: Arc<Mutex<BTreeSet<&'static str>>>,
}

impl<S> Recorder<S> {
    pub(super) fn new(inner: S, seen: Arc<Mutex<BTreeSet<&'static str>>>) -> Self {
        Recorder { inner, seen }
    }

    fn saw(&self, method: &'static str) {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).insert(method);
    }
}

/// Every method of every capability trait (a test below reads the traits' source to keep
/// this list whole).
pub(super) const METHODS: &[&str] = &[
    "register_person",
    "register_persons",
    "refresh_statistics",
    "person",
    "fill_residence_area",
    "persons",
    "person_count",
    "insert_evidence",
    "evidence_for",
    "evidence_for_many",
    "insert_designations",
    "designations_after",
    "unapplied_designations",
    "mark_designations_applied",
    "persons_with_stays_under",
    "record_rejections",
    "rejections",
    "queue_persons_with_stays_under",
    "page_persons_with_stays_under",
    "claim_page",
    "finish_page",
    "paged_persons",
    "queue_persons_with_evidence",
    "queue_codes_of_other_versions",
    "queue_persons",
    "due_persons",
    "claim_due_persons",
    "claim_persons",
    "queue_len",
    "save_codes",
    "stage_codes",
    "saves_at_once",
    "code",
    "code_card",
    "code_card_with_key",
    "codes",
    "code_summaries",
    "colour_counts",
    "colour_counts_by_area",
    "codes_with_colour",
    "add_colour_changes",
    "colour_changes",
    "mark_colour_burst",
    "commit_feed_chunk",
    "feed_batch",
    "feed_rejections",
    "append_log",
    "log_size",
    "log_nodes",
    "log_leaves",
    "log_indices_of",
    "save_checkpoint",
    "checkpoints",
    "latest_checkpoint",
    "create_account",
    "account_by_username",
    "save_credential",
    "credential",
    "delete_credential",
    "save_decision",
    "replace_decision",
    "decision",
    "decisions",
    "record_alarm",
    "alarms",
    "put_document",
    "replace_document",
    "document",
    "documents",
    "delete_documents_before",
    "save_resident_key",
    "resident_key",
    "has_resident_key",
    "claim_resident_key",
    "delete_resident_keys",
    "save_proxy",
    "end_proxy",
    "proxy_links",
    "record_accesses",
    "accesses",
    "save_complaint",
    "complaint",
    "complaints",
    "complaint_counts",
    "erase_person",
    "research_counts",
    "save_consent",
    "consents",
    "save_personal_data",
    "personal_data",
    "personal_data_after",
    "destroy_personal_data",
    "save_profile",
    "profile",
    "person_by_code_id",
    "delete_checkins_before",
    "register_venue",
    "venue",
    "venue_by_operator_key",
    "venues",
    "register_device",
    "device_by_key",
    "device",
    "devices",
    "approve_device",
    "record_checkins",
    "checkins_at_venue",
    "checkins_of_person",
    "checkin_counts",
    "record_visits_elsewhere",
    "visits_elsewhere_at",
    "status",
    "take_lease",
    "lease",
    "release_lease",
    "link_national_ids",
    "persons_by_national_id",
    "national_ids_of",
    "queue_submissions",
    "queued_submissions",
    "remove_submissions",
    "park_records",
    "parked_records",
    "unpark_records",
    "delete_parked_before",
    "parked_signed_outside",
    "note_admitted",
    "admitted_signed_outside",
    "forget_admitted",
];

#[async_trait]
impl<S: Store> EvidenceStore for Recorder<S> {
    async fn register_person(&self, person: &PersonRecord) -> StoreResult<bool> {
        self.saw("register_person");
        self.inner.register_person(person).await
    }

    async fn register_persons(&self, persons: &[PersonRecord]) -> StoreResult<u64> {
        self.saw("register_persons");
        self.inner.register_persons(persons).await
    }

    async fn refresh_statistics(&self) -> StoreResult<()> {
        self.saw("refresh_statistics");
        self.inner.refresh_statistics().await
    }

    async fn person(&self, id: &PersonId) -> StoreResult<Option<PersonRecord>> {
        self.saw("person");
        self.inner.person(id).await
    }

    async fn fill_residence_area(&self, id: &PersonId, area: &AreaCode) -> StoreResult<bool> {
        self.saw("fill_residence_area");
        self.inner.fill_residence_area(id, area).await
    }

    async fn persons(&self, ids: &[PersonId]) -> StoreResult<Vec<PersonRecord>> {
        self.saw("persons");
        self.inner.persons(ids).await
    }

    async fn person_count(&self) -> StoreResult<u64> {
        self.saw("person_count");
        self.inner.person_count().await
    }

    async fn insert_evidence(&self, batch: &[NewEvidence]) -> StoreResult<Vec<Inserted>> {
        self.saw("insert_evidence");
        self.inner.insert_evidence(batch).await
    }

    async fn evidence_for(&self, person: &PersonId) -> StoreResult<Vec<Event<Evidence>>> {
        self.saw("evidence_for");
        self.inner.evidence_for(person).await
    }

    async fn evidence_for_many(&self, persons: &[PersonId]) -> StoreResult<Vec<(PersonId, Vec<Event<Evidence>>)>> {
        self.saw("evidence_for_many");
        self.inner.evidence_for_many(persons).await
    }

    async fn insert_designations(&self, batch: &[NewDesignation]) -> StoreResult<Vec<Inserted>> {
        self.saw("insert_designations");
        self.inner.insert_designations(batch).await
    }

    async fn designations_after(&self, after_seq: i64) -> StoreResult<Vec<Event<AreaRisk>>> {
        self.saw("designations_after");
        self.inner.designations_after(after_seq).await
    }

    async fn unapplied_designations(&self) -> StoreResult<Vec<Event<AreaRisk>>> {
        self.saw("unapplied_designations");
        self.inner.unapplied_designations().await
    }

    async fn mark_designations_applied(&self, seqs: &[i64]) -> StoreResult<()> {
        self.saw("mark_designations_applied");
        self.inner.mark_designations_applied(seqs).await
    }

    async fn persons_with_stays_under(&self, area_prefix: &str, ended_after: Timestamp) -> StoreResult<Vec<PersonId>> {
        self.saw("persons_with_stays_under");
        self.inner.persons_with_stays_under(area_prefix, ended_after).await
    }

    async fn record_rejections(&self, batch: &[NewRejection]) -> StoreResult<()> {
        self.saw("record_rejections");
        self.inner.record_rejections(batch).await
    }

    async fn rejections(&self, after: i64, limit: usize, owner: Option<&str>) -> StoreResult<Vec<Rejection>> {
        self.saw("rejections");
        self.inner.rejections(after, limit, owner).await
    }
}

#[async_trait]
impl<S: Store> CodeStore for Recorder<S> {
    async fn queue_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
    ) -> StoreResult<u64> {
        self.saw("queue_persons_with_stays_under");
        self.inner.queue_persons_with_stays_under(area_prefix, ended_after, due).await
    }

    async fn page_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
        page: usize,
    ) -> StoreResult<u64> {
        self.saw("page_persons_with_stays_under");
        self.inner.page_persons_with_stays_under(area_prefix, ended_after, due, page).await
    }

    async fn claim_page(&self, now: Timestamp, until: Timestamp) -> StoreResult<Option<BulkPage>> {
        self.saw("claim_page");
        self.inner.claim_page(now, until).await
    }

    async fn finish_page(&self, id: i64) -> StoreResult<()> {
        self.saw("finish_page");
        self.inner.finish_page(id).await
    }

    async fn paged_persons(&self) -> StoreResult<u64> {
        self.saw("paged_persons");
        self.inner.paged_persons().await
    }

    async fn queue_persons_with_evidence(&self, due: Timestamp) -> StoreResult<u64> {
        self.saw("queue_persons_with_evidence");
        self.inner.queue_persons_with_evidence(due).await
    }

    async fn queue_codes_of_other_versions(&self, version: &str, due: Timestamp) -> StoreResult<u64> {
        self.saw("queue_codes_of_other_versions");
        self.inner.queue_codes_of_other_versions(version, due).await
    }

    async fn queue_persons(&self, persons: &[PersonId], due: Timestamp) -> StoreResult<()> {
        self.saw("queue_persons");
        self.inner.queue_persons(persons, due).await
    }

    async fn due_persons(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<PersonId>> {
        self.saw("due_persons");
        self.inner.due_persons(now, limit).await
    }

    async fn claim_due_persons(&self, now: Timestamp, limit: usize, until: Timestamp) -> StoreResult<Vec<PersonId>> {
        self.saw("claim_due_persons");
        self.inner.claim_due_persons(now, limit, until).await
    }

    async fn claim_persons(&self, persons: &[PersonId], now: Timestamp, until: Timestamp) -> StoreResult<()> {
        self.saw("claim_persons");
        self.inner.claim_persons(persons, now, until).await
    }

    async fn queue_len(&self) -> StoreResult<u64> {
        self.saw("queue_len");
        self.inner.queue_len().await
    }

    async fn save_codes(&self, codes: &[CodeState], log: &LogAppend) -> StoreResult<()> {
        self.saw("save_codes");
        self.inner.save_codes(codes, log).await
    }

    async fn stage_codes<'a>(&'a self, codes: &'a [CodeState]) -> StoreResult<Box<dyn StagedCodes + 'a>> {
        self.saw("stage_codes");
        self.inner.stage_codes(codes).await
    }

    fn saves_at_once(&self) -> usize {
        self.saw("saves_at_once");
        self.inner.saves_at_once()
    }

    async fn code(&self, person: &PersonId) -> StoreResult<Option<CodeState>> {
        self.saw("code");
        self.inner.code(person).await
    }

    async fn code_card(&self, person: &PersonId) -> StoreResult<Option<CodeCard>> {
        self.saw("code_card");
        self.inner.code_card(person).await
    }

    async fn code_card_with_key(
        &self,
        person: &PersonId,
        key_hash: &str,
    ) -> StoreResult<(Option<CodeCard>, Option<ResidentKey>)> {
        self.saw("code_card_with_key");
        self.inner.code_card_with_key(person, key_hash).await
    }

    async fn codes(&self, persons: &[PersonId]) -> StoreResult<Vec<CodeState>> {
        self.saw("codes");
        self.inner.codes(persons).await
    }

    async fn code_summaries(&self, persons: &[PersonId]) -> StoreResult<Vec<CodeSummary>> {
        self.saw("code_summaries");
        self.inner.code_summaries(persons).await
    }

    async fn colour_counts(&self) -> StoreResult<Vec<(Colour, u64)>> {
        self.saw("colour_counts");
        self.inner.colour_counts().await
    }

    async fn colour_counts_by_area(&self) -> StoreResult<Vec<(Option<AreaCode>, Colour, u64)>> {
        self.saw("colour_counts_by_area");
        self.inner.colour_counts_by_area().await
    }

    async fn codes_with_colour(&self, colour: Colour, limit: usize) -> StoreResult<Vec<CodeState>> {
        self.saw("codes_with_colour");
        self.inner.codes_with_colour(colour, limit).await
    }

    async fn add_colour_changes(&self, counts: &[ColourChangeCount]) -> StoreResult<()> {
        self.saw("add_colour_changes");
        self.inner.add_colour_changes(counts).await
    }

    async fn colour_changes(
        &self,
        origin: &str,
        area: &str,
        from_hour: i64,
        to_hour: i64,
    ) -> StoreResult<Vec<ColourChangeCount>> {
        self.saw("colour_changes");
        self.inner.colour_changes(origin, area, from_hour, to_hour).await
    }

    async fn mark_colour_burst(&self, origin: &str, area: &str, hour: i64) -> StoreResult<bool> {
        self.saw("mark_colour_burst");
        self.inner.mark_colour_burst(origin, area, hour).await
    }
}

#[async_trait]
impl<S: Store> FeedStore for Recorder<S> {
    async fn commit_feed_chunk(&self, chunk: FeedChunk) -> StoreResult<FeedCommit> {
        self.saw("commit_feed_chunk");
        self.inner.commit_feed_chunk(chunk).await
    }

    async fn feed_batch(&self, owner: &str, batch: &str) -> StoreResult<Option<FeedBatch>> {
        self.saw("feed_batch");
        self.inner.feed_batch(owner, batch).await
    }

    async fn feed_rejections(
        &self,
        owner: &str,
        batch: &str,
        after_line: u64,
        limit: usize,
    ) -> StoreResult<Vec<FeedRejectedRow>> {
        self.saw("feed_rejections");
        self.inner.feed_rejections(owner, batch, after_line, limit).await
    }
}

#[async_trait]
impl<S: Store> LogStore for Recorder<S> {
    async fn append_log(&self, log: &LogAppend) -> StoreResult<()> {
        self.saw("append_log");
        self.inner.append_log(log).await
    }

    async fn log_size(&self) -> StoreResult<u64> {
        self.saw("log_size");
        self.inner.log_size().await
    }

    async fn log_nodes(&self, ids: &[(u8, u64)]) -> StoreResult<Vec<LogNode>> {
        self.saw("log_nodes");
        self.inner.log_nodes(ids).await
    }

    async fn log_leaves(&self, from: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        self.saw("log_leaves");
        self.inner.log_leaves(from, limit).await
    }

    async fn log_indices_of(&self, person: &PersonId) -> StoreResult<Vec<u64>> {
        self.saw("log_indices_of");
        self.inner.log_indices_of(person).await
    }

    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()> {
        self.saw("save_checkpoint");
        self.inner.save_checkpoint(checkpoint).await
    }

    async fn checkpoints(&self, after_size: u64, limit: usize) -> StoreResult<Vec<StoredCheckpoint>> {
        self.saw("checkpoints");
        self.inner.checkpoints(after_size, limit).await
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        self.saw("latest_checkpoint");
        self.inner.latest_checkpoint().await
    }
}

#[async_trait]
impl<S: Store> AccountStore for Recorder<S> {
    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        self.saw("create_account");
        self.inner.create_account(account).await
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        self.saw("account_by_username");
        self.inner.account_by_username(username).await
    }

    async fn save_credential(&self, credential: &Credential) -> StoreResult<()> {
        self.saw("save_credential");
        self.inner.save_credential(credential).await
    }

    async fn credential(&self, key_hash: &str) -> StoreResult<Option<(Credential, Account)>> {
        self.saw("credential");
        self.inner.credential(key_hash).await
    }

    async fn delete_credential(&self, key_hash: &str) -> StoreResult<()> {
        self.saw("delete_credential");
        self.inner.delete_credential(key_hash).await
    }
}

#[async_trait]
impl<S: Store> GovernanceStore for Recorder<S> {
    async fn save_decision(&self, decision: &Decision) -> StoreResult<()> {
        self.saw("save_decision");
        self.inner.save_decision(decision).await
    }

    async fn replace_decision(&self, decision: &Decision, seen: &Decision) -> StoreResult<bool> {
        self.saw("replace_decision");
        self.inner.replace_decision(decision, seen).await
    }

    async fn decision(&self, id: &str) -> StoreResult<Option<Decision>> {
        self.saw("decision");
        self.inner.decision(id).await
    }

    async fn decisions(&self, limit: usize) -> StoreResult<Vec<Decision>> {
        self.saw("decisions");
        self.inner.decisions(limit).await
    }

    async fn record_alarm(&self, alarm: &NewAlarm) -> StoreResult<i64> {
        self.saw("record_alarm");
        self.inner.record_alarm(alarm).await
    }

    async fn alarms(&self, after: i64, limit: usize) -> StoreResult<Vec<Alarm>> {
        self.saw("alarms");
        self.inner.alarms(after, limit).await
    }

    async fn put_document(&self, kind: &str, id: &str, at: Timestamp, body: &str) -> StoreResult<()> {
        self.saw("put_document");
        self.inner.put_document(kind, id, at, body).await
    }

    async fn replace_document(&self, kind: &str, id: &str, at: Timestamp, body: &str, seen: &str) -> StoreResult<bool> {
        self.saw("replace_document");
        self.inner.replace_document(kind, id, at, body, seen).await
    }

    async fn document(&self, kind: &str, id: &str) -> StoreResult<Option<String>> {
        self.saw("document");
        self.inner.document(kind, id).await
    }

    async fn documents(&self, kind: &str, limit: usize) -> StoreResult<Vec<String>> {
        self.saw("documents");
        self.inner.documents(kind, limit).await
    }

    async fn delete_documents_before(&self, kind: &str, before: Timestamp) -> StoreResult<u64> {
        self.saw("delete_documents_before");
        self.inner.delete_documents_before(kind, before).await
    }
}

#[async_trait]
impl<S: Store> ResidentStore for Recorder<S> {
    async fn save_resident_key(&self, key: &ResidentKey) -> StoreResult<()> {
        self.saw("save_resident_key");
        self.inner.save_resident_key(key).await
    }

    async fn resident_key(&self, key_hash: &str) -> StoreResult<Option<ResidentKey>> {
        self.saw("resident_key");
        self.inner.resident_key(key_hash).await
    }

    async fn has_resident_key(&self, person: &PersonId) -> StoreResult<bool> {
        self.saw("has_resident_key");
        self.inner.has_resident_key(person).await
    }

    async fn claim_resident_key(&self, key: &ResidentKey) -> StoreResult<bool> {
        self.saw("claim_resident_key");
        self.inner.claim_resident_key(key).await
    }

    async fn delete_resident_keys(&self, person: &PersonId) -> StoreResult<u64> {
        self.saw("delete_resident_keys");
        self.inner.delete_resident_keys(person).await
    }

    async fn save_proxy(&self, link: &ProxyLink) -> StoreResult<bool> {
        self.saw("save_proxy");
        self.inner.save_proxy(link).await
    }

    async fn end_proxy(&self, proxy: &PersonId, dependant: &PersonId) -> StoreResult<bool> {
        self.saw("end_proxy");
        self.inner.end_proxy(proxy, dependant).await
    }

    async fn proxy_links(&self, person: &PersonId) -> StoreResult<Vec<ProxyLink>> {
        self.saw("proxy_links");
        self.inner.proxy_links(person).await
    }

    async fn record_accesses(&self, accesses: &[NewAccess]) -> StoreResult<()> {
        self.saw("record_accesses");
        self.inner.record_accesses(accesses).await
    }

    async fn accesses(&self, person: &PersonId, limit: usize) -> StoreResult<Vec<Access>> {
        self.saw("accesses");
        self.inner.accesses(person, limit).await
    }

    async fn save_complaint(&self, complaint: &Complaint) -> StoreResult<()> {
        self.saw("save_complaint");
        self.inner.save_complaint(complaint).await
    }

    async fn complaint(&self, id: &str) -> StoreResult<Option<Complaint>> {
        self.saw("complaint");
        self.inner.complaint(id).await
    }

    async fn complaints(&self, query: &ComplaintQuery, limit: usize) -> StoreResult<Vec<Complaint>> {
        self.saw("complaints");
        self.inner.complaints(query, limit).await
    }

    async fn complaint_counts(&self) -> StoreResult<ComplaintCounts> {
        self.saw("complaint_counts");
        self.inner.complaint_counts().await
    }

    async fn erase_person(&self, person: &PersonId) -> StoreResult<DestroyedRows> {
        self.saw("erase_person");
        self.inner.erase_person(person).await
    }

    async fn research_counts(
        &self,
        metric: ResearchMetric,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ResearchCount>> {
        self.saw("research_counts");
        self.inner.research_counts(metric, from, to).await
    }

    async fn save_consent(&self, consent: &Consent) -> StoreResult<()> {
        self.saw("save_consent");
        self.inner.save_consent(consent).await
    }

    async fn consents(&self, person: &PersonId) -> StoreResult<Vec<Consent>> {
        self.saw("consents");
        self.inner.consents(person).await
    }

    async fn save_personal_data(&self, data: &SealedPersonalData) -> StoreResult<()> {
        self.saw("save_personal_data");
        self.inner.save_personal_data(data).await
    }

    async fn personal_data(&self, person: &PersonId) -> StoreResult<Option<SealedPersonalData>> {
        self.saw("personal_data");
        self.inner.personal_data(person).await
    }

    async fn personal_data_after(
        &self,
        after: Option<&PersonId>,
        limit: usize,
    ) -> StoreResult<Vec<SealedPersonalData>> {
        self.saw("personal_data_after");
        self.inner.personal_data_after(after, limit).await
    }

    async fn destroy_personal_data(&self) -> StoreResult<DestroyedRows> {
        self.saw("destroy_personal_data");
        self.inner.destroy_personal_data().await
    }

    async fn save_profile(&self, profile: &PersonProfile) -> StoreResult<()> {
        self.saw("save_profile");
        self.inner.save_profile(profile).await
    }

    async fn profile(&self, person: &PersonId) -> StoreResult<Option<PersonProfile>> {
        self.saw("profile");
        self.inner.profile(person).await
    }

    async fn person_by_code_id(&self, code_id: &str) -> StoreResult<Option<PersonId>> {
        self.saw("person_by_code_id");
        self.inner.person_by_code_id(code_id).await
    }
}

#[async_trait]
impl<S: Store> LeaseStore for Recorder<S> {
    async fn take_lease(&self, name: &str, holder: &str, now: Timestamp, until: Timestamp) -> StoreResult<bool> {
        self.saw("take_lease");
        self.inner.take_lease(name, holder, now, until).await
    }

    async fn lease(&self, name: &str) -> StoreResult<Option<Lease>> {
        self.saw("lease");
        self.inner.lease(name).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        self.saw("release_lease");
        self.inner.release_lease(name, holder).await
    }
}

#[async_trait]
impl<S: Store> FederationStore for Recorder<S> {
    async fn link_national_ids(&self, links: &[NationalLink]) -> StoreResult<()> {
        self.saw("link_national_ids");
        self.inner.link_national_ids(links).await
    }

    async fn persons_by_national_id(&self, national_ids: &[String]) -> StoreResult<Vec<NationalLink>> {
        self.saw("persons_by_national_id");
        self.inner.persons_by_national_id(national_ids).await
    }

    async fn national_ids_of(&self, persons: &[PersonId]) -> StoreResult<Vec<NationalLink>> {
        self.saw("national_ids_of");
        self.inner.national_ids_of(persons).await
    }

    async fn queue_submissions(&self, lines: &[String]) -> StoreResult<()> {
        self.saw("queue_submissions");
        self.inner.queue_submissions(lines).await
    }

    async fn queued_submissions(&self, limit: usize) -> StoreResult<Vec<QueuedSubmission>> {
        self.saw("queued_submissions");
        self.inner.queued_submissions(limit).await
    }

    async fn remove_submissions(&self, seqs: &[i64]) -> StoreResult<()> {
        self.saw("remove_submissions");
        self.inner.remove_submissions(seqs).await
    }

    async fn park_records(&self, records: &[ParkedRecord]) -> StoreResult<()> {
        self.saw("park_records");
        self.inner.park_records(records).await
    }

    async fn parked_records(&self, national_ids: &[String]) -> StoreResult<Vec<ParkedRecord>> {
        self.saw("parked_records");
        self.inner.parked_records(national_ids).await
    }

    async fn unpark_records(&self, national_id: &str, hub_indices: &[u64]) -> StoreResult<()> {
        self.saw("unpark_records");
        self.inner.unpark_records(national_id, hub_indices).await
    }

    async fn delete_parked_before(&self, before: Timestamp) -> StoreResult<u64> {
        self.saw("delete_parked_before");
        self.inner.delete_parked_before(before).await
    }

    async fn parked_signed_outside(&self, outside: &SignedOutside, limit: usize) -> StoreResult<Vec<ParkedRecord>> {
        self.saw("parked_signed_outside");
        self.inner.parked_signed_outside(outside, limit).await
    }

    async fn note_admitted(&self, records: &[AdmittedRecord]) -> StoreResult<()> {
        self.saw("note_admitted");
        self.inner.note_admitted(records).await
    }

    async fn admitted_signed_outside(&self, outside: &SignedOutside, limit: usize) -> StoreResult<Vec<AdmittedRecord>> {
        self.saw("admitted_signed_outside");
        self.inner.admitted_signed_outside(outside, limit).await
    }

    async fn forget_admitted(&self, region: &str, record_ids: &[String]) -> StoreResult<()> {
        self.saw("forget_admitted");
        self.inner.forget_admitted(region, record_ids).await
    }
}

impl<S: Store> StatusStore for Recorder<S> {
    fn status(&self) -> StoreStatus {
        self.saw("status");
        self.inner.status()
    }
}

#[async_trait]
impl<S: Store> DoorStore for Recorder<S> {
    async fn delete_checkins_before(&self, before: Timestamp) -> StoreResult<u64> {
        self.saw("delete_checkins_before");
        self.inner.delete_checkins_before(before).await
    }

    async fn register_venue(&self, venue: &VenueRecord) -> StoreResult<()> {
        self.saw("register_venue");
        self.inner.register_venue(venue).await
    }

    async fn venue(&self, id: &str) -> StoreResult<Option<VenueRecord>> {
        self.saw("venue");
        self.inner.venue(id).await
    }

    async fn venue_by_operator_key(&self, key_hash: &str) -> StoreResult<Option<VenueRecord>> {
        self.saw("venue_by_operator_key");
        self.inner.venue_by_operator_key(key_hash).await
    }

    async fn venues(&self, limit: usize) -> StoreResult<Vec<VenueRecord>> {
        self.saw("venues");
        self.inner.venues(limit).await
    }

    async fn register_device(&self, device: &DeviceRecord) -> StoreResult<()> {
        self.saw("register_device");
        self.inner.register_device(device).await
    }

    async fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<DeviceRecord>> {
        self.saw("device_by_key");
        self.inner.device_by_key(key_hash).await
    }

    async fn device(&self, id: &str) -> StoreResult<Option<DeviceRecord>> {
        self.saw("device");
        self.inner.device(id).await
    }

    async fn devices(&self, limit: usize) -> StoreResult<Vec<DeviceRecord>> {
        self.saw("devices");
        self.inner.devices(limit).await
    }

    async fn approve_device(&self, id: &str, by: &str, at: Timestamp) -> StoreResult<bool> {
        self.saw("approve_device");
        self.inner.approve_device(id, by, at).await
    }

    async fn record_checkins(&self, batch: &[NewCheckin]) -> StoreResult<()> {
        self.saw("record_checkins");
        self.inner.record_checkins(batch).await
    }

    async fn checkins_at_venue(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        self.saw("checkins_at_venue");
        self.inner.checkins_at_venue(venue, from, to, limit).await
    }

    async fn checkins_of_person(
        &self,
        person: &PersonId,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        self.saw("checkins_of_person");
        self.inner.checkins_of_person(person, from, to, limit).await
    }

    async fn checkin_counts(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(AccessOutcome, u64)>> {
        self.saw("checkin_counts");
        self.inner.checkin_counts(venue, from, to).await
    }

    async fn record_visits_elsewhere(&self, visits: &[VisitElsewhere]) -> StoreResult<()> {
        self.saw("record_visits_elsewhere");
        self.inner.record_visits_elsewhere(visits).await
    }

    async fn visits_elsewhere_at(
        &self,
        region: &str,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<VisitElsewhere>> {
        self.saw("visits_elsewhere_at");
        self.inner.visits_elsewhere_at(region, venue, from, to, limit).await
    }
}

#[cfg(test)]
mod tests {
    /// The capability traits' source, where their methods are declared.
    const SOURCES: &[&str] = &[
        include_str!("../evidence.rs"),
        include_str!("../codes.rs"),
        include_str!("../feeds.rs"),
        include_str!("../log.rs"),
        include_str!("../accounts.rs"),
        include_str!("../governance.rs"),
        include_str!("../residents.rs"),
        include_str!("../doors.rs"),
        include_str!("../status.rs"),
        include_str!("../leases.rs"),
        include_str!("../federation.rs"),
    ];

    #[test]
    fn the_list_names_every_method_of_every_capability() {
        let mut declared: Vec<String> = Vec::new();
        for source in SOURCES {
            let Some(start) = source.find("pub trait ") else { continue };
            let body = &source[start..];
            let body = &body[..body.find("\n}\n").unwrap_or(body.len())];
            for line in body.lines().map(str::trim_start) {
                if let Some(rest) = line.strip_prefix("async fn ").or_else(|| line.strip_prefix("fn ")) {
                    declared.push(rest.split(['(', '<']).next().unwrap_or_default().to_string());
                }
            }
        }
        declared.sort();
        let mut listed: Vec<String> = super::METHODS.iter().map(|m| m.to_string()).collect();
        listed.sort();
        assert_eq!(listed, declared, "conformance::recorder::METHODS must name every capability method");
    }
}
