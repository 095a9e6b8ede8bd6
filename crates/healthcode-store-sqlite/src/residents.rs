//! Resident keys, proxy links, the access log, complaints, sealed personal data and its
//! destruction, and research aggregates.

use async_trait::async_trait;
use healthcode_domain::{PersonId, Timestamp};
use healthcode_store::{
    Access, Complaint, ComplaintCounts, ComplaintQuery, Consent, DestroyedRows, NewAccess, PersonProfile, ProxyLink,
    ResearchCount, ResearchMetric, ResidentKey, ResidentStore, SealedPersonalData, StoreError, StoreResult,
    CST_OFFSET_MS, PERSONAL_TABLES, PERSON_ROWS,
};
use rusqlite::{Connection, OptionalExtension};

use crate::{backend, corrupt, SqliteStore};

fn person(text: &str, what: &str) -> Result<PersonId, StoreError> {
    PersonId::parse(text).map_err(|e| corrupt(what, e))
}

pub(crate) fn save_key(conn: &mut Connection, key: &ResidentKey) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO resident_keys (key_hash, person_id, label, created_at) VALUES (?1, ?2, ?3, ?4)",
        (&key.key_hash, key.person.as_str(), &key.label, key.created_at.as_millis()),
    )
    .map_err(backend("save a resident key"))?;
    Ok(())
}

pub(crate) fn key(conn: &Connection, key_hash: &str) -> Result<Option<ResidentKey>, StoreError> {
    let row = conn
        .prepare_cached("SELECT person_id, label, created_at FROM resident_keys WHERE key_hash = ?1")
        .and_then(|mut s| {
            s.query_row([key_hash], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))
                .optional()
        })
        .map_err(backend("read a resident key"))?;
    row.map(|(p, label, created_at)| {
        Ok(ResidentKey {
            key_hash: key_hash.to_string(),
            person: person(&p, "resident key person")?,
            label,
            created_at: Timestamp::from_millis(created_at),
        })
    })
    .transpose()
}

pub(crate) fn has_key(conn: &Connection, of: &PersonId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM resident_keys WHERE person_id = ?1)")
        .and_then(|mut s| s.query_row([of.as_str()], |r| r.get(0)))
        .map_err(backend("look for a resident key"))
}

pub(crate) fn delete_keys(conn: &mut Connection, of: &PersonId) -> Result<u64, StoreError> {
    let n = conn
        .execute("DELETE FROM resident_keys WHERE person_id = ?1", [of.as_str()])
        .map_err(backend("delete resident keys"))?;
    Ok(n as u64)
}

pub(crate) fn save_proxy(conn: &mut Connection, link: &ProxyLink) -> Result<bool, StoreError> {
    let n = conn
        .execute(
            "INSERT OR IGNORE INTO proxies (proxy_id, dependant_id, relation, created_at, agreed_with_counter_key_of)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            (
                link.proxy.as_str(),
                link.dependant.as_str(),
                &link.relation,
                link.created_at.as_millis(),
                link.agreed_with_counter_key_of.as_deref(),
            ),
        )
        .map_err(backend("save a proxy link"))?;
    Ok(n == 1)
}

pub(crate) fn end_proxy(conn: &mut Connection, proxy: &PersonId, dependant: &PersonId) -> Result<bool, StoreError> {
    let n = conn
        .execute("DELETE FROM proxies WHERE proxy_id = ?1 AND dependant_id = ?2", [proxy.as_str(), dependant.as_str()])
        .map_err(backend("end a proxy link"))?;
    Ok(n == 1)
}

pub(crate) fn proxy_links(conn: &Connection, of: &PersonId) -> Result<Vec<ProxyLink>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT proxy_id, dependant_id, relation, created_at, agreed_with_counter_key_of FROM proxies
             WHERE proxy_id = ?1 OR dependant_id = ?1 ORDER BY created_at, proxy_id, dependant_id",
        )
        .map_err(backend("read proxy links"))?;
    let rows = stmt
        .query_map([of.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })
        .map_err(backend("read proxy links"))?;
    rows.map(|row| {
        let (proxy, dependant, relation, created_at, agreed_with_counter_key_of) =
            row.map_err(backend("read proxy links"))?;
        Ok(ProxyLink {
            proxy: person(&proxy, "proxy id")?,
            dependant: person(&dependant, "dependant id")?,
            relation,
            created_at: Timestamp::from_millis(created_at),
            agreed_with_counter_key_of,
        })
    })
    .collect()
}

