//! Accounts, credentials, decisions and alarms, as the SQLite backend keeps them.

use async_trait::async_trait;
use healthcode_domain::{Department, Role, Timestamp};
use healthcode_store::{Account, AccountStore, Alarm, Credential, CredentialKind, Decision, NewAlarm, StoreResult};
use tokio_postgres::Row;

use crate::{backend, corrupt, PostgresStore};

const ACCOUNT_COLUMNS: &str = "id, username, password_hash, role, jurisdiction, department, created_at, disabled";

fn account(r: &Row, first: usize) -> StoreResult<Account> {
    Ok(Account {
        id: r.get(first),
        username: r.get(first + 1),
        password_hash: r.get(first + 2),
        role: Role::parse_named(r.get(first + 3)).map_err(|e| corrupt("account role", e))?,
        jurisdiction: r.get(first + 4),
        department: r
            .get::<_, Option<&str>>(first + 5)
            .map(|d| Department::parse_named(d).map_err(|e| corrupt("department", e)))
            .transpose()?,
        created_at: Timestamp::from_millis(r.get(first + 6)),
        disabled: r.get(first + 7),
        acting_with_key_issued_at: None,
    })
}

impl PostgresStore {
    pub(crate) async fn create_account_row(&self, a: &Account) -> StoreResult<bool> {
        let client = self.client().await?;
        let created = client
            .execute(
                &format!(
                    "INSERT INTO accounts ({ACCOUNT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT DO NOTHING"
                ),
                &[
                    &a.id,
                    &a.username,
                    &a.password_hash,
                    &a.role.as_str(),
                    &a.jurisdiction,
                    &a.department.map(Department::as_str),
                    &a.created_at.as_millis(),
                    &a.disabled,
                ],
            )
            .await
            .map_err(backend("create an account"))?;
        Ok(created == 1)
    }

    pub(crate) async fn account_by_username_row(&self, username: &str) -> StoreResult<Option<Account>> {
        let client = self.client().await?;
        let row = client
            .query_opt(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1"), &[&username])
            .await
            .map_err(backend("find an account"))?;
        row.map(|r| account(&r, 0)).transpose()
    }

    pub(crate) async fn save_credential_row(&self, c: &Credential) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO credentials (key_hash, account_id, kind, label, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (key_hash) DO UPDATE SET account_id = excluded.account_id, kind = excluded.kind,
                     label = excluded.label, created_at = excluded.created_at, expires_at = excluded.expires_at",
                &[
                    &c.key_hash,
                    &c.account,
                    &c.kind.as_str(),
                    &c.label,
                    &c.created_at.as_millis(),
                    &c.expires_at.map(Timestamp::as_millis),
                ],
            )
            .await
            .map_err(backend("save a credential"))?;
        Ok(())
    }

    pub(crate) async fn credential_row(&self, key_hash: &str) -> StoreResult<Option<(Credential, Account)>> {
        let client = self.client().await?;
        let columns: String = ACCOUNT_COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ");
        let row = client
            .query_opt(
                &format!(
                    "SELECT c.key_hash, c.account_id, c.kind, c.label, c.created_at, c.expires_at, {columns}
                     FROM credentials c JOIN accounts a ON a.id = c.account_id WHERE c.key_hash = $1"
                ),
                &[&key_hash],
            )
            .await
            .map_err(backend("find a credential"))?;
        let Some(r) = row else { return Ok(None) };
        let kind: &str = r.get(2);
        let credential = Credential {
            key_hash: r.get(0),
            account: r.get(1),
            kind: CredentialKind::parse(kind).ok_or_else(|| corrupt("credential kind", kind))?,
            label: r.get(3),
            created_at: Timestamp::from_millis(r.get(4)),
            expires_at: r.get::<_, Option<i64>>(5).map(Timestamp::from_millis),
        };
        Ok(Some((credential, account(&r, 6)?)))
    }

    pub(crate) async fn delete_credential_row(&self, key_hash: &str) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM credentials WHERE key_hash = $1", &[&key_hash])
            .await
            .map_err(backend("delete a credential"))?;
        Ok(())
    }

    pub(crate) async fn save_decision_row(&self, d: &Decision) -> StoreResult<()> {
        let body = serde_json::to_string(d).map_err(|e| corrupt("decision", e))?;
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO decisions (id, proposed_at, body) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET proposed_at = excluded.proposed_at, body = excluded.body",
                &[&d.id, &d.proposed_at.as_millis(), &body],
            )
            .await
            .map_err(backend("save a decision"))?;
        Ok(())
    }

    pub(crate) async fn decision_rows(&self, id: Option<&str>, limit: usize) -> StoreResult<Vec<Decision>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT body FROM decisions WHERE $1::text IS NULL OR id = $1 ORDER BY proposed_at DESC, id LIMIT $2",
                &[&id, &(limit as i64)],
            )
            .await
            .map_err(backend("read decisions"))?;
        rows.iter().map(|r| serde_json::from_str(r.get(0)).map_err(|e| corrupt("decision", e))).collect()
    }

    pub(crate) async fn record_alarm_row(&self, a: &NewAlarm) -> StoreResult<i64> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "INSERT INTO alarms (at, kind, jurisdiction, detail, log_index) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&a.at.as_millis(), &a.kind, &a.jurisdiction, &a.detail, &a.log_index.map(|i| i as i64)],
            )
            .await
            .map_err(backend("record an alarm"))?;
        Ok(row.get(0))
    }

    pub(crate) async fn alarm_rows(&self, after: i64, limit: usize) -> StoreResult<Vec<Alarm>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, at, kind, jurisdiction, detail, log_index FROM alarms WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &(limit as i64)],
            )
            .await
            .map_err(backend("read alarms"))?;
        Ok(rows
            .iter()
            .map(|r| Alarm {
                id: r.get(0),
                alarm: NewAlarm {
                    at: Timestamp::from_millis(r.get(1)),
                    kind: r.get(2),
                    jurisdiction: r.get(3),
                    detail: r.get(4),
                    log_index: r.get::<_, Option<i64>>(5).map(|i| i as u64),
                },
            })
            .collect())
    }
}

#[async_trait]
impl AccountStore for PostgresStore {
    async fn create_account(&self, account: &Account) -> StoreResult<bool> {
        self.create_account_row(account).await
    }

    async fn account_by_username(&self, username: &str) -> StoreResult<Option<Account>> {
        self.account_by_username_row(username).await
    }

    async fn save_credential(&self, credential: &Credential) -> StoreResult<()> {
        self.save_credential_row(credential).await
    }

    async fn credential(&self, key_hash: &str) -> StoreResult<Option<(Credential, Account)>> {
        self.credential_row(key_hash).await
    }

    async fn delete_credential(&self, key_hash: &str) -> StoreResult<()> {
        self.delete_credential_row(key_hash).await
    }
}
