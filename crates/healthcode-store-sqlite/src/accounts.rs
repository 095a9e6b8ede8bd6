//! Accounts, credentials, decisions and alarms.

use async_trait::async_trait;
use healthcode_domain::{Department, Role, Timestamp};
use healthcode_store::{Account, AccountStore, Credential, CredentialKind, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, Row};

use crate::{backend, corrupt, SqliteStore};

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
            acting_with_key_issued_at: None,
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

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        let account = account.clone();
        self.write(move |c| crate::accounts::create_account(c, &account)).await
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        let username = username.to_string();
        self.read(move |c| crate::accounts::account_by_username(c, &username)).await
    }

    async fn save_credential(&self, credential: &Credential) -> StoreResult<()> {
        let credential = credential.clone();
        self.write(move |c| crate::accounts::save_credential(c, &credential)).await
    }

    async fn credential(&self, key_hash: &str) -> StoreResult<Option<(Credential, Account)>> {
        let key_hash = key_hash.to_string();
        self.read(move |c| crate::accounts::credential(c, &key_hash)).await
    }

    async fn delete_credential(&self, key_hash: &str) -> StoreResult<()> {
        let key_hash = key_hash.to_string();
        self.write(move |c| crate::accounts::delete_credential(c, &key_hash)).await
    }
}
