//! Resident keys, proxy links, the access log, complaints, sealed personal data and its
//! destruction, and research aggregates.

use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_store::{
    Access, Complaint, ComplaintCounts, ComplaintQuery, Consent, DestroyedRows, NewAccess, PersonProfile, ProxyLink,
    ResearchCount, ResearchMetric, ResidentKey, ResidentStore, SealedPersonalData, StoreError, StoreResult,
    CST_OFFSET_MS, PERSONAL_TABLES, PERSON_ROWS,
};
use tokio_postgres::Row;

use crate::{backend, corrupt, PostgresStore};

type Client = deadpool_postgres::Object;

fn person(text: &str, what: &str) -> Result<PersonId, StoreError> {
    PersonId::parse(text).map_err(|e| corrupt(what, e))
}

pub(crate) async fn save_key(client: &Client, key: &ResidentKey) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO resident_keys (key_hash, person_id, label, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key_hash) DO UPDATE SET person_id = excluded.person_id, label = excluded.label,
                 created_at = excluded.created_at",
            &[&key.key_hash, &key.person.as_str(), &key.label, &key.created_at.as_millis()],
        )
        .await
        .map_err(backend("save a resident key"))?;
    Ok(())
}

pub(crate) async fn key(client: &Client, key_hash: &str) -> Result<Option<ResidentKey>, StoreError> {
    let row = client
        .query_opt("SELECT person_id, label, created_at FROM resident_keys WHERE key_hash = $1", &[&key_hash])
        .await
        .map_err(backend("read a resident key"))?;
    row.map(|r| {
        Ok(ResidentKey {
            key_hash: key_hash.to_string(),
            person: person(r.get(0), "resident key person")?,
            label: r.get(1),
            created_at: Timestamp::from_millis(r.get(2)),
        })
    })
    .transpose()
}

pub(crate) async fn has_key(client: &Client, of: &PersonId) -> Result<bool, StoreError> {
    let row = client
        .query_one("SELECT EXISTS (SELECT 1 FROM resident_keys WHERE person_id = $1)", &[&of.as_str()])
        .await
        .map_err(backend("look for a resident key"))?;
    Ok(row.get(0))
}

pub(crate) async fn delete_keys(client: &Client, of: &PersonId) -> Result<u64, StoreError> {
    client
        .execute("DELETE FROM resident_keys WHERE person_id = $1", &[&of.as_str()])
        .await
        .map_err(backend("delete resident keys"))
}

pub(crate) async fn save_proxy(client: &Client, link: &ProxyLink) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "INSERT INTO proxies (proxy_id, dependant_id, relation, created_at, agreed_with_counter_key_of)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                &link.proxy.as_str(),
                &link.dependant.as_str(),
                &link.relation,
                &link.created_at.as_millis(),
                &link.agreed_with_counter_key_of.as_deref(),
            ],
        )
        .await
        .map_err(backend("save a proxy link"))?;
    Ok(n == 1)
}

pub(crate) async fn end_proxy(client: &Client, proxy: &PersonId, dependant: &PersonId) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "DELETE FROM proxies WHERE proxy_id = $1 AND dependant_id = $2",
            &[&proxy.as_str(), &dependant.as_str()],
        )
        .await
        .map_err(backend("end a proxy link"))?;
    Ok(n == 1)
}

pub(crate) async fn proxy_links(client: &Client, of: &PersonId) -> Result<Vec<ProxyLink>, StoreError> {
    let rows = client
        .query(
            "SELECT proxy_id, dependant_id, relation, created_at, agreed_with_counter_key_of FROM proxies
             WHERE proxy_id = $1 OR dependant_id = $1 ORDER BY created_at, proxy_id, dependant_id",
            &[&of.as_str()],
        )
        .await
        .map_err(backend("read proxy links"))?;
    rows.iter()
        .map(|r| {
            Ok(ProxyLink {
                proxy: person(r.get(0), "proxy id")?,
                dependant: person(r.get(1), "dependant id")?,
                relation: r.get(2),
                created_at: Timestamp::from_millis(r.get(3)),
                agreed_with_counter_key_of: r.get(4),
            })
        })
        .collect()
}

