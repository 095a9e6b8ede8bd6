//! `Store` for `SqliteStore`: each method hands one job to a connection on the
//! blocking pool. The SQL lives in the modules named after what they store.

use async_trait::async_trait;
use healthcode_domain::{AccessOutcome, AreaCode, AreaRisk, Colour, Event, Evidence, PersonId, Timestamp};
use healthcode_store::Consent;
use healthcode_store::{
    Access, Account, Alarm, Checkin, CodeCard, CodeState, CodeSummary, ColourChangeCount, Complaint, ComplaintQuery,
    Credential, Decision, DestroyedRows, DeviceRecord, FeedBatch, FeedChunk, FeedCommit, FeedRejectedRow, Inserted,
    LogAppend, LogNode, NewAccess, NewAlarm, NewCheckin, NewDesignation, NewEvidence, NewRejection, PersonProfile,
    PersonRecord, ProxyLink, Rejection, ResidentKey, SealedPersonalData, Store, StoreResult, StoredCheckpoint,
    VenueRecord,
};
use healthcode_store::{ResearchCount, ResearchMetric};

use crate::{accounts, checkpoints, codes, events, feeds, log, persons, rejections, residents, SqliteStore};

#[async_trait]
impl Store for SqliteStore {
    async fn register_person(&self, person: &PersonRecord) -> StoreResult<bool> {
        let person = person.clone();
        self.write(move |c| persons::register(c, &person)).await
    }

    async fn register_persons(&self, batch: &[PersonRecord]) -> StoreResult<u64> {
        let batch = batch.to_vec();
        self.write(move |c| persons::register_many(c, &batch)).await
    }

    async fn person(&self, id: &PersonId) -> StoreResult<Option<PersonRecord>> {
        let id = id.clone();
        self.read(move |c| persons::one(c, &id)).await
    }

    async fn fill_residence_area(&self, id: &PersonId, area: &AreaCode) -> StoreResult<bool> {
        let (id, area) = (id.clone(), area.clone());
        self.write(move |c| {
            c.execute(
                "UPDATE persons SET residence_area = ?2 WHERE id = ?1 AND residence_area IS NULL",
                (id.as_str(), area.as_str()),
            )
            .map(|n| n == 1)
            .map_err(crate::backend("set a residence area"))
        })
        .await
    }

    async fn persons(&self, ids: &[PersonId]) -> StoreResult<Vec<PersonRecord>> {
        let ids = ids.to_vec();
        self.read(move |c| persons::many(c, &ids)).await
    }

    async fn person_count(&self) -> StoreResult<u64> {
        self.read(persons::count).await
    }