pub(crate) fn record_accesses(conn: &mut Connection, accesses: &[NewAccess]) -> Result<(), StoreError> {
    let tx = conn.transaction().map_err(backend("begin recording accesses"))?;
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO accesses (person_id, at, actor, role, purpose, what) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend("record an access"))?;
        for a in accesses {
            stmt.execute((a.person.as_str(), a.at.as_millis(), &a.actor, &a.role, &a.purpose, &a.what))
                .map_err(backend("record an access"))?;
        }
    }
    tx.commit().map_err(backend("commit accesses"))
}

pub(crate) fn accesses(conn: &Connection, of: &PersonId, limit: usize) -> Result<Vec<Access>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, at, actor, role, purpose, what FROM accesses WHERE person_id = ?1 ORDER BY id DESC LIMIT ?2",
        )
        .map_err(backend("read accesses"))?;
    let rows = stmt
        .query_map((of.as_str(), limit as i64), |r| {
            Ok(Access {
                id: r.get(0)?,
                access: NewAccess {
                    person: of.clone(),
                    at: Timestamp::from_millis(r.get(1)?),
                    actor: r.get(2)?,
                    role: r.get(3)?,
                    purpose: r.get(4)?,
                    what: r.get(5)?,
                },
            })
        })
        .map_err(backend("read accesses"))?;
    rows.map(|r| r.map_err(backend("read accesses"))).collect()
}

pub(crate) fn save_complaint(conn: &mut Connection, c: &Complaint) -> Result<(), StoreError> {
    let body = serde_json::to_string(c).map_err(|e| StoreError::Backend(format!("cannot encode a complaint: {e}")))?;
    conn.execute(
        "INSERT OR REPLACE INTO complaints (id, person_id, filed_at, status, area, body, awaiting, due_at, escalated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        rusqlite::params![
            &c.id,
            c.person.as_str(),
            c.filed_at.as_millis(),
            c.status.as_str(),
            &c.area,
            &body,
            c.awaiting().map(|d| d.as_str()),
            c.due_at.map(Timestamp::as_millis),
            c.escalated_at.is_some(),
        ],
    )
    .map_err(backend("save a complaint"))?;
    Ok(())
}

fn decode(body: &str) -> Result<Complaint, StoreError> {
    serde_json::from_str(body).map_err(|e| corrupt("complaint", e))
}

pub(crate) fn complaint(conn: &Connection, id: &str) -> Result<Option<Complaint>, StoreError> {
    conn.prepare_cached("SELECT body FROM complaints WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get::<_, String>(0)).optional())
        .map_err(backend("read a complaint"))?
        .map(|b| decode(&b))
        .transpose()
}

pub(crate) fn complaints(conn: &Connection, q: &ComplaintQuery, limit: usize) -> Result<Vec<Complaint>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT body FROM complaints
             WHERE (?1 IS NULL OR person_id = ?1)
               AND (?2 = 0 OR status = 'open')
               AND (?3 IS NULL OR substr(area, 1, length(?3)) = ?3)
               AND (?5 IS NULL OR awaiting = ?5)
               AND (?6 = 0 OR awaiting IS NOT NULL)
               AND (?7 IS NULL OR (status = 'open' AND escalated = 0 AND due_at <= ?7))
               AND (?8 = 0 OR escalated = 1)
             ORDER BY filed_at DESC, id LIMIT ?4",
        )
        .map_err(backend("read complaints"))?;
    let params = rusqlite::params![
        q.person.as_ref().map(PersonId::as_str),
        q.open_only,
        &q.area_prefix,
        limit as i64,
        q.awaiting.map(|d| d.as_str()),
        q.awaiting_any,
        q.due_by.map(Timestamp::as_millis),
        q.escalated_only,
    ];
    let rows = stmt.query_map(params, |r| r.get::<_, String>(0)).map_err(backend("read complaints"))?;
    rows.map(|r| decode(&r.map_err(backend("read complaints"))?)).collect()
}

pub(crate) fn complaint_counts(conn: &Connection) -> Result<ComplaintCounts, StoreError> {
    conn.query_row(&healthcode_store::complaint_counts_sql("escalated = 1"), [], |r| {
        Ok(ComplaintCounts {
            open: r.get::<_, i64>(0)? as u64,
            awaiting_department: r.get::<_, i64>(1)? as u64,
            escalated: r.get::<_, i64>(2)? as u64,
        })
    })
    .map_err(backend("count complaints"))
}

