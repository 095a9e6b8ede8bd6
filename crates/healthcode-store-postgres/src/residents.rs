//! Resident keys, proxy links, the access log and complaints.

use healthcode_domain::{PersonId, Timestamp};
use healthcode_store::{Access, Complaint, ComplaintQuery, NewAccess, ProxyLink, ResidentKey, StoreError};
use tokio_postgres::Row;

use crate::{backend, corrupt};

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
            "INSERT INTO proxies (proxy_id, dependant_id, relation, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            &[&link.proxy.as_str(), &link.dependant.as_str(), &link.relation, &link.created_at.as_millis()],
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
            "SELECT proxy_id, dependant_id, relation, created_at FROM proxies
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
            "INSERT INTO complaints (id, person_id, filed_at, status, area, body) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, area = excluded.area, body = excluded.body",
            &[&c.id, &c.person.as_str(), &c.filed_at.as_millis(), &c.status.as_str(), &c.area, &body],
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
             ORDER BY filed_at DESC, id LIMIT $4",
            &[&q.person.as_ref().map(PersonId::as_str), &q.open_only, &q.area_prefix, &(limit as i64)],
        )
        .await
        .map_err(backend("read complaints"))?;
    rows.iter().map(decode).collect()
}