pub(crate) async fn record_accesses(client: &mut Client, accesses: &[NewAccess]) -> Result<(), StoreError> {
    let tx = client.transaction().await.map_err(backend("begin recording accesses"))?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO accesses (person_id, at, actor, role, purpose, what) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .map_err(backend("record an access"))?;
    for a in accesses {
        tx.execute(&stmt, &[&a.person.as_str(), &a.at.as_millis(), &a.actor, &a.role, &a.purpose, &a.what])
            .await
            .map_err(backend("record an access"))?;
    }
    tx.commit().await.map_err(backend("commit accesses"))
}

pub(crate) async fn accesses(client: &Client, of: &PersonId, limit: usize) -> Result<Vec<Access>, StoreError> {
    let rows = client
        .query(
            "SELECT id, at, actor, role, purpose, what FROM accesses WHERE person_id = $1 ORDER BY id DESC LIMIT $2",
            &[&of.as_str(), &(limit as i64)],
        )
        .await
        .map_err(backend("read accesses"))?;
    Ok(rows
        .iter()
        .map(|r| Access {
            id: r.get(0),
            access: NewAccess {
                person: of.clone(),
                at: Timestamp::from_millis(r.get(1)),
                actor: r.get(2),
                role: r.get(3),
                purpose: r.get(4),
                what: r.get(5),
            },
        })
        .collect())
}

pub(crate) async fn save_complaint(client: &Client, c: &Complaint) -> Result<(), StoreError> {
    let body = serde_json::to_string(c).map_err(|e| StoreError::Backend(format!("cannot encode a complaint: {e}")))?;
    client
        .execute(
            "INSERT INTO complaints (id, person_id, filed_at, status, area, body, awaiting, due_at, escalated)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, area = excluded.area, body = excluded.body,
                 awaiting = excluded.awaiting, due_at = excluded.due_at, escalated = excluded.escalated",
            &[
                &c.id,
                &c.person.as_str(),
                &c.filed_at.as_millis(),
                &c.status.as_str(),
                &c.area,
                &body,
                &c.awaiting().map(|d| d.as_str()),
                &c.due_at.map(Timestamp::as_millis),
                &c.escalated_at.is_some(),
            ],
        )
        .await
        .map_err(backend("save a complaint"))?;
    Ok(())
}

fn decode(row: &Row) -> Result<Complaint, StoreError> {
    serde_json::from_str(row.get(0)).map_err(|e| corrupt("complaint", e))
}

pub(crate) async fn complaint(client: &Client, id: &str) -> Result<Option<Complaint>, StoreError> {
    let row = client
        .query_opt("SELECT body FROM complaints WHERE id = $1", &[&id])
        .await
        .map_err(backend("read a complaint"))?;
    row.as_ref().map(decode).transpose()
}

pub(crate) async fn complaints(
    client: &Client,
    q: &ComplaintQuery,
    limit: usize,
) -> Result<Vec<Complaint>, StoreError> {
    // `starts_with` rather than LIKE: no wildcard in a prefix can widen the match.
    let rows = client
        .query(
            "SELECT body FROM complaints
             WHERE ($1::text IS NULL OR person_id = $1)
               AND (NOT $2 OR status = 'open')
               AND ($3::text IS NULL OR starts_with(area, $3))
               AND ($5::text IS NULL OR awaiting = $5)
               AND (NOT $6 OR awaiting IS NOT NULL)
               AND ($7::bigint IS NULL OR (status = 'open' AND NOT escalated AND due_at <= $7))
               AND (NOT $8 OR escalated)
             ORDER BY filed_at DESC, id LIMIT $4",
            &[
                &q.person.as_ref().map(PersonId::as_str),
                &q.open_only,
                &q.area_prefix,
                &(limit as i64),
                &q.awaiting.map(|d| d.as_str()),
                &q.awaiting_any,
                &q.due_by.map(Timestamp::as_millis),
                &q.escalated_only,
            ],
        )
        .await
        .map_err(backend("read complaints"))?;
    rows.iter().map(decode).collect()
}