    async fn insert_evidence(&self, batch: &[NewEvidence]) -> StoreResult<Vec<Inserted>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let batch = batch.to_vec();
        self.write(move |c| events::insert_evidence(c, &batch)).await
    }

    async fn evidence_for(&self, person: &PersonId) -> StoreResult<Vec<Event<Evidence>>> {
        let person = person.clone();
        self.read(move |c| events::evidence_for(c, &person)).await
    }

    async fn evidence_for_many(&self, persons: &[PersonId]) -> StoreResult<Vec<(PersonId, Vec<Event<Evidence>>)>> {
        let persons = persons.to_vec();
        self.read(move |c| events::evidence_for_many(c, &persons)).await
    }

    async fn insert_designations(&self, batch: &[NewDesignation]) -> StoreResult<Vec<Inserted>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let batch = batch.to_vec();
        self.write(move |c| events::insert_designations(c, &batch)).await
    }

    async fn designations(&self) -> StoreResult<Vec<Event<AreaRisk>>> {
        self.read(|c| events::designations_where(c, "true")).await
    }

    async fn unapplied_designations(&self) -> StoreResult<Vec<Event<AreaRisk>>> {
        self.read(|c| events::designations_where(c, "applied = 0")).await
    }

    async fn mark_designations_applied(&self, seqs: &[i64]) -> StoreResult<()> {
        let seqs = seqs.to_vec();
        self.write(move |c| events::mark_applied(c, &seqs)).await
    }

    async fn persons_with_stays_under(&self, area_prefix: &str, ended_after: Timestamp) -> StoreResult<Vec<PersonId>> {
        let prefix = area_prefix.to_string();
        self.read(move |c| codes::stays_under(c, &prefix, ended_after)).await
    }

    async fn queue_persons_with_stays_under(
        &self,
        area_prefix: &str,
        ended_after: Timestamp,
        due: Timestamp,
    ) -> StoreResult<u64> {
        let prefix = area_prefix.to_string();
        self.write(move |c| codes::queue_stays_under(c, &prefix, ended_after, due)).await
    }

    async fn queue_persons_with_evidence(&self, due: Timestamp) -> StoreResult<u64> {
        self.write(move |c| codes::queue_with_evidence(c, due)).await
    }

    async fn queue_codes_of_other_versions(&self, version: &str, due: Timestamp) -> StoreResult<u64> {
        let version = version.to_string();
        self.write(move |c| codes::queue_other_versions(c, &version, due)).await
    }

    async fn queue_persons(&self, persons: &[PersonId], due: Timestamp) -> StoreResult<()> {
        let persons = persons.to_vec();
        self.write(move |c| codes::queue(c, &persons, due)).await
    }

    async fn due_persons(&self, now: Timestamp, limit: usize) -> StoreResult<Vec<PersonId>> {
        self.read(move |c| codes::due(c, now, limit)).await
    }

    async fn queue_len(&self) -> StoreResult<u64> {
        self.read(codes::queue_len).await
    }

    async fn save_codes(&self, codes: &[CodeState], log: &LogAppend) -> StoreResult<()> {
        if codes.is_empty() && log.is_empty() {
            return Ok(());
        }
        let (codes, log) = (codes.to_vec(), log.clone());
        self.write(move |c| codes::save(c, &codes, &log)).await
    }

    async fn append_log(&self, append: &LogAppend) -> StoreResult<()> {
        let append = append.clone();
        self.write(move |c| log::append_alone(c, &append)).await
    }

    async fn log_size(&self) -> StoreResult<u64> {
        self.read(log::size).await
    }

    async fn log_nodes(&self, ids: &[(u8, u64)]) -> StoreResult<Vec<LogNode>> {
        let ids = ids.to_vec();
        self.read(move |c| log::nodes(c, &ids)).await
    }

    async fn log_leaves(&self, from: u64, limit: usize) -> StoreResult<Vec<(u64, Vec<u8>)>> {
        self.read(move |c| log::leaves(c, from, limit)).await
    }

    async fn log_indices_of(&self, person: &PersonId) -> StoreResult<Vec<u64>> {
        let person = person.clone();
        self.read(move |c| log::indices_of(c, &person)).await
    }

    async fn save_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()> {
        let checkpoint = checkpoint.clone();
        self.write(move |c| log::save_checkpoint(c, &checkpoint)).await
    }

    async fn checkpoints(&self, after_size: u64, limit: usize) -> StoreResult<Vec<StoredCheckpoint>> {
        self.read(move |c| log::checkpoints(c, "size > ?1 ORDER BY size", after_size, limit)).await
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        self.read(|c| Ok(log::checkpoints(c, "size >= ?1 ORDER BY size DESC", 0, 1)?.pop())).await
    }

    /// One trip to a reader connection instead of three: this is on the path of every code
    /// a resident shows (BENCHMARKS.md).
    async fn code_card(&self, person: &PersonId) -> StoreResult<Option<CodeCard>> {
        let person = person.clone();
        self.read(move |c| {
            let Some(record) = persons::one(c, &person)? else { return Ok(None) };
            Ok(Some(CodeCard { record, code: codes::one(c, &person)?, profile: checkpoints::profile(c, &person)? }))
        })
        .await
    }

    async fn code_card_with_key(
        &self,
        person: &PersonId,
        key_hash: &str,
    ) -> StoreResult<(Option<CodeCard>, Option<PersonId>)> {
        let (person, key_hash) = (person.clone(), key_hash.to_string());
        self.read(move |c| {
            let owner = residents::key(c, &key_hash)?.map(|k| k.person);
            let Some(record) = persons::one(c, &person)? else { return Ok((None, owner)) };
            let card = CodeCard { record, code: codes::one(c, &person)?, profile: checkpoints::profile(c, &person)? };
            Ok((Some(card), owner))
        })
        .await
    }

    async fn code(&self, person: &PersonId) -> StoreResult<Option<CodeState>> {
        let person = person.clone();
        self.read(move |c| codes::one(c, &person)).await
    }

    async fn codes(&self, persons: &[PersonId]) -> StoreResult<Vec<CodeState>> {
        let persons = persons.to_vec();
        self.read(move |c| codes::many(c, &persons)).await
    }

    async fn code_summaries(&self, persons: &[PersonId]) -> StoreResult<Vec<CodeSummary>> {
        let persons = persons.to_vec();
        self.read(move |c| codes::summaries(c, &persons)).await
    }

    async fn colour_counts(&self) -> StoreResult<Vec<(Colour, u64)>> {
        self.read(codes::colour_counts).await
    }

    async fn colour_counts_by_area(&self) -> StoreResult<Vec<(Option<AreaCode>, Colour, u64)>> {
        self.read(codes::colour_counts_by_area).await
    }

    async fn codes_with_colour(&self, colour: Colour, limit: usize) -> StoreResult<Vec<CodeState>> {
        self.read(move |c| codes::with_colour(c, colour, limit)).await
    }

    async fn record_rejections(&self, batch: &[NewRejection]) -> StoreResult<()> {
        let batch = batch.to_vec();
        self.write(move |c| rejections::record(c, &batch)).await
    }

    async fn rejections(&self, after: i64, limit: usize, owner: Option<&str>) -> StoreResult<Vec<Rejection>> {
        let owner = owner.map(str::to_string);
        self.read(move |c| rejections::list(c, after, limit, owner.as_deref())).await
    }

    async fn add_colour_changes(&self, counts: &[ColourChangeCount]) -> StoreResult<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let counts = counts.to_vec();
        self.write(move |c| rejections::add_colour_changes(c, &counts)).await
    }

    async fn colour_changes(
        &self,
        origin: &str,
        area: &str,
        from_hour: i64,
        to_hour: i64,
    ) -> StoreResult<Vec<ColourChangeCount>> {
        let (origin, area) = (origin.to_string(), area.to_string());
        self.read(move |c| rejections::colour_changes(c, &origin, &area, from_hour, to_hour)).await
    }

    async fn mark_colour_burst(&self, origin: &str, area: &str, hour: i64) -> StoreResult<bool> {
        let (origin, area) = (origin.to_string(), area.to_string());
        self.write(move |c| rejections::mark_colour_burst(c, &origin, &area, hour)).await
    }

    async fn commit_feed_chunk(&self, chunk: FeedChunk) -> StoreResult<FeedCommit> {
        self.write(move |c| feeds::commit_chunk(c, &chunk)).await
    }

    async fn feed_batch(&self, owner: &str, batch: &str) -> StoreResult<Option<FeedBatch>> {
        let (owner, batch) = (owner.to_string(), batch.to_string());
        self.read(move |c| feeds::batch(c, &owner, &batch)).await
    }

    async fn feed_rejections(
        &self,
        owner: &str,
        batch: &str,
        after_line: u64,
        limit: usize,
    ) -> StoreResult<Vec<FeedRejectedRow>> {
        let (owner, batch) = (owner.to_string(), batch.to_string());
        self.read(move |c| feeds::rejections(c, &owner, &batch, after_line, limit)).await
    }

    async fn save_profile(&self, profile: &PersonProfile) -> StoreResult<()> {
        let profile = profile.clone();
        self.write(move |c| checkpoints::save_profile(c, &profile)).await
    }

    async fn profile(&self, person: &PersonId) -> StoreResult<Option<PersonProfile>> {
        let person = person.clone();
        self.read(move |c| checkpoints::profile(c, &person)).await
    }

    async fn person_by_code_id(&self, code_id: &str) -> StoreResult<Option<PersonId>> {
        let code_id = code_id.to_string();
        self.read(move |c| checkpoints::person_by_code_id(c, &code_id)).await
    }

    async fn register_venue(&self, venue: &VenueRecord) -> StoreResult<()> {
        let venue = venue.clone();
        self.write(move |c| checkpoints::register_venue(c, &venue)).await
    }

    async fn venue(&self, id: &str) -> StoreResult<Option<VenueRecord>> {
        let id = id.to_string();
        self.read(move |c| Ok(checkpoints::venue_where(c, "id = ?1", &id, 1)?.pop())).await
    }

    async fn venue_by_operator_key(&self, key_hash: &str) -> StoreResult<Option<VenueRecord>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| Ok(checkpoints::venue_where(c, "operator_key_hash = ?1", &key_hash, 1)?.pop())).await
    }

    async fn venues(&self, limit: usize) -> StoreResult<Vec<VenueRecord>> {
        self.read(move |c| checkpoints::venue_where(c, "?1 = ?1", "", limit)).await
    }

    async fn register_device(&self, device: &DeviceRecord) -> StoreResult<()> {
        let device = device.clone();
        self.write(move |c| checkpoints::register_device(c, &device)).await
    }

    async fn device_by_key(&self, key_hash: &str) -> StoreResult<Option<DeviceRecord>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| checkpoints::device_where(c, "key_hash = ?1", &key_hash)).await
    }

    async fn device(&self, id: &str) -> StoreResult<Option<DeviceRecord>> {
        let id = id.to_string();
        self.read(move |c| checkpoints::device_where(c, "id = ?1", &id)).await
    }

    async fn devices(&self, limit: usize) -> StoreResult<Vec<DeviceRecord>> {
        self.read(move |c| checkpoints::devices(c, limit)).await
    }

    async fn approve_device(&self, id: &str, by: &str, at: Timestamp) -> StoreResult<bool> {
        let (id, by) = (id.to_string(), by.to_string());
        self.write(move |c| checkpoints::approve_device(c, &id, &by, at)).await
    }

    async fn record_checkins(&self, batch: &[NewCheckin]) -> StoreResult<()> {
        let batch = batch.to_vec();
        self.write(move |c| checkpoints::record_checkins(c, &batch)).await
    }

    async fn checkins_at_venue(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        let venue = venue.to_string();
        self.read(move |c| checkpoints::checkins_at_venue(c, &venue, from, to, limit)).await
    }

    async fn checkins_of_person(
        &self,
        person: &PersonId,
        from: Timestamp,
        to: Timestamp,
        limit: usize,
    ) -> StoreResult<Vec<Checkin>> {
        let person = person.to_string();
        self.read(move |c| checkpoints::checkins_of_person(c, &person, from, to, limit)).await
    }

    async fn checkin_counts(
        &self,
        venue: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<(AccessOutcome, u64)>> {
        let venue = venue.to_string();
        self.read(move |c| checkpoints::checkin_counts(c, &venue, from, to)).await
    }

    async fn save_resident_key(&self, key: &ResidentKey) -> StoreResult<()> {
        let key = key.clone();
        self.write(move |c| residents::save_key(c, &key)).await
    }

    async fn resident_key(&self, key_hash: &str) -> StoreResult<Option<ResidentKey>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| residents::key(c, &key_hash)).await
    }

    async fn claim_resident_key(&self, key: &ResidentKey) -> StoreResult<bool> {
        let key = key.clone();
        // One writer connection: the check and the insert are one statement.
        self.write(move |c| {
            c.execute(
                "INSERT INTO resident_keys (key_hash, person_id, label, created_at)
                 SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM resident_keys WHERE person_id = ?2)",
                (&key.key_hash, key.person.as_str(), &key.label, key.created_at.as_millis()),
            )
            .map(|n| n == 1)
            .map_err(crate::backend("claim a resident key"))
        })
        .await
    }

    async fn has_resident_key(&self, person: &PersonId) -> StoreResult<bool> {
        let person = person.clone();
        self.read(move |c| residents::has_key(c, &person)).await
    }

    async fn delete_resident_keys(&self, person: &PersonId) -> StoreResult<u64> {
        let person = person.clone();
        self.write(move |c| residents::delete_keys(c, &person)).await
    }

    async fn save_proxy(&self, link: &ProxyLink) -> StoreResult<bool> {
        let link = link.clone();
        self.write(move |c| residents::save_proxy(c, &link)).await
    }

    async fn end_proxy(&self, proxy: &PersonId, dependant: &PersonId) -> StoreResult<bool> {
        let (proxy, dependant) = (proxy.clone(), dependant.clone());
        self.write(move |c| residents::end_proxy(c, &proxy, &dependant)).await
    }

    async fn proxy_links(&self, person: &PersonId) -> StoreResult<Vec<ProxyLink>> {
        let person = person.clone();
        self.read(move |c| residents::proxy_links(c, &person)).await
    }

    async fn record_accesses(&self, accesses: &[NewAccess]) -> StoreResult<()> {
        if accesses.is_empty() {
            return Ok(());
        }
        let accesses = accesses.to_vec();
        self.write(move |c| residents::record_accesses(c, &accesses)).await
    }

    async fn accesses(&self, person: &PersonId, limit: usize) -> StoreResult<Vec<Access>> {
        let person = person.clone();
        self.read(move |c| residents::accesses(c, &person, limit)).await
    }

    async fn save_complaint(&self, complaint: &Complaint) -> StoreResult<()> {
        let complaint = complaint.clone();
        self.write(move |c| residents::save_complaint(c, &complaint)).await
    }

    async fn complaint(&self, id: &str) -> StoreResult<Option<Complaint>> {
        let id = id.to_string();
        self.read(move |c| residents::complaint(c, &id)).await
    }

    async fn complaints(&self, query: &ComplaintQuery, limit: usize) -> StoreResult<Vec<Complaint>> {
        let query = query.clone();
        self.read(move |c| residents::complaints(c, &query, limit)).await
    }

    async fn delete_documents_before(&self, kind: &str, before: Timestamp) -> StoreResult<u64> {
        let kind = kind.to_string();
        self.write(move |c| {
            c.execute("DELETE FROM documents WHERE kind = ?1 AND at < ?2", (&kind, before.as_millis()))
                .map(|n| n as u64)
                .map_err(crate::backend("delete old documents"))
        })
        .await
    }

    async fn delete_checkins_before(&self, before: Timestamp) -> StoreResult<u64> {
        self.write(move |c| {
            c.execute("DELETE FROM checkins WHERE at < ?1", [before.as_millis()])
                .map(|n| n as u64)
                .map_err(crate::backend("delete old check-ins"))
        })
        .await
    }

    async fn save_consent(&self, consent: &Consent) -> StoreResult<()> {
        let consent = consent.clone();
        self.write(move |c| residents::save_consent(c, &consent)).await
    }

    async fn consents(&self, person: &PersonId) -> StoreResult<Vec<Consent>> {
        let person = person.clone();
        self.read(move |c| residents::consents(c, &person)).await
    }

    async fn research_counts(
        &self,
        metric: ResearchMetric,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ResearchCount>> {
        self.read(move |c| residents::research_counts(c, metric, from, to)).await
    }

    async fn save_personal_data(&self, data: &SealedPersonalData) -> StoreResult<()> {
        let data = data.clone();
        self.write(move |c| residents::save_personal(c, &data)).await
    }

    async fn personal_data(&self, person: &PersonId) -> StoreResult<Option<SealedPersonalData>> {
        let person = person.clone();
        self.read(move |c| residents::personal(c, &person)).await
    }

    async fn personal_data_after(
        &self,
        after: Option<&PersonId>,
        limit: usize,
    ) -> StoreResult<Vec<SealedPersonalData>> {
        let after = after.map(|p| p.as_str().to_string()).unwrap_or_default();
        self.read(move |c| residents::personal_after(c, &after, limit)).await
    }

    async fn destroy_personal_data(&self) -> StoreResult<DestroyedRows> {
        self.write(residents::destroy).await
    }

    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        let account = account.clone();
        self.write(move |c| accounts::create_account(c, &account)).await
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        let username = username.to_string();
        self.read(move |c| accounts::account_by_username(c, &username)).await
    }

    async fn save_credential(&self, credential: &Credential) -> StoreResult<()> {
        let credential = credential.clone();
        self.write(move |c| accounts::save_credential(c, &credential)).await
    }

    async fn credential(&self, key_hash: &str) -> StoreResult<Option<(Credential, Account)>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| accounts::credential(c, &key_hash)).await
    }

    async fn delete_credential(&self, key_hash: &str) -> StoreResult<()> {
        let key_hash = key_hash.to_string();
        self.write(move |c| accounts::delete_credential(c, &key_hash)).await
    }

    async fn save_decision(&self, decision: &Decision) -> StoreResult<()> {
        let decision = decision.clone();
        self.write(move |c| accounts::save_decision(c, &decision)).await
    }

    async fn decision(&self, id: &str) -> StoreResult<Option<Decision>> {
        let id = id.to_string();
        self.read(move |c| Ok(accounts::decisions(c, Some(&id), 1)?.pop())).await
    }

    async fn decisions(&self, limit: usize) -> StoreResult<Vec<Decision>> {
        self.read(move |c| accounts::decisions(c, None, limit)).await
    }

    async fn record_alarm(&self, alarm: &NewAlarm) -> StoreResult<i64> {
        let alarm = alarm.clone();
        self.write(move |c| accounts::record_alarm(c, &alarm)).await
    }

    async fn alarms(&self, after: i64, limit: usize) -> StoreResult<Vec<Alarm>> {
        self.read(move |c| accounts::alarms(c, after, limit)).await
    }

    async fn put_document(&self, kind: &str, id: &str, at: Timestamp, body: &str) -> StoreResult<()> {
        let (kind, id, body) = (kind.to_string(), id.to_string(), body.to_string());
        self.write(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO documents (kind, id, at, body) VALUES (?1, ?2, ?3, ?4)",
                (&kind, &id, at.as_millis(), &body),
            )
            .map(drop)
            .map_err(crate::backend("save a document"))
        })
        .await
    }

    async fn document(&self, kind: &str, id: &str) -> StoreResult<Option<String>> {
        let (kind, id) = (kind.to_string(), id.to_string());
        self.read(move |c| {
            use rusqlite::OptionalExtension;
            c.query_row("SELECT body FROM documents WHERE kind = ?1 AND id = ?2", (&kind, &id), |r| r.get(0))
                .optional()
                .map_err(crate::backend("read a document"))
        })
        .await
    }

    async fn documents(&self, kind: &str, limit: usize) -> StoreResult<Vec<String>> {
        let kind = kind.to_string();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached("SELECT body FROM documents WHERE kind = ?1 ORDER BY at DESC, id LIMIT ?2")
                .map_err(crate::backend("read documents"))?;
            let rows = stmt.query_map((&kind, limit as i64), |r| r.get(0)).map_err(crate::backend("read documents"))?;
            rows.map(|r| r.map_err(crate::backend("read documents"))).collect()
        })
        .await
    }
}