pub(crate) fn save_personal(conn: &mut Connection, d: &SealedPersonalData) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO personal_data (person_id, wrapped_key, sealed, updated_at) VALUES (?1, ?2, ?3, ?4)",
        (d.person.as_str(), &d.wrapped_key, &d.sealed, d.updated_at.as_millis()),
    )
    .map_err(backend("save personal data"))?;
    Ok(())
}

pub(crate) fn personal(conn: &Connection, of: &PersonId) -> Result<Option<SealedPersonalData>, StoreError> {
    conn.prepare_cached("SELECT wrapped_key, sealed, updated_at FROM personal_data WHERE person_id = ?1")
        .and_then(|mut s| {
            s.query_row([of.as_str()], |r| {
                Ok(SealedPersonalData {
                    person: of.clone(),
                    wrapped_key: r.get(0)?,
                    sealed: r.get(1)?,
                    updated_at: Timestamp::from_millis(r.get(2)?),
                })
            })
            .optional()
        })
        .map_err(backend("read personal data"))
}

pub(crate) fn destroy(conn: &mut Connection) -> Result<DestroyedRows, StoreError> {
    let tx = conn.transaction().map_err(backend("begin a destruction"))?;
    let mut removed = Vec::new();
    for table in crate::federation::PERSONAL_TABLES.iter().chain(PERSONAL_TABLES) {
        let n = tx.execute(&format!("DELETE FROM {table}"), []).map_err(backend("delete personal data"))?;
        removed.push((table.to_string(), n as u64));
    }
    let n = tx
        .execute(
            "DELETE FROM documents WHERE kind IN ('trace', 'claim_code', 'card', 'credit_record', 'attachment', 'group_code_holder')",
            [],
        )
        .map_err(backend("delete contact lists and claim codes"))?;
    removed.push(("documents (contact lists, claim codes, cards)".to_string(), n as u64));
    tx.commit().map_err(backend("commit a destruction"))?;
    // Deleted pages would keep their bytes: rebuild the file, then empty the write-ahead log.
    conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);").map_err(backend("vacuum after a destruction"))?;
    Ok(removed)
}

pub(crate) fn erase_person(conn: &mut Connection, person: &PersonId) -> Result<DestroyedRows, StoreError> {
    // Deleted cells are overwritten with zeros, not just unlinked.
    conn.pragma_update(None, "secure_delete", "ON").map_err(backend("turn on secure delete"))?;
    let erased = (|| {
        let tx = conn.transaction().map_err(backend("begin an erasure"))?;
        // Rows that refer to the person before the person (`PERSON_ROWS` ends with them).
        let mut removed: DestroyedRows = crate::federation::erase(&tx, person)?;
        for (table, column) in PERSON_ROWS {
            let n = tx
                .execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [person.as_str()])
                .map_err(backend("erase a person"))?;
            match removed.iter_mut().find(|(t, _)| t == table) {
                Some((_, total)) => *total += n as u64,
                None => removed.push((table.to_string(), n as u64)),
            }
        }
        let n = tx
            .execute("DELETE FROM rejections WHERE instr(input, ?1) > 0", [person.as_str()])
            .map_err(backend("erase a person's rejected inputs"))?;
        removed.push(("rejections".to_string(), n as u64));
        let n = tx
            .execute(
                "DELETE FROM documents WHERE kind IN ('card', 'claim_code', 'attachment') AND instr(body, ?1) > 0",
                [person.as_str()],
            )
            .map_err(backend("erase a person's cards and claim codes"))?;
        removed.push(("documents (cards, claim codes)".to_string(), n as u64));
        tx.commit().map_err(backend("commit an erasure"))?;
        Ok(removed)
    })();
    conn.pragma_update(None, "secure_delete", crate::SECURE_DELETE).map_err(backend("restore secure delete"))?;
    let removed = erased?;
    // The write-ahead log holds earlier images of the pages: copy the zeroed pages back
    // and empty it.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").map_err(backend("checkpoint after an erasure"))?;
    Ok(removed)
}