pub(crate) async fn complaint_counts(client: &Client) -> Result<ComplaintCounts, StoreError> {
    let row = client
        .query_one(&healthcode_store::complaint_counts_sql("escalated"), &[])
        .await
        .map_err(backend("count complaints"))?;
    Ok(ComplaintCounts {
        open: row.get::<_, i64>(0) as u64,
        awaiting_department: row.get::<_, i64>(1) as u64,
        escalated: row.get::<_, i64>(2) as u64,
    })
}

pub(crate) async fn save_personal(client: &Client, d: &SealedPersonalData) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO personal_data (person_id, wrapped_key, sealed, updated_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (person_id) DO UPDATE SET wrapped_key = excluded.wrapped_key, sealed = excluded.sealed,
                 updated_at = excluded.updated_at",
            &[&d.person.as_str(), &d.wrapped_key, &d.sealed, &d.updated_at.as_millis()],
        )
        .await
        .map_err(backend("save personal data"))?;
    Ok(())
}

pub(crate) async fn personal(client: &Client, of: &PersonId) -> Result<Option<SealedPersonalData>, StoreError> {
    let row = client
        .query_opt("SELECT wrapped_key, sealed, updated_at FROM personal_data WHERE person_id = $1", &[&of.as_str()])
        .await
        .map_err(backend("read personal data"))?;
    Ok(row.map(|r| SealedPersonalData {
        person: of.clone(),
        wrapped_key: r.get(0),
        sealed: r.get(1),
        updated_at: Timestamp::from_millis(r.get(2)),
    }))
}

pub(crate) async fn destroy(client: &mut Client) -> Result<DestroyedRows, StoreError> {
    let tx = client.transaction().await.map_err(backend("begin a destruction"))?;
    // No insert may slip in beside the deletions (nothing else stops evidence being added
    // for a person about to be deleted: see migration 0008): inserts wait for the commit,
    // then find no persons.
    let personal: Vec<&str> = crate::federation::PERSONAL_TABLES.iter().chain(PERSONAL_TABLES).copied().collect();
    tx.batch_execute(&format!("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE", personal.join(", ")))
        .await
        .map_err(backend("lock the personal tables"))?;
    let mut removed = Vec::new();
    for table in &personal {
        let n = tx.execute(&format!("DELETE FROM {table}"), &[]).await.map_err(backend("delete personal data"))?;
        removed.push((table.to_string(), n));
    }
    let n = tx
        .execute(
            "DELETE FROM documents WHERE kind IN ('trace', 'claim_code', 'card', 'credit_record', 'attachment', 'group_code_holder')",
            &[],
        )
        .await
        .map_err(backend("delete contact lists and claim codes"))?;
    removed.push(("documents (contact lists, claim codes, cards)".to_string(), n));
    tx.commit().await.map_err(backend("commit a destruction"))?;
    // Dead tuples keep their bytes until the table is rewritten.
    let tables: Vec<&str> = personal.into_iter().chain(["documents"]).collect();
    client
        .batch_execute(&format!("VACUUM FULL {}", tables.join(", ")))
        .await
        .map_err(backend("vacuum after a destruction"))?;
    Ok(removed)
}

pub(crate) async fn erase_person(client: &mut Client, person: &PersonId) -> Result<DestroyedRows, StoreError> {
    let tx = client.transaction().await.map_err(backend("begin an erasure"))?;
    // The person's row first: an insert that checks the person is registered waits.
    tx.execute("SELECT id FROM persons WHERE id = $1 FOR UPDATE", &[&person.as_str()])
        .await
        .map_err(backend("lock a person"))?;
    // Rows that refer to the person before the person (`PERSON_ROWS` ends with them).
    let mut removed: DestroyedRows = crate::federation::erase(&tx, person).await?;
    for (table, column) in PERSON_ROWS {
        let n = tx
            .execute(&format!("DELETE FROM {table} WHERE {column} = $1"), &[&person.as_str()])
            .await
            .map_err(backend("erase a person"))?;
        match removed.iter_mut().find(|(t, _)| t == table) {
            Some((_, total)) => *total += n,
            None => removed.push((table.to_string(), n)),
        }
    }
    let n = tx
        .execute("DELETE FROM rejections WHERE strpos(input, $1) > 0", &[&person.as_str()])
        .await
        .map_err(backend("erase a person's rejected inputs"))?;
    removed.push(("rejections".to_string(), n));
    let n = tx
        .execute(
            "DELETE FROM documents WHERE kind IN ('card', 'claim_code', 'attachment') AND strpos(body, $1) > 0",
            &[&person.as_str()],
        )
        .await
        .map_err(backend("erase a person's cards and claim codes"))?;
    removed.push(("documents (cards, claim codes)".to_string(), n));
    tx.commit().await.map_err(backend("commit an erasure"))?;
    Ok(removed)
}

