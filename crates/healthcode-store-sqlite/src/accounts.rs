//! Accounts, credentials, decisions and alarms.

use healthcode_domain::{Department, Role, Timestamp};
use healthcode_store::{Account, Alarm, Credential, CredentialKind, Decision, NewAlarm, StoreError};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::{backend, corrupt};

const ACCOUNT_COLUMNS: &str = "id, username, password_hash, role, jurisdiction, department, created_at, disabled";

fn account(r: &Row, first: usize) -> rusqlite::Result<Result<Account, StoreError>> {
    let role: String = r.get(first + 3)?;
    let department: Option<String> = r.get(first + 5)?;
    let (id, username, password_hash, jurisdiction, created_at, disabled) =
        (r.get(first)?, r.get(first + 1)?, r.get(first + 2)?, r.get(first + 4)?, r.get(first + 6)?, r.get(first + 7)?);
    Ok((|| {
        Ok(Account {
            id,
            username,
            password_hash,
            role: Role::parse_named(&role).map_err(|e| corrupt("account role", e))?,
            jurisdiction,
            department: department
                .map(|d| Department::parse_named(&d).map_err(|e| corrupt("department", e)))
                .transpose()?,
            created_at: Timestamp::from_millis(created_at),
            disabled,
        })
    })())
}

pub(crate) fn create_account(conn: &mut Connection, a: &Account) -> Result<bool, StoreError> {
    let created = conn
        .execute(
            &format!("INSERT OR IGNORE INTO accounts ({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
            (
                &a.id,
                &a.username,
                &a.password_hash,
                a.role.as_str(),
                &a.jurisdiction,
                a.department.map(Department::as_str),
                a.created_at.as_millis(),
                a.disabled,
            ),
        )
        .map_err(backend("create an account"))?;
    Ok(created == 1)
}

pub(crate) fn account_by_username(conn: &Connection, username: &str) -> Result<Option<Account>, StoreError> {
    conn.prepare_cached(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = ?1"))
        .and_then(|mut s| s.query_row([username], |r| account(r, 0)).optional())
        .map_err(backend("find an account"))?
        .transpose()
}

pub(crate) fn save_credential(conn: &mut Connection, c: &Credential) -> Result<(), StoreError> {
    conn.execute(
        "INSERT OR REPLACE INTO credentials (key_hash, account_id, kind, label, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (
            &c.key_hash,
            &c.account,
            c.kind.as_str(),
            &c.label,
            c.created_at.as_millis(),
            c.expires_at.map(Timestamp::as_millis),
        ),
    )
    .map_err(backend("save a credential"))?;
    Ok(())
}

pub(crate) fn credential(conn: &Connection, key_hash: &str) -> Result<Option<(Credential, Account)>, StoreError> {
    let columns: String = ACCOUNT_COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ");
    conn.prepare_cached(&format!(
        "SELECT c.key_hash, c.account_id, c.kind, c.label, c.created_at, c.expires_at, {columns}
         FROM credentials c JOIN accounts a ON a.id = c.account_id WHERE c.key_hash = ?1"
    ))
    .and_then(|mut s| {
        s.query_row([key_hash], |r| {
            let kind: String = r.get(2)?;
            let credential = (|| -> Result<Credential, StoreError> {
                Ok(Credential {
                    key_hash: r.get(0).map_err(backend("read a credential"))?,
                    account: r.get(1).map_err(backend("read a credential"))?,
                    kind: CredentialKind::parse(&kind).ok_or_else(|| corrupt("credential kind", &kind))?,
                    label: r.get(3).map_err(backend("read a credential"))?,
                    created_at: Timestamp::from_millis(r.get(4).map_err(backend("read a credential"))?),
                    expires_at: r
                        .get::<_, Option<i64>>(5)
                        .map_err(backend("read a credential"))?
                        .map(Timestamp::from_millis),
                })
            })();
            Ok(credential.and_then(|c| Ok((c, account(r, 6).map_err(backend("read an account"))??))))
        })
        .optional()
    })
    .map_err(backend("find a credential"))?
    .transpose()
}

pub(crate) fn delete_credential(conn: &mut Connection, key_hash: &str) -> Result<(), StoreError> {
    conn.execute("DELETE FROM credentials WHERE key_hash = ?1", [key_hash]).map_err(backend("delete a credential"))?;
    Ok(())
}

pub(crate) fn save_decision(conn: &mut Connection, d: &Decision) -> Result<(), StoreError> {
    let body = serde_json::to_string(d).map_err(|e| StoreError::Backend(format!("cannot encode a decision: {e}")))?;
    conn.execute(
        "INSERT OR REPLACE INTO decisions (id, proposed_at, body) VALUES (?1, ?2, ?3)",
        (&d.id, d.proposed_at.as_millis(), body),
    )
    .map_err(backend("save a decision"))?;
    Ok(())
}

pub(crate) fn decisions(conn: &Connection, id: Option<&str>, limit: usize) -> Result<Vec<Decision>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT body FROM decisions WHERE ?1 IS NULL OR id = ?1 ORDER BY proposed_at DESC, id LIMIT ?2")
        .map_err(backend("read decisions"))?;
    let rows = stmt.query_map((id, limit as i64), |r| r.get::<_, String>(0)).map_err(backend("read decisions"))?;
    rows.map(|r| {
        let body = r.map_err(backend("read decisions"))?;
        serde_json::from_str(&body).map_err(|e| corrupt("decision", e))
    })
    .collect()
}

pub(crate) fn record_alarm(conn: &mut Connection, a: &NewAlarm) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO alarms (at, kind, jurisdiction, detail, log_index) VALUES (?1, ?2, ?3, ?4, ?5)",
        (a.at.as_millis(), &a.kind, &a.jurisdiction, &a.detail, a.log_index.map(|i| i as i64)),
    )
    .map_err(backend("record an alarm"))?;
    Ok(conn.last_insert_rowid())
}

pub(crate) fn alarms(conn: &Connection, after: i64, limit: usize) -> Result<Vec<Alarm>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, at, kind, jurisdiction, detail, log_index FROM alarms WHERE id > ?1 ORDER BY id LIMIT ?2",
        )
        .map_err(backend("read alarms"))?;
    let rows = stmt
        .query_map((after, limit as i64), |r| {
            Ok(Alarm {
                id: r.get(0)?,
                alarm: NewAlarm {
                    at: Timestamp::from_millis(r.get(1)?),
                    kind: r.get(2)?,
                    jurisdiction: r.get(3)?,
                    detail: r.get(4)?,
                    log_index: r.get::<_, Option<i64>>(5)?.map(|i| i as u64),
                },
            })
        })
        .map_err(backend("read alarms"))?;
    rows.map(|r| r.map_err(backend("read alarms"))).collect()
}