pub(crate) fn research_counts(
    conn: &Connection,
    metric: ResearchMetric,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ResearchCount>, StoreError> {
    let mut stmt = conn.prepare_cached(metric.sql()).map_err(backend("count for research"))?;
    let row = |r: &rusqlite::Row<'_>| {
        Ok(ResearchCount { area: r.get(0)?, key: r.get(1)?, persons: r.get::<_, i64>(2)? as u64 })
    };
    let rows = if metric.counts_by_day() {
        stmt.query_map((from.as_millis(), to.as_millis(), CST_OFFSET_MS), row)
    } else {
        stmt.query_map([], row)
    }
    .map_err(backend("count for research"))?;
    rows.map(|r| r.map_err(backend("count for research"))).collect()
}

pub(crate) fn save_consent(conn: &mut Connection, c: &Consent) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO consents (person_id, purpose, granted_at, revoked_at) VALUES (?1, ?2, ?3, ?4)",
        (c.person.as_str(), &c.purpose, c.granted_at.as_millis(), c.revoked_at.map(Timestamp::as_millis)),
    )
    .map_err(backend("save a consent"))?;
    Ok(())
}

pub(crate) fn consents(conn: &Connection, of: &PersonId) -> Result<Vec<Consent>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT purpose, granted_at, revoked_at FROM consents WHERE person_id = ?1 ORDER BY purpose")
        .map_err(backend("read consents"))?;
    let rows = stmt
        .query_map([of.as_str()], |r| {
            Ok(Consent {
                person: of.clone(),
                purpose: r.get(0)?,
                granted_at: Timestamp::from_millis(r.get(1)?),
                revoked_at: r.get::<_, Option<i64>>(2)?.map(Timestamp::from_millis),
            })
        })
        .map_err(backend("read consents"))?;
    rows.map(|r| r.map_err(backend("read consents"))).collect()
}

pub(crate) fn personal_after(
    conn: &Connection,
    after: &str,
    limit: usize,
) -> Result<Vec<SealedPersonalData>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT person_id, wrapped_key, sealed, updated_at FROM personal_data WHERE person_id > ?1
             ORDER BY person_id LIMIT ?2",
        )
        .map_err(backend("read personal data"))?;
    let rows = stmt
        .query_map((after, limit as i64), |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Vec<u8>>(2)?, r.get::<_, i64>(3)?))
        })
        .map_err(backend("read personal data"))?;
    rows.map(|row| {
        let (p, wrapped_key, sealed, updated_at) = row.map_err(backend("read personal data"))?;
        Ok(SealedPersonalData {
            person: person(&p, "personal data person")?,
            wrapped_key,
            sealed,
            updated_at: Timestamp::from_millis(updated_at),
        })
    })
    .collect()
}

pub(crate) fn save_profile(conn: &mut Connection, p: &PersonProfile) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO person_profiles (person_id, code_id, masked_name) VALUES (?1, ?2, ?3)
         ON CONFLICT (person_id) DO UPDATE SET code_id = excluded.code_id,
             masked_name = coalesce(excluded.masked_name, person_profiles.masked_name)",
    )
    .and_then(|mut s| s.execute((p.person.as_str(), &p.code_id, &p.masked_name)))
    .map_err(backend("save a profile"))?;
    Ok(())
}

pub(crate) fn profile(conn: &Connection, person: &PersonId) -> Result<Option<PersonProfile>, StoreError> {
    conn.prepare_cached("SELECT code_id, masked_name FROM person_profiles WHERE person_id = ?1")
        .and_then(|mut s| {
            s.query_row([person.as_str()], |r| {
                Ok(PersonProfile { person: person.clone(), code_id: r.get(0)?, masked_name: r.get(1)? })
            })
            .optional()
        })
        .map_err(backend("read a profile"))
}

pub(crate) fn person_by_code_id(conn: &Connection, code_id: &str) -> Result<Option<PersonId>, StoreError> {
    let found: Option<String> = conn
        .prepare_cached("SELECT person_id FROM person_profiles WHERE code_id = ?1")
        .and_then(|mut s| s.query_row([code_id], |r| r.get(0)).optional())
        .map_err(backend("find a person by code id"))?;
    found.map(|p| PersonId::parse(&p).map_err(|e| corrupt("profile person id", e))).transpose()
}

#[async_trait]
impl ResidentStore for SqliteStore {
    async fn save_profile(&self, profile: &PersonProfile) -> StoreResult<()> {
        let profile = profile.clone();
        self.write(move |c| crate::residents::save_profile(c, &profile)).await
    }

    async fn profile(&self, person: &PersonId) -> StoreResult<Option<PersonProfile>> {
        let person = person.clone();
        self.read(move |c| crate::residents::profile(c, &person)).await
    }