pub(crate) async fn research_counts(
    client: &Client,
    metric: ResearchMetric,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ResearchCount>, StoreError> {
    let sql = numbered_placeholders(metric.sql());
    let (from, to) = (from.as_millis(), to.as_millis());
    let params: &[&(dyn tokio_postgres::types::ToSql + Sync)] =
        if metric.counts_by_day() { &[&from, &to, &CST_OFFSET_MS] } else { &[] };
    let rows = client.query(&sql, params).await.map_err(backend("count for research"))?;
    Ok(rows
        .iter()
        .map(|r| ResearchCount { area: r.get(0), key: r.get(1), persons: r.get::<_, i64>(2) as u64 })
        .collect())
}

/// SQL written for both backends (`?1`, `?2` …) in PostgreSQL's placeholders (`$1` …).
fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) { '$' } else { c });
    }
    out
}

pub(crate) async fn save_consent(client: &Client, c: &Consent) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO consents (person_id, purpose, granted_at, revoked_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (person_id, purpose) DO UPDATE SET granted_at = excluded.granted_at,
                 revoked_at = excluded.revoked_at",
            &[&c.person.as_str(), &c.purpose, &c.granted_at.as_millis(), &c.revoked_at.map(Timestamp::as_millis)],
        )
        .await
        .map_err(backend("save a consent"))?;
    Ok(())
}

pub(crate) async fn consents(client: &Client, of: &PersonId) -> Result<Vec<Consent>, StoreError> {
    let rows = client
        .query(
            "SELECT purpose, granted_at, revoked_at FROM consents WHERE person_id = $1 ORDER BY purpose",
            &[&of.as_str()],
        )
        .await
        .map_err(backend("read consents"))?;
    Ok(rows
        .iter()
        .map(|r| Consent {
            person: of.clone(),
            purpose: r.get(0),
            granted_at: Timestamp::from_millis(r.get(1)),
            revoked_at: r.get::<_, Option<i64>>(2).map(Timestamp::from_millis),
        })
        .collect())
}

pub(crate) async fn personal_after(
    client: &Client,
    after: &str,
    limit: usize,
) -> Result<Vec<SealedPersonalData>, StoreError> {
    let rows = client
        .query(
            "SELECT person_id, wrapped_key, sealed, updated_at FROM personal_data WHERE person_id > $1
             ORDER BY person_id LIMIT $2",
            &[&after, &(limit as i64)],
        )
        .await
        .map_err(backend("read personal data"))?;
    rows.iter()
        .map(|r| {
            Ok(SealedPersonalData {
                person: person(r.get(0), "personal data person")?,
                wrapped_key: r.get(1),
                sealed: r.get(2),
                updated_at: Timestamp::from_millis(r.get(3)),
            })
        })
        .collect()
}

#[async_trait]
impl ResidentStore for PostgresStore {
    async fn save_profile(&self, profile: &PersonProfile) -> StoreResult<()> {
        self.save_profile_row(profile).await
    }

    async fn profile(&self, person: &PersonId) -> StoreResult<Option<PersonProfile>> {
        self.profile_row(person).await
    }

    async fn person_by_code_id(&self, code_id: &str) -> StoreResult<Option<PersonId>> {
        self.person_by_code_id_row(code_id).await
    }

    async fn save_resident_key(&self, key: &ResidentKey) -> StoreResult<()> {
        crate::residents::save_key(&self.client().await?, key).await
    }

    async fn resident_key(&self, key_hash: &str) -> StoreResult<Option<ResidentKey>> {
        crate::residents::key(&self.client().await?, key_hash).await
    }

    async fn claim_resident_key(&self, key: &ResidentKey) -> StoreResult<bool> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend("begin claiming a resident key"))?;
        // Two servers registering the same person at once: the second waits, then sees the key.
        tx.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&key.person.as_str()])
            .await
            .map_err(backend("lock a person's keys"))?;
        let n = tx
            .execute(
                "INSERT INTO resident_keys (key_hash, person_id, label, created_at)
                 SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM resident_keys WHERE person_id = $2)",
                &[&key.key_hash, &key.person.as_str(), &key.label, &key.created_at.as_millis()],
            )
            .await
            .map_err(backend("claim a resident key"))?;
        tx.commit().await.map_err(backend("commit a resident key"))?;
        Ok(n == 1)
    }

    async fn has_resident_key(&self, person: &PersonId) -> StoreResult<bool> {
        crate::residents::has_key(&self.client().await?, person).await
    }

    async fn delete_resident_keys(&self, person: &PersonId) -> StoreResult<u64> {
        crate::residents::delete_keys(&self.client().await?, person).await
    }

    async fn save_proxy(&self, link: &ProxyLink) -> StoreResult<bool> {
        crate::residents::save_proxy(&self.client().await?, link).await
    }

    async fn end_proxy(&self, proxy: &PersonId, dependant: &PersonId) -> StoreResult<bool> {
        crate::residents::end_proxy(&self.client().await?, proxy, dependant).await
    }

    async fn proxy_links(&self, person: &PersonId) -> StoreResult<Vec<ProxyLink>> {
        crate::residents::proxy_links(&self.client().await?, person).await
    }

    async fn record_accesses(&self, accesses: &[NewAccess]) -> StoreResult<()> {
        if accesses.is_empty() {
            return Ok(());
        }
        crate::residents::record_accesses(&mut self.client().await?, accesses).await
    }

    async fn accesses(&self, person: &PersonId, limit: usize) -> StoreResult<Vec<Access>> {
        crate::residents::accesses(&self.client().await?, person, limit).await
    }

    async fn save_complaint(&self, complaint: &Complaint) -> StoreResult<()> {
        crate::residents::save_complaint(&self.client().await?, complaint).await
    }

    async fn complaint(&self, id: &str) -> StoreResult<Option<Complaint>> {
        crate::residents::complaint(&self.client().await?, id).await
    }

    async fn complaints(&self, query: &ComplaintQuery, limit: usize) -> StoreResult<Vec<Complaint>> {
        crate::residents::complaints(&self.client().await?, query, limit).await
    }

    async fn complaint_counts(&self) -> StoreResult<ComplaintCounts> {
        crate::residents::complaint_counts(&self.client().await?).await
    }

    async fn save_consent(&self, consent: &Consent) -> StoreResult<()> {
        crate::residents::save_consent(&self.client().await?, consent).await
    }

    async fn consents(&self, person: &PersonId) -> StoreResult<Vec<Consent>> {
        crate::residents::consents(&self.client().await?, person).await
    }

    async fn research_counts(
        &self,
        metric: ResearchMetric,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ResearchCount>> {
        crate::residents::research_counts(&self.client().await?, metric, from, to).await
    }

    async fn save_personal_data(&self, data: &SealedPersonalData) -> StoreResult<()> {
        crate::residents::save_personal(&self.client().await?, data).await
    }

    async fn personal_data(&self, person: &PersonId) -> StoreResult<Option<SealedPersonalData>> {
        crate::residents::personal(&self.client().await?, person).await
    }

    async fn personal_data_after(
        &self,
        after: Option<&PersonId>,
        limit: usize,
    ) -> StoreResult<Vec<SealedPersonalData>> {
        let after = after.map(|p| p.as_str().to_string()).unwrap_or_default();
        crate::residents::personal_after(&self.client().await?, &after, limit).await
    }

    async fn destroy_personal_data(&self) -> StoreResult<DestroyedRows> {
        crate::residents::destroy(&mut self.client().await?).await
    }

    async fn erase_person(&self, person: &PersonId) -> StoreResult<DestroyedRows> {
        crate::residents::erase_person(&mut self.client().await?, person).await
    }
}