    async fn person_by_code_id(&self, code_id: &str) -> StoreResult<Option<PersonId>> {
        let code_id = code_id.to_string();
        self.read(move |c| crate::residents::person_by_code_id(c, &code_id)).await
    }

    async fn save_resident_key(&self, key: &ResidentKey) -> StoreResult<()> {
        let key = key.clone();
        self.write(move |c| crate::residents::save_key(c, &key)).await
    }

    async fn resident_key(&self, key_hash: &str) -> StoreResult<Option<ResidentKey>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| crate::residents::key(c, &key_hash)).await
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
        self.read(move |c| crate::residents::has_key(c, &person)).await
    }

    async fn delete_resident_keys(&self, person: &PersonId) -> StoreResult<u64> {
        let person = person.clone();
        self.write(move |c| crate::residents::delete_keys(c, &person)).await
    }

    async fn save_proxy(&self, link: &ProxyLink) -> StoreResult<bool> {
        let link = link.clone();
        self.write(move |c| crate::residents::save_proxy(c, &link)).await
    }

    async fn end_proxy(&self, proxy: &PersonId, dependant: &PersonId) -> StoreResult<bool> {
        let (proxy, dependant) = (proxy.clone(), dependant.clone());
        self.write(move |c| crate::residents::end_proxy(c, &proxy, &dependant)).await
    }

    async fn proxy_links(&self, person: &PersonId) -> StoreResult<Vec<ProxyLink>> {
        let person = person.clone();
        self.read(move |c| crate::residents::proxy_links(c, &person)).await
    }

    async fn record_accesses(&self, accesses: &[NewAccess]) -> StoreResult<()> {
        if accesses.is_empty() {
            return Ok(());
        }
        let accesses = accesses.to_vec();
        self.write(move |c| crate::residents::record_accesses(c, &accesses)).await
    }

    async fn accesses(&self, person: &PersonId, limit: usize) -> StoreResult<Vec<Access>> {
        let person = person.clone();
        self.read(move |c| crate::residents::accesses(c, &person, limit)).await
    }

    async fn save_complaint(&self, complaint: &Complaint) -> StoreResult<()> {
        let complaint = complaint.clone();
        self.write(move |c| crate::residents::save_complaint(c, &complaint)).await
    }

    async fn complaint(&self, id: &str) -> StoreResult<Option<Complaint>> {
        let id = id.to_string();
        self.read(move |c| crate::residents::complaint(c, &id)).await
    }

    async fn complaints(&self, query: &ComplaintQuery, limit: usize) -> StoreResult<Vec<Complaint>> {
        let query = query.clone();
        self.read(move |c| crate::residents::complaints(c, &query, limit)).await
    }

    async fn complaint_counts(&self) -> StoreResult<ComplaintCounts> {
        self.read(crate::residents::complaint_counts).await
    }

    async fn erase_person(&self, person: &PersonId) -> StoreResult<DestroyedRows> {
        let person = person.clone();
        self.write(move |c| crate::residents::erase_person(c, &person)).await
    }

    async fn save_consent(&self, consent: &Consent) -> StoreResult<()> {
        let consent = consent.clone();
        self.write(move |c| crate::residents::save_consent(c, &consent)).await
    }

    async fn consents(&self, person: &PersonId) -> StoreResult<Vec<Consent>> {
        let person = person.clone();
        self.read(move |c| crate::residents::consents(c, &person)).await
    }

    async fn research_counts(
        &self,
        metric: ResearchMetric,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ResearchCount>> {
        self.read(move |c| crate::residents::research_counts(c, metric, from, to)).await
    }

    async fn save_personal_data(&self, data: &SealedPersonalData) -> StoreResult<()> {
        let data = data.clone();
        self.write(move |c| crate::residents::save_personal(c, &data)).await
    }

    async fn personal_data(&self, person: &PersonId) -> StoreResult<Option<SealedPersonalData>> {
        let person = person.clone();
        self.read(move |c| crate::residents::personal(c, &person)).await
    }

    async fn personal_data_after(
        &self,
        after: Option<&PersonId>,
        limit: usize,
    ) -> StoreResult<Vec<SealedPersonalData>> {
        let after = after.map(|p| p.as_str().to_string()).unwrap_or_default();
        self.read(move |c| crate::residents::personal_after(c, &after, limit)).await
    }

    async fn destroy_personal_data(&self) -> StoreResult<DestroyedRows> {
        self.write(crate::residents::destroy).await
    }
}
